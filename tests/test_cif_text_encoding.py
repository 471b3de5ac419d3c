"""A CIF saved in Windows-1252 ('ANSI', as Notepad saved text copied out of a paper) writes a
typeset minus as the en dash byte 0x96. Decoded as UTF-8 with replacement it became U+FFFD,
which pymatgen drops with the sign: Li at -0.1, 0.2, -0.3 read at 0.1, 0.2, 0.3 and Cl1- as
an uncharged Cl1, no word. It reads as the ASCII file reads (pymatgen on the file with '-'),
as does the same file in UTF-8; an author's name in Latin-1 is no obstacle."""

from __future__ import annotations

import warnings

import pytest
from pymatgen.io.cif import CifParser

from ionmd.structures import read_structure
from test_cif_typeset_minus import CIF as TYPED_P1

# test_cif_typeset_minus's typed P1 cell, with an author's name in Latin-1
CIF = TYPED_P1.replace("data_x\n", "data_x\n_publ_author_name 'M\u00fcller, J.'\n", 1)


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8"])
def test_en_dash_minus_in_windows_or_utf8_file(tmp_path, encoding):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = CifParser.from_str(CIF.format(minus="-")).parse_structures(
            primitive=False)[0]
    path = tmp_path / "paper.cif"
    path.write_bytes(CIF.format(minus="\u2013").encode(encoding))
    structure = read_structure(path)
    assert reference[0].frac_coords == pytest.approx([0.9, 0.2, 0.7])
    assert structure.frac_coords == pytest.approx(reference.frac_coords)
    assert [str(site.specie) for site in structure] == ["Li+", "Cl-"]
