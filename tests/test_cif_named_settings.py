"""CIFs without symmetry operators whose space-group symbol names its setting (ICSD's
'F d -3 m Z', 'I 41/a m d Z', 'S'; ITA's ':2', ':1') or names a group in other axes than the
standard ones ('P n m m', Pmmn in axes cab). pymatgen reads no named setting (P1: the
asymmetric unit, which ionmd refused) and ionmd refused origin choice 2 outright; a correct
'P n m m' file was refused as overlapping atoms (its sites checked with Pmmn's operators).
Each now reads as the same file with the named setting's operators written in, taken from
pymatgen's own table of settings (``SpaceGroup('Fd-3m:2')``), and a symbol naming the
origin its coordinates are not in is still refused, naming the origin that fits."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Composition, Lattice, Structure
from pymatgen.io.cif import CifParser
from pymatgen.symmetry.groups import SpaceGroup

from ionmd.structures import StructureError, read_structure
from ionmd.structures.cif_settings import with_setting_operators

SITES_HEAD = """loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
"""


def _cif(symbol: str, cell: tuple[float, ...], sites: list[tuple]) -> str:
    a, b, c, alpha, beta, gamma = cell
    rows = "".join(" ".join(str(v) for v in site) + "\n" for site in sites)
    return (f"data_x\n_cell_length_a {a}\n_cell_length_b {b}\n_cell_length_c {c}\n"
            f"_cell_angle_alpha {alpha}\n_cell_angle_beta {beta}\n_cell_angle_gamma {gamma}\n"
            f"_symmetry_space_group_name_H-M '{symbol}'\n{SITES_HEAD}{rows}")


def _with_operators(text: str, setting: str) -> str:
    """``text`` with the operators of pymatgen's ``SpaceGroup(setting)`` listed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # 'Pnmm': its full symbol is not in the table
        group = SpaceGroup(setting)
    operators = "".join(f"'{op.as_xyz_str()}'\n" for op in group.symmetry_ops)
    return text.replace("loop_\n", "loop_\n_space_group_symop_operation_xyz\n"
                        + operators + "loop_\n", 1)


def _pymatgen(text: str) -> Structure:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CifParser.from_str(text).parse_structures(primitive=False)[0]


def _read(tmp_path, text: str) -> Structure:
    path = tmp_path / "x.cif"
    path.write_text(text)
    return read_structure(path)


def _assert_same(structure: Structure, reference: Structure) -> None:
    assert structure.composition == reference.composition
    assert structure.density == pytest.approx(reference.density, rel=1e-6)
    assert StructureMatcher().fit(structure, reference)


def _shortest(structure: Structure, a: str, b: str) -> float:
    i = [k for k, site in enumerate(structure) if site.specie.symbol == a]
    j = [k for k, site in enumerate(structure) if site.specie.symbol == b]
    return float(structure.distance_matrix[np.ix_(i, j)].min())


# anatase TiO2 as ICSD gives it: I 41/a m d in origin choice 2 (Ti 4a 0 3/4 1/8, O 8e)
ANATASE_CELL = (3.785, 3.785, 9.514, 90, 90, 90)
ANATASE_ORIGIN_2 = [("Ti1", "Ti", 0, 0.75, 0.125), ("O1", "O", 0, 0.25, 0.0831)]


@pytest.mark.parametrize("symbol", ["I 41/a m d Z", "I 41/a m d :2", "I4_1/amd:2",
                                    "I 41/a 2/m 2/d Z"])
def test_anatase_in_origin_choice_2_reads_with_its_operators(tmp_path, symbol):
    text = _cif(symbol, ANATASE_CELL, ANATASE_ORIGIN_2)
    reference = _pymatgen(_with_operators(text, "I41/amd:2"))
    assert reference.composition == Composition("Ti4O8")
    assert reference.density == pytest.approx(3.89, abs=0.01)             # anatase
    assert _shortest(reference, "Ti", "O") == pytest.approx(1.93, abs=0.01)
    _assert_same(_read(tmp_path, text), reference)


# spinel LiMn2O4 in origin choice 1 (Li 8a at 0, Mn 16d at 5/8, O 32e) and 2 (-1/8)
SPINEL_CELL = (8.2476, 8.2476, 8.2476, 90, 90, 90)
SPINEL_ORIGIN_1 = [("Li1", "Li", 0, 0, 0), ("Mn1", "Mn", 0.625, 0.625, 0.625),
                   ("O1", "O", 0.3881, 0.3881, 0.3881)]
