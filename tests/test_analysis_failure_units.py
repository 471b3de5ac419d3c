"""The melting check on crystals with molecular polyanions of two centres.

Li7P3S11 holds P2S7 (two PS4 sharing a bridging S) and PS4 units. A P2S7 tumbling as a
whole in a hot crystal moves both of its P by up to the P-P distance while the crystal
stays a crystal; the melting check followed each P and could call such a crystal molten.
Now the two P of one unit are one site, their centre. References: the composition
(Li14P6S22 = 2 P2S7 + 2 PS4 per cell), a rigid rotation about a unit's centre (which
leaves the centre where it was), and a melt (every framework atom moved at random).
"""

import numpy as np
import pytest
from pymatgen.core import Structure
from scipy.spatial.transform import Rotation

from ionmd.analysis.failure import _nn_distance, detect_failures
from ionmd.analysis.framework import framework_species, framework_units, non_affine_rms
from ionmd.structures.examples import example_path

CHARGES = {"Li": 1, "P": 5, "S": -2}


@pytest.fixture(scope="module")
def li7p3s11():
    s = Structure.from_file(example_path("Li7P3S11"))
    elements = np.array([site.specie.symbol for site in s])
    return s.cart_coords, s.lattice.matrix, elements


def p2s7_flipped(pos, cell, elements):
    """Every P2S7 turned by 180 deg about the axis through its P-P midpoint, normal to P-P
    in the P-S-P plane: its P swap places, its bridging S stays, the unit's centre stays."""
    frac = np.linalg.solve(cell.T, pos.T).T

    def near(i, j):     # atom j's image nearest atom i, Cartesian
        d = frac[j] - frac[i]
        return (frac[i] + d - np.round(d)) @ cell

    p = np.flatnonzero(elements == "P")
    s = np.flatnonzero(elements == "S")
    bonded = {i: {j for j in s if np.linalg.norm(near(i, j) - pos[i]) < 2.4} for i in p}
    new = pos.copy()
    flipped = []
    for a in p:
        for b in p:
            shared = bonded[a] & bonded[b]
            if a < b and shared:
                members = [a, b] + sorted(bonded[a] | bonded[b])
                rel = np.array([near(a, m) for m in members])
                mid = 0.5 * (rel[0] + rel[1])
                bridge = near(a, next(iter(shared)))
                pp = rel[1] - rel[0]
                axis = np.cross(np.cross(pp, bridge - mid), pp)
                turn = Rotation.from_rotvec(np.pi * axis / np.linalg.norm(axis)).as_matrix()
                new[members] = mid + (rel - mid) @ turn.T
                flipped.append((a, b))
    return new, flipped


def test_li7p3s11_units_are_two_p2s7_and_two_ps4(li7p3s11):
    pos, cell, elements = li7p3s11
    fidx = np.flatnonzero(elements == "P")
    assert framework_species(elements, ["Li"], CHARGES) == ["P"]
    units = framework_units(pos, cell, elements, fidx)
    assert sorted(len(u) for u in units) == [1, 1, 2, 2]


def test_tumbling_p2s7_is_not_a_melt(li7p3s11):
    pos, cell, elements = li7p3s11
    new, flipped = p2s7_flipped(pos, cell, elements)
    assert len(flipped) == 2
    frames, boxes = np.array([pos, new]), np.array([cell, cell])
    p = np.flatnonzero(elements == "P")
    # followed atom by atom, the P moved past the check's limit (the old reading: molten)
    per_atom = non_affine_rms(frames[:, p], boxes, np.ones(p.size))[-1]
    assert per_atom > 0.5 * _nn_distance(pos[p], cell)
    report = detect_failures(steps=np.array([0, 1000]), timestep_fs=2.0, positions=frames,
                             boxes=boxes, elements=elements, framework=["P"])
    assert report.events == []


def test_a_melt_of_li7p3s11_is_still_found(li7p3s11):
    pos, cell, elements = li7p3s11
    rng = np.random.default_rng(5)
    frames = [pos]
    for _ in range(3):    # P and S wander off, each atom its own way
        step = rng.normal(0.0, 1.2, pos.shape)
        step[elements == "Li"] = 0.0
        frames.append(frames[-1] + step)
    report = detect_failures(steps=np.arange(4) * 1000, timestep_fs=2.0,
                             positions=np.array(frames), boxes=np.array([cell] * 4),
                             elements=elements, framework=["P"])
    assert "framework_melting" in [e.mode for e in report.events]


