"""The physical floor of an ordering against published ordered crystals. The floor was the
smaller of 0.8 x covalent and 0.85 x Shannon ionic radii sum for every pair; 12 of OBELiX's
72 ordered CIFs (tests/fixtures/charges2_ordered_cifs) have cation-anion contacts below it
(P-O 1.18-1.36 A, Ti-O 1.49 A, Li-O 1.51 A). A cation-anion floor is now where one bond
would carry the more charged ion's whole valence (bond valence R0 - 0.37 ln V); cation and
anion pairs keep theirs, so split positions stay refused. References: pymatgen's reading
of each file and its distances, ASE's covalent radii, pymatgen's Shannon radii."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from ase.data import atomic_numbers, covalent_radii
from pymatgen.core import Lattice, Species, Structure

from ionmd.structures.charges import guess_oxidation_states
from ionmd.structures.ordering_limits import _PairLimits
from published_cifs import pymatgen_structure

ORDERED = sorted((Path(__file__).parent / "fixtures" / "charges2_ordered_cifs").glob("*.cif"))


def _covalent(a: str, b: str) -> float:
    return covalent_radii[atomic_numbers[a]] + covalent_radii[atomic_numbers[b]]


def _shannon(el: str, state: float) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(Species(el, state).ionic_radius)


def _contacts(s: Structure):
    """(a, b, distance) of every pair of atoms within 3.5 A (pymatgen's neighbour list)."""
    i, j, _, d = s.get_neighbor_list(3.5)
    return [(s[a].specie.symbol, s[b].specie.symbol, x) for a, b, x in zip(i, j, d)]


@pytest.fixture(scope="module")
def crystals():
    out = []
    for path in ORDERED:
        s = pymatgen_structure(path)
        s.remove_oxidation_states()
        out.append((path.name, s, guess_oxidation_states(s.composition)))
    return out


def test_the_files_are_ordered_and_broke_the_old_floor(crystals):
    """Each file is ordered and has a cation-anion contact below min(0.8 x covalent,
    0.85 x Shannon sum) under its formal states (the old floor refused them)."""
    assert len(crystals) == 12
    for name, s, states in crystals:
        assert s.is_ordered and states, name
        old = [(a, b, d) for a, b, d in _contacts(s) if states[a] * states[b] < 0
               and d < min(0.8 * _covalent(a, b),
                           0.85 * (_shannon(a, states[a]) + _shannon(b, states[b])))]
        assert old, name


def test_no_published_ordered_contact_is_below_the_floor(crystals):
    for name, s, states in crystals:
        limits = _PairLimits(s, None, states)
        ratio = min(d / limits.physical_floor(a, b) for a, b, d in _contacts(s))
        assert ratio >= 1.0, name


def test_cation_and_anion_pairs_keep_their_floor():
    """Li+-Li+ and O2--O2- floors are as before, min(0.8 x covalent, 0.85 x Shannon), so
    split positions of one ion stay refused (test_structures_advice_physical: the
    pyrochlores' O-O 0.99 A, vj7's Li-Li 1.50 A); Li-O stays above the overlap check's."""
    s = Structure(Lattice.cubic(4.0), ["Li", "Li", "O"], [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5]])
    limits = _PairLimits(s, None, {"Li": 1, "O": -2})
    for el, q in (("Li", 1), ("O", -2)):
        expected = min(0.8 * _covalent(el, el), 0.85 * 2 * _shannon(el, q))
        assert limits.physical_floor(el, el) == pytest.approx(expected)
    assert limits.physical_floor("Li", "O") > 0.5 * _covalent("Li", "O")   # overlap check's

