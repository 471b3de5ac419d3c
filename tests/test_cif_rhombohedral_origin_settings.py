"""CIFs without symmetry operators in the other setting of their space group than the one
pymatgen builds from the symbol or number. LiCoO2 in rhombohedral axes (a = b = c, alpha =
33 deg, 'R -3 m' or its number) read as Li9Co3O36 at 42 g/cm3 (hexagonal operators on a
rhombohedral cell) and its 'R -3 m R' / ':R' symbols were refused with advice leading to the
same reading; LiMn2O4 in origin choice 2 given its number or plain symbol only read as
Li16Mn8O32, refused later as overlapping atoms with no word of the origin. Now the
rhombohedral cell gets its setting's operators (reference: pymatgen's reading of the
hexagonal-setting file, spglib's space group), a symbol naming the setting its cell is not
in is refused, and a reading whose atoms overlap names the origin choice that fits."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import spglib
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Composition
from pymatgen.io.cif import CifParser

from ionmd.structures import StructureError, read_structure

A_HEX, C_HEX, Z_O = 2.816, 14.054, 0.2396        # LiCoO2, R-3m
# the same lattice's rhombohedral axes (obverse): a_r and alpha from a, c
A_RH = math.sqrt(A_HEX ** 2 / 3 + C_HEX ** 2 / 9)
ALPHA_RH = math.degrees(math.acos((2 * C_HEX ** 2 - 3 * A_HEX ** 2)
                                  / (2 * C_HEX ** 2 + 6 * A_HEX ** 2)))
SITES = """loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
"""
HEXAGONAL = f"""data_LiCoO2_hex
_cell_length_a {A_HEX}
_cell_length_b {A_HEX}
_cell_length_c {C_HEX}
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 120
_symmetry_space_group_name_H-M 'R -3 m'
_space_group_IT_number 166
{SITES}Li1 Li 0 0 0.5
Co1 Co 0 0 0
O1 O 0 0 {Z_O}
"""


def _rhombohedral(group_lines: str, a=A_RH, c=A_RH) -> str:
    return f"""data_LiCoO2_rh
_cell_length_a {a:.4f}
_cell_length_b {a:.4f}
_cell_length_c {c:.4f}
_cell_angle_alpha {ALPHA_RH:.3f}
_cell_angle_beta {ALPHA_RH:.3f}
_cell_angle_gamma {ALPHA_RH:.3f}
{group_lines}
{SITES}Li1 Li 0.5 0.5 0.5
Co1 Co 0 0 0
O1 O {Z_O} {Z_O} {Z_O}
"""


def _pymatgen(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CifParser(str(path)).parse_structures(primitive=False)[0]


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def hexagonal(tmp_path_factory):
    """pymatgen's reading of the hexagonal-setting file: the reference crystal."""
    return _pymatgen(_write(tmp_path_factory.mktemp("hex"), "hex.cif", HEXAGONAL))


@pytest.mark.parametrize("group_lines", [
    "_symmetry_space_group_name_H-M 'R -3 m'",
    "_symmetry_space_group_name_H-M 'R -3 m R'",
    "_symmetry_space_group_name_H-M 'R -3 m :R'",
    "_space_group_IT_number 166",
    "_symmetry_space_group_name_H-M 'R -3 m R'\n_space_group_IT_number 166",
])
def test_rhombohedral_axes_read_as_the_hexagonal_setting_file(tmp_path, hexagonal, group_lines):
    assert hexagonal.composition.reduced_composition == Composition("LiCoO2")
    structure = read_structure(_write(tmp_path, "rh.cif", _rhombohedral(group_lines)))
    assert len(structure) == len(hexagonal) // 3 == 4         # the primitive cell
    assert structure.density == pytest.approx(hexagonal.density, rel=1e-3)
    assert StructureMatcher().fit(structure, hexagonal)
    cell = (structure.lattice.matrix, structure.frac_coords, structure.atomic_numbers)
    assert spglib.get_symmetry_dataset(cell, symprec=1e-3).number == 166


