"""The density CUBE file in the Gaussian convention: lengths in Bohr and the density in
atoms per Bohr^3, so that a cube reader's integral over the cell (ASE's
``read_cube_data``: values as written, cell back in A) is the number of atoms of the
species. Was: a probability per A^3 in a file of Bohr lengths, which integrated to 6.75
for 108 Li atoms, as for any other number. References: ASE's cube reader and a numpy
histogram of the fractional coordinates by hand."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.io.cube import read_cube_data
from ase.units import Bohr

from ionmd.analysis.structure_functions import write_density_cube
from ionmd.analysis.trajectory import Trajectory

SHAPE = (12, 12, 12)


def _breathing_crystal(n_frames: int = 6) -> tuple[Trajectory, np.ndarray]:
    """A rattling 3x3x3 LiCl rock salt whose cell breathes by +-3 %; its fractional
    coordinates (T, N, 3) in [0, 1)."""
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (3, 3, 3)
    rng = np.random.default_rng(4)
    scale = 1 + 0.03 * np.sin(np.arange(n_frames))
    boxes = atoms.cell.array[None] * scale[:, None, None]
    frac = (atoms.get_scaled_positions()[None]
            + 0.01 * rng.standard_normal((n_frames, len(atoms), 3))) % 1.0
    positions = np.einsum("tnk,tkl->tnl", frac, boxes)
    traj = Trajectory(positions, boxes, np.arange(n_frames) * 10,
                      np.array(atoms.get_chemical_symbols()), atoms.get_masses(), 1.0,
                      fractions=frac.astype(np.float32))
    return traj, frac


@pytest.mark.parametrize("species", ["Li", "Cl"])
def test_cube_density_integrates_to_the_number_of_atoms(species, tmp_path):
    traj, frac = _breathing_crystal()
    n_atoms = int(np.sum(traj.elements == species))
    data, atoms = read_cube_data(str(write_density_cube(traj, species, tmp_path / "d.cube",
                                                        SHAPE)))
    voxel_bohr3 = atoms.get_volume() / data.size / Bohr ** 3
    assert data.sum() * voxel_bohr3 == pytest.approx(n_atoms, rel=1e-5)
    # by hand: atoms per voxel (centred on the grid points), per frame, per Bohr^3
    mine = frac[:, traj.elements == species].reshape(-1, 3)
    counts = np.histogramdd((mine + 0.5 / np.asarray(SHAPE)) % 1.0, bins=SHAPE,
                            range=[(0, 1)] * 3)[0]
    np.testing.assert_allclose(data, counts / len(frac) / voxel_bohr3, rtol=1e-5,
                               atol=1e-6 * data.max())
