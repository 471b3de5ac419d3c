"""Ni's mixed oxides off neutral under one state per element: a partly delithiated layered
cathode (Li0.9Ni1/3Mn1/3Co1/3O2, Li0.95 NMC811, Li0.9 NCA) keeps Mn4+ and Co3+ and its Ni
takes the rest, as in the lithiated one (Whittingham, Chem. Rev. 104 (2004) 4271: Ni is
oxidised first on charging). The guess read them as one cation's mixed valence beside the
others' likeliest ICSD states: Mn5.39+ beside Co2+ Ni2+, or Ni3.31+ beside Co2+. The
reference is pymatgen's ``oxi_state_guesses`` with Mn and Co fixed (``oxi_states_override``),
Ni free, on the whole-number formula."""

from __future__ import annotations

import pytest
from pymatgen.core import Composition

from ionmd.structures.charges import oxidation_guess


@pytest.mark.parametrize("formula,whole", [
    ("Li0.9Ni0.33Mn0.33Co0.33O2", "Li90Ni33Mn33Co33O200"),
    ("Li0.95Ni0.8Mn0.1Co0.1O2", "Li19Ni16Mn2Co2O40"),
    ("Li0.9Ni0.8Co0.15Al0.05O2", "Li18Ni16Co3AlO40"),
])
def test_a_delithiated_layered_cathode_keeps_mn4_and_co3(formula, whole):
    reference = Composition(whole).oxi_state_guesses(
        oxi_states_override={"Mn": [4], "Co": [3], "Li": [1], "Al": [3], "O": [-2]},
        max_sites=-1)[0]
    guess = oxidation_guess(formula)
    assert guess.states == pytest.approx(reference)
    assert guess.net_charge == 0 and 2 < guess.states["Ni"] < 3.2
    assert "which takes the rest" in guess.note
