"""g(r), the distinct van Hove function and the density grid against LAMMPS's own
``compute rdf`` and by-hand numbers.

Was: pairs by the minimum image (MDAnalysis ``InterRDF``, ``distance_array``), wrong
beyond half the cell's narrowest width: in a tilted 64-atom LiCl cell (half width 4.70 A)
g(r) to 7 A was up to 1.02 off LAMMPS's; lags between two frames were rounded silently
(0.15 ps with frames 0.1 ps apart gave the 0.2 ps row, labelled 0.15 ps); the density's
grid point i held the voxel [i, i + 1) / n, so a CUBE file showed it half a voxel off
the atoms.
"""

import numpy as np
import pytest
from ase import units
from ase.build import bulk

from ionmd.analysis.structure_functions import (density_grid, rdf, van_hove_distinct,
                                                van_hove_self, write_density_cube)
from ionmd.analysis.trajectory import Trajectory
from ionmd.analysis.unwrapping import cell_widths
from ionmd.errors import AnalysisError
from lammps_cells import two_type_lj_cell

R_MAX, N_BINS = 7.0, 35


def _trajectory(positions, cell, symbols, every=10):
    positions = np.asarray(positions)
    return Trajectory(positions, np.repeat(np.asarray(cell)[None], len(positions), 0),
                      np.arange(len(positions)) * every, np.array(symbols),
                      np.ones(len(symbols)), 10.0)


@pytest.fixture(scope="module")
def tilted_cell_and_lammps_rdf(tmp_path_factory):
    """A rattled 64-atom LiCl cell with large tilts (xy 4, xz 3, yz 2 A) and LAMMPS's
    ``compute rdf`` of it (types 1 = Li, 2 = Cl) to 7 A, past half its narrowest width."""
    from lammps_runner import lammps_rdf, to_lammps_frame

    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (2, 2, 2)
    atoms.set_cell(atoms.cell.array + [[0, 0, 0], [4.0, 0, 0], [3.0, 2.0, 0]], scale_atoms=True)
    atoms.rattle(0.3, seed=1)
    atoms = to_lammps_frame(atoms)
    return atoms, lammps_rdf(atoms, tmp_path_factory.mktemp("rdf"), R_MAX, N_BINS)


def test_rdf_past_half_the_cell_width_is_lammps_compute_rdf(tilted_cell_and_lammps_rdf):
    atoms, table = tilted_cell_and_lammps_rdf
    traj = _trajectory([atoms.positions] * 2, atoms.cell.array, atoms.get_chemical_symbols())
    assert cell_widths(traj.boxes).min() / 2 < 4.8 < R_MAX < 10.0   # < shortest lattice vector
    for column, (a, b) in ((2, ("Li", "Li")), (4, ("Cl", "Cl")), (6, ("Li", "Cl"))):
        r, g = rdf(traj, a, b, r_max=R_MAX, n_bins=N_BINS)
        np.testing.assert_allclose(r, table[:, 1], atol=1e-12)
        # LAMMPS prints 6 significant digits
        np.testing.assert_allclose(g, table[:, column], rtol=1e-5, atol=1e-5, err_msg=a + b)
    # the distinct van Hove function at zero lag is g_LiLi, images and all
    _, gd = van_hove_distinct(traj, "Li", 0.0, r_max=R_MAX, n_bins=N_BINS)
    np.testing.assert_allclose(gd, table[:, 2], rtol=1e-5, atol=1e-5)


def test_ideal_gas_g_is_one_at_any_r_in_a_small_skewed_cell():
    """Uniform random points in a cell of 4 x 5 x 6 A on skewed vectors: g(r) = 1 up to
    r_max = 9 A (2 to 3 cell widths), where a minimum image counts nothing past 2 A."""
    rng = np.random.default_rng(0)
    cell = np.array([[4.0, 0, 0], [6.0, 5.0, 0], [3.0, -5.0, 6.0]])
    frames = rng.random((400, 6, 3)) @ cell
    traj = _trajectory(frames, cell, ["Li"] * 3 + ["Cl"] * 3)
    r, g = rdf(traj, "Li", "Cl", r_max=9.0, n_bins=9)
    assert np.abs(g[2:] - 1).max() < 0.05
    _, gll = rdf(traj, "Li", "Li", r_max=3.9, n_bins=3)   # below the shortest lattice vector
    assert np.abs(gll[1:] - 1).max() < 0.1


