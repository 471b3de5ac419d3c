"""Oxidation-state guesses of mixed-valence cathodes against their known formal states
(textbook assignments: Whittingham, Chem. Rev. 104 (2004) 4271; Li2NiMnO4 =
LiNi0.5Mn0.5O2: Ni2+ Mn4+ by XAS, Yoon et al., Electrochem. Solid-State Lett. 5 (2002)
A263). The guess scored pymatgen's raw ICSD occurrences, which weigh Mn (973 compounds)
over Ni (500): Li2NiMnO4 came out Ni4+ Mn2+. Scored by each element's own frequencies it
is Ni2+ Mn4+; where transition metals can trade electrons the note names the other
neutral assignments. NMC811's formal Co3+ Mn4+ with Ni 2.875 is no one-state-per-element
assignment: Mn4+ and Co3+ beside Ni are settled (``SETTLED_IN_OXIDES``), Ni takes the
rest (test_charges_real_compositions covers NMC622, NMC532, NCA)."""

from __future__ import annotations

import pytest
from pymatgen.core import Composition

from ionmd.structures.charges import oxidation_guess


@pytest.mark.parametrize("formula,known", [
    ("Li2NiMnO4", {"Li": 1, "Ni": 2, "Mn": 4, "O": -2}),
    ("LiNi0.5Mn1.5O4", {"Li": 1, "Ni": 2, "Mn": 4, "O": -2}),
    ("LiMn2O4", {"Li": 1, "Mn": 3.5, "O": -2}),
    ("LiFePO4", {"Li": 1, "Fe": 2, "P": 5, "O": -2}),
    ("Li4Ti5O12", {"Li": 1, "Ti": 4, "O": -2}),
    ("Li3V2(PO4)3", {"Li": 1, "V": 3, "P": 5, "O": -2}),
    ("LiCoO2", {"Li": 1, "Co": 3, "O": -2}),
    ("Li2MnO3", {"Li": 1, "Mn": 4, "O": -2}),
])
def test_cathode_guesses_are_the_known_formal_states(formula, known):
    guess = oxidation_guess(formula)
    assert guess.states == pytest.approx(known)
    charge = sum(n * guess.states[el] for el, n in Composition(formula).get_el_amt_dict().items())
    assert charge == pytest.approx(0, abs=1e-9)


def test_trading_transition_metals_are_named_in_the_note():
    """Li2NiMnO4's note names Ni4+ Mn2+; NMC811's names its settled states and what ICSD
    frequencies alone gave (Co2+ Ni3+); single-transition-metal cathodes carry no note."""
    note = oxidation_guess("Li2NiMnO4").note
    assert "Mn2+ Ni4+" in note and "trade electrons" in note
    nmc = oxidation_guess("LiNi0.8Co0.1Mn0.1O2")
    assert nmc.states["Ni"] == pytest.approx(2.875)
    assert "Mn4+, Co3+ beside Ni" in nmc.note and "Co2+ Ni3+" in nmc.note
    for formula in ("LiFePO4", "Li4Ti5O12", "LiCoO2", "Li3V2(PO4)3"):
        assert oxidation_guess(formula).note == ""
