"""The rounding hint of a refused Ewald ordering counts a rounded split-site cell's
arrangements as the ordering searches them: under the pair rule.

Li6PS5Cl with its 48h Li at 0.495 (not the shipped 0.5) needs 3 cells for whole counts at
the default tolerance: 1.5e42 arrangements, refused. At occ_tol 0.005 it rounds to the
shipped file's one cell, 3.2e13 arrangements of which 2^24 = 1.7e7 keep the pair rule (one
Li per pair of 48h sites), the search that orders the shipped file. The hint counted only
the 3.2e13 (over the 1e8 limit) and offered no tolerance."""

from pathlib import Path

import pytest
from pymatgen.core import Structure

from ionmd.structures import StructureError, order_structure

SHIPPED = Path(__file__).parents[1] / "pypkg" / "ionmd" / "data" / "structures" / "Li6PS5Cl.cif"


def _li_at(occupancy: float) -> Structure:
    s = Structure.from_file(SHIPPED)
    for i, site in enumerate(s):
        if site.species.as_dict().keys() == {"Li"}:
            s.replace(i, {"Li": occupancy}, coords=site.frac_coords)
    return s


def test_the_hint_offers_the_tolerance_whose_cell_the_pair_rule_search_orders():
    s = _li_at(0.495)
    with pytest.raises(StructureError) as err:
        order_structure(s, "ewald")
    text = str(err.value)
    assert "or allow more rounding: occ_tol=0.005" in text, text
    assert "gives 1 cell with 3.2e+13 arrangements, 1.7e+07 of them keeping the pair rule" in text
    # and the hint is true: that tolerance orders it, as the shipped file (24 Li)
    out = order_structure(s, "ewald", occ_tol=0.005)
    assert out.structure.composition["Li"] == 24 and len(out.structure) == 52