SPINEL_ORIGIN_2 = [("Li1", "Li", 0.125, 0.125, 0.125), ("Mn1", "Mn", 0.5, 0.5, 0.5),
                   ("O1", "O", 0.2631, 0.2631, 0.2631)]


@pytest.mark.parametrize("symbol", ["F d -3 m S", "F d -3 m :1"])
def test_origin_choice_1_named_reads_with_its_operators(tmp_path, symbol):
    """'S' (ICSD) and ':1' (ITA) were read by pymatgen as P1 (Li1Mn1O1) and refused."""
    text = _cif(symbol, SPINEL_CELL, SPINEL_ORIGIN_1)
    assert len(_pymatgen(text)) == 3
    reference = _pymatgen(_with_operators(text, "Fd-3m:1"))
    assert reference.composition == Composition("Li8Mn16O32")
    assert _shortest(reference, "Mn", "O") == pytest.approx(1.96, abs=0.01)
    _assert_same(_read(tmp_path, text), reference)


def test_origin_named_against_the_coordinates_is_refused_naming_the_other(tmp_path):
    """Origin-1 coordinates under 'F d -3 m Z': read in origin choice 2 the O atoms
    overlap; the refusal names origin choice 1, where they fit."""
    text = _cif("F d -3 m Z", SPINEL_CELL, SPINEL_ORIGIN_1)
    with pytest.raises(StructureError, match=r"in origin choice 2, sites Mn1 and O1 come "
                                             r"0\.19 A apart.*in origin choice 1 its sites fit"
                                             r".*name origin choice 1 in the symbol \(ITA's "
                                             r"':1', ICSD's 'S'\)"):
        _read(tmp_path, text)


# a made-up Li Mn O2 in P m m n origin choice 1 (Li 2a, Mn 2b, O 4f), and the same crystal
# in the axes cab (a' = c, b' = a, c' = b: x' = z, y' = x, z' = y), where the group is P n m m
PMMN_CELL = (3.0, 4.0, 5.0, 90, 90, 90)
PMMN_SITES = [("Li1", "Li", 0, 0, 0.1), ("Mn1", "Mn", 0, 0.5, 0.6), ("O1", "O", 0, 0.25, 0.35)]
PNMM_CELL = (5.0, 3.0, 4.0, 90, 90, 90)
PNMM_SITES = [(label, el, z, x, y) for label, el, x, y, z in PMMN_SITES]


@pytest.mark.parametrize("symbol, setting", [("P n m m", "Pnmm:1"), ("P n m m :1", "Pnmm:1"),
                                             ("P n m m S", "Pnmm:1")])
def test_group_in_other_axes_is_checked_and_read_in_those_axes(tmp_path, symbol, setting):
    """'P n m m' (origin 1) was refused: its sites placed with P m m n's operators made
    copies of Mn1 1.00 A apart. It reads as the same file with P n m m's operators, and
    as the P m m n crystal it is."""
    pmmn = Structure.from_spacegroup("Pmmn", Lattice.orthorhombic(*PMMN_CELL[:3]),
                                     [s[1] for s in PMMN_SITES], [s[2:] for s in PMMN_SITES])
    assert pmmn.composition == Composition("Li2Mn2O4")
    text = _cif(symbol, PNMM_CELL, PNMM_SITES)
    reference = _pymatgen(_with_operators(text, setting))
    structure = _read(tmp_path, text)
    _assert_same(structure, reference)
    assert StructureMatcher().fit(structure, pmmn)


def test_origin_2_in_other_axes_reads_with_its_operators(tmp_path):
    """The P m m n crystal in origin choice 2 (shifted by -1/4, -1/4, 0), axes cab."""
    shifted = [(label, el, z, round(x - 0.25, 4), round(y - 0.25, 4))
               for label, el, x, y, z in PMMN_SITES]
    text = _cif("P n m m :2", PNMM_CELL, shifted)
    reference = _pymatgen(_with_operators(text, "Pnmm:2"))
    assert reference.composition == Composition("Li2Mn2O4")
    _assert_same(_read(tmp_path, text), reference)


