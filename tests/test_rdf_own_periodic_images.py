"""g(r) and G_d(r, 0) past the shortest lattice vector against LAMMPS's ``compute rdf``.

Was: an atom's own periodic images were left out of the pairs, so in a small cell the
crystal's neighbours at the cell's lattice vectors were missing: in the 8-atom rock-salt
cell (a = 5.14 A) g_LiLi was 0 at 5.1 A and 7.3 A (fcc's second and third shells, all of
them images), where LAMMPS has 4.15 and 4.06.
"""

import numpy as np
import pytest
from ase.build import bulk

from ionmd.analysis.structure_functions import rdf, van_hove_distinct
from ionmd.analysis.trajectory import Trajectory

R_MAX, N_BINS = 8.0, 40


@pytest.fixture(scope="module")
def small_cell_and_lammps_rdf(tmp_path_factory):
    """The 8-atom rock-salt cell, tilted (xy 1.5, xz 1, yz 0.5 A) and rattled, and LAMMPS's
    ``compute rdf`` of it to 8 A, 1.6 of its shortest lattice vector."""
    from lammps_runner import lammps_rdf, to_lammps_frame

    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
    atoms.set_cell(atoms.cell.array + [[0, 0, 0], [1.5, 0, 0], [1.0, 0.5, 0]], scale_atoms=True)
    atoms.rattle(0.2, seed=3)
    atoms = to_lammps_frame(atoms)
    return atoms, lammps_rdf(atoms, tmp_path_factory.mktemp("rdf_small"), R_MAX, N_BINS)


def test_own_images_are_neighbours_as_in_lammps(small_cell_and_lammps_rdf):
    atoms, table = small_cell_and_lammps_rdf
    assert R_MAX > 1.5 * atoms.cell.lengths().min()
    traj = Trajectory(np.array([atoms.positions] * 2), np.repeat(atoms.cell.array[None], 2, 0),
                      np.arange(2) * 10, np.array(atoms.get_chemical_symbols()),
                      np.ones(len(atoms)), 10.0)
    for column, (a, b) in ((2, ("Li", "Li")), (4, ("Cl", "Cl")), (6, ("Li", "Cl")),
                           (6, ("Cl", "Li"))):
        r, g = rdf(traj, a, b, r_max=R_MAX, n_bins=N_BINS)
        np.testing.assert_allclose(r, table[:, 1], atol=1e-12)
        np.testing.assert_allclose(g, table[:, column], rtol=1e-5, atol=1e-5, err_msg=a + b)
    _, gd = van_hove_distinct(traj, "Cl", 0.0, r_max=R_MAX, n_bins=N_BINS)
    np.testing.assert_allclose(gd, table[:, 4], rtol=1e-5, atol=1e-5)


def test_a_frame_step_below_one_is_refused_not_nan():
    """Was: step = -1 gave g(r) of NaN (no frames, 0 / 0), step = 0 range()'s ValueError."""
    from ionmd.errors import AnalysisError

    rng = np.random.default_rng(0)
    traj = Trajectory(rng.random((4, 4, 3)) * 6, np.repeat(np.eye(3)[None] * 6, 4, 0),
                      np.arange(4) * 10, np.array(["Li", "Li", "Cl", "Cl"]), np.ones(4), 10.0)
    for step in (0, -1):
        with pytest.raises(AnalysisError, match=rf"step must be 1 or more .*got {step}"):
            rdf(traj, "Li", "Cl", step=step)


def test_pairs_counted_in_chunks_as_lammps_does_in_bounded_memory(small_cell_and_lammps_rdf,
                                                                   monkeypatch):
    """Chunks of 50 pairs give LAMMPS's g(r) still; a g(r) to 1.1 cell widths of 500
    random atoms (1 M pairs) holds < 40 MB of arrays at once (was 103 MB: all pairs,
    whatever r_max)."""
    import tracemalloc

    import ionmd.analysis.structure_functions as sf

    atoms, table = small_cell_and_lammps_rdf
    traj = Trajectory(np.array([atoms.positions] * 2), np.repeat(atoms.cell.array[None], 2, 0),
                      np.arange(2) * 10, np.array(atoms.get_chemical_symbols()),
                      np.ones(len(atoms)), 10.0)
    monkeypatch.setattr(sf, "PAIRS_PER_CALL", 50, raising=False)
    np.testing.assert_allclose(rdf(traj, "Li", "Li", r_max=R_MAX, n_bins=N_BINS)[1],
                               table[:, 2], rtol=1e-5, atol=1e-5)
    monkeypatch.setattr(sf, "PAIRS_PER_CALL", 100_000, raising=False)
    rng = np.random.default_rng(5)
    box = np.array([[16.0, 0, 0], [4.0, 16.0, 0], [2.0, 2.0, 16.0]])
    many = Trajectory(rng.random((1, 500, 3)) @ box, box[None], np.zeros(1),
                      np.array(["O"] * 500), np.ones(500), 1.0)
    tracemalloc.start()
    try:
        _, g = rdf(many, "O", "O", r_max=16.0, n_bins=16)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.abs(g[2:] - 1).max() < 0.05
    assert peak < 40e6
