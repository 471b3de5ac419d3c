"""A charged cell whose file declares oxidation states still gets the screen's charge note.

Rock-salt LiCl's cube with one Cl removed is Li4Cl3: +1 e under Li+ Cl- (by hand). Read
from a CIF without states it got the note; the same cell written by pymatgen with Li+ and
Cl- (``_atom_type_oxidation_number``) got none, since any file states were trusted
without adding them up. States that make the cell neutral still settle it."""

from __future__ import annotations

from pathlib import Path

import pytest
from ase.build import bulk
from ase.io import write

from ionmd.screen.batch_inputs import load_screen_inputs, screenable_atoms
from ionmd.screen.screen import charge_note, choose_cell


def licl_cif(folder: Path, remove_cl: bool) -> Path:
    from pymatgen.core import Structure
    from pymatgen.io.cif import CifWriter

    atoms = bulk("LiCl", "rocksalt", a=5.13, cubic=True)
    if remove_cl:
        del atoms[atoms.get_chemical_symbols().index("Cl")]
    plain = folder / "plain.cif"
    write(plain, atoms)
    structure = Structure.from_file(plain)
    structure.add_oxidation_state_by_element({"Li": 1, "Cl": -1})
    path = folder / ("vacancy.cif" if remove_cl else "neutral.cif")
    CifWriter(structure).write_file(path)
    assert "_atom_type_oxidation_number" in path.read_text()
    return path


def screened_atoms(path: Path):
    (_, loaded), = load_screen_inputs(path)
    return screenable_atoms(loaded)


@pytest.mark.parametrize("cell", ["primitive", "as-given"])
def test_file_states_that_leave_a_charge_get_the_note(tmp_path, cell):
    atoms = screened_atoms(licl_cif(tmp_path, remove_cl=True))
    assert "oxi_states" in atoms.arrays          # the file's states reached the screen
    assert atoms.get_chemical_formula() == "Cl3Li4"
    note = charge_note(choose_cell(atoms, cell))
    assert note is not None and "+1 e" in note


def test_file_states_that_make_the_cell_neutral_settle_it(tmp_path):
    atoms = screened_atoms(licl_cif(tmp_path, remove_cl=False))
    assert "oxi_states" in atoms.arrays
    assert charge_note(choose_cell(atoms, "primitive")) is None
