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

from ionmd.analysis.failure import (_nn_distance, detect_failures, framework_species,
                                    framework_units, non_affine_rms)
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
