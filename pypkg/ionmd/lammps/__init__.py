"""What ionmd knows about LAMMPS itself, below protocols, analysis, bench and sweeps:

- ``log``: thermo columns, error and halt lines, loop times of a ``log.lammps``;
- ``dcd``: the layout of LAMMPS's DCD trajectories (cut to whole frames, first step);
- ``restart``: whether a restart file was written to its end;
- ``process``: finding and launching ``lmp`` / ``mpirun``, process liveness, stopping a run;
- ``module_runner``: LAMMPS in this Python process through the ``lammps`` module.
"""
