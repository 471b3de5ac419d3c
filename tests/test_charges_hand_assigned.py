"""Oxidation-state guesses against hand-assigned formal states, over chemistries where
elements with several states meet (the review of the scoring by each element's own ICSD
frequencies). Pymatgen's raw occurrences weigh Mn (973 compounds) over Ni (500) and Co:
NMC111, LiNi0.5Mn0.5O2, NaNi0.5Mn0.5O2 and the double perovskites La2NiMnO6 / La2CoMnO6
came out Ni4+ (Co4+) Mn2+; the known states are Ni2+ (Co2+) Mn4+ (NMC: Yabuuchi & Ohzuku,
J. Power Sources 119 (2003) 171; Li-rich Li1.2Ni0.2Mn0.6O2, right before: Lu et al.,
J. Electrochem. Soc. 149 (2002) A815; La2NiMnO6 / La2CoMnO6: Dass & Goodenough, Phys.
Rev. B 67 (2003) 014401). The others were right before and must stay so (spinels,
ilmenites, wolframites, delafossites, thio- and halide electrolytes: textbook formal
states). And the Ewald ordering line of a file without states names the assignment its
energy used when transition metals can trade electrons (it said nothing)."""

from __future__ import annotations

import pytest
from pymatgen.core import Composition, Lattice, Structure

from ionmd.structures import OrderOptions, load_structures
from ionmd.structures.charges import oxidation_guess

FIXED = {   # Ni4+/Co4+ Mn2+ before
    "Li3NiMnCoO6": {"Li": 1, "Ni": 2, "Mn": 4, "Co": 3, "O": -2},
    "LiNi0.5Mn0.5O2": {"Li": 1, "Ni": 2, "Mn": 4, "O": -2},
    "NaNi0.5Mn0.5O2": {"Na": 1, "Ni": 2, "Mn": 4, "O": -2},
    "La2NiMnO6": {"La": 3, "Ni": 2, "Mn": 4, "O": -2},
    "La2CoMnO6": {"La": 3, "Co": 2, "Mn": 4, "O": -2},
}

KEPT = {
    "Li1.2Ni0.2Mn0.6O2": {"Li": 1, "Ni": 2, "Mn": 4, "O": -2},
    "NiFe2O4": {"Ni": 2, "Fe": 3, "O": -2}, "CoFe2O4": {"Co": 2, "Fe": 3, "O": -2},
    "MnFe2O4": {"Mn": 2, "Fe": 3, "O": -2}, "MgMn2O4": {"Mg": 2, "Mn": 3, "O": -2},
    "FeCr2O4": {"Fe": 2, "Cr": 3, "O": -2}, "CuCr2O4": {"Cu": 2, "Cr": 3, "O": -2},
    "FeTiO3": {"Fe": 2, "Ti": 4, "O": -2}, "NiTiO3": {"Ni": 2, "Ti": 4, "O": -2},
    "FeWO4": {"Fe": 2, "W": 6, "O": -2}, "MnWO4": {"Mn": 2, "W": 6, "O": -2},
    "CuWO4": {"Cu": 2, "W": 6, "O": -2}, "FeNbO4": {"Fe": 3, "Nb": 5, "O": -2},
    "FeVO4": {"Fe": 3, "V": 5, "O": -2}, "BiVO4": {"Bi": 3, "V": 5, "O": -2},
    "CuFeO2": {"Cu": 1, "Fe": 3, "O": -2}, "CuCrO2": {"Cu": 1, "Cr": 3, "O": -2},
    "CuFeS2": {"Cu": 1, "Fe": 3, "S": -2}, "Cu2ZnSnS4": {"Cu": 1, "Zn": 2, "Sn": 4, "S": -2},
    "CuSbS2": {"Cu": 1, "Sb": 3, "S": -2}, "Cu3SbS4": {"Cu": 1, "Sb": 5, "S": -2},
    "LaMnO3": {"La": 3, "Mn": 3, "O": -2}, "BiFeO3": {"Bi": 3, "Fe": 3, "O": -2},
    "Li2FeSiO4": {"Li": 1, "Fe": 2, "Si": 4, "O": -2},
    "Na2FePO4F": {"Na": 1, "Fe": 2, "P": 5, "O": -2, "F": -1},
    "LiFe0.5Mn0.5PO4": {"Li": 1, "Fe": 2, "Mn": 2, "P": 5, "O": -2},
    "Li2MnCl4": {"Li": 1, "Mn": 2, "Cl": -1}, "LiTiS2": {"Li": 1, "Ti": 3, "S": -2},
    "Li4P2S6": {"Li": 1, "P": 4, "S": -2}, "Li10GeP2S12": {"Li": 1, "Ge": 4, "P": 5, "S": -2},
    "Li3SbS4": {"Li": 1, "Sb": 5, "S": -2}, "Li3AsS3": {"Li": 1, "As": 3, "S": -2},
    "Li2Sn(OH)6": {"Li": 1, "Sn": 4, "O": -2, "H": 1}, "Li7BiO6": {"Li": 1, "Bi": 5, "O": -2},
    "Fe3O4": {"Fe": 8 / 3, "O": -2}, "EuTiO3": {"Eu": 2, "Ti": 4, "O": -2},
}


@pytest.mark.parametrize("formula,known", [*FIXED.items(), *KEPT.items()])
def test_guess_is_the_hand_assigned_formal_states(formula, known):
    guess = oxidation_guess(formula)
    assert guess.states == pytest.approx(known)
    charge = sum(n * known[el] for el, n in Composition(formula).get_el_amt_dict().items())
    assert charge == pytest.approx(0, abs=1e-9)       # the hand assignment itself is neutral


def test_ewald_ordering_line_names_the_assignment_it_guessed():
    """A disordered rock-salt LiNi0.5Mn0.5O2 without states: the line says Ewald used
    Ni2+ Mn4+ and that Ni4+ Mn2+ is also neutral, and how to give the known ones; the
    same cell with Fe (one neutral assignment, Fe3+) says nothing."""
    def rock_salt(cations, a):
        return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), [cations, "O"],
                                         [[0, 0, 0], [0.5, 0.5, 0.5]])
    [nm] = load_structures(rock_salt({"Li": 0.5, "Ni": 0.25, "Mn": 0.25}, 4.1),
                           OrderOptions(method="ewald"))
    assert "Ewald charges guessed" in nm.ordering
    assert "Li+ Mn4+ Ni2+ O2- is the likeliest" in nm.ordering
    assert "Li+ Mn2+ Ni4+ O2-" in nm.ordering and "type symbols such as Ni2+" in nm.ordering
    [fe] = load_structures(rock_salt({"Li": 0.5, "Fe": 0.5}, 4.2), OrderOptions(method="ewald"))
    assert "Ewald charges guessed" not in fe.ordering
