"""The Ewald refusal's larger-cell advice where no larger cell's Ewald ordering has a
physical arrangement but a random ordering of one has: the advice said none did ('Nor did
the larger supercells 2x1x2, 1x2x2, 1x1x4 (tried, Ewald ordering)') while the random
refusal of the same file advised 2x1x2, checked. Now the seeded random search checks the
cells the Ewald ordering could not fill, and the advice is that random ordering; followed,
its pairs are checked with numpy distances against ASE's covalent and pymatgen's Shannon
radii."""

from __future__ import annotations

import re

import pytest
from pymatgen.core import Structure

from ionmd.structures import StructureError, order_structure
from ordering_rings import assert_li_cl_pairs_above_floors, li_cl_rings


def _rings() -> Structure:
    """Li 0.5 and Cl 0.5 on rings of three sites 1.40 A apart along a 4.2 A axis, each Li
    site 1.82 A from two Cl sites (0.8 x the Li-Cl covalent sum: 1.84 A). The Ewald
    ordering's lowest-energy arrangements of the larger cells all hold such Li-Cl pairs."""
    return li_cl_rings(1.75)


@pytest.fixture(scope="module")
def refusal() -> str:
    """The refusal, with the advice trying only the cell doubled along a (each larger
    cell's Ewald ordering takes seconds; a is the one the random search fills)."""
    import ionmd.structures.ordering as ordering

    with pytest.MonkeyPatch.context() as patch, pytest.raises(StructureError) as err:
        patch.setattr(ordering, "LARGER_CELLS_TRIED", 1)
        order_structure(_rings(), "ewald")
    return str(err.value)


def test_the_advice_is_a_checked_random_ordering_of_a_larger_cell(refusal):
    assert "no physical arrangement" in refusal and "Nor did" not in refusal
    assert "its Ewald ordering has none" in refusal and "--supercell 2x1x2" in refusal


def test_following_the_advice_orders_every_pair_above_its_floor(refusal):
    seed, advised = re.search(r"`--order random --order-seed (\d+) --supercell (\d+x\d+x\d+)`",
                              refusal).groups()
    s = order_structure(_rings(), "random", seed=int(seed), supercell=advised).structure
    assert_li_cl_pairs_above_floors(s)
