"""A deuteron typed with its mass number and charge (2H+, 2H1+, as files that give every
type symbol its charge write it) is deuterium, read as 2H is: the structure pymatgen reads
from the same file typed D+ / D1+ (D's mass), with the charges given. (Was refused: 'sites D1 (type symbol
'2H+') ... name an isotope, which pymatgen does not read ... write 2H as D'.) Other
isotopes stay refused, charged or not."""

import warnings

import pytest
from pymatgen.core import Structure

from ionmd.structures import StructureError
from ionmd.structures.io import read_structure

LIOD = """data_LiOD
_cell_length_a 3.5365
_cell_length_b 3.5365
_cell_length_c 4.3394
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
_atom_site_occupancy
Li1 {li} 0.75 0.25 0 1
Li2 {li} 0.25 0.75 0 1
O1 O{o} 0.25 0.25 0.1934 1
O2 O{o} 0.75 0.75 0.8066 1
D1 {h} 0.25 0.25 0.4137 1
D2 {h} 0.75 0.75 0.5863 1
"""


@pytest.mark.parametrize("charge, oxygen", [("+", "2-"), ("1+", "2-")])
def test_a_charged_2H_reads_as_charged_deuterium(tmp_path, charge, oxygen):
    path = tmp_path / "LiOD_2H.cif"
    path.write_text(LIOD.format(li=f"Li{charge}", o=oxygen, h=f"2H{charge}"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = Structure.from_str(LIOD.format(li=f"Li{charge}", o=oxygen,
                                                   h=f"D{charge}"), fmt="cif")
        structure = read_structure(path)
    # pymatgen takes no charge from a type symbol (ionmd reads them: cif_charges)
    assert structure.copy().remove_oxidation_states().composition == \
        reference.copy().remove_oxidation_states().composition
    assert {str(sp) for sp in structure.composition} == {f"Li{charge}".replace("1+", "+"),
                                                          "D+", "O2-"}
    masses = sorted(float(site.specie.atomic_mass) for site in structure)
    assert masses == pytest.approx(sorted(float(site.specie.atomic_mass)
                                          for site in reference))
    assert masses[0] == pytest.approx(2.014, abs=1e-3)     # the deuterons, not 1.008


def test_a_charged_lithium_isotope_is_still_refused(tmp_path):
    path = tmp_path / "LiOD_7Li.cif"
    path.write_text(LIOD.format(li="7Li+", o="2-", h="D+"))
    with pytest.raises(StructureError, match=r"Li1 \(type symbol '7Li\+'\).*isotope"):
        read_structure(path)
