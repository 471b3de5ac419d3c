"""The Ewald ordering's refusal of a cell with too many arrangements advised "or use a
smaller supercell" also where the cell asked for is the file's own (argyrodite Li6PS5Cl,
OBELiX 122, `--supercell 1x1x1 --order-tol 0.15`: Li 24 on 48h, 1.2e15 arrangements):
no cell of the file is smaller. Reference: the arrangement count by hand, C(48, 24) x
C(4, 2)^2 (Li on 48h; Cl on each 4a/4d site at 0.385 / 0.615 rounded to 2 of 4)."""

from __future__ import annotations

import math

import pytest

from pymatgen.core import Structure

from ionmd.structures import order_structure
from ionmd.structures.errors import StructureError
from published_cifs import FILES

ARGYRODITE = FILES / "OBELiX_122_Li6PS5Cl.cif"


def _refusal(supercell: str) -> str:
    # max_arrangements 1e7: the file's own cell (6.0e8 arrangements under the pair rule)
    # is ordered since 3ce46ee's search under the pair rule (1e9 there); refused below it
    with pytest.raises(StructureError) as err:
        order_structure(Structure.from_file(ARGYRODITE), "ewald", occ_tol=0.15,
                        supercell=supercell, max_arrangements=10**7)
    return str(err.value)


def test_the_files_own_cell_is_not_told_to_shrink():
    text = _refusal("1x1x1")
    count = math.comb(48, 24) * math.comb(4, 2) ** 2
    assert f"{count:.1e}" in text
    assert "--order random" in text
    assert "smaller supercell" not in text


def test_a_repeated_cell_is_still_told_it_may_shrink():
    text = _refusal("2x1x1")      # two cells: the file's own one is smaller
    assert "smaller supercell" in text
