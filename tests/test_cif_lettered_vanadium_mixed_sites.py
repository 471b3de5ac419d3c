"""Without _atom_site_type_symbol, a label Va beside the atoms of its position is vanadium
site a where the file letters its vanadium sites (a V/Ti mixed site labelled Va + Tia, Vb
+ Tib beside Lia, Oa): read as pymatgen reads it, and as the same file typed V/Ti reads.
Where the file letters its sites but no other vanadium one, Va beside Tia is a vacancy
row or V site a: refused naming both. (cf9f0f4 refused every such Va as 'a vacancy
written as atoms. Delete that row', which deleted the vanadium.)"""

import warnings

import pytest
from pymatgen.core import Structure

from ionmd.structures import StructureError
from ionmd.structures.io import read_structure

ROCKSALT = """data_x
_cell_length_a 4.10
_cell_length_b 4.10
_cell_length_c 4.10
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 1'
loop_
_symmetry_equiv_pos_as_xyz
 'x, y, z'
loop_
_atom_site_label
{typed_header}_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
{rows}"""

SITES = [("Lia", "Li", "0.0 0.0 0.0 1.0"), ("Lib", "Li", "0.5 0.5 0.0 1.0"),
         ("Va", "V", "0.5 0.0 0.5 0.5"), ("Tia", "Ti", "0.5 0.0 0.5 0.5"),
         ("Vb", "V", "0.0 0.5 0.5 0.5"), ("Tib", "Ti", "0.0 0.5 0.5 0.5"),
         ("Oa", "O", "0.5 0.0 0.0 1.0"), ("Ob", "O", "0.0 0.5 0.0 1.0"),
         ("Oc", "O", "0.0 0.0 0.5 1.0"), ("Od", "O", "0.5 0.5 0.5 1.0")]


def _cif(sites, typed: bool) -> str:
    rows = "".join(f"{lab} {el} {xyz}\n" if typed else f"{lab} {xyz}\n"
                   for lab, el, xyz in sites)
    return ROCKSALT.format(typed_header="_atom_site_type_symbol\n" if typed else "",
                           rows=rows)


def _pymatgen(text: str) -> Structure:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Structure.from_str(text, fmt="cif")


def test_lettered_vanadium_sites_of_a_mixed_site_read_as_vanadium(tmp_path):
    path = tmp_path / "livtio.cif"
    path.write_text(_cif(SITES, typed=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        structure = read_structure(path)
    reference = _pymatgen(_cif(SITES, typed=True))       # the file typed V, Ti: no doubt
    assert structure.composition == reference.composition
    assert sorted(s.species_string for s in structure) == sorted(
        s.species_string for s in reference)
    assert reference.composition["V"] == pytest.approx(1.0)


def test_a_lone_lettered_va_beside_a_mixed_site_names_both_readings(tmp_path):
    sites = [s for s in SITES if s[0] not in ("Vb", "Tib")] + [("Tib", "Ti", "0.0 0.5 0.5 1.0")]
    path = tmp_path / "lone_va.cif"
    path.write_text(_cif(sites, typed=False))
    with pytest.raises(StructureError) as err:
        read_structure(path)
    text = str(err.value)
    assert "Va (label 'Va')" in text and "vanadium site a" in text, text
    assert "_atom_site_type_symbol" in text, text
    # done as it says (typed V, Ti), the file reads as pymatgen reads it
    assert _pymatgen(_cif(sites, typed=True)).composition["V"] == pytest.approx(0.5)
