"""Distances in cells that are not in LAMMPS's orientation.

A trajectory read through ASE (XDATCAR, extended XYZ, .traj) keeps its cell as written:
``ase.build.bulk``'s primitive vectors, a Materials Project lattice. MDAnalysis's box
dimensions (lengths and angles) mean the canonical orientation, a along x and b in the xy
plane, so minimum-image distances of such a cell were wrong: a healthy rock-salt crystal
on primitive vectors was reported collapsed (two atoms at 0.36 x their covalent radii) and
its Cl-Cl nearest-neighbour distance, the melting check's scale, was 2.46 A instead of
3.63 A. References: the same configuration on the crystal's cubic cell (already canonical),
the analytic lattice distance, and the invariance of every distance under a rotation of
the whole frame.
"""

import numpy as np
import pytest
from ase.build import bulk
from scipy.spatial.transform import Rotation

from ionmd.analysis.cell_frame import canonical_rotation
from ionmd.analysis.failure import _nn_distance, detect_failures
from ionmd.analysis.structure_functions import rdf, van_hove_distinct
from ionmd.analysis.trajectory import Trajectory

A = 5.14    # LiCl rock-salt lattice constant, A


def rattled_frames(atoms, n_frames=3, sigma=0.05, seed=0):
    rng = np.random.default_rng(seed)
    return np.array([atoms.positions + rng.normal(0.0, sigma, atoms.positions.shape)
                     for _ in range(n_frames)])


def trajectory(positions, cell, symbols):
    return Trajectory(positions=positions, boxes=np.array([cell] * len(positions)),
                      steps=np.arange(len(positions)) * 100, elements=np.array(symbols),
                      masses=np.ones(len(symbols)), timestep_fs=2.0)


@pytest.mark.parametrize("cell", [
    bulk("LiCl", "rocksalt", a=A).cell.array * 3,                       # primitive fcc vectors
    Rotation.from_euler("xyz", [20, 50, -30], degrees=True).apply(np.diag([7.0, 8.0, 9.0])),
    np.diag([7.0, 8.0, 9.0]) @ np.diag([1, 1, -1]),                       # left-handed
])
def test_canonical_rotation_is_an_isometry_onto_lammps_orientation(cell):
    q = canonical_rotation(cell)
    assert np.allclose(q @ q.T, np.eye(3), atol=1e-12)
    turned = cell @ q
    assert abs(turned[0, 1]) < 1e-9 and abs(turned[0, 2]) < 1e-9 and abs(turned[1, 2]) < 1e-9
    assert np.allclose(np.linalg.norm(turned, axis=1), np.linalg.norm(cell, axis=1))


def test_healthy_crystal_on_primitive_vectors_is_not_a_failure():
    """Was: 'collapsed_distance: two atoms at 0.36 x the sum of their covalent radii'."""
    atoms = bulk("LiCl", "rocksalt", a=A) * (4, 4, 4)
    pos = rattled_frames(atoms)
    cells = np.array([atoms.cell.array] * len(pos))
    symbols = atoms.get_chemical_symbols()
    report = detect_failures(steps=np.arange(len(pos)) * 100, timestep_fs=2.0, positions=pos,
                             boxes=cells, elements=symbols, framework=["Cl"])
    assert report.events == []
    chlorine = atoms[[s == "Cl" for s in symbols]]
    chlorine.positions = pos[0][np.array(symbols) == "Cl"]
    d = chlorine.get_all_distances(mic=True) + np.diag([np.inf] * len(chlorine))   # ASE's
    assert _nn_distance(chlorine.positions, cells[0]) == pytest.approx(d.min(1).mean(), rel=1e-5)
    assert d.min(1).mean() == pytest.approx(A / np.sqrt(2), abs=0.15)


def test_collapse_is_still_found_on_primitive_vectors():
    """The check itself still works there: one Li pushed onto a Cl."""
    atoms = bulk("LiCl", "rocksalt", a=A) * (4, 4, 4)
    pos = rattled_frames(atoms, sigma=0.02)
    li = atoms.get_chemical_symbols().index("Li")
    cl = atoms.get_chemical_symbols().index("Cl")
    pos[-1, li] = pos[-1, cl] + [0.3, 0.0, 0.0]
    report = detect_failures(steps=np.arange(len(pos)) * 100, timestep_fs=2.0, positions=pos,
                             boxes=np.array([atoms.cell.array] * len(pos)),
                             elements=atoms.get_chemical_symbols(), framework=["Cl"])
    assert [e.mode for e in report.events] == ["collapsed_distance"]
    assert report.events[0].step == 200


def test_structure_functions_do_not_depend_on_the_frame():
    """g(r) and the distinct van Hove function of one configuration, given on the cubic cell
    and again with the whole frame rotated: the same curves (minimum image)."""
    atoms = bulk("LiCl", "rocksalt", a=A, cubic=True) * (3, 3, 3)
    pos = rattled_frames(atoms, n_frames=4)
    symbols = atoms.get_chemical_symbols()
    turn = Rotation.from_euler("zyx", [35, -20, 65], degrees=True).as_matrix().T
    plain = trajectory(pos, atoms.cell.array, symbols)
    turned = trajectory(pos @ turn, atoms.cell.array @ turn, symbols)
    r, g_plain = rdf(plain, "Li", "Cl", r_max=7.0)
    _, g_turned = rdf(turned, "Li", "Cl", r_max=7.0)
    assert g_plain.max() > 5.0          # the first shell at a / 2
    assert np.allclose(g_turned, g_plain)
    _, vh_plain = van_hove_distinct(plain, "Li", lag_ps=0.2, r_max=7.0)
    _, vh_turned = van_hove_distinct(turned, "Li", lag_ps=0.2, r_max=7.0)
    assert np.allclose(vh_turned, vh_plain)


def test_distances_on_skewed_vectors_of_one_lattice():
    """The same lattice on skewed vectors (b + 2a, c + b + 2a: a cell never reduced, as an
    ASE trajectory may carry): MDAnalysis's minimum image was up to 0.8 A off ASE's; the
    cell is reduced first (ASE's Minkowski reduction), the distances are ASE's."""
    from ase import Atoms
    from MDAnalysis.lib.distances import self_distance_array

    from ionmd.analysis.cell_frame import canonical_frame

    rng = np.random.default_rng(0)
    cell = np.diag([6.0, 7.0, 8.0])
    skewed = cell.copy()
    skewed[1] += 2 * cell[0]
    skewed[2] += cell[1] + 2 * cell[0]
    positions = rng.random((30, 3)) @ cell
    reference = Atoms("H30", positions=positions, cell=skewed, pbc=True).get_all_distances(
        mic=True)[np.triu_indices(30, 1)]
    turned, dims = canonical_frame(positions, skewed)
    found = self_distance_array(turned.astype(np.float32), box=dims)
    assert np.allclose(found, reference, atol=1e-5)