def test_edge_sharing_octahedra_stay_sites_of_their_own():
    """Li3YCl6 ordered (the shipped disordered CIF, one random ordering): YCl6 octahedra
    there share edges in pairs (Y-Cl-Y, 15 pairs in this cell), as ionic crystals do; they
    are no molecule, each Y stays its own site."""
    from ionmd.structures import order_structure

    s = Structure.from_file(example_path("Li3YCl6"))
    for seed in range(1, 6):
        ordered = order_structure(s, "random", seed=seed).structure
        elements = np.array([site.specie.symbol for site in ordered])
        fidx = np.flatnonzero(elements == "Y")
        pos, cell = ordered.cart_coords, ordered.lattice.matrix
        frac = np.linalg.solve(cell.T, pos.T).T
        d = frac[elements == "Cl"][None, :, :] - frac[fidx][:, None, :]
        bonded = (np.linalg.norm((d - np.round(d)) @ cell, axis=-1) < 3.0).astype(int)  # 2.6 A
        if (bonded @ bonded.T)[np.triu_indices(fidx.size, 1)].max() >= 2:
            break           # Y pairs sharing an edge of their octahedra
    else:
        pytest.fail("no ordering of Li3YCl6 with edge-sharing YCl6 in 5 seeds")
    units = framework_units(pos, cell, elements, fidx)
    assert len(units) == fidx.size


def closo_borate_crystal(a: float = 11.5):
    """Li2B12H12 as a stand-in: B12H12 icosahedra (B-B 1.78 A, B-H 1.19 A) on an fcc
    lattice, Li in the tetrahedral holes (antifluorite, 2 Li per cluster); the clusters
    far enough apart (H-H >= 2.4 A) to turn freely."""
    from ase import Atoms

    phi = (1 + 5 ** 0.5) / 2
    ico = np.array([p for s1 in (1, -1) for s2 in (1, -1)
                    for p in ([0, s1, s2 * phi], [s1, s2 * phi, 0], [s2 * phi, 0, s1])])
    ico *= 1.78 / 2.0                                    # the edge is 2 on these vertices
    unit = ico / np.linalg.norm(ico, axis=1)[:, None]
    cluster = np.vstack([ico, ico + 1.19 * unit])
    centres = a * np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
    holes = a * (np.array([[.25, .25, .25]]) + 0.5 * np.array(
        [[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)]))
    positions = np.vstack([c + cluster for c in centres] + [holes])
    symbols = (["B"] * 12 + ["H"] * 12) * 4 + ["Li"] * 8
    return Atoms(symbols, positions=positions, cell=np.eye(3) * a, pbc=True), centres


def test_rotor_phase_of_a_closo_borate_is_not_a_melt():
    """The B12H12 clusters of a closo-borate turn freely in its superionic rotor phase: each
    B and H moves by up to twice its distance from the cluster's centre while the cluster
    stays on its site. No oxidation states fit such a cluster anion, so B and H are the
    framework; each cluster is one site of the check now (was: molten at the first turn)."""
    from ionmd.structures import guess_oxidation_states

    atoms, centres = closo_borate_crystal()
    elements = np.array(atoms.get_chemical_symbols())
    charges = guess_oxidation_states(atoms.get_chemical_formula())
    framework = framework_species(elements, ["Li"], charges)
    assert set(framework) == {"B", "H"}
    fidx = np.flatnonzero(np.isin(elements, framework))
    assert sorted(len(u) for u in framework_units(atoms.positions, atoms.cell.array, elements,
                                                  fidx)) == [24] * 4
    rng = np.random.default_rng(2)
    turned = atoms.positions.copy()
    for k, c in enumerate(centres):
        members = np.arange(24 * k, 24 * (k + 1))
        turned[members] = c + (atoms.positions[members] - c) @ Rotation.random(
            random_state=rng.integers(1 << 30)).as_matrix().T
    frames, boxes = np.array([atoms.positions, turned]), np.array([atoms.cell.array] * 2)
    per_atom = non_affine_rms(frames[:, fidx], boxes, np.ones(fidx.size))[-1]
    assert per_atom > 0.5 * _nn_distance(atoms.positions[fidx], atoms.cell.array)
    report = detect_failures(steps=np.array([0, 1000]), timestep_fs=2.0, positions=frames,
                             boxes=boxes, elements=elements, framework=framework)
    assert report.events == []
    # the clusters' centres wandering off is still a melt
    molten = turned.copy()
    molten[:96] += np.repeat([[5.0, 0, 0], [-5.0, 0, 0], [0, 5.0, 0], [0, -5.0, 0]], 24, axis=0)
    report = detect_failures(steps=np.array([0, 1000, 2000]), timestep_fs=2.0,
                             positions=np.array([atoms.positions, turned, molten]),
                             boxes=np.array([atoms.cell.array] * 3), elements=elements,
                             framework=framework)
    assert "framework_melting" in [e.mode for e in report.events]


