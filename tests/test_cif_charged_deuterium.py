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
from test_cif_site_symbols import liod_cif


@pytest.mark.parametrize("charge, oxygen", [("+", "2-"), ("1+", "2-")])
def test_a_charged_2H_reads_as_charged_deuterium(tmp_path, charge, oxygen):
    path = tmp_path / "LiOD_2H.cif"
    path.write_text(liod_cif(li=f"Li{charge}", o=oxygen, h=f"2H{charge}"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = Structure.from_str(liod_cif(li=f"Li{charge}", o=oxygen, h=f"D{charge}"),
                                       fmt="cif")
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
    path.write_text(liod_cif(li="7Li+", o="2-", h="D+"))
    with pytest.raises(StructureError, match=r"Li1 \(type symbol '7Li\+'\).*isotope"):
        read_structure(path)
