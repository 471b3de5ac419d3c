"""framework_sites (the melting check's units and their centres) from scipy (cKDTree over
the atoms and their images near the cell, csgraph components) instead of ASE's neighbour
list and a Python walk of the bonded components (2-11 s at 50k atoms, now 0.3-0.4 s): the
bonds against ASE's ``neighbor_list("ijS")``, the units and centres against the previous
implementation (kept below as it was), on cells with molecules, chains, networks, small
and triclinic cells and atoms outside the cell."""

from typing import Sequence

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.neighborlist import neighbor_list
from pymatgen.core import Structure

from ionmd.analysis.framework import BOND_FACTOR, UNIT_MIN_X, _bonds, framework_sites
from ionmd.structures.examples import example_path
from test_analysis_failure_units import b12h12, closo_borate_crystal


# ---- the previous implementation (ionmd before this change), the reference

def previous_framework_sites(pos: np.ndarray, box: np.ndarray, elements: Sequence[str],
                    framework_idx: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """:func:`framework_units` and each unit's centre (Cartesian, (U, 3)): its members at the
    images their bonds join (a cage wider than half the cell, rebuilt about one member's
    nearest images, would be torn apart)."""
    from ase import Atoms
    from ase.data import atomic_numbers, covalent_radii
    from ase.neighborlist import neighbor_list
    from pymatgen.core import Element

    elements = np.asarray(elements)
    singles = [np.array([k]) for k in range(framework_idx.size)]
    framework = set(elements[framework_idx].tolist())
    formers = np.flatnonzero([Element(e).X >= UNIT_MIN_X for e in elements[framework_idx]])
    if formers.size < 2:
        return singles, np.asarray(pos[framework_idx], dtype=float)
    most = max(Element(e).X for e in framework)
    bridges = np.flatnonzero([e not in framework and Element(e).X > most for e in elements])
    idx = np.concatenate([framework_idx[formers], bridges])
    radius = covalent_radii[[atomic_numbers[e] for e in elements[idx]]]
    # every bonded image, not the nearest one only: in a cell under two bonds across, a
    # chain's two atoms are bonded through two images of one pair (minimum-image pairs
    # made such a chain a molecule), an atom to its own image
    i, j, image_of_j = neighbor_list("ijS", Atoms(positions=pos[idx], cell=box, pbc=True),
                                     BOND_FACTOR * radius, self_interaction=False)
    bonds, shifts = np.column_stack([i, j]), -image_of_j
    component, periodic, image = previous_components(len(idx), bonds, shifts)
    # framework positions with each molecule's formers at the images its bonds join
    frac = np.linalg.solve(np.asarray(box, float).T, np.asarray(pos[framework_idx], float).T).T
    frac[formers] += image[:formers.size]
    joined = frac @ np.asarray(box, float)
    unit_of = np.arange(framework_idx.size)       # each atom its own site, then the molecules
    of_formers = component[:formers.size]
    for c in np.unique(of_formers):
        members = formers[of_formers == c]
        if members.size > 1 and not periodic[c]:
            unit_of[members] = members[0]
    units = [np.flatnonzero(unit_of == k) for k in np.unique(unit_of)]
    return units, np.array([joined[u].mean(0) for u in units])


def previous_components(n: int, bonds: np.ndarray, shifts: np.ndarray):
    """Connected components of ``n`` atoms under ``bonds`` (i, j), atom j's bonded image
    ``shifts`` cells from its stored one, and whether each component is periodic: a walk
    through its bonds comes back to an atom in another image (a chain or network through
    the cell), where a molecule's comes back to the same image; and each atom's image that
    its component's bonds join (cells, (n, 3) integers)."""
    neighbours: list[list[tuple[int, np.ndarray]]] = [[] for _ in range(n)]
    for (i, j), s in zip(bonds, shifts):
        neighbours[i].append((j, -s))     # atom j's image next to atom i: its own - s
        neighbours[j].append((i, s))
    component = np.full(n, -1)
    image = np.zeros((n, 3), dtype=int)
    periodic: list[bool] = []
    for start in range(n):
        if component[start] >= 0:
            continue
        c = len(periodic)
        periodic.append(False)
        component[start] = c
        stack = [start]
        while stack:
            i = stack.pop()
            for j, s in neighbours[i]:
                want = image[i] + s
                if component[j] < 0:
                    component[j], image[j] = c, want
                    stack.append(j)
                elif (image[j] != want).any():
                    periodic[c] = True
    return component, np.array(periodic, dtype=bool), image


# ---- the comparisons


def as_set(i, j, s):
    return set(zip(i.tolist(), j.tolist(), map(tuple, np.asarray(s).tolist())))


@pytest.mark.parametrize("cell", [np.eye(3) * 4.2,
                                  [[5, 0, 0], [2.5, 4, 0], [1, 1, 3.1]],
                                  [[11.49, 0, -4.93], [1.18, 5.76, -1.34], [0, 0, 12.53]],
                                  # tilts past LAMMPS's (an ASE or pymatgen cell), widths
                                  # 2.5 A along 10 A vectors; a cell of 1 A widths
                                  [[6, 0, 0], [-9, 3, 0], [5, -4, 2.5]],
                                  [[1.2, 0, 0], [0.6, 1.0, 0], [0.6, 0.3, 1.0]]])
def test_bonds_are_ase_neighbour_lists(cell):
    """Cells under two cutoffs across (pairs bonded through several images, atoms bonded
    to their own images), triclinic with tilts past any LAMMPS box's, atoms anywhere
    (outside the cell too)."""
    rng = np.random.default_rng(0)
    cell = np.asarray(cell, float)
    pos = rng.random((40, 3)) @ cell + rng.normal(0, 3, (40, 3))
    cutoff = rng.uniform(0.8, 1.6, 40)
    ase = neighbor_list("ijS", Atoms("P40", positions=pos, cell=cell, pbc=True), cutoff,
                        self_interaction=False)
    ours = _bonds(pos, cell, cutoff)
    assert len(ours[0]) == len(ase[0]) and as_set(*ours) == as_set(*ase)


def same_sites(pos, box, elements, fidx):
    old_units, old_centres = previous_framework_sites(pos, box, elements, fidx)
    units, centres = framework_sites(pos, box, elements, fidx)
    assert [u.tolist() for u in units] == [u.tolist() for u in old_units]
    # molecules' centres as before; an atom of a chain through the cell now where it is,
    # before at an image its walk reached: the same site, a lattice vector apart
    apart = np.linalg.solve(np.asarray(box, float).T, (centres - old_centres).T).T
    assert np.allclose(apart, np.round(apart), atol=1e-9)
    molecules = np.array([len(u) > 1 for u in units])
    assert np.allclose(centres[molecules], old_centres[molecules], atol=1e-9)
    return units


def test_li7p3s11_sites_as_before():
    s = Structure.from_file(example_path("Li7P3S11"))
    s.make_supercell([2, 2, 2])
    elements = np.array([site.specie.symbol for site in s])
    units = same_sites(s.cart_coords, s.lattice.matrix, elements,
                       np.flatnonzero(elements == "P"))
    assert sorted({len(u) for u in units}) == [1, 2]


def test_closo_borate_sites_as_before():
    atoms, _ = closo_borate_crystal(a=9.8)
    atoms = atoms * (2, 1, 1)
    atoms.rattle(0.02, seed=1)
    elements = np.array(atoms.get_chemical_symbols())
    units = same_sites(atoms.positions, atoms.cell.array, elements,
                       np.flatnonzero(elements != "Li"))
    assert [len(u) for u in units] == [24] * 8


def test_chains_networks_and_a_tilted_cluster_as_before():
    chain = np.array([[0.0, 5, 5], [2.1, 5, 5]])                # P every 2.1 A in 4.2 A
    same_sites(chain, np.diag([4.2, 10, 10]), np.array(["P", "P"]), np.arange(2))
    network = bulk("Si", "diamond", a=5.43) * (2, 2, 2)        # bonded through the cell
    network.rattle(0.05, seed=2)
    units = same_sites(network.positions, network.cell.array,
                       np.array(network.get_chemical_symbols()), np.arange(len(network)))
    assert all(len(u) == 1 for u in units)
    cell = np.array([[9.0, 0, 0], [4.0, 9.0, 0], [0, 0, 9.0]])  # B12H12 across a corner
    pos = b12h12(np.zeros(3))
    same_sites(pos, cell, np.array(["B"] * 12 + ["H"] * 12), np.arange(24))


def test_fifty_thousand_atoms_in_a_fraction_of_a_second():
    """53 248 atoms (49 152 B and H: bond keys beyond 32-bit integers), moved by half a
    cell of the crystal and wrapped, so that the cages of the last cells are cut by the
    faces: every B12H12 one site, at its cage's centre (the fcc sites the crystal was
    built on, moved, up to the cell)."""
    import time

    atoms, centres = closo_borate_crystal()
    cells = 8
    atoms = atoms * (cells, cells, cells)
    a = atoms.cell.array[0, 0] / cells
    atoms.positions += a / 2
    atoms.wrap()
    centres = centres + a / 2
    elements = np.array(atoms.get_chemical_symbols())
    start = time.perf_counter()
    units, found = framework_sites(atoms.positions, atoms.cell.array, elements,
                                   np.flatnonzero(elements != "Li"))
    took = time.perf_counter() - start
    assert [len(u) for u in units] == [24] * (4 * cells ** 3)
    sites = np.array([c + a * np.array([x, y, z]) for x in range(cells) for y in range(cells)
                      for z in range(cells) for c in centres])
    frac = np.linalg.solve(atoms.cell.array.T, (found[:, None] - sites[None]).reshape(-1, 3).T)
    at_a_site = (np.abs(frac - np.round(frac)).max(0) < 1e-6).reshape(len(found), len(sites))
    assert at_a_site.sum(1).tolist() == [1] * len(found)
    assert took < 3.0            # 5.9 s before (ASE's neighbour list, a Python walk)
