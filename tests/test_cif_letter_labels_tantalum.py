"""Without _atom_site_type_symbol, a label Ta (Tb, Te, Tm; Db, Dy, Ds) beside labels that
number sites by letters (Lia, Tia, Oa) is its element, read as pymatgen reads it: T and D
are pymatgen's hydrogen isotopes, not another element whose site a or b the label could
be, unless the file letters their own sites (Da, Db: then Db is still ambiguous). A
Ta-doped cell with lettered Li sites was refused as 'Ta (read as Ta, or T site a)'."""

import warnings

import pytest
from pymatgen.core import Structure

from ionmd.structures import StructureError
from ionmd.structures.io import read_structure
from test_cif_lettered_vanadium_mixed_sites import _cif

TA_TI = [("Lia", "Li", "0.0 0.0 0.0 1.0"), ("Lib", "Li", "0.5 0.5 0.0 1.0"),
         ("Ta", "Ta", "0.5 0.0 0.5 0.5"), ("Tia", "Ti", "0.5 0.0 0.5 0.5"),
         ("Tib", "Ti", "0.0 0.5 0.5 1.0"),
         ("Oa", "O", "0.5 0.0 0.0 1.0"), ("Ob", "O", "0.0 0.5 0.0 1.0"),
         ("Oc", "O", "0.0 0.0 0.5 1.0"), ("Od", "O", "0.5 0.5 0.5 1.0")]


def test_tantalum_beside_lettered_labels_reads_as_pymatgen_reads_it(tmp_path):
    path = tmp_path / "lita.cif"
    path.write_text(_cif(TA_TI, typed=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        structure = read_structure(path)
        reference = Structure.from_str(_cif(TA_TI, typed=True), fmt="cif")   # typed Ta
    assert structure.composition == reference.composition
    assert reference.composition["Ta"] == pytest.approx(0.5)


def test_db_beside_lettered_deuterium_sites_is_still_ambiguous(tmp_path):
    sites = [("Da", "D", "0.25 0.25 0.25 1.0"), ("Db", "D", "0.75 0.75 0.75 1.0")] + [
        s for s in TA_TI if s[0] != "Ta"]
    path = tmp_path / "lid.cif"
    path.write_text(_cif(sites, typed=False))
    with pytest.raises(StructureError, match=r"Db \(read as Db, or D site b\)"):
        read_structure(path)
