"""A dump's absolute frame under a barostat that moves the box's centre (``fix npt ...
fixedpoint 0 0 0``: lo stays at 0 while the box shrinks, as under ``fix deform ... final
0 L``). The reader put each frame at lo(t) = (data-file centre) - diag(H(t)) / 2, a box
centre held fixed; the dump's own lo of each frame (``ITEM: BOX BOUNDS``) is now carried
(``DumpSegment.origins``). References: LAMMPS's absolute ``x y z`` and its ``xs ys zs``,
dumped in the same run to other files."""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.analysis.trajectory import read_frames, read_lammps_trajectory
from lammps_cells import two_type_lj_cell
from lammps_runner import run_lmp

N_ATOMS = 108

RUN = two_type_lj_cell("fcc 4.4") + """velocity all create 1500 1
write_data s.data
timestep 0.002
fix 1 all npt temp 1500 1500 0.1 tri 100000 100000 0.2 fixedpoint 0 0 0
dump x all custom 20 x.dump id type x y z
dump_modify x sort id format float %.17g
dump s all custom 20 s.dump id type xs ys zs
dump_modify s sort id format float %.17g
run 400
"""


def _columns(path, n_cols):
    """The ATOMS rows of every frame (sorted by id) as an array (T, N, n_cols)."""
    frames = path.read_text().split("ITEM: TIMESTEP\n")[1:]
    rows = [[ln.split() for ln in f.splitlines()[8:8 + N_ATOMS]] for f in frames]
    return np.array(rows, dtype=np.float64)[:, :, 2:2 + n_cols]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("npt_fixedpoint")
    run_lmp(RUN, workdir, env={"OMP_NUM_THREADS": "1"})
    return workdir


def test_scaled_dump_lands_on_lammps_absolute_positions(run):
    piece, _, _ = read_frames(run / "s.data", [run / "s.dump"], type_map={1: "Li", 2: "Cl"})
    x = _columns(run / "x.dump", 3)
    # the box shrank about lo = 0, so its centre moved by half as much
    lengths = np.diagonal(piece.boxes, axis1=1, axis2=2)
    assert np.abs(lengths - lengths[0]).max() > 0.2
    # s H + lo: LAMMPS's x up to the rounding of 17 digits (an atom on a face may be on
    # either side of it: compared modulo the cell)
    gap = np.einsum("tnk,tkl->tnl", piece.positions - x, np.linalg.inv(piece.boxes))
    gap -= np.round(gap)
    assert np.abs(np.einsum("tnk,tkl->tnl", gap, piece.boxes)).max() < 1e-6
    np.testing.assert_allclose(piece.origins, 0.0, atol=1e-9)     # fixedpoint 0 0 0


def test_fractions_and_unwrapped_positions_follow_the_moving_box(run):
    traj = read_lammps_trajectory(run / "s.data", [run / "x.dump"], timestep_fs=2.0,
                                  type_map={1: "Li", 2: "Cl"})
    s = _columns(run / "s.dump", 3)
    gap = traj.fractions - s
    assert np.abs(gap - np.round(gap)).max() < 1e-5
    # each step of the continuous positions is that of LAMMPS's absolute x (the minimum
    # image in the later cell), with no box motion added to every atom
    x = _columns(run / "x.dump", 3)
    step = np.diff(x, axis=0)
    frac = np.einsum("tnk,tkl->tnl", step, np.linalg.inv(traj.boxes[1:]))
    step -= np.einsum("tnk,tkl->tnl", np.round(frac), traj.boxes[1:])
    np.testing.assert_allclose(np.diff(traj.positions, axis=0), step, rtol=0, atol=1e-6)
    np.testing.assert_allclose(traj.positions[0], x[0], rtol=0, atol=1e-6)
