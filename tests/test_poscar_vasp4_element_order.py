"""A VASP 4 POSCAR's elements come from its POTCAR, in the counts' order; its first line is
a comment. pymatgen's VASP 4 output has the formula by electronegativity there: a Cl-first
LiCl cell is 'Li4 Cl4' above counts '4 4' of Cl, then Li. Its CONTCAR (no symbols after
the coordinates) was read with Li on the Cl sites (as ASE reads it); a formula whose amounts
cannot tell the counts apart is now refused, one whose amounts can is read, and a list of
bare symbols (ASE's VASP 4 output) is taken in its order."""

from __future__ import annotations

import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.vasp import Poscar

from ionmd.structures import StructureError, read_structure


def _contcar(path, structure: Structure):
    """``structure`` as pymatgen writes a VASP 4 POSCAR, with the site symbols after the
    coordinates left out, as VASP writes the CONTCAR of it."""
    lines = Poscar(structure).get_str(vasp4_compatible=True).splitlines()
    coords = [" ".join(line.split()[:3]) for line in lines[8:] if line.strip()]
    path.write_text("\n".join(lines[:8] + coords) + "\n")
    return path


def _rocksalt(first: str, second: str) -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.14), [first, second],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]]).perturb(0.05, 0.05)


def test_formula_of_equal_amounts_is_refused(tmp_path):
    truth = _rocksalt("Cl", "Li")
    path = _contcar(tmp_path / "CONTCAR.vasp", truth)
    assert path.read_text().splitlines()[0] == "Li4 Cl4"        # pymatgen's comment
    assert [s.specie.symbol for s in truth][:4] == ["Cl"] * 4   # the counts' first 4 are Cl
    with pytest.raises(StructureError, match=r"first line 'Li4 Cl4' is a formula \(Li4 Cl4\) "
                       r"whose order need not be the counts'.*Li and Cl have equal amounts"):
        read_structure(path)


@pytest.mark.parametrize("first_line", ["LiCl", "Li2 Cl2", "Cl1 Li1"])
def test_other_formulas_of_equal_amounts_are_refused(tmp_path, first_line):
    path = _contcar(tmp_path / "POSCAR", _rocksalt("Li", "Cl"))
    path.write_text(first_line + "\n" + path.read_text().split("\n", 1)[1])
    with pytest.raises(StructureError, match="which count is which cannot be told"):
        read_structure(path)


def test_formula_whose_amounts_tell_the_counts_apart_is_read(tmp_path):
    """Li2O (antifluorite) with Li first: pymatgen's 'Li8 O4' above '8 4' names them."""
    truth = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.62), ["Li", "O"],
                                      [[0.25, 0.25, 0.25], [0, 0, 0]]).perturb(0.05, 0.05)
    path = _contcar(tmp_path / "POSCAR", truth)
    assert path.read_text().splitlines()[0] == "Li8 O4"
    structure = read_structure(path)
    assert [s.specie.symbol for s in structure] == [s.specie.symbol for s in truth]
    assert structure.frac_coords == pytest.approx(truth.frac_coords)


def test_bare_symbols_are_taken_in_their_order(tmp_path):
    truth = _rocksalt("Cl", "Li")
    path = _contcar(tmp_path / "POSCAR", truth)
    path.write_text("Cl Li\n" + path.read_text().split("\n", 1)[1])
    structure = read_structure(path)
    assert [s.specie.symbol for s in structure] == [s.specie.symbol for s in truth]
    assert "from that line" in structure.properties["elements_from"]
