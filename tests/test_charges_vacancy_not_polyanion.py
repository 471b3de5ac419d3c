"""A small cell of an ionic sulfide or oxide with a cation vacancy is no polyanion salt
(review-F of e3285e3): Li2S's conventional cell less one Li, Li7S4, was guessed S-1.75 with
the note that its S atoms bond to one another, where pymatgen's own cell puts them 4 A
apart (an S-S bond is 2.05 A). Reference: the antifluorite cell built by pymatgen and its
neighbour distances; the real polyanion salts keep their guesses
(test_charges_bonded_and_metallic)."""

import pytest
from pymatgen.core import Lattice, Structure

from ionmd.structures.charges import oxidation_guess, transport_charges

S_S_BOND = 2.05     # A, the S-S bond of S8 and the polysulfides


def _antifluorite_less_one_cation(cation: str, anion: str, a: float) -> Structure:
    cell = Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), [anion, cation],
                                     [[0, 0, 0], [0.25, 0.25, 0.25]])
    cell.remove_sites([next(i for i, s in enumerate(cell) if s.specie.symbol == cation)])
    return cell


@pytest.mark.parametrize("cation, anion, a", [("Li", "S", 5.71), ("Li", "O", 4.61),
                                              ("Na", "S", 6.54)])
def test_a_vacancy_cell_is_not_called_a_polyanion(cation, anion, a):
    cell = _antifluorite_less_one_cation(cation, anion, a)
    formula = cell.composition.formula.replace(" ", "")
    anions = [i for i, s in enumerate(cell) if s.specie.symbol == anion]
    nearest = min(cell.get_distance(i, j) for i in anions for j in anions if i < j)
    assert nearest > 1.5 * S_S_BOND            # no anion-anion bond in the cell
    guess = oxidation_guess(formula)
    assert "polyanion" not in guess.note and "bond to one another" not in guess.note
    assert anion not in guess.states
    assert transport_charges(formula).get(cation) == 1.0
