"""A metal anion beside an ordinary one: the auride oxides Cs3AuO and Rb3AuO (Cs+ Au- O2-,
by Au L-edge XANES: J. Am. Chem. Soc. 117 (1995) 11749) and the platinide hydride Cs9Pt4H
(Cs+ Pt2- H-, red and transparent: Smetana and Mudring, Angew. Chem. Int. Ed. 2016,
doi:10.1002/anie.201606682) were called 'subvalent (metal-rich)' metals: the metal-anion
rule needed an all-metal formula, and its charge-transfer check also compared Au with O."""

from __future__ import annotations

import pytest
from pymatgen.core import Composition

from ionmd.structures.charges import oxidation_guess, transport_note

HAND = {
    "Cs3AuO": {"Cs": 1.0, "Au": -1.0, "O": -2.0},
    "Rb3AuO": {"Rb": 1.0, "Au": -1.0, "O": -2.0},
    "Cs9Pt4H": {"Cs": 1.0, "Pt": -2.0, "H": -1.0},
}


@pytest.mark.parametrize("formula", sorted(HAND))
def test_metal_anion_salts_get_their_published_states(formula):
    hand = HAND[formula]
    amounts = Composition(formula).get_el_amt_dict()
    assert sum(hand[el] * n for el, n in amounts.items()) == 0     # the hand states: neutral
    # pymatgen, allowed the metal anion's state, agrees; without it, it has none
    anion = "Au" if "Au" in hand else "Pt"
    allowed = Composition(formula).oxi_state_guesses(
        oxi_states_override={anion: [int(hand[anion])]})
    assert {str(el): v for el, v in allowed[0].items()} == hand
    assert Composition(formula).oxi_state_guesses() == ()
    guess = oxidation_guess(formula)
    assert guess.states == hand and guess.net_charge == 0 and guess.note == ""
    assert transport_note(formula) == ""        # an ionic solid, no metal


@pytest.mark.parametrize("formula, states", [
    ("CsAu", {"Cs": 1.0, "Au": -1.0}), ("RbAu", {"Rb": 1.0, "Au": -1.0}),
    ("Cs2Pt", {"Cs": 1.0, "Pt": -2.0})])
def test_binary_aurides_and_platinides_are_unchanged(formula, states):
    assert oxidation_guess(formula).states == states


@pytest.mark.parametrize("formula", ["KAu", "BaPt"])
def test_dearer_donors_stay_intermetallic(formula):
    guess = oxidation_guess(formula)
    assert guess.states == {} and "intermetallic" in guess.note


@pytest.mark.parametrize("formula", ["RbAuCl4", "Cs2PtCl6"])
def test_gold_and_platinum_cations_beside_cesium_stay_cations(formula):
    """Where the state that makes the salt neutral is positive, the metal is a cation:
    pymatgen's guess (Au3+, Pt4+)."""
    reference = {str(el): v for el, v in Composition(formula).oxi_state_guesses()[0].items()}
    assert oxidation_guess(formula).states == reference
