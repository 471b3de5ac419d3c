"""Gold's formal states where one state per element cannot hold them.

* Mixed-valence salts: CsAuCl3 is Cs2[Au(I)Cl2][Au(III)Cl4] (Elliott and Pauling, J. Am.
  Chem. Soc. 60 (1938) 1846), Au 2 on average; its note read "Au 2 on average ... (Cs+ Au2+
  Cl-)", a state the salt does not hold. An averaged state's note now names the two it
  averages ("an average of +1 and +3") and their ratio.
* Auride-aurates M7Au5O2 = 4 MAu.M3AuO2 (M = Cs, Rb): 4 Au- and 1 Au+ in [O-Au-O]3-
  (Mudring and Jansen, Angew. Chem. Int. Ed. 39 (2000) 3066): 7 - 4 + 1 - 4 = 0, Au -0.6
  on average. They were called subvalent metals with no states.
* Auride oxides M3AuO (M = K, Rb, Cs; Jansen, Chem. Soc. Rev. 37 (2008) 1826): K3AuO got no
  states (K gives Au its electron 2.03 eV uphill, past the 1.95 eV that ionic CsAu and RbAu
  need alone). Na3AuO and Li3AuO, none known, get none (test_charges_dear_metal_anions).

References: the hand-assigned states above, and pymatgen's ``oxi_state_guesses`` told Au's
states (-1, +1, +3), which its ICSD statistics lack.
"""

from __future__ import annotations

import pytest
from pymatgen.core import Composition

from ionmd.structures.charges import oxidation_guess, transport_note


def _pymatgen_with_gold(formula: str) -> dict[str, float]:
    return Composition(formula).oxi_state_guesses(oxi_states_override={"Au": [-1, 1, 3]})[0]


# formula: (hand-assigned atoms per state of the averaged element, its average, ratio text)
AVERAGED = {
    "CsAuCl3": ("Au", {1: 1, 3: 1}, "an average of +1 and +3 (Au+ and Au3+, 1:1)"),
    "Fe3O4": ("Fe", {2: 1, 3: 2}, "an average of +2 and +3 (Fe2+ and Fe3+, 1:2)"),
    "Pb3O4": ("Pb", {2: 2, 4: 1}, "an average of +2 and +4 (Pb2+ and Pb4+, 2:1)"),
}


@pytest.mark.parametrize("formula", AVERAGED)
def test_an_averaged_state_is_named_as_the_two_states_it_averages(formula):
    el, counts, words = AVERAGED[formula]
    average = sum(s * n for s, n in counts.items()) / sum(counts.values())
    guess = oxidation_guess(formula)
    assert guess.states[el] == pytest.approx(average)       # the number stays right
    assert words in guess.note, guess.note
    assert f"{el}{average:g}+" not in guess.note            # no Au2+ as if it were a state


def test_a_state_missing_from_icsds_statistics_is_not_called_an_average():
    """The nitridomanganate(V) Li7MnN4, [MnN4]7- (7 - 12 + 5 = 0): Mn5+, one state with a
    Shannon radius, which pymatgen's guess over all states gives; not Mn4+/Mn7+ 2:1."""
    reference = Composition("Li7MnN4").oxi_state_guesses(all_oxi_states=True)[0]
    guess = oxidation_guess("Li7MnN4")
    assert guess.states == pytest.approx(reference) and reference["Mn"] == 5
    assert "average of" not in guess.note and "Mn5+" in guess.note


def test_a_reduced_oxides_average_names_its_two_states():
    guess = oxidation_guess("TiO1.9")
    assert guess.states["Ti"] == pytest.approx(3.8)
    assert "an average of +3 and +4" in guess.note


@pytest.mark.parametrize("metal", ["Cs", "Rb"])
def test_an_auride_aurate_holds_au_minus_and_au_plus(metal):
    formula = f"{metal}7Au5O2"
    hand = {metal: 7 * [1], "Au": 4 * [-1] + [1], "O": 2 * [-2]}
    assert sum(map(sum, hand.values())) == 0
    states = {el: sum(s) / len(s) for el, s in hand.items()}
    guess = oxidation_guess(formula)
    assert guess.states == pytest.approx(states) == _pymatgen_with_gold(formula)
    assert "an average of -1 and +1 (Au- and Au+, 4:1)" in guess.note
    assert "subvalent" not in transport_note(formula)


def test_the_auride_oxide_of_potassium_gets_au_minus():
    hand = {"K": 1, "Au": -1, "O": -2}
    guess = oxidation_guess("K3AuO")
    assert guess.states == hand == _pymatgen_with_gold("K3AuO")
    assert guess.net_charge == 0
    assert "no such compound of these elements is known" not in guess.note
    assert transport_note("K3AuO") == ""


def test_potassium_and_gold_alone_stay_an_intermetallic():
    """KAu2 and KAu5 are metals (no KAu salt): without ordinary anions nothing changes."""
    guess = oxidation_guess("KAu")
    assert guess.states == {} and "intermetallic" in guess.note
