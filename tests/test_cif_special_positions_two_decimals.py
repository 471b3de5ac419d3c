"""Li3YCl6 written with its Y 2d special positions to two decimals (0.33, 0.67, as a
table in a paper gives them): the symmetry copies of each partially occupied Y site land
0.11 A apart. Ordering refused it saying "Round the occupancies in the input", and with a
formula line the file was refused as a formula mismatch, neither naming the cause, which
the check of ordered cells already named. Now both say it; the reference is the file
written to 8 decimals, which reads as its declared formula."""

from __future__ import annotations

import warnings

import pytest
from pymatgen.core import Composition
from ionmd.structures import StructureError, example_path, read_structure
from ionmd.structures.load import OrderOptions, load_structures


@pytest.fixture(scope="module")
def symmetric_cif() -> str:
    """The shipped Li3YCl6 as a CIF with its P-3m1 operators and special positions to 8
    decimals (0.33333333), as pymatgen writes it."""
    from pymatgen.io.cif import CifWriter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = str(CifWriter(read_structure(example_path("Li3YCl6")), symprec=0.01))
    assert "0.33333333  0.66666667" in text
    return text


def _two_decimals(text: str, formula: bool) -> str:
    text = text.replace("0.33333333  0.66666667", "0.33  0.67")
    if not formula:
        text = "\n".join(line for line in text.splitlines()
                         if not line.startswith("_chemical_formula"))
    return text


def test_the_file_to_eight_decimals_reads_as_its_formula(symmetric_cif, tmp_path):
    path = tmp_path / "exact.cif"
    path.write_text(symmetric_cif)
    assert read_structure(path).composition == Composition("Li9 Y3 Cl18")


def test_ordering_names_the_two_decimals(symmetric_cif, tmp_path):
    path = tmp_path / "y2dec.cif"
    path.write_text(_two_decimals(symmetric_cif, formula=False))
    with pytest.raises(StructureError) as err:
        load_structures(path, OrderOptions(method="random"))
    assert "special positions written to two decimals" in str(err.value)
    assert "Round the occupancies" not in str(err.value)


def test_without_order_the_two_decimals_come_before_partial_occupancies(symmetric_cif,
                                                                        tmp_path):
    path = tmp_path / "y2dec.cif"
    path.write_text(_two_decimals(symmetric_cif, formula=False))
    with pytest.raises(StructureError, match=r"site Y[23] at .* A apart: symmetry copies of "
                                             r"one position, from special positions written "
                                             r"to two decimals"):
        load_structures(path)


def test_a_formula_mismatch_from_two_decimals_names_them(symmetric_cif, tmp_path):
    path = tmp_path / "y2dec_formula.cif"
    path.write_text(_two_decimals(symmetric_cif, formula=True))
    with pytest.raises(StructureError, match=r"special positions written to two decimals"):
        read_structure(path)
