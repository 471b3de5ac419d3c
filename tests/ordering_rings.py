"""The Li/Cl ring cell and the cubic garnet site model of the ordering tests, and the
distance floors their orderings are checked against, computed from ASE's covalent radii and
pymatgen's Shannon radii (not from ionmd's own floors)."""

from __future__ import annotations

import warnings

import numpy as np
from ase.data import atomic_numbers, covalent_radii
from pymatgen.core import Lattice, Species, Structure


def li_cl_rings(c: float) -> Structure:
    """Li 0.5 and Cl 0.5 on rings of three sites 1.40 A apart along a 4.2 A axis (the Cl
    rings half a cell off in b and c); ``c`` sets the Li-Cl site distances."""
    return Structure(Lattice.orthorhombic(4.2, 3.2, c), [{"Li": 0.5}] * 3 + [{"Cl": 0.5}] * 3,
                     [[0, 0, 0], [1 / 3, 0, 0], [2 / 3, 0, 0],
                      [0, 0.5, 0.5], [1 / 3, 0.5, 0.5], [2 / 3, 0.5, 0.5]])


def cubic_garnet(li_24d: float, li_96h: float, zr: float = 1.0) -> Structure:
    """Cubic LLZO's site model (Ia-3d, the audit's LLZO_mix.cif: a = 12.9682 A): Li on 24d
    and 96h with these occupancies, Zr on 16a (with La where ``zr`` < 1: a fully occupied
    mixed site)."""
    metal = {"Zr": zr} if zr == 1.0 else {"Zr": zr, "La": round(1 - zr, 6)}
    return Structure.from_spacegroup(
        230, Lattice.cubic(12.9682),
        [{"La": 1}, metal, {"O": 1}, {"Li": li_24d}, {"Li": li_96h}],
        [[0.125, 0, 0.25], [0, 0, 0], [0.1006, 0.1958, 0.2819], [0.375, 0, 0.25],
         [0.0968, 0.1912, 0.4242]])


def seeded_draw(big: Structure, groups: dict, counts: dict, seed: int) -> list:
    """Species per site of ``big`` (None on none: every site is ordered or in a group),
    each group's atoms and vacancies (``counts``) shuffled onto its sites with numpy's
    seeded generator, as the random ordering's first draw is made."""
    rng = np.random.default_rng(seed)
    draw = [str(site.specie) if site.is_ordered else None for site in big]
    for key, (fractions, idx) in groups.items():
        pool = [sp for sp in fractions for _ in range(counts[key][sp])]
        for i, sp in zip(idx, rng.permutation(np.array(pool, dtype=object))):
            draw[i] = sp
    return draw


def covalent_rule(a: str, b: str) -> float:
    """0.8 x the sum of the two elements' covalent radii (A)."""
    return 0.8 * (covalent_radii[atomic_numbers[a]] + covalent_radii[atomic_numbers[b]])


def shannon_floor(el: str, state: int) -> float:
    """0.85 x twice the ion's Shannon radius (A)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return 0.85 * 2 * float(Species(el, state).ionic_radius)


def assert_li_cl_pairs_above_floors(s: Structure) -> None:
    """Every Li-Cl pair of the ordered ``s`` at least the covalent rule apart, every Li-Li
    and Cl-Cl pair above the lower of its rule and its Shannon floor (both over 1.40 A, the
    ring's site spacing)."""
    d = s.distance_matrix
    symbols = np.array([site.specie.symbol for site in s])
    li, cl = np.flatnonzero(symbols == "Li"), np.flatnonzero(symbols == "Cl")
    assert d[np.ix_(li, cl)].min() >= covalent_rule("Li", "Cl") - 1e-9
    for atoms, el, q in ((li, "Li", 1), (cl, "Cl", -1)):
        pairs = d[np.ix_(atoms, atoms)][np.triu_indices(len(atoms), 1)]
        assert pairs.min() >= min(covalent_rule(el, el), shannon_floor(el, q)) > 1.40
