"""Borane anions beyond single closo cages.

* Open cages: arachno-[B3H8]- (LiB3H8, NaB3H8) and nido-[B11H14]- (LiB11H14, NaB11H14:
  Payandeh et al., Chem. Mater. 32 (2020) 1101) had 'no sound oxidation states ... +18 e'
  while closo-borates got their cages. Reference: the hand-assigned cage charges, checked by
  Wade's rules (skeletal electron pairs: n + 2 nido, n + 3 arachno).
* Mixed closo cages: Na4(B12H12)(B10H10) (Duchene et al., Chem. Commun. 53 (2017) 4195) and
  Li(CB9H10)0.7(CB11H12)0.3 (Kim et al., Nat. Commun. 10 (2019) 1081) were named as one cage
  of the average size ([B11H11]2-, [CB9.6H10.6]-). Reference: the hand-assigned mixtures,
  whose atoms make up the formula (pymatgen ``Composition`` sums).
"""

from __future__ import annotations

import pytest
from pymatgen.core import Composition

from ionmd.structures import transport_charges
from ionmd.structures.charges import oxidation_guess


def _wade_kind(cage: str, charge: int) -> str:
    """closo, nido or arachno from skeletal electron pairs: each BH gives 1 pair, each
    further H and each electron of the charge half of one."""
    c = Composition(cage)
    pairs = c["B"] + (c["H"] - c["B"] - charge) / 2
    return {1: "closo", 2: "nido", 3: "arachno"}[pairs - c["B"]]


OPEN = [("LiB3H8", "Li", "B3H8", "arachno"), ("NaB3H8", "Na", "B3H8", "arachno"),
        ("LiB11H14", "Li", "B11H14", "nido"), ("NaB11H14", "Na", "B11H14", "nido")]


@pytest.mark.parametrize("formula,cation,cage,kind", OPEN)
def test_an_open_borane_salt_is_its_cations_and_its_cage(formula, cation, cage, kind):
    assert _wade_kind(cage, -1) == kind
    assert Composition(cation) + Composition(cage) == Composition(formula)
    guess = oxidation_guess(formula)
    assert guess.clusters == {cage: -1} and guess.ions == {cation: 1} and guess.states == {}
    assert f"{formula} is a{'n' if kind[0] == 'a' else ''} {kind}-borane salt" in guess.note
    assert transport_charges(formula) == {cation: 1}


def test_the_closo_cages_read_by_wades_rules_are_closo():
    assert _wade_kind("B12H12", -2) == _wade_kind("CB11H12", -1) == "closo"


# formula (as reduced), cations, cages: (charge, per formula unit), as the literature writes it
MIXED = [
    ("Na2B11H11", {"Na": 1}, {"B10H10": (-2, 0.5), "B12H12": (-2, 0.5)},
     "Na2(B10H10)0.5(B12H12)0.5"),
    ("Li2B11H11", {"Li": 1}, {"B10H10": (-2, 0.5), "B12H12": (-2, 0.5)},
     "Li2(B10H10)0.5(B12H12)0.5"),
    ("LiCB9.6H10.6", {"Li": 1}, {"CB9H10": (-1, 0.7), "CB11H12": (-1, 0.3)},
     "Li(CB9H10)0.7(CB11H12)0.3"),
]


@pytest.mark.parametrize("formula,cations,cages,written", MIXED)
def test_mixed_closo_cages_are_both_named(formula, cations, cages, written):
    amounts = Composition(formula)
    whole = sum((Composition(name) * n for name, (_, n) in cages.items()),
                Composition({el: amounts[el] for el in cations}))
    assert whole.almost_equals(amounts)
    assert sum(q * amounts[el] for el, q in cations.items()) + sum(
        q * n for q, n in cages.values()) == pytest.approx(0)
    guess = oxidation_guess(formula)
    assert guess.clusters == {name: q for name, (q, _) in cages.items()}
    assert guess.ions == cations and transport_charges(formula) == cations
    assert f"{written} is a closo-borate" in guess.note
    for name, (q, _) in cages.items():
        assert f"[{name}]{'2' if q == -2 else ''}-" in guess.note
