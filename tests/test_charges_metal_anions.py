"""A metal is an anion where the cations give it an electron cheaply: Cs2Pt is a
platinide(-II), Cs+ and Pt2- with complete charge separation (transparent red crystals:
Karpov, Nuss, Wedig, Jansen, Angew. Chem. Int. Ed. 42 (2003) 4818), like the aurides CsAu
and RbAu. It was called an intermetallic: Pt is only 1.49 more electronegative (Pauling)
than Cs, under the 1.7 of 50 % ionic character, less than the intermetallic LiAu's 1.56.
pymatgen's ``oxi_state_guesses`` has no states for it (ICSD statistics hold no Pt2-)."""

from __future__ import annotations

import pytest
from pymatgen.core import Composition, Element

from ionmd.structures.charges import CHARGE_TRANSFER_COST, oxidation_guess, transport_note


def _cost(cation: str, anion: str) -> float:
    """eV uphill to move an electron between the free atoms (pymatgen's element data)."""
    return Element(cation).ionization_energy - Element(anion).electron_affinity


def test_pauling_cannot_tell_the_platinide_the_free_atoms_can():
    assert Element("Pt").X - Element("Cs").X < Element("Au").X - Element("Li").X
    assert _cost("Cs", "Pt") < CHARGE_TRANSFER_COST < _cost("Ba", "Pt")
    assert Composition("Cs2Pt").oxi_state_guesses() == ()


def test_cs2pt_is_a_platinide():
    guess = oxidation_guess("Cs2Pt")
    assert guess.states == {"Cs": 1.0, "Pt": -2.0} and guess.net_charge == 0
    assert transport_note("Cs2Pt") == ""        # an ordinary ionic solid


@pytest.mark.parametrize("formula", ["BaPt", "Ba2Pt", "KAu", "LiAu"])
def test_platinum_and_gold_beside_dearer_donors_stay_intermetallic(formula):
    """Ba gives Pt an electron 3.09 eV uphill, K gives Au one 2.03 eV uphill."""
    guess = oxidation_guess(formula)
    assert guess.states == {} and "intermetallic" in guess.note
    assert "intermetallic" in transport_note(formula)
