"""CIFs copied from a paper carry typeset minus signs (U+2212, en dash) in coordinates and
type symbols. pymatgen drops every non-ASCII character, so a coordinate -0.1 written with
U+2212 was read as +0.1 (another crystal, no word) and a type symbol Cl1- as an uncharged
'Cl1'. They read as the ASCII file reads (reference: pymatgen on the file with '-')."""

from __future__ import annotations

import warnings

import pytest
from pymatgen.io.cif import CifParser

from ionmd.protocols.prepare import run_charges
from ionmd.structures import read_structure

# a P1 cell whose Li sits at x = -0.1 (0.9), typed with charges
CIF = """data_x
_cell_length_a 5.0
_cell_length_b 6.0
_cell_length_c 7.0
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 1'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Li1 Li1+ {minus}0.1 0.2 {minus}0.3
Cl1 Cl1{minus} 0.5 0.5 0.5
"""


def _pymatgen(text: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CifParser.from_str(text).parse_structures(primitive=False)[0]


@pytest.mark.parametrize("minus", ["\u2212", "\u2013"])
def test_typeset_minus_reads_as_ascii_minus(tmp_path, minus):
    reference = _pymatgen(CIF.format(minus="-"))
    assert reference[0].frac_coords == pytest.approx([0.9, 0.2, 0.7])     # as written
    path = tmp_path / "paper.cif"
    path.write_text(CIF.format(minus=minus), encoding="utf-8")
    structure = read_structure(path)
    assert structure[0].frac_coords == pytest.approx([0.9, 0.2, 0.7])
    assert structure.frac_coords == pytest.approx(reference.frac_coords)
    assert [site.specie.symbol for site in structure] == ["Li", "Cl"]
    assert run_charges(structure) == ({"Li": 1.0, "Cl": -1.0}, False)


# as copied from a paper: en dashes in text fields and the block name, and an en dash
# standing for 'not given' in a table's column
PAPER = """data_LLZO\u2013Ta
_publ_section_title
;
Li\u2013ion conduction in Li7\u2212xLa3Zr2\u2212xTaxO12 (300\u2013500 K)
;
_chemical_name_systematic 'lithium\u2013lanthanum oxide'
_publ_author_name 'Smith\u2013Jones, A.'
_chemical_formula_sum 'Cl Li'
_cell_length_a 5.0
_cell_length_b 6.0
_cell_length_c 7.0
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 1'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_U_iso_or_equiv
Li1 Li 0.1 0.2 0.3 {dash}
Cl1 Cl 0.5 0.5 0.5 0.01
"""


def test_dashes_in_text_and_a_dash_for_not_given(tmp_path):
    """The formula check parsed the file as written, where pymatgen's dropping of the lone
    en dash left the row a value short: ValueError 'zip() argument 2 is longer than
    argument 1' for a file that reads; now as the ASCII file reads."""
    reference = _pymatgen(PAPER.format(dash="?"))
    path = tmp_path / "paper.cif"
    path.write_text(PAPER.format(dash="\u2013"), encoding="utf-8")
    structure = read_structure(path)
    assert structure.frac_coords == pytest.approx(reference.frac_coords)
    assert [site.label for site in structure] == ["Li1", "Cl1"]
    assert structure.composition == reference.composition
