"""A screened cell of whole atoms that is charged by a whole ion gets the charge note. The
oxidation-state guess reads a composition within 10 % of neutral as occupancies refined a
little off neutral (Li6.72PS5Cl), so one vacancy in a large cell (Li7P4O14: OBELiX 47i's
Li8P4O14 less one Li, -1 e, 3.7 % of its positive charge) passed without a note. A cell of
whole atoms has no refined occupancies: charged by >= 1 e, it lacks or doubles an ion.
The reference is the charge counted by hand under Li+ P5+ O2- (and the other fixtures'
usual states), on published CIFs."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from pymatgen.core import Structure

from ionmd.cli import main
from ionmd.structures.charges import oxidation_guess
from ionmd.structures.charges_guess import whole_cell_charge_note

ORDERED = Path(__file__).parent / "fixtures" / "charges2_ordered_cifs"


def read(name: str) -> Structure:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Structure.from_file(ORDERED / f"OBELiX_{name}.cif")


def less_one_li(structure: Structure) -> Structure:
    s = structure.copy()
    s.remove_sites([next(i for i, site in enumerate(s) if site.specie.symbol == "Li")])
    return s


@pytest.mark.parametrize("name, usual", [
    ("47i", {"Li": 1, "P": 5, "O": -2}),                 # Li8P4O14, 26 atoms
    ("kxw", {"Li": 1, "Al": 3, "Ge": 4, "O": -2}),       # Li18Al18Ge18O72, 126 atoms
])
def test_one_vacancy_in_a_real_cell_is_noted(name, usual):
    cell = read(name)
    counts = cell.composition.get_el_amt_dict()
    assert sum(usual[el] * n for el, n in counts.items()) == 0     # the file: neutral
    assert whole_cell_charge_note(cell) is None
    vacancy = less_one_li(cell)
    assert sum(usual[el] * n for el, n in vacancy.composition.get_el_amt_dict().items()) == -1
    # the guess keeps the usual states (within its 10 %): nothing said before
    assert oxidation_guess(vacancy.composition).states == usual
    note = whole_cell_charge_note(vacancy)
    assert note and " holds -1 e under " in note and "ion too few or too many" in note


def test_refined_occupancies_keep_the_guess_note():
    """A refined composition off neutral (Li6.72PS5Cl, +0.72 e) is the guess's own case."""
    assert whole_cell_charge_note({"Li": 6.72, "P": 1, "S": 5, "Cl": 1}) is None


def test_the_screen_row_and_log_carry_the_note(tiny_f64, tmp_path, capsys):
    vacancy = tmp_path / "Li7P4O14.cif"
    less_one_li(read("47i")).to(filename=str(vacancy))
    out = tmp_path / "out"
    assert main(["screen", str(vacancy), "--model", str(tiny_f64), "--spacing", "1.5",
                 "-o", str(out)]) == 0
    (row,) = json.loads((out / "screen.json").read_text())
    assert row["status"] == "ok"
    assert row["charge_note"].startswith("Li7P4O14 holds -1 e under Li+ P5+ O2-")
    assert "note: Li7P4O14 holds -1 e" in capsys.readouterr().err


def test_screen_structure_s_own_charge_note_sees_one_vacancy():
    """The Python API (``screen_structure``'s ``charge_note``) notes the vacancy as the batch
    does (one home: the note was the batch's alone), and not for a cell ordered from a
    disordered file, whose ordering note says its net charge."""
    from ase.build import bulk

    from ionmd.screen.screen import charge_note

    cell = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (2, 2, 2)       # Li32Cl32
    del cell[[a.index for a in cell if a.symbol == "Li"][0]]            # Li31Cl32: -1 e
    note = charge_note(cell)
    assert note is not None and "-1 e" in note and "Li31Cl32" in note.replace(" ", ""), note
    assert charge_note(cell, ordered=True) is None
    del cell[[a.index for a in cell if a.symbol == "Cl"][0]]            # neutral again
    assert charge_note(cell) is None
