"""``charges_states.element_states``: the public name of each element's oxidation states
the charge guess and the hand-given charges' check (``charge_values``) take (before, a
private ``_options`` imported across modules). Reference: pymatgen's ICSD statistics."""

from __future__ import annotations

import pytest
from pymatgen.core import Element

from ionmd.structures.charge_values import net_charge_problem
from ionmd.structures.charges_states import element_states


@pytest.mark.parametrize("el", ["Li", "Fe", "Co", "Cl", "O"])
def test_states_are_pymatgen_icsd_states(el):
    assert element_states(el) == tuple(Element(el).icsd_oxidation_states)


def test_gold_has_its_two_formal_states():
    # ICSD statistics leave Au out; Au(I) and Au(III) are both ordinary
    assert not Element("Au").icsd_oxidation_states
    assert set(element_states("Au")) == {1, 3}


def test_hand_charges_check_takes_each_elements_states():
    # Li0.5CoO2 under LiCoO2's Co = 3 (-12.5 % of 32 e): each a known state, taken;
    # LiCoO2 with Li = 0.5 (occupancy x state): no state of Li, refused
    assert net_charge_problem({"Li": 1, "Co": 3, "O": -2}, {"Li": 4, "Co": 8, "O": 16}) is None
    assert "counts the occupancy twice" in net_charge_problem(
        {"Li": 0.5, "Co": 3, "O": -2}, {"Li": 8, "Co": 8, "O": 16})
