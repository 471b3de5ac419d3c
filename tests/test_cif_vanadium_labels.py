"""Without _atom_site_type_symbol a site labelled Va or Va1 alone at its position is
vanadium (a lettered label, V site a, or V numbered), read as pymatgen reads it; beside
the atoms of its position (Li1 0.75 + Va1 0.25) it is a vacancy row and still refused.
(Every Va label was refused as 'a vacancy written as atoms', vanadium sites included.)"""

import warnings

import pytest
from pymatgen.core import Structure

from ionmd.structures import StructureError
from ionmd.structures.io import read_structure

LIVO = """data_x
_cell_length_a 3.9
_cell_length_b 3.9
_cell_length_c 3.9
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 1'
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
{v} 0.5 0.5 0.5 1
Li1 0 0 0 {li}
{extra}{o}a 0.5 0.5 0 1
{o}b 0.5 0 0.5 1
{o}c 0 0.5 0.5 1
"""


@pytest.mark.parametrize("v", ["Va", "Va1"])
def test_a_vanadium_label_alone_at_its_position_reads_as_vanadium(tmp_path, v):
    text = LIVO.format(v=v, li="1", extra="", o="O")
    path = tmp_path / "livo.cif"
    path.write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = Structure.from_str(text, fmt="cif")
        structure = read_structure(path)
    assert structure.composition == reference.composition
    assert structure.composition["V"] == 1


def test_a_vacancy_label_beside_the_atoms_of_its_position_is_refused(tmp_path):
    path = tmp_path / "li_va.cif"
    path.write_text(LIVO.format(v="Ti1", li="0.75", extra="Va1 0 0 0.0000(2) 0.25\n", o="O"))
    with pytest.raises(StructureError, match=r"Va1 \(label 'Va1'\) is a vacancy"):
        read_structure(path)
