"""A dump whose columns are LAMMPS's unwrapped coordinates (``xu``, ``xsu``, or ``x`` with
``ix iy iz``) read with ``dump_unwrapped``, the mode for long dump intervals in a constant
box: an atom that crossed 0.8 of the cell in one interval without leaving it (1 -> 9 A in
a 10 A cube) was refused as "wrapped coordinates" (the test meant for DCDs, which do not
say what they hold: no atom a quarter cell out, a step over 3/4 of a cell). The columns
say it; they are read as they are.

Reference: ``fix move linear`` moves atom 1 by 80 A/ps x 0.1 ps = 8 A along x; atom 2
does not move (no integrator on it, ``pair_style zero``)."""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.analysis.trajectory import read_lammps_trajectory
from lammps_runner import run_lmp

RUN = """units metal
atom_style atomic
region b block 0 10 0 10 0 10
create_box 1 b
create_atoms 1 single 1.0 5.0 5.0
create_atoms 1 single 5.0 2.0 8.0
mass 1 6.94
pair_style zero 3.0
pair_coeff * *
write_data s.data
group mover id 1
fix m mover move linear 80.0 0.0 0.0
dump u all custom 100 u.dump id type xu yu zu
dump s all custom 100 s.dump id type xsu ysu zsu
dump i all custom 100 i.dump id type x y z ix iy iz
run 100
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("unwrapped_long_interval")
    run_lmp(RUN, workdir, env={"OMP_NUM_THREADS": "1"})
    return workdir


@pytest.mark.parametrize("dump", ["u.dump", "s.dump", "i.dump"])
def test_an_atom_crossing_most_of_the_cell_in_one_interval_is_read(run, dump):
    traj = read_lammps_trajectory(run / "s.data", [run / dump], timestep_fs=1.0,
                                  type_map={1: "Li"}, dump_unwrapped=True)
    moved = traj.positions[-1] - traj.positions[0]
    assert np.allclose(moved, [[8.0, 0.0, 0.0], [0.0, 0.0, 0.0]], rtol=0, atol=1e-5)
