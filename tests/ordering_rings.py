"""The Li/Cl ring cell of the ordering tests and the distance floors its orderings are
checked against, computed from ASE's covalent radii and pymatgen's Shannon radii (not
from ionmd's own floors)."""

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