def test_files_with_operators_and_other_groups_are_left_as_they_are():
    """Operators listed win over any symbol (no block rewritten); a monoclinic symbol with
    unique axis c and a group with one origin are left to pymatgen."""
    listed = _with_operators(_cif("F d -3 m Z", SPINEL_CELL, SPINEL_ORIGIN_1), "Fd-3m:1")
    assert with_setting_operators(listed, "x") == listed
    for symbol in ("P 1 1 21/b", "P 21/c", "P n m a", "F m -3 m"):
        text = _cif(symbol, (5, 6, 7, 90, 90, 100), [("Li1", "Li", 0.1, 0.2, 0.3)])
        assert with_setting_operators(text, "x") == text
    # the common R file: hexagonal axes, plain symbol (pymatgen's own reading)
    hexagonal = _cif("R -3 m", (2.816, 2.816, 14.05, 90, 90, 120),
                     [("Li1", "Li", 0, 0, 0.5), ("Co1", "Co", 0, 0, 0), ("O1", "O", 0, 0, 0.26)])
    assert with_setting_operators(hexagonal, "x") == hexagonal


def test_a_named_setting_in_another_tag_wins(tmp_path):
    """'F d -3 m' (H-M, read first by pymatgen: origin 1) beside '_space_group_name_H-M_alt
    F d -3 m :2' on origin-2 coordinates: read in origin choice 2."""
    text = _cif("F d -3 m", SPINEL_CELL, SPINEL_ORIGIN_2).replace(
        "F d -3 m'\n", "F d -3 m'\n_space_group_name_H-M_alt 'F d -3 m :2'\n")
    reference = _pymatgen(_with_operators(text, "Fd-3m:2"))
    assert reference.composition == Composition("Li8Mn16O32")
    _assert_same(_read(tmp_path, text), reference)


def test_each_block_gets_its_own_setting(tmp_path):
    """Two data blocks: anatase named 'Z' (no operators) and spinel with its operators
    listed; each reads as its reference."""
    anatase = _cif("I 41/a m d Z", ANATASE_CELL, ANATASE_ORIGIN_2)
    spinel = _with_operators(_cif("F d -3 m S", SPINEL_CELL, SPINEL_ORIGIN_1), "Fd-3m:1")
    text = anatase + "\n" + spinel.replace("data_x", "data_y")
    path = tmp_path / "two.cif"
    path.write_text(text)
    from ionmd.structures import read_structures

    (_, first), (_, second) = read_structures(path)
    _assert_same(first, _pymatgen(_with_operators(anatase, "I41/amd:2")))
    _assert_same(second, _pymatgen(spinel))


def test_a_block_without_operators_after_one_listing_them_twice(tmp_path):
    """A first block listing its operators under both tags (_symmetry_equiv_pos_as_xyz and
    _space_group_symop_operation_xyz, as some programs write) made as many operator loops
    as blocks, taken for 'every block lists operators': the second block, anatase 'Z'
    without operators, was refused as P1. Now each block is looked at."""
    spinel = _with_operators(_cif("F d -3 m S", SPINEL_CELL, SPINEL_ORIGIN_1), "Fd-3m:1")
    start = spinel.index("_space_group_symop_operation_xyz")
    end = spinel.index("loop_", start)
    twice = spinel[:end] + "loop_\n" + spinel[start:end].replace(
        "_space_group_symop_operation_xyz", "_symmetry_equiv_pos_as_xyz") + spinel[end:]
    anatase = _cif("I 41/a m d Z", ANATASE_CELL, ANATASE_ORIGIN_2)
    path = tmp_path / "two.cif"
    path.write_text(twice + "\n" + anatase.replace("data_x", "data_y"))
    from ionmd.structures import read_structures

    (_, first), (_, second) = read_structures(path)
    _assert_same(first, _pymatgen(spinel))
    _assert_same(second, _pymatgen(_with_operators(anatase, "I41/amd:2")))


def test_sites_fitting_neither_origin_are_refused_saying_so(tmp_path):
    """Anatase's coordinates under 'P 4/n m m' overlap in both origins: refused naming the
    overlap and asking to check the coordinates (the advice naming an origin crashed with
    StopIteration where none fits)."""
    text = _cif("P 4/n m m", ANATASE_CELL, ANATASE_ORIGIN_2)
    with pytest.raises(StructureError, match=r"in origin choice 1, .* come \d\.\d\d A apart.*"
                                             r"check the coordinates against the setting"):
        _read(tmp_path, text)
