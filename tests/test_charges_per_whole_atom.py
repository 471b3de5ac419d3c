"""Charges given by hand are per atom of the run cell, which holds whole atoms: a partially
occupied site's share is in their number once ordered. A campaign's ``charges = {Li = 0.5,
Cl = -1}`` for a file whose Li sites are half occupied (occupancy x Li+) was taken, and
collect's sigma was a quarter of Li+'s (q^2), the occupancy counted twice. A table that
gives every element of a cell and leaves it charged beyond a refinement's few % is now
refused, saying what the cell holds and its net charge; Li = 1 is taken.

Reference: a hand count of the file's sites (Fm-3m: Cl on 4a, Li on 8c at occupancy 1/2:
4 Cl and 8 x 1/2 = 4 Li per conventional cell) and of its net charge under the given
charges.
"""

from __future__ import annotations

from collections import Counter

import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter

from ionmd.structures.charge_values import net_charge_problem
from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import write_campaign

LI_SITES, LI_OCCUPANCY, CL_SITES = 8, 0.5, 4        # Fm-3m 8c and 4a, conventional cell


@pytest.fixture
def half_occupied(folder):
    """``folder`` with ``half.cif``: Cl on 4a, Li half on each of the 8c sites."""
    s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.6), [{"Cl": 1}, {"Li": LI_OCCUPANCY}],
                                  [[0, 0, 0], [0.25, 0.25, 0.25]])
    assert s.composition["Li"] == LI_SITES * LI_OCCUPANCY and s.composition["Cl"] == CL_SITES
    CifWriter(s).write_file(folder / "half.cif")
    return folder


def _campaign(folder, charges: str):
    return write_campaign(folder, structures='["half.cif"]', extra='order = "random"',
                          analysis=f"charges = {charges}")


def test_occupancy_times_charge_is_refused_with_the_hand_count(half_occupied):
    li, cl = LI_SITES * LI_OCCUPANCY, CL_SITES
    net = li * LI_OCCUPANCY + cl * -1                       # Li = 0.5: -2 e
    with pytest.raises(CampaignError) as refused:
        load_campaign(_campaign(half_occupied, "{Li = 0.5, Cl = -1}"))
    said = str(refused.value)
    assert f"{li:g} Li" in said and f"{cl:g} Cl" in said, said
    assert f"a net charge of {net:+g} e" in said and "Li = 1, not 0.5" in said


def test_whole_atom_charges_are_taken_and_the_run_cell_is_the_hand_count(half_occupied):
    campaign = load_campaign(_campaign(half_occupied, "{Li = 1, Cl = -1}"))
    [structure] = campaign.structures
    assert Counter(structure.cell.get_chemical_symbols()) == {
        "Li": LI_SITES * LI_OCCUPANCY, "Cl": CL_SITES}
    assert campaign.charges_of(structure.name)[0] == {"Li": 1.0, "Cl": -1.0}


@pytest.mark.parametrize("charges, counts, refused", [
    # refined occupancies a little off neutral (the shipped LGPS's ordered cells: +2 e of
    # 48 e positive) are no mistake of the charges
    ({"Li": 1, "Ge": 4, "P": 5, "S": -2}, {"Li": 22, "Ge": 2, "P": 4, "S": 24}, False),
    ({"Li": 0.5, "Ge": 4, "P": 5, "S": -2}, {"Li": 20, "Ge": 2, "P": 4, "S": 24}, True),
    # a mixed-valence average (Fe3O4: Fe 8/3) is neutral
    ({"Fe": 8 / 3, "O": -2}, {"Fe": 3, "O": 4}, False),
    # nothing to count: an element without a charge, one at 0 (left out), a metal
    ({"Li": 0.5}, {"Li": 4, "Cl": 4}, False),
    ({"Li": 0.5, "Cl": 0}, {"Li": 4, "Cl": 4}, False),
    ({"Li": 1}, {"Li": 16}, False),
])
def test_net_charge_by_hand(charges, counts, refused):
    assert (net_charge_problem(charges, counts) is not None) == refused
