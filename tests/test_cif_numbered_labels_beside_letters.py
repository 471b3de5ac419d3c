"""A CIF without _atom_site_type_symbol whose oxygen (or chlorine) sites are lettered (Oa,
Ob, Oc) and whose cations are numbered (Na1, Nb1, Ca1, Yb1, Sc1): the numbered labels are
no letter-scheme labels ('N site a'), so they read as their elements, as pymatgen reads the
same file with the type symbols written out. (Was refused: 'Na1 (read as Na, or N site a)
... ambiguous'.) The letter scheme itself (argyrodite Lia, Pa, Sa, Sb, Sc) is still refused:
tests/test_cif_site_symbols.py."""

import warnings

import pytest
from pymatgen.core import Structure

from ionmd.structures import StructureError
from ionmd.structures.io import read_structure

PEROVSKITE = """data_x
_cell_length_a 3.95
_cell_length_b 3.95
_cell_length_c 3.95
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 1'
loop_
_atom_site_label
{typed}_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
{a} {ta}0 0 0 1
{b} {tb}0.5 0.5 0.5 1
{x}a {tx}0.5 0.5 0 1
{x}b {tx}0.5 0 0.5 1
{x}c {tx}0 0.5 0.5 1
"""


def _cif(a, b, x, typed):
    def t(label):
        return f"{label.rstrip('0123456789')} " if typed else ""
    return PEROVSKITE.format(a=a, b=b, x=x, typed="_atom_site_type_symbol\n" if typed else "",
                             ta=t(a), tb=t(b), tx=t(x))


@pytest.mark.parametrize("a, b, x", [("Na1", "Nb1", "O"), ("Ca1", "Ti1", "O"),
                                     ("Yb1", "Ti1", "O"), ("Sc1", "Li1", "Cl")])
def test_numbered_cation_labels_beside_lettered_anions_read_as_their_elements(
        tmp_path, a, b, x):
    path = tmp_path / "numbered.cif"
    path.write_text(_cif(a, b, x, typed=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = Structure.from_str(_cif(a, b, x, typed=True), fmt="cif")
        structure = read_structure(path)
    assert structure.composition == reference.composition
    assert {el.symbol for el in structure.composition.elements} == \
        {a.rstrip("1"), b.rstrip("1"), x}


def test_a_numbered_label_in_the_lettered_labels_own_scheme_is_still_refused(tmp_path):
    """Oa1, Ob1, Oc1 number the oxygen sites by letter and digit: Na1 and Nb1 written the
    same way may be N sites a and b, so the file is refused naming them, as the bare
    argyrodite labels are."""
    text = _cif("Na1", "Nb1", "O", typed=False)
    for letter in "abc":
        text = text.replace(f"O{letter} ", f"O{letter}1 ")
    path = tmp_path / "lettered_digits.cif"
    path.write_text(text)
    with pytest.raises(StructureError, match=r"Na1 \(read as Na, or N site a\), Nb1"):
        read_structure(path)
