"""The cells ``ionmd bench`` replicates: the default cell of a model's elements (rocksalt
LiCl, else a dense solid of its own elements), its summary, and the near-cubic supercell of
a cell closest to a number of atoms."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from ase import Atoms

from ionmd.errors import IonmdError


LICL_NAME = "LiCl rocksalt"
SITES_PER_SUBLATTICE = 4      # the conventional rocksalt cell: 4 cation + 4 anion sites
ELEMENT_CRYSTALS = ("fcc", "bcc", "hcp", "diamond", "sc")   # ASE reference states bulk() builds


def default_cell(elements: list[str] | None = None) -> Atoms:
    """The cell ``ionmd bench`` replicates when given no structure, named in
    ``atoms.info["name"]``: rocksalt LiCl (a 5.14 A, the cell of docs/benchmarks.md) where
    the model knows Li and Cl (or ``elements`` is None), else :func:`cell_of_elements`, so
    that a model of any elements (a Li-P-S, garnet-oxide or sodium model) can be benchmarked."""
    from ase.build import bulk

    if elements is None or {"Li", "Cl"} <= set(elements):
        atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
        atoms.info["name"] = LICL_NAME
        return atoms
    return cell_of_elements(elements)


def model_default_cell(model: Path) -> Atoms:
    """:func:`default_cell` of the elements a model file knows (its ionmd metadata)."""
    from ionmd.export import read_metadata

    return default_cell(read_metadata(model)["elements"].split())


def default_cell_or_licl(model: Path) -> Atoms:
    """The model's default cell; LiCl where its metadata cannot be read (the search checks
    no model first: its first run says what is wrong with the file, as it always did)."""
    from ionmd.errors import ModelFileError

    try:
        return model_default_cell(model)
    except ModelFileError:
        return default_cell()


def _electronegativity(element: str) -> float:
    """Pauling's, NaN for the noble gases (pymatgen has none for He, Ne, Ar)."""
    import warnings

    from pymatgen.core import Element

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # pymatgen warns where it has no value
        x = float(Element(element).X)
    return x if math.isfinite(x) else math.nan


def _covalent_radius(element: str) -> float:
    from ase.data import atomic_numbers, covalent_radii

    return float(covalent_radii[atomic_numbers[element]])


def cell_of_elements(elements: list[str]) -> Atoms:
    """A dense solid of a model's own elements, for timing: the cost of a step follows the
    neighbours per atom within the cutoff, so the cell has the nearest-neighbour distances
    and about the atom density of real solid electrolytes.

    One element: its crystal (ASE's reference state: Li, Na bcc), else fcc at twice its
    covalent radius. Several: rocksalt, the elements ordered by electronegativity and cut at
    the largest step (Na | P, S; Li, La, Zr | O) into cations and anions, up to 4 of each
    (the most electropositive cations, the most electronegative anions, these first) laid
    in turn on the 4 sites of their sublattice; the lattice constant makes the mean
    cation-anion distance the mean sum of covalent radii (Na-S 2.72 A, Li-O 1.94 A).
    Against real electrolytes of the same elements: Na-P-S 0.050 atoms/A^3 (Na3PS4 0.047),
    Li-La-Zr-O 0.087 (LLZO 0.088), Li-Ge-P-S 0.075 (LGPS 0.052): six-fold coordination
    packs more densely than the four-fold thiophosphates, so the default times such a
    model somewhat conservatively. Noble gases (no electronegativity) are left out where
    others remain.
    """
    from ase.build import bulk

    chemical = [el for el in elements if not math.isnan(_electronegativity(el))] \
        or list(elements)
    if len(chemical) == 1:
        return _element_crystal(chemical[0])
    ordered = sorted(chemical, key=_electronegativity)
    steps = np.diff([_electronegativity(el) for el in ordered])
    cut = int(np.argmax(steps)) + 1
    cations = ordered[:cut][:SITES_PER_SUBLATTICE]          # most ionic first: the one
    anions = ordered[cut:][::-1][:SITES_PER_SUBLATTICE]     # of two on a 3rd element's 4 sites
    on_sites = [[group[k % len(group)] for k in range(SITES_PER_SUBLATTICE)]
                for group in (cations, anions)]
    distance = sum(np.mean([_covalent_radius(el) for el in sites]) for sites in on_sites)
    atoms = bulk("NaCl", "rocksalt", a=2 * distance, cubic=True)   # Na, Cl sites alternate
    symbols = [None] * len(atoms)
    symbols[0::2], symbols[1::2] = on_sites
    atoms.set_chemical_symbols(symbols)
    atoms.info["name"] = (f"{atoms.get_chemical_formula()} rocksalt, a {2 * distance:.2f} A "
                          f"(of the model's elements)")
    return atoms


def _element_crystal(element: str) -> Atoms:
    from ase.build import bulk
    from ase.data import atomic_numbers, reference_states

    state = reference_states[atomic_numbers[element]] or {}
    if state.get("symmetry") in ELEMENT_CRYSTALS:
        atoms = bulk(element, orthorhombic=True)
        kind = state["symmetry"]
    else:                                   # molecular or a complex crystal (H, S, Bi)
        atoms = bulk(element, "fcc", a=2 * math.sqrt(2) * _covalent_radius(element),
                     cubic=True)
        kind = "fcc"
    atoms.info["name"] = f"{element} {kind} (the model's element)"
    return atoms


def cell_name(cell: Atoms) -> str:
    """The name :func:`default_cell` gave a cell, else its formula."""
    return cell.info.get("name") or cell.get_chemical_formula()


def cell_summary(cell: Atoms) -> str:
    """Which cell a bench replicates, with its atom density and nearest-neighbour distance
    (what the neighbours per atom within a model's cutoff, and so the cost, follow)."""
    from ase.neighborlist import neighbor_list

    d = neighbor_list("d", cell, 4.0 * max(_covalent_radius(el) for el in set(
        cell.get_chemical_symbols())))
    return (f"{cell_name(cell)}: {len(cell)} atoms per "
            f"cell, {len(cell) / cell.get_volume():.3f} atoms/A^3, nearest neighbours "
            f"{d.min():.2f} A")


def supercell_for(cell: Atoms, target_atoms: int, seed: int = 3) -> Atoms:
    """The near-cubic repetition of ``cell`` whose atom count is closest to the target
    (repeats chosen along the lattice vectors in proportion to 1/|a_i|), rattled by
    0.03 A so that forces are not all zero."""
    if target_atoms < len(cell):
        raise IonmdError(f"--atoms {target_atoms} is below the {len(cell)} atoms of one cell")
    lengths = cell.cell.lengths()
    scale = (target_atoms / len(cell) * np.prod(lengths)) ** (1 / 3)
    base = np.maximum(1, np.round(scale / lengths)).astype(int)
    best = None
    for delta in np.ndindex(3, 3, 3):   # search the neighbourhood of the ideal repeats
        reps = np.maximum(1, base + np.array(delta) - 1)
        n = int(np.prod(reps)) * len(cell)
        key = (abs(n - target_atoms), np.ptp(reps * lengths))
        if best is None or key < best[0]:
            best = (key, tuple(int(r) for r in reps))
    atoms = cell * best[1]
    atoms.rattle(0.03, seed=seed)
    atoms.info["repeat"] = best[1]
    return atoms
