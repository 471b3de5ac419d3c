"""The Ewald ordering takes its oxidation states from the file's own composition (its guess,
or the states it declares), applied to the rounded cell's species; only where that has none
does it guess the rounded cell, and says so. The rounded cell's guess read a refinement as
another compound: OBELiX lud's Al-doped LLTO (refined Li0.358La0.642Ti0.87Al0.129O3, +0.151 e
under Ti4+, white and insulating) rounded to Li3La5Ti7AlO24 was Ti 3.857, 'reduced by O
vacancies', and those fractional charges made the Ewald energy."""

from __future__ import annotations

import warnings

import pytest
from pymatgen.analysis.ewald import EwaldSummation
from pymatgen.core import Composition, Lattice, Structure
from pymatgen.transformations.standard_transformations import (
    OrderDisorderedStructureTransformation)

from ionmd.structures import OrderOptions, load_structures, order_structure

REFINED = {"Li": 0.358, "La": 0.642, "Ti": 0.87, "Al": 0.129, "O": 3.0}


def _lud() -> Structure:
    """OBELiX lud as the archive holds it: cubic perovskite, La 0.642 / Li 0.358 on the A
    site, Ti 0.87 / Al 0.129 on the B site."""
    return Structure.from_spacegroup(
        "Pm-3m", Lattice.cubic(3.8617),
        [{"La": 0.642, "Li": 0.358}, {"Ti": 0.87, "Al": 0.129}, "O"],
        [[0.5, 0.5, 0.5], [0, 0, 0], [0, 0, 0.5]])


def _hand_states() -> dict[str, float]:
    """The published formula La0.6Li0.4Ti0.8Al0.2O3 (x 5), pymatgen's guess: Ti4+."""
    guess = Composition("La3Li2Ti4AlO15").oxi_state_guesses()[0]
    assert guess["Ti"] == 4
    return guess


def _ewald(structure: Structure, states) -> float:
    s = structure.copy()
    s.add_oxidation_state_by_element(states)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return EwaldSummation(s).total_energy


@pytest.fixture(scope="module")
def lud_cell():
    return order_structure(_lud(), "ewald", occ_tol=0.02)


def test_a_rounded_refinement_keeps_the_files_states_in_the_ewald_energy(lud_cell):
    hand = _hand_states()
    counts = lud_cell.structure.composition.get_el_amt_dict()
    # the rounded cell's own neutral reading needs Ti below 4+ (the old guess: 3.857)
    assert sum(hand[el] * n for el, n in counts.items()) == pytest.approx(1)
    assert lud_cell.ewald_energy == pytest.approx(_ewald(lud_cell.structure, hand), rel=1e-9)
    assert lud_cell.charges == hand
    assert lud_cell.guess_note == ""    # the refinement's charge: the line's net charge


def test_the_arrangement_is_pymatgens_lowest_under_the_files_states(lud_cell):
    """pymatgen's own ordering of the same supercell, its occupancies the rounded counts,
    under the hand states, finds the same lowest energy."""
    counts = {key: c for key, c in lud_cell.site_counts.items()}
    a_site = next(c for key, c in counts.items() if "La" in key)
    b_site = next(c for key, c in counts.items() if "Ti" in key)
    rounded = Structure.from_spacegroup(
        "Pm-3m", Lattice.cubic(3.8617),
        [{"La": a_site["La"] / a_site["sites"], "Li": a_site["Li"] / a_site["sites"]},
         {"Ti": b_site["Ti"] / b_site["sites"], "Al": b_site["Al"] / b_site["sites"]}, "O"],
        [[0.5, 0.5, 0.5], [0, 0, 0], [0, 0, 0.5]])
    rounded.make_supercell(lud_cell.matrix)
    rounded.add_oxidation_state_by_element(_hand_states())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lowest = OrderDisorderedStructureTransformation().apply_transformation(rounded)
    assert lud_cell.ewald_energy == pytest.approx(EwaldSummation(lowest).total_energy, rel=1e-6)


def test_the_ordering_line_names_the_files_states_and_charge():
    """The cell's +1 e under the file's states, and the file's +0.151 e per cell; no
    'reduced by O vacancies'."""
    [cell] = load_structures(_lud(), OrderOptions(method="ewald", occ_tol=0.02))
    net = sum(_hand_states()[el] * n for el, n in REFINED.items())
    assert "net charge +1 e (" in cell.ordering and "Ti+4" in cell.ordering
    assert f"the file's occupancies give {net:+.2g} e per cell" in cell.ordering
    assert "reduced" not in cell.ordering and "Ewald charges guessed" not in cell.ordering


def test_a_file_without_states_is_ordered_under_the_cells_and_says_so():
    """Li0.88F as refined holds -0.12 e per Li+ F- (14 %, no sound states); rounded within
    0.15 it is LiF, whose Li+ F- (pymatgen) the ordering then uses, naming both."""
    parent = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.2), [{"Li": 0.88}, "F"],
                                       [[0, 0, 0], [0.5, 0.5, 0.5]])
    cell = order_structure(parent, "ewald", occ_tol=0.15)
    hand = Composition("LiF").oxi_state_guesses()[0]
    assert cell.ewald_energy == pytest.approx(_ewald(cell.structure, hand), rel=1e-9)
    assert "Li3.52F4" in cell.guess_note and "Li4F4" in cell.guess_note


def test_declared_states_are_kept_without_a_note():
    cell = order_structure(_lud(), "ewald", occ_tol=0.02,
                           oxidation_states={"Li": 1, "La": 3, "Ti": 3, "Al": 3, "O": -2})
    assert cell.guess_note == ""
    assert cell.ewald_energy == pytest.approx(
        _ewald(cell.structure, {"Li": 1, "La": 3, "Ti": 3, "Al": 3, "O": -2}), rel=1e-9)


def test_a_fractional_guess_gives_way_to_the_whole_states_the_rounding_used():
    """Li0.97Ni0.8Co0.2O2, a layered cathode refined 3 % short of Li: its guess gives Ni
    the rest (Ni 3.0375, neutral), the rounding keeps whole Li+ Ni3+ Co3+ O2- (-0.03 e per
    formula). Rounded to full Li the cell is neutral under those; the Ewald energy was that
    of Ni 3.0375, a +0.19 e cell, and the line named Ni3.04+."""
    layered = Structure.from_spacegroup(
        "R-3m", Lattice.hexagonal(2.86, 14.2),
        [{"Li": 0.97}, {"Ni": 0.8, "Co": 0.2}, "O"], [[0, 0, 0], [0, 0, 0.5], [0, 0, 0.24]])
    cell = order_structure(layered, "ewald", occ_tol=0.05)
    counts = cell.structure.composition.get_el_amt_dict()
    hand = {"Li": 1, "Ni": 3, "Co": 3, "O": -2}
    for end_member in ("LiNiO2", "LiCoO2"):     # pymatgen's states of the end members
        guess = Composition(end_member).oxi_state_guesses()[0]
        assert all(guess[el] == hand[el] for el in guess)
    assert sum(hand[el] * n for el, n in counts.items()) == 0       # the rounded cell
    assert cell.ewald_energy == pytest.approx(_ewald(cell.structure, hand), rel=1e-9)
    assert "3.04" not in cell.guess_note
