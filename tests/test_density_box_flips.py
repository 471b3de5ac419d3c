"""The density grid and its CUBE file through LAMMPS's box flips.

LAMMPS flips a tilted box when a tilt passes half the box length (b -> b - a for xy,
c -> c - b for yz): another basis of the same lattice, the atoms do not move. Was: each
frame binned by fractional coordinates on its own basis, so a rattling crystal whose
box flipped halfway had 42 % of its counts in other voxels, and the CUBE file's cell was
the mean of the flipped and unflipped cells.
"""

import numpy as np
from ase.io.cube import read_cube_data

from ionmd.analysis.structure_functions import density_grid, write_density_cube
from ionmd.analysis.trajectory import Trajectory

SHAPE = (8, 8, 8)


def test_a_box_flip_moves_no_counts_and_keeps_the_cell(tmp_path):
    rng = np.random.default_rng(0)
    box = np.array([[8.0, 0, 0], [3.9, 8.0, 0], [1.0, 3.95, 8.0]])
    n_frames = 60
    breathing = 1 + 0.01 * np.sin(np.arange(n_frames))[:, None, None]
    cells = box * breathing                                  # the run's cells, one basis
    boxes = cells.copy()
    boxes[20:, 1] -= boxes[20:, 0]                           # xy flip at frame 20
    boxes[40:, 2] -= boxes[40:, 1]                           # yz flip at frame 40
    sites = rng.random((6, 3))
    frac = sites + rng.normal(0, 0.01, (n_frames, 6, 3))    # rattling on the sites
    positions = np.einsum("tnk,tkl->tnl", frac, cells)
    traj = Trajectory(positions, boxes, np.arange(n_frames) * 10, np.array(["Li"] * 6),
                      np.ones(6), 10.0)
    expected = np.histogramdd(((frac + 0.5 / np.asarray(SHAPE)) % 1.0).reshape(-1, 3),
                              bins=SHAPE, range=[(0, 1)] * 3)[0]
    got = density_grid(traj, "Li", SHAPE) * traj.volumes.mean() / np.prod(SHAPE)
    np.testing.assert_allclose(got * expected.sum(), expected, atol=1e-9)
    _, atoms = read_cube_data(str(write_density_cube(traj, "Li", tmp_path / "li.cube", SHAPE)))
    np.testing.assert_allclose(atoms.cell.array, cells.mean(axis=0), atol=1e-5)
