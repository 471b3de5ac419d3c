"""Symbols naming origin choice 2 as older programs and hand-edited files write them: ICSD's
setting letter in lower case ('F d -3 m z') and the bar after its digit ('F d 3- m Z',
'F d 3- m :2'). Without operators they were read with the number's origin choice 1 and
refused as overlapping atoms, the advice asking for the 'Z' the file gives; each now reads
as the same file with the operators of pymatgen's ``SpaceGroup('Fd-3m:2')`` listed."""

from __future__ import annotations

import warnings

import pytest
from pymatgen.core import Composition
from pymatgen.io.cif import CifParser
from pymatgen.symmetry.groups import SpaceGroup

from ionmd.structures import read_structure

# spinel LiMn2O4 in origin choice 2: Li 8a at 1/8, Mn 16d at 1/2, O 32e
SPINEL = """data_x
_cell_length_a 8.2476
_cell_length_b 8.2476
_cell_length_c 8.2476
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_Int_Tables_number 227
_symmetry_space_group_name_H-M '{symbol}'
{operators}loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Li1 Li 0.125 0.125 0.125
Mn1 Mn 0.5 0.5 0.5
O1 O 0.2631 0.2631 0.2631
"""


@pytest.fixture(scope="module")
def reference():
    operators = "".join(f"'{op.as_xyz_str()}'\n" for op in SpaceGroup("Fd-3m:2").symmetry_ops)
    text = SPINEL.format(symbol="F d -3 m :2", operators="loop_\n_space_group_symop_"
                         f"operation_xyz\n{operators}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        structure = CifParser.from_str(text).parse_structures(primitive=False)[0]
    assert structure.composition == Composition("Li8Mn16O32")
    return structure


@pytest.mark.parametrize("symbol", ["F d -3 m z", "F d 3- m Z", "F d 3- m :2", "Fd3-m:2"])
def test_origin_2_symbol_forms_read_with_its_operators(tmp_path, reference, symbol):
    path = tmp_path / "x.cif"
    path.write_text(SPINEL.format(symbol=symbol, operators=""))
    structure = read_structure(path)
    assert structure.composition == reference.composition
    assert structure.density == pytest.approx(reference.density, rel=1e-6)
    assert structure.matches(reference, scale=False)


@pytest.mark.parametrize("symbol", ["F d -3 m", "?"])
def test_hall_symbol_names_the_origin(tmp_path, reference, symbol):
    """'-F 4vw 2vw 3' is origin choice 2 (pymatgen's reader takes no Hall symbol): it was
    refused as O1 copies 0.31 A apart, read with the plain symbol's origin choice 1."""
    path = tmp_path / "x.cif"
    path.write_text(SPINEL.format(symbol=symbol,
                                  operators="_space_group_name_Hall '-F 4vw 2vw 3'\n"))
    structure = read_structure(path)
    assert structure.composition == reference.composition
    assert structure.matches(reference, scale=False)
