"""Formal charges of anion-anion bonded salts, metallic carbides and nitrides, subvalent
compounds and K-Au (review of this morning's charges).

References: pymatgen's ``Composition.oxi_state_guesses`` (its own search over formal states,
averaged ones included), hand-assigned formal states (Greenwood & Earnshaw: CaC2 Ca2+ C2 2-,
Mg2C3 C3 4-, LaC2 La3+ C2 3-, i.e. La3+ C2 2- and a conduction electron; Na2S4 S4 2-;
KO2's superoxide) and the measured character of the compounds: TiC, WC, UC, Fe3C, TiN,
Fe4N, LaC2 and Ag2F conduct electrons like metals; ScN, Zr3N4, Ta3N5, Cu3N, GaN, CaC2,
Al4C3 are insulators or semiconductors; KAu is no known compound (K-Au forms the
intermetallics KAu2 and KAu5; a CsCl-type KAu would be a metal, Koenig, Christensen,
Kollar, PRB 29 (1984) 6481) while CsAu and RbAu are ionic semiconductors.
"""

import pytest
from pymatgen.core import Composition, Element

from ionmd.structures.charges import (CHARGE_TRANSFER_COST, oxidation_guess,
                                      transport_charges, transport_note)

# formula -> (hand-assigned formal states, pymatgen's search that finds them)
POLYANION_SALTS = {
    "Li2C2": {"Li": 1, "C": -1}, "Na2C2": {"Na": 1, "C": -1}, "CaC2": {"Ca": 2, "C": -1},
    "Mg2C3": {"Mg": 2, "C": -4 / 3}, "Na2S4": {"Na": 1, "S": -0.5},
    "Li2S4": {"Li": 1, "S": -0.5}, "Li2S6": {"Li": 1, "S": -1 / 3},
    "K2S5": {"K": 1, "S": -0.4}, "KO2": {"K": 1, "O": -0.5}, "Li2O2": {"Li": 1, "O": -1},
    "CsI3": {"Cs": 1, "I": -1 / 3},
}


@pytest.mark.parametrize("formula", sorted(POLYANION_SALTS))
def test_polyanion_salts_get_their_formal_states(formula):
    """They had no guess and the advice to check the file's occupancies (right files)."""
    known = POLYANION_SALTS[formula]
    # pymatgen's search over every known state (O- and I-1/3 are outside its ICSD list)
    reference = Composition(formula).oxi_state_guesses(all_oxi_states=True)[0]
    assert reference == pytest.approx(known, abs=1e-9)
    guess = oxidation_guess(formula)
    assert guess.states == pytest.approx(known, abs=1e-9)
    assert "polyanion" in guess.note and "check" not in guess.note + guess.advice
    assert transport_charges(formula) == guess.states
    assert transport_note(formula) == ""        # ionic salts: sigma is theirs


def test_selenide_and_disulfide_keep_their_single_states():
    for formula, known in (("Na2Se2", {"Na": 1, "Se": -1}), ("Li2S2", {"Li": 1, "S": -1})):
        assert oxidation_guess(formula).states == Composition(formula).oxi_state_guesses()[0]
        assert oxidation_guess(formula).states == known


def test_lac2_is_la3_and_metallic():
    """LaC2: La3+ with C2 3- (C-1.5), as pymatgen's full search has it (its ICSD-limited
    one says La2+, a state La2+ hardly takes); a metal, so the sigma note says so."""
    reference = Composition("LaC2").oxi_state_guesses(all_oxi_states=True)[0]
    assert oxidation_guess("LaC2").states == reference == {"La": 3, "C": -1.5}
    note = transport_note("LaC2")
    assert "metallic carbide" in note and "electrons conduct" in note


@pytest.mark.parametrize("formula", ["TiC", "WC", "UC", "TiN", "ZrN", "UC2", "Fe3C", "Fe4N"])
def test_metallic_carbides_and_nitrides_say_their_electrons_conduct(formula):
    note = transport_note(formula)
    assert "metallic" in note and "electrons conduct" in note