def test_a_chain_through_the_cell_is_no_molecule():
    """P atoms bonded in a chain that runs through the periodic cell (a polymer, as a
    glass former's network): no finite molecule, each P stays its own site."""
    from ase import Atoms

    atoms = Atoms("P4", positions=[[0, 0, 0], [2.2, 0, 0], [4.4, 0, 0], [6.6, 0, 0]],
                  cell=[8.8, 10.0, 10.0], pbc=True)       # P-P 2.2 A, and across the cell
    elements = np.array(atoms.get_chemical_symbols())
    units = framework_units(atoms.positions, atoms.cell.array, elements, np.arange(4))
    assert len(units) == 4


def b12h12(center):
    """A closo-B12H12 cage (B-B 1.78 A, B-H 1.20 A) about ``center``, from the icosahedron's
    vertices (0, +-1, +-phi) and their cyclic permutations."""
    phi = (1 + 5 ** 0.5) / 2
    base = np.array([[0, a, b * phi] for a in (1, -1) for b in (1, -1)], float)
    boron = np.vstack([np.roll(base, k, axis=1) for k in range(3)]) * 1.78 / 2
    r = np.linalg.norm(boron[0])
    return np.vstack([boron, boron / r * (r + 1.20)]) + center


def test_cluster_across_the_corner_of_a_triclinic_cell_is_one_molecule():
    cell = np.array([[12.0, 0, 0], [4.8, 12.0, 0], [3.6, -2.4, 12.0]])
    elements = np.array(["B"] * 12 + ["H"] * 12)
    for center in (np.zeros(3), 0.5 * cell.sum(0)):     # cut by every face, and whole
        units = framework_units(b12h12(center), cell, elements, np.arange(24))
        assert [len(u) for u in units] == [24]


def test_chain_of_two_atoms_per_period_is_no_molecule():
    """P every 2.1 A along x in a 4.2 A cell: the pair (0, 1) is bonded through two images;
    taken at its nearest image only, the chain read as a P2 molecule (one site)."""
    pos = np.array([[0.0, 5, 5], [2.1, 5, 5]])
    cell = np.diag([4.2, 10, 10])
    units = framework_units(pos, cell, np.array(["P", "P"]), np.arange(2))
    assert [len(u) for u in units] == [1, 1]


def test_centres_of_cages_wider_than_half_the_cell():
    """The melting check's scale is the distance between the units' centres. A B12H12 cage
    (5.8 A across its H) in a 9.8 A cell is wider than half the cell: rebuilt about its
    first atom's nearest images (an H listed first), its far side landed in the next cell
    and its centre moved (6.07 A apart for 6.93). The centres are fcc sites: a / sqrt(2)
    apart."""
    from ionmd.analysis.framework import framework_sites

    atoms, centres = closo_borate_crystal(a=9.8)
    phi = (1 + 5 ** 0.5) / 2
    along_x = Rotation.align_vectors([[1, 0, 0]], [[0, 1, phi]])[0]   # an H-H axis along x
    for k, c in enumerate(centres[:2]):              # two cages turned, 5.8 A across along x
        members = np.arange(24 * k, 24 * (k + 1))
        atoms.positions[members] = c + along_x.apply(atoms.positions[members] - c)
    order = np.concatenate([np.r_[24 * k + 12:24 * k + 24, 24 * k:24 * k + 12]
                            for k in range(4)] + [np.arange(96, 104)])   # H before B
    atoms = atoms[order]
    elements = np.array(atoms.get_chemical_symbols())
    fidx = np.flatnonzero(elements != "Li")
    units, found = framework_sites(atoms.positions, atoms.cell.array, elements, fidx)
    assert sorted(len(u) for u in units) == [24] * 4
    assert _nn_distance(found, atoms.cell.array) == pytest.approx(9.8 / np.sqrt(2), abs=1e-6)
