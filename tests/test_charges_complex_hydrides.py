"""Complex hydrides of Pt, which is more electronegative than H on Pauling's scale (2.28,
2.20): the hexahydroplatinates(IV) A2PtH6 (A = Li to Cs, K2PtCl6 type with octahedral
[PtH6]2-: Puhakainen et al., J. Solid State Chem. 183 (2010) 1785) and Na2PtH4 ([PtH4]2-,
Pt(II)). Their guess had no states: the electronegativity rule made Pt the anion beside
H+ and nothing was neutral. Reference: hand-assigned A+ Pt4+ H- (2 + 4 - 6 = 0), and
pymatgen's ``oxi_state_guesses`` told that H is H- (unasked, it ranks Pt2+ H-0.67 first)."""

from __future__ import annotations

import pytest
from pymatgen.core import Composition

from ionmd.structures.charges import oxidation_guess, transport_note

HAND = {"Cs2PtH6": {"Cs": 1, "Pt": 4, "H": -1}, "K2PtH6": {"K": 1, "Pt": 4, "H": -1},
        "Li2PtH6": {"Li": 1, "Pt": 4, "H": -1}, "Na2PtH4": {"Na": 1, "Pt": 2, "H": -1}}


@pytest.mark.parametrize("formula", HAND)
def test_a_platinum_hydride_is_pt_plus_beside_hydride(formula):
    amounts = Composition(formula)
    assert sum(amounts[el] * s for el, s in HAND[formula].items()) == 0
    reference = amounts.oxi_state_guesses(oxi_states_override={"H": [-1]})[0]
    guess = oxidation_guess(formula)
    assert guess.states == HAND[formula] == reference
    ligands = round(amounts["H"] / amounts["Pt"])
    assert f"[PtH{ligands}]2-" in guess.note and formula in guess.note
    assert transport_note(formula) == ""


def test_a_hydride_of_a_less_electronegative_metal_is_unchanged():
    """Mg2FeH6 (Fe 1.83 < H): Mg2+ Fe2+ H- by the ordinary rules, as pymatgen's guess."""
    reference = Composition("Mg2FeH6").oxi_state_guesses()[0]
    guess = oxidation_guess("Mg2FeH6")
    assert guess.states == pytest.approx(reference) and guess.note == ""
