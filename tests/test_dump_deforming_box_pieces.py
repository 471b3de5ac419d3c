"""Dumps of a box whose origin and tilt move (``fix deform`` with ``remap x``: lo moves
and xy, xz tilt) in two pieces, the second after ``change_box`` moved the box (a resumed
run in a box of other bounds). Each frame's own lo from its ``BOX BOUNDS`` puts the
scaled coordinates on LAMMPS's absolute positions; a fixed box centre (the data file's,
as before 3cceabd) moved atoms by up to 0.035 A a step too many in the first piece (0.35 A
over its 10 steps), 0.7 A at the seam and 0.095 A a step in the second.
References: LAMMPS's absolute ``x y z`` and scaled ``xs ys zs``, dumped in the same run
to other files."""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.analysis.trajectory import read_lammps_trajectory
from lammps_cells import two_type_lj_cell
from lammps_runner import run_lmp

N_ATOMS = 108

DUMPS = """dump x all custom 20 x{p}.dump id type x y z
dump_modify x sort id format float %.17g
dump s all custom 20 s{p}.dump id type xs ys zs
dump_modify s sort id format float %.17g
"""

RUN = two_type_lj_cell("fcc 4.4") + """velocity all create 1500 1
write_data s.data
timestep 0.002
fix 1 all nvt temp 1500 1500 0.1
fix 2 all deform 1 x final -1.5 14.0 xy final 2.5 xz final -1.0 remap x units box
""" + DUMPS.format(p=1) + """run 200
undump x
undump s
unfix 2
change_box all x delta 0.7 0.7 y delta -0.4 -0.4 units box
fix 2 all deform 1 y final -2.0 12.5 yz final 1.5 remap x units box
""" + DUMPS.format(p=2) + "run 200\n"


def _columns(path):
    """The coordinates of every frame (sorted by id), (T, N, 3)."""
    frames = path.read_text().split("ITEM: TIMESTEP\n")[1:]
    rows = [[ln.split() for ln in f.splitlines()[8:8 + N_ATOMS]] for f in frames]
    return np.array(rows, dtype=np.float64)[:, :, 2:5]


def _minimum_image(steps, boxes):
    frac = np.einsum("tnk,tkl->tnl", steps, np.linalg.inv(boxes))
    return steps - np.einsum("tnk,tkl->tnl", np.round(frac), boxes)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("deform_pieces")
    run_lmp(RUN, workdir, env={"OMP_NUM_THREADS": "1"})
    return workdir


def test_scaled_dump_pieces_follow_lammps_steps_in_a_moving_tilted_box(run):
    traj = read_lammps_trajectory(run / "s.data", [run / "s1.dump", run / "s2.dump"],
                                  timestep_fs=2.0, type_map={1: "Li", 2: "Cl"})
    x1, x2 = _columns(run / "x1.dump"), _columns(run / "x2.dump")
    assert traj.n_frames == len(x1) + len(x2) - 1          # step 200 written twice
    # the boxes' origins moved (xlo_bound: lo and the tilts), by more than 1 A
    lows = np.array([float(f.splitlines()[4].split()[0]) for f in
                     (run / "x1.dump").read_text().split("ITEM: TIMESTEP\n")[1:]])
    assert np.ptp(lows) > 1.0
    s = np.concatenate([_columns(run / "s1.dump"), _columns(run / "s2.dump")[1:]])
    gap = traj.fractions - s
    assert np.abs(gap - np.round(gap)).max() < 1e-5
    # each step is LAMMPS's own, in the later cell; across the seam from the resumed
    # run's copy of step 200 (LAMMPS wraps atoms anew when a run starts)
    steps = np.concatenate([np.diff(x1, axis=0), np.diff(x2, axis=0)])
    np.testing.assert_allclose(np.diff(traj.positions, axis=0),
                               _minimum_image(steps, traj.boxes[1:]), rtol=0, atol=1e-6)
    np.testing.assert_allclose(traj.positions[0], x1[0], rtol=0, atol=1e-6)
