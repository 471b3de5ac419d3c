"""A cell with more arrangements than a float holds is refused by the count: OBELiX 3zo's
(Li24.9Si0.9P3.1S20Br4, 19 cells) 1.4e+394 arrangements raised OverflowError while the
refusal wrote the count."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from pymatgen.core import Lattice, Structure

from ionmd.structures import StructureError, order_structure


def test_a_count_past_a_floats_range_is_refused_with_its_value():
    rock_salt = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.2), [{"Li": 0.5}, "F"],
                                          [[0, 0, 0], [0.5, 0.5, 0.5]])
    sites = 4 * 7**3                        # Li sites of the 7x7x7 supercell
    count = math.comb(sites, sites // 2)
    assert count > 10**308                   # beyond float
    with pytest.raises(StructureError, match="arrangements") as err:
        order_structure(rock_salt, "ewald", supercell="7x7x7", max_atoms=3000,
                        oxidation_states={"Li": 1, "F": -1})
    assert f"{Decimal(count):.1e} arrangements" in str(err.value)
