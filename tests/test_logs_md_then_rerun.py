"""A log whose input runs MD and then ``rerun``s the run's dump (a user's energies of
the same frames, here with the same potential): the rerun block goes back over the
dump's steps with the last step's velocities (one Temp throughout) and superseded the
run's rows since runs that go back replace rows (Temp 182.6 K at every step of a 600 K
run); its rows are no MD's, as a minimisation's, and are left out. Real LAMMPS (NaCl,
tests/failure_nacl_runs.py), the log read by a parser of our own."""

from __future__ import annotations

import numpy as np

from failure_nacl_runs import lmp, nacl_dir
from test_logs_reset_timestep import blocks


def test_rerun_rows_do_not_replace_the_runs(tmp_path):
    from ionmd.lammps.lost_atoms import find_lost_atoms
    from ionmd.lammps.thermo_log import parse_thermo

    run = nacl_dir(tmp_path / "nacl", temperature_K=600.0, dump_every=10, delete=[0])
    lmp(run, "velocity all create 600 1 dist gaussian\nfix 1 all nvt temp 600 600 0.1\n"
             "thermo 10\ndump d all custom 10 x.dump id type x y z\nrun 40\nundump d\n"
             "rerun x.dump dump x y z\n")
    md, rerun = blocks((run / "log.lammps").read_text())
    assert md[:, 0].tolist() == rerun[:, 0].tolist() == [0, 10, 20, 30, 40]
    assert np.ptp(rerun[:, 1]) == 0 and np.ptp(md[:, 1]) > 100     # the rerun's stale T
    thermo = parse_thermo((run / "log.lammps").read_text())
    assert thermo["Step"].tolist() == md[:, 0].tolist()
    np.testing.assert_allclose(thermo["Temp"], md[:, 1], rtol=1e-9)
    assert find_lost_atoms((run / "log.lammps").read_text()) is None