def test_a_lag_between_two_frames_is_refused():
    rng = np.random.default_rng(1)
    # a random walk (unwrapped: steps of ~0.3 A; random positions would look wrapped, which
    # the self van Hove function refuses since b527b56), frames 0.1 ps apart
    walk = 4.0 + np.cumsum(rng.normal(0.0, 0.3, (20, 4, 3)), axis=0)
    traj = _trajectory(walk, np.eye(3) * 8, ["Li"] * 4)
    with pytest.raises(AnalysisError, match=r"lag 0.15 ps is not a whole number of frames "
                                            r"\(frames are 0.1 ps apart\): use 0.1 or 0.2 ps"):
        van_hove_self(traj, "Li", [0.1, 0.15])
    with pytest.raises(AnalysisError, match="not a whole number of frames"):
        van_hove_distinct(traj, "Li", 0.25)
    # lags on the frame grid, written as decimal fractions, are taken as they are
    r, g = van_hove_self(traj, "Li", [0.1, 0.3, 0.7])
    assert g.shape == (3, 80)


def test_density_cube_peaks_where_the_atoms_are(tmp_path):
    """A Gaussian cloud about fractional (0.5, 0.5, 0.5): the density's mean over the CUBE
    file's grid points (at origin + i * voxel) is the cloud's centre."""
    from ase.io.cube import read_cube_data

    rng = np.random.default_rng(2)
    cell = np.diag([10.0, 12.0, 14.0])
    n = 20
    positions = (0.5 + 0.06 * rng.standard_normal((2000, 1, 3))) @ cell
    traj = _trajectory(positions, cell, ["Li"])
    data, atoms = read_cube_data(str(write_density_cube(traj, "Li", tmp_path / "li.cube",
                                                        (n, n, n))))
    grid = density_grid(traj, "Li", (n, n, n))
    voxel_bohr3 = atoms.get_volume() / data.size / units.Bohr ** 3   # one Li: atoms per Bohr^3
    np.testing.assert_allclose(data, grid / grid.sum() / voxel_bohr3, rtol=1e-5)
    points = np.arange(n) / n                   # ASE writes the origin at 0
    for axis in range(3):
        profile = data.sum(axis=tuple(k for k in range(3) if k != axis))
        mean = np.sum(profile * points) / profile.sum()
        assert abs(mean - positions[:, 0, axis].mean() / cell[axis, axis]) < 0.1 / n, axis


def test_an_empty_range_is_refused_not_nan():
    """Was: r_max = 0 (0.49 x the diagonal of primitive fcc vectors, all 0) gave g = 0 and
    van Hove rows of NaN."""
    atoms = bulk("LiCl", "rocksalt", a=5.14) * (3, 3, 3)
    assert not atoms.cell.array.diagonal().any()
    traj = _trajectory([atoms.positions] * 3, atoms.cell.array, atoms.get_chemical_symbols())
    for call in (lambda: rdf(traj, "Li", "Cl", r_max=0.0),
                 lambda: van_hove_self(traj, "Li", 10.0, r_max=0.0),
                 lambda: van_hove_distinct(traj, "Li", 10.0, r_max=0.0)):
        with pytest.raises(AnalysisError, match=r"r_max must be positive .*got r_max = 0.0 A"):
            call()
    # any positive r_max is right on these vectors: the first Li-Cl shell at a / 2
    r, g = rdf(traj, "Li", "Cl", r_max=6.0, n_bins=60)
    assert r[np.argmax(g)] == pytest.approx(2.57, abs=0.05)
    assert np.sum(g[r < 2.4]) == 0


def test_distinct_van_hove_at_a_lag_is_numpy_by_hand_over_all_images():
    """Eight atoms wandering in a tilted cell that breathes: G_d(r, t) out to 1.07 of the
    narrowest cell width against a brute-force count over 7^3 lattice vectors of the
    later frame's cell (was up to 0.98 off)."""
    rng = np.random.default_rng(4)
    base = np.array([[6.0, 0, 0], [2.0, 5.0, 0], [-1.5, 1.0, 5.5]])
    n_frames, lag, r_max, n_bins = 12, 3, 5.0, 10
    boxes = base * (1 + 0.05 * np.sin(np.arange(n_frames)))[:, None, None]
    positions = np.cumsum(rng.normal(0, 0.8, (n_frames, 8, 3)), axis=0) + rng.random(3) @ base
    traj = Trajectory(positions, boxes, np.arange(n_frames) * 10, np.array(["Li"] * 8),
                      np.ones(8), 10.0)
    assert r_max > cell_widths(boxes).min() > r_max / 1.1
    r, gd = van_hove_distinct(traj, "Li", lag * 0.1, r_max=r_max, n_bins=n_bins)
    edges = np.linspace(0, r_max, n_bins + 1)
    shell = 4 / 3 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    lattice = np.stack(np.meshgrid(*[np.arange(-3, 4)] * 3, indexing="ij"), -1).reshape(-1, 3)
    expected = np.zeros(n_bins)
    for t0 in range(n_frames - lag):
        box = boxes[t0 + lag]
        d = np.linalg.norm(positions[t0 + lag][None, :, None] - positions[t0][:, None, None]
                           + (lattice @ box)[None, None], axis=-1)        # (i, j, image)
        own = np.eye(8, dtype=bool)[:, :, None] & ~lattice.any(axis=1)[None, None]
        d = d[~own]                 # each atom's own displacement; its images count
        expected += np.histogram(d, bins=edges)[0] * np.linalg.det(box) / (8 * 7 * shell)
    np.testing.assert_allclose(gd, expected / (n_frames - lag), rtol=1e-9, atol=1e-12)


