"""A VASP 4 POSCAR (no line of element symbols) whose first line names the elements, as
ASE and VESTA read it, was refused ("names no elements"); it is read as ASE reads it, and
the structure says where its elements came from. A first line that is no such list is
still refused, saying what to add."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk
from ase.io import read, write
from ionmd.structures import StructureError, read_structure


def _vasp4(path, first_line: str):
    """A rattled LiCl cell (4 Li, 4 Cl, grouped) as a VASP 4 POSCAR with ``first_line``."""
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
    atoms.rattle(0.05, seed=1)
    atoms = atoms[np.argsort(atoms.numbers, kind="stable")[::-1]]      # Li first, then Cl
    write(path, atoms, format="vasp", vasp5=False, direct=True)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(first_line + "\n" + "".join(lines[1:]))
    return path


def _assert_as_ase_reads(path):
    structure = read_structure(path)
    ase = read(path, format="vasp")
    assert [site.specie.symbol for site in structure] == ase.get_chemical_symbols()
    assert structure.lattice.matrix == pytest.approx(ase.cell.array)
    assert structure.frac_coords == pytest.approx(ase.get_scaled_positions(wrap=False))
    return structure


@pytest.mark.parametrize("first_line", ["Li Cl", "  Li   Cl  "])
def test_first_line_names_the_elements(tmp_path, first_line):
    structure = _assert_as_ase_reads(_vasp4(tmp_path / "POSCAR", first_line))
    assert structure.composition.reduced_formula == "LiCl"
    note = structure.properties["elements_from"]
    assert repr(first_line.strip()) in note and "Li 4, Cl 4" in note


def test_ase_vasp4_file_one_symbol_per_count(tmp_path):
    """ASE's own VASP 4 writing (a symbol and a count of 1 per atom, unsorted)."""
    path = tmp_path / "LiCl.vasp"
    write(path, bulk("LiCl", "rocksalt", a=5.14, cubic=True), format="vasp", vasp5=False)
    assert _assert_as_ase_reads(path).composition.reduced_formula == "LiCl"


@pytest.mark.parametrize("first_line, why", [
    ("rocksalt LiCl", "is not element symbols"),
    ("Xx Cl", "is not element symbols"),
    ("Li Cl Na", r"names 3 elements \(Li Cl Na\) for 2 counts"),
    ("Li", r"names 1 elements \(Li\) for 2 counts"),
    # amounts of the other order (ASE reads Li 4 Cl 4 here): refused, not guessed
    ("Li1 Cl3", "gives the amounts Li1 Cl3, not in the proportions of the counts, so "
                "perhaps in another order"),
    # a formula of equal amounts fits the counts in either order (tests/test_poscar_vasp4_element_order.py)
    ("Li4 Cl4", r"is a formula \(Li4 Cl4\) whose order need not be the counts' \(pymatgen "
                r"writes its formula in its own order\), and Li and Cl have equal amounts, so "
                r"which count is which cannot be told"),
])
def test_first_line_that_is_not_the_elements_is_refused(tmp_path, first_line, why):
    path = _vasp4(tmp_path / "POSCAR", first_line)
    with pytest.raises(StructureError, match=rf"names no elements \(a VASP 4 POSCAR without "
                       rf"the line of element symbols above the counts 4 4, and its first "
                       rf"line '{first_line}' {why}\): add that line \(e.g. 'Li Cl'\)"):
        read_structure(path)


def test_screen_row_says_where_the_elements_came_from(tiny_f64, tmp_path):
    from ionmd.cli import main

    path = _vasp4(tmp_path / "LiCl.vasp", "Li Cl")
    assert main(["screen", str(path), "--model", str(tiny_f64), "--spacing", "0.7",
                 "-o", str(tmp_path / "out")]) == 0
    (row,) = json.loads((tmp_path / "out" / "screen.json").read_text())
    assert row["status"] == "ok"
    assert row["formula"] == read(path, format="vasp").get_chemical_formula()
    assert "elements from the first line 'Li Cl'" in row["elements_from"]
