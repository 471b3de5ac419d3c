"""van Hove functions, RDF and the density grid against analytic results and ASE."""

import numpy as np
import pytest
from ase import units
from ase.build import bulk

import synthetic_trajectories as st
from ionmd.analysis.structure_functions import (density_grid, rdf, van_hove_distinct,
                                                van_hove_self, write_density_cube)
from ionmd.analysis.trajectory import Trajectory
from ionmd.errors import AnalysisError


def test_van_hove_self_is_the_brownian_gaussian_at_several_lags():
    rng = np.random.default_rng(0)
    D, lags = 0.2, [0.5, 2.0, 5.0]
    s = st.make(st.brownian_steps(300, 256, [D] * 3, 0.1, rng), L=20.0, rng=rng)
    r, g = van_hove_self(s.true, "Li", lags, r_max=8.0, n_bins=40)
    assert g.shape == (3, 40)
    for row, t in zip(g, lags):
        analytic = 4 * np.pi * r ** 2 * (4 * np.pi * D * t) ** -1.5 * np.exp(-r ** 2 / (4 * D * t))
        # 1 - the analytic weight beyond r_max (the 5 ps Gaussian has some)
        assert np.sum(row) * (r[1] - r[0]) == pytest.approx(np.sum(analytic) * (r[1] - r[0]), abs=2e-3)
        assert np.abs(row - analytic).max() < 0.05 * analytic.max(), t
    # the peak moves out as sqrt(4 D t)
    assert np.all(np.diff(r[np.argmax(g, axis=1)]) > 0)
    # a single lag gives the same row as a 1-D array
    np.testing.assert_array_equal(van_hove_self(s.true, "Li", 2.0, r_max=8.0, n_bins=40)[1], g[1])


def test_van_hove_distinct_of_independent_walkers_is_flat_and_bad_lags_are_errors():
    """Non-interacting Brownian points stay uniformly spread: G_d(r, t) = 1 at every lag."""
    rng = np.random.default_rng(3)
    s = st.make(st.brownian_steps(100, 200, [0.2] * 3, 0.1, rng), L=15.0, n_framework=0, rng=rng)
    r, gd = van_hove_distinct(s.true, "Li", [1.0, 5.0], r_max=6.0, n_bins=12)
    assert gd.shape == (2, 12)
    assert np.abs(gd[:, 4:] - 1).max() < 0.1   # shells beyond 2 A hold enough pairs
    with pytest.raises(AnalysisError, match="longer than the run"):
        van_hove_self(s.true, "Li", [1.0, 50.0])
    with pytest.raises(AnalysisError, match="negative"):
        van_hove_distinct(s.true, "Li", -1.0)


def _crystal(n_frames=5, rattle=0.05):
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (3, 3, 3)
    rng = np.random.default_rng(1)
    pos = atoms.positions[None] + rattle * rng.standard_normal((n_frames, len(atoms), 3))
    traj = Trajectory(pos, np.repeat(atoms.cell.array[None], n_frames, 0),
                      np.arange(n_frames) * 10, np.array(atoms.get_chemical_symbols()),
                      atoms.get_masses(), 1.0)
    return atoms, traj


def test_rdf_matches_ase_and_distinct_van_hove_at_zero_lag():
    from ase.geometry.rdf import get_rdf

    atoms, traj = _crystal()
    r, g = rdf(traj, "Li", "Cl", r_max=7.0, n_bins=70)
    ref = np.mean([get_rdf(_at(atoms, p), 7.0, 70, elements=(3, 17))[0] for p in traj.positions], 0)
    np.testing.assert_allclose(g, ref, rtol=1e-4, atol=1e-4 * ref.max())
    # first Li-Cl shell at a/2
    assert r[np.argmax(g)] == pytest.approx(2.57, abs=0.1)
    # G_d(r, 0) is the Li-Li g(r)
    rd, gd = van_hove_distinct(traj, "Li", 0.0, r_max=7.0, n_bins=70)
    r2, gll = rdf(traj, "Li", "Li", r_max=7.0, n_bins=70)
    np.testing.assert_allclose(gd, gll, rtol=1e-6, atol=1e-9)


def _at(atoms, pos):
    a = atoms.copy()
    a.positions = pos
    return a


def test_density_grid_is_normalised_and_cube_file_reads_back(tmp_path):
    from ase.io.cube import read_cube_data

    atoms, traj = _crystal(rattle=0.1)
    grid = density_grid(traj, "Li", (20, 20, 20))
    voxel = traj.volumes.mean() / grid.size
    assert grid.sum() * voxel == pytest.approx(1.0)
    path = write_density_cube(traj, "Li", tmp_path / "li.cube", (20, 20, 20))
    data, back = read_cube_data(str(path))
    # the Gaussian CUBE convention: atoms per Bohr^3, summing to the Li count over the cell
    n_li = int(np.sum(atoms.numbers == 3))
    voxel_bohr3 = back.get_volume() / data.size / units.Bohr ** 3
    assert data.sum() * voxel_bohr3 == pytest.approx(n_li, rel=1e-4)
    np.testing.assert_allclose(data, grid / grid.sum() * n_li / voxel_bohr3, rtol=1e-4,
                               atol=1e-8)
    assert len(back) == len(atoms)
    # Li sits on the Cl sublattice shifted by a/2: density peaks at Li sites (frac 0 or 1/6...)
    peak = np.unravel_index(np.argmax(grid), grid.shape)
    frac = (np.array(peak) + 0.5) / 20
    li_frac = atoms.get_scaled_positions()[atoms.numbers == 3]
    d = np.abs((li_frac - frac + 0.5) % 1 - 0.5).max(axis=1).min()
    assert d <= 1.5 / 20