def test_a_setting_named_against_the_cell_is_refused(tmp_path):
    """'R -3 m H' on rhombohedral axes and 'R -3 m :R' on hexagonal ones: the symbol or the
    cell is wrong; before, both were 'cannot interpret' with advice to add the number
    (which read the rhombohedral one as Li9Co3O36)."""
    rh_named_h = _write(tmp_path, "a.cif",
                        _rhombohedral("_symmetry_space_group_name_H-M 'R -3 m H'"))
    with pytest.raises(StructureError, match=r"'R -3 m H', the hexagonal setting, but its cell "
                                             r"\(a 4\.95.*\) is in the rhombohedral "
                                             r"setting's axes"):
        read_structure(rh_named_h)
    hex_named_r = _write(tmp_path, "b.cif", HEXAGONAL.replace("'R -3 m'", "'R -3 m :R'"))
    with pytest.raises(StructureError, match=r"the rhombohedral setting, but its cell .* is in "
                                             r"the hexagonal setting's axes"):
        read_structure(hex_named_r)


def test_a_rhombohedral_group_on_a_cell_in_neither_axes_is_refused(tmp_path, hexagonal):
    """c 5 % longer than a (neither a = b = c nor gamma = 120): pymatgen applies the
    hexagonal operators to it and gives another crystal without a word."""
    path = _write(tmp_path, "odd.cif", _rhombohedral(
        "_symmetry_space_group_name_H-M 'R -3 m'", c=A_RH * 1.05))
    misread = _pymatgen(path)
    assert len(misread) != len(hexagonal) // 3
    with pytest.raises(StructureError, match=r"is in the axes of neither of its settings"):
        read_structure(path)


# LiMn2O4 in origin choice 2 (Li 8a at 1/8, Mn 16d at 1/2, O 32e), with multiplicities
SPINEL = """data_LiMn2O4
_cell_length_a 8.2476
_cell_length_b 8.2476
_cell_length_c 8.2476
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
{group}
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_symmetry_multiplicity
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Li1 Li 8 {li} {li} {li}
Mn1 Mn 16 {mn} {mn} {mn}
O1 O 32 {o} {o} {o}
"""
ORIGIN_2 = {"li": 0.125, "mn": 0.5, "o": 0.2631}
ORIGIN_1 = {k: round(v + 0.125, 4) for k, v in ORIGIN_2.items()}   # origin 2 at -1/8 of origin 1


@pytest.mark.parametrize("group", ["_space_group_IT_number 227",
                                   "_symmetry_space_group_name_H-M 'F d -3 m'",
                                   "_symmetry_space_group_name_H-M 'F d -3 m S'"])
def test_origin_choice_2_sites_read_in_origin_1_are_refused_naming_the_origin(tmp_path, group):
    path = _write(tmp_path, "o2.cif", SPINEL.format(group=group, **ORIGIN_2))
    with pytest.raises(StructureError, match=(
            r"in origin choice 1, copies of site O1 come 0\.3\d A apart; site Li1 has 16 "
            r"positions where the file gives 8: the file's setting/origin choice differs from "
            r"the one its operators assume.*in origin choice 2 its sites fit")):
        read_structure(path)


def test_origin_choice_1_sites_read_as_pymatgen_reads_them(tmp_path):
    """The same spinel moved to origin choice 1: no refusal, pymatgen's LiMn2O4 (Mn-O
    1.96 A), given the number only."""
    path = _write(tmp_path, "o1.cif",
                  SPINEL.format(group="_space_group_IT_number 227", **ORIGIN_1))
    reference = _pymatgen(path)
    assert reference.composition == Composition("Li8Mn16O32")
    mn = [i for i, site in enumerate(reference) if site.specie.symbol == "Mn"]
    assert np.sort(reference.distance_matrix[mn], axis=1)[:, 1].min() == pytest.approx(1.96, abs=0.01)
    structure = read_structure(path)
    assert StructureMatcher().fit(structure, reference)
    assert len(structure) == len(reference)