def test_cube_atoms_sit_in_the_average_cell_like_the_density(tmp_path):
    """Under NpT the CUBE file's cell is the average one; its atoms are placed by their
    fractional coordinates in it, as the density is (were at the first frame's Cartesian
    positions, up to 0.62 A off here: the first cell is 7 % smaller than the average)."""
    from ase.io.cube import read_cube_data

    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (2, 2, 2)
    scale = np.linspace(1.0, 1.16, 9)
    boxes = atoms.cell.array[None] * scale[:, None, None]
    positions = atoms.get_scaled_positions()[None] @ boxes
    traj = Trajectory(positions, boxes, np.arange(9) * 10, np.array(atoms.get_chemical_symbols()),
                      atoms.get_masses(), 1.0)
    _, back = read_cube_data(str(write_density_cube(traj, "Li", tmp_path / "li.cube", (8, 8, 8))))
    np.testing.assert_allclose(back.cell.array, boxes.mean(0), atol=1e-5)
    np.testing.assert_allclose(back.positions, atoms.get_scaled_positions() @ boxes.mean(0),
                               atol=1e-5)


NPT_LIQUID = two_type_lj_cell("fcc 4.0") + """velocity all create 3000 1
write_data s.data
fix 1 all npt temp 3000 3000 0.1 tri 140000 140000 0.5
dump x all custom 10 x.dump id type x y z
dump s all custom 10 s.dump id xs ys zs
dump_modify s sort id format float %.17g
run 800
"""


def test_density_follows_lammps_wrapped_positions_in_a_changing_box(tmp_path):
    """A hot liquid under NpT (tilted cell, volume changing 10 %): the fractional
    coordinates the density is binned by are LAMMPS's own (its xs ys zs), where the
    unwrapped positions over each frame's cell were 0.16 A off on average, 1.9 A at worst."""
    from lammps_runner import run_lmp

    from ionmd.analysis.structure_functions import _density_fractions
    from ionmd.analysis.trajectory import read_lammps_trajectory

    run_lmp(NPT_LIQUID, tmp_path, env={"OMP_NUM_THREADS": "1"})
    traj = read_lammps_trajectory(tmp_path / "s.data", [tmp_path / "x.dump"], timestep_fs=1.0)
    assert np.ptp(traj.volumes) / traj.volumes.mean() > 0.05
    rows = [line.split() for line in (tmp_path / "s.dump").read_text().splitlines()]
    lammps = np.array([r[1:] for r in rows if len(r) == 4 and "ITEM:" not in r],
                      dtype=float).reshape(traj.n_frames, traj.n_atoms, 3) % 1.0

    def error_A(frac):   # distance to LAMMPS's fractional position, nearest image, A
        off = (frac - lammps + 0.5) % 1.0 - 0.5
        return np.linalg.norm(np.einsum("tnk,tkl->tnl", off, traj.boxes), axis=-1)

    direct = np.einsum("tnk,tkl->tnl", traj.positions, np.linalg.inv(traj.boxes))
    assert error_A(direct).mean() > 0.1                 # what the density was binned by
    binned = error_A(_density_fractions(traj, np.arange(traj.n_atoms)))
    assert binned.mean() < 0.02 and np.median(binned) < 1e-3
    shape = (6, 6, 6)
    li = traj.indices("Li")
    expected = np.histogramdd(((lammps[:, li] + 0.5 / 6) % 1.0).reshape(-1, 3), bins=shape,
                              range=[(0, 1)] * 3)[0]
    got = density_grid(traj, "Li", shape) * traj.volumes.mean() / 216 * expected.sum()
    moved = np.abs(got - expected).sum() / 2 / expected.sum()    # was 5.8 % of the counts
    assert moved < 0.015
    # the CUBE file's atoms after a discarded start (the box changed: lo is not 0) sit on
    # LAMMPS's fractional positions in the average cell, as the density does (were up to
    # 2.2 A off, 0.25 A typical: absolute positions over the cell, not relative to lo)
    from ase.io.cube import read_cube_data

    later = traj.discard(traj.times_ps[40])
    _, atoms = read_cube_data(str(write_density_cube(later, "Li", tmp_path / "li.cube", shape)))
    off = (atoms.get_scaled_positions(wrap=False) - lammps[40] + 0.5) % 1.0 - 0.5
    assert np.linalg.norm(off @ atoms.cell.array, axis=1).max() < 1e-4