@pytest.mark.parametrize("formula", ["Fe3C", "Fe4N", "Ag2F"])
def test_metallic_compounds_without_formal_states_are_no_file_to_check(formula):
    """Fe3C (Fe 1.33+ under C4-) and Ag2F (Ag 0.5+, a subfluoride) had the advice to check
    the file's occupancies; their files are right, and formal states do not fit them."""
    guess = oxidation_guess(formula)
    assert guess.states == {}
    assert "check" not in guess.advice and guess.advice.startswith("give the states")
    assert all(f"'{el}': " in guess.advice for el in Composition(formula).as_dict())
    assert "metallic" in guess.note or "subvalent" in guess.note
    hint = transport_note(formula)
    assert "no formal charges fit" in hint and "--charges " in hint


def test_ag2f_names_its_silver_half_a_charge():
    note = oxidation_guess("Ag2F").note
    amounts = Composition("Ag2F")
    # F- takes one electron from two Ag: 0.5 each, below Ag's lowest common state Ag+
    assert 1 / amounts["Ag"] < min(Element("Ag").common_oxidation_states)
    assert f"Ag {1 / amounts['Ag']:.3g}+" in note and "subvalent" in note


@pytest.mark.parametrize("formula", ["CaC2", "Li2C2", "Al4C3", "Be2C", "Li3N", "Ca3N2", "ScN",
                                     "Zr3N4", "Ta3N5", "Cu3N", "GaN", "Li7MnN4", "NaCN"])
def test_ionic_carbides_and_nitrides_carry_no_note(formula):
    assert transport_note(formula) == ""


def test_a_file_short_of_cations_is_still_a_file_to_check():
    """A refined Li1.8S (Li2S with 10 % of its Li missing) and Li2Cl are no polysulfide or
    subvalent compound: Li forms neither."""
    for formula in ("Li1.8S", "Li2Cl"):
        guess = oxidation_guess(formula)
        assert guess.states == {} and "check the file's occupancies" in guess.advice


def test_kau_is_intermetallic_and_the_heavier_aurides_ionic():
    """K and Rb have the same Pauling electronegativity (0.82: 1.72 from Au), so the 1.7 rule
    called KAu ionic; the free atoms' charge-transfer cost (ionisation energy less Au's
    electron affinity) lies on either side: Rb 1.87 eV, K 2.03 eV."""
    au = Element("Au").electron_affinity
    assert Element("Rb").ionization_energy - au < CHARGE_TRANSFER_COST
    assert Element("K").ionization_energy - au > CHARGE_TRANSFER_COST
    assert Element("K").X == Element("Rb").X
    guess = oxidation_guess("KAu")
    assert guess.states == {} and "intermetallic" in guess.note
    assert "check" not in guess.advice
    assert "intermetallic" in transport_note("KAu")
    for formula, cation in (("CsAu", "Cs"), ("RbAu", "Rb")):
        assert oxidation_guess(formula).states == {cation: 1, "Au": -1}
        assert transport_note(formula) == ""


def test_lico_fe_phosphate_names_no_monovalent_cobalt():
    """LiCo0.5Fe0.5PO4 is an olivine of Co2+ and Fe2+ (pymatgen's guess too); its note named
    Fe3+ Co+ as an alternative, a Co state no phosphate holds (Co's common ones: 2, 3)."""
    reference = Composition("Li2CoFeP2O8").oxi_state_guesses()[0]
    guess = oxidation_guess("LiCo0.5Fe0.5PO4")
    assert guess.states == reference
    assert "Co+" not in guess.note
    assert 1 < min(Element("Co").common_oxidation_states)


def test_li2nimno4_still_names_its_electron_trade():
    """Ni4+ Mn2+ is above Ni's and at Mn's lowest common state: it stays an alternative."""
    note = oxidation_guess("Li2NiMnO4").note
    assert "Mn2+ Ni4+" in note and "trade electrons" in note


def test_cac2_structure_bond_valences_agree():
    """pymatgen's BVAnalyzer on tetragonal CaC2 (I4/mmm, a 3.89 A, c 6.38 A, C at z 0.406:
    C-C 1.20 A, a triple bond) finds Ca2+ and C-, the guess's states (it had none)."""
    from pymatgen.analysis.bond_valence import BVAnalyzer
    from pymatgen.core import Lattice, Structure

    cac2 = Structure.from_spacegroup("I4/mmm", Lattice.tetragonal(3.89, 6.38), ["Ca", "C"],
                                     [[0, 0, 0], [0, 0, 0.406]])
    valences = BVAnalyzer().get_valences(cac2)
    bv = {site.specie.symbol: float(v) for site, v in zip(cac2, valences)}
    assert bv == oxidation_guess(cac2.composition).states == {"Ca": 2, "C": -1}
