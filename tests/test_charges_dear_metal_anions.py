"""Au- and Pt2- beside ordinary anions only where a known salt holds them.

An alkali metal gives Au its electron in an ionic salt cheaply (CsAu 1.59 eV, RbAu 1.87 eV
uphill between free atoms) or, beside O2-, up to K's 2.03 eV in the auride oxide K3AuO
(Jansen, Chem. Soc. Rev. 37 (2008) 1826). Na (2.83 eV) and Li (3.08 eV to Au, 3.27 eV to Pt)
form no such salt: NaAu2 and LiAu are metals, no Na3AuO nor Li3AuO is known. The guess gave
them Au- (and Li8PtO3, Li8PtO6 short of half its O, Pt2-) "whatever it costs"; a file like
that is now no guess, its reason naming the state it would take and the cost, its advice
to check the file. The auride-aurates M7Au5O2 are known for M = Rb, Cs (Mudring and
Jansen, Angew. Chem. Int. Ed. 39 (2000) 3066): K7Au5O2 and a Pt analogue were written as
that family, not as formal states.

References: pymatgen's ``oxi_state_guesses`` (no states from ICSD's statistics; with Au- or
Pt2- allowed, exactly the metal anion), the transfer costs from pymatgen's element data,
and hand counts.
"""

from __future__ import annotations

import pytest
from pymatgen.core import Composition, Element

from ionmd.structures.charges import oxidation_guess

NEGATIVE = {"Au": [-1, 1, 3], "Pt": [-2, 2, 4]}


def _cost(donor: str, anion: str) -> float:
    return Element(donor).ionization_energy - Element(anion).electron_affinity


# formula: (donor, metal anion, its state that makes the formula neutral)
DEAR = {
    "Na3AuO": ("Na", "Au", -1),
    "Li3AuO": ("Li", "Au", -1),
    "Na3AuS": ("Na", "Au", -1),
    "Li8PtO3": ("Li", "Pt", -2),
    "Li7Au5O2": ("Li", "Au", -0.6),
    "K9Pt4H": ("K", "Pt", -2),          # Cs9Pt4H's analogue: K gives Pt it 2.22 eV uphill
}


@pytest.mark.parametrize("formula", DEAR)
def test_a_metal_anion_no_known_salt_holds_is_no_guess(formula):
    donor, anion, state = DEAR[formula]
    assert Composition(formula).oxi_state_guesses() == ()    # none from ICSD's states
    only = Composition(formula).oxi_state_guesses(oxi_states_override={anion: NEGATIVE[anion]})
    assert only[0][anion] == pytest.approx(state)             # the metal anion alone fits
    assert _cost(donor, anion) > _cost("K", "Au") + 0.15      # dearer than K3AuO's
    guess = oxidation_guess(formula)
    assert guess.states == {}
    assert f"{_cost(donor, anion):.2f} eV" in guess.note and "K3AuO" in guess.note
    assert "check the file's occupancies" in guess.advice


def test_potassiums_auride_oxide_keeps_its_au_minus():
    only = Composition("K3AuO").oxi_state_guesses(oxi_states_override={"Au": NEGATIVE["Au"]})
    assert oxidation_guess("K3AuO").states == only[0] == {"K": 1, "Au": -1, "O": -2}


def test_rubidium_gives_platinum_its_electron_as_dearly_as_potassium_gold_formally():
    """Rb to Pt 2.05 eV, K to Au 2.03 eV: Rb9Pt4H, Cs9Pt4H's analogue, keeps Pt2- H-,
    noted as formal (no such salt of Rb is known)."""
    assert abs(_cost("Rb", "Pt") - _cost("K", "Au")) < 0.05
    guess = oxidation_guess("Rb9Pt4H")
    assert guess.states == {"Rb": 1, "Pt": -2, "H": -1}
    assert "its states are formal" in guess.note


# formula: (metal, its atoms per state by hand, whether the family is known)
DISPROPORTIONATED = {
    "Cs7Au5O2": ("Au", {-1: 4, 1: 1}, True),
    "Rb7Au5O2": ("Au", {-1: 4, 1: 1}, True),
    "K7Au5O2": ("Au", {-1: 4, 1: 1}, False),
    "Cs4Pt3O": ("Pt", {-2: 2, 2: 1}, False),
}


@pytest.mark.parametrize("formula", DISPROPORTIONATED)
def test_only_the_known_auride_aurates_are_stated_without_a_caveat(formula):
    metal, counts, known = DISPROPORTIONATED[formula]
    n = Composition(formula)[metal]
    assert sum(counts.values()) == n
    guess = oxidation_guess(formula)
    assert guess.states[metal] == pytest.approx(sum(s * k for s, k in counts.items()) / n)
    assert ("its states are formal" not in guess.note) is known, guess.note
    assert metal == "Au" or "auride-aurate, its" not in guess.note     # Pt is no auride


@pytest.mark.parametrize("formula,states", [
    ("K2PtCl6", {"K": 1, "Pt": 4, "Cl": -1}),
    ("KAuCl4", {"K": 1, "Au": 3, "Cl": -1}),
    ("Li2PtO3", {"Li": 1, "Pt": 4, "O": -2}),
    ("NaAuS", {"Na": 1, "Au": 1, "S": -2}),
    ("Na3AuO2", {"Na": 1, "Au": 1, "O": -2}),
])
def test_ordinary_alkali_salts_of_gold_and_platinum_keep_cationic_metals(formula, states):
    metal = "Pt" if "Pt" in formula else "Au"
    reference = Composition(formula).oxi_state_guesses(
        oxi_states_override={metal: NEGATIVE[metal]})[0]
    assert oxidation_guess(formula).states == reference == states
