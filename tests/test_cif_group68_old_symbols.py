"""Group 68 (Ccce) under its symbols from before ITA's 'e' glide ('C c c a', 'C c c b',
'A b a a'...), which spglib's table lacks. A file naming origin choice 2 ('C c c a :2',
ICSD's 'C c c a Z') and listing no operators was read in origin choice 1 without a word
(Li4Cl as Li2Cl: the Cl on 4a counted 8 times); each now reads as the same file with the
operators of pymatgen's own table of settings (``SpaceGroup('Ccca:2')``) listed, as does
'B b e b :2', which spglib's table names 'B b c b'."""

from __future__ import annotations

import warnings

import pytest
from pymatgen.core import Structure
from pymatgen.io.cif import CifParser
from pymatgen.symmetry.groups import SpaceGroup

from ionmd.structures import read_structure

SITES = (("Li1", "Li", 0.1312, 0.0434, 0.3725), ("Cl1", "Cl", 0.0, 0.25, 0.25))


def _cif(symbol: str, operators: list[str] | None = None) -> str:
    ops = ("loop_\n_space_group_symop_operation_xyz\n"
           + "".join(f"'{op}'\n" for op in operators)) if operators else ""
    rows = "".join(" ".join(str(v) for v in site) + "\n" for site in SITES)
    return ("data_x\n_cell_length_a 9.1\n_cell_length_b 10.3\n_cell_length_c 11.7\n"
            "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n"
            f"_symmetry_space_group_name_H-M '{symbol}'\n_symmetry_Int_Tables_number 68\n"
            f"{ops}loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n"
            f"_atom_site_fract_y\n_atom_site_fract_z\n{rows}")


def _pymatgen_setting(symbol: str, setting: str) -> Structure:
    """The file read by pymatgen with the operators of its ``SpaceGroup(setting)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        operators = [op.as_xyz_str() for op in SpaceGroup(setting).symmetry_ops]
        return CifParser.from_str(_cif(symbol, operators)).parse_structures(
            primitive=False)[0]


@pytest.mark.parametrize("symbol, setting", [
    ("C c c a :2", "Ccca:2"), ("C c c a Z", "Ccca:2"), ("Ccca:2", "Ccca:2"),
    ("C c c b :2", "Cccb:2"), ("A b a a Z", "Abaa:2"), ("A c a a :2", "Acaa:2"),
    ("B b c b Z", "Bbcb:2"), ("B b a b :2", "Bbab:2"),
    # spglib names origin choice 2 in axes bca 'B b c b' alone: 'B b e b :2' was unknown
    ("B b e b :2", "Bbcb:2"), ("B b e b Z", "Bbcb:2"),
    # as before: pymatgen reads a plain old symbol in origin choice 2, ':1'/'S' in 1
    ("C c c a", "Ccca:2"), ("C c c a S", "Ccce:1"), ("C c c a :1", "Ccce:1")])
def test_old_group68_symbol_reads_in_its_setting(tmp_path, symbol, setting):
    path = tmp_path / "x.cif"
    path.write_text(_cif(symbol))
    got = read_structure(path)
    want = _pymatgen_setting(symbol, setting)
    assert got.composition == want.composition
    assert got.density == pytest.approx(want.density, rel=1e-6)
    assert got.matches(want, scale=False)
