"""The larger-supercell advice of an ordering refused as unphysical in its smallest cell:
the random search advised a checked larger cell, the Ewald ordering of the same file
advised nothing. Now the Ewald refusal advises the larger cell its own ordering fills
with every pair above the physical floor; followed, the ordered cell's pairs are checked
with numpy distances against Shannon radii (pymatgen) and ASE's covalent radii."""

from __future__ import annotations

import re

import numpy as np
import pytest
from pymatgen.core import Structure

from ionmd.structures import StructureError, order_structure
from ordering_rings import covalent_rule, li_cl_rings, shannon_floor


def _ring_cell() -> Structure:
    """Li 0.5 (and Cl 0.5) on rings of three sites 1.40 A apart along a 4.2 A axis: the
    smallest cell closes each ring on itself, so a ring holds two Li 1.40 A apart (Li+-Li+
    floor 1.53 A); a larger cell opens the rings."""
    return li_cl_rings(3.4)


def _floor(el: str, state: int) -> float:
    return min(covalent_rule(el, el), shannon_floor(el, state))


@pytest.fixture(scope="module")
def refusal() -> str:
    with pytest.raises(StructureError) as err:
        order_structure(_ring_cell(), "ewald")
    return str(err.value)


def test_the_ewald_refusal_advises_a_checked_larger_supercell(refusal):
    assert "no physical arrangement exists" in refusal and "larger cell may differ" in refusal
    assert "(checked, Ewald ordering)" in refusal and "--order-min-distance" not in refusal


def test_following_the_ewald_advice_orders_every_pair_above_its_floor(refusal):
    advised = re.search(r"`--supercell (\d+x\d+x\d+)`", refusal).group(1)
    cell = order_structure(_ring_cell(), "ewald", supercell=advised)
    assert cell.method == "ewald"
    s = cell.structure
    for el, state in (("Li", 1), ("Cl", -1)):
        atoms = [k for k, site in enumerate(s) if site.specie.symbol == el]
        d = s.distance_matrix[np.ix_(atoms, atoms)][np.triu_indices(len(atoms), 1)]
        assert d.min() >= _floor(el, state) > 1.40


def test_a_larger_cell_beyond_the_advice_search_is_advised_as_a_random_ordering(monkeypatch):
    """Where the larger cell has more arrangements than the advice Ewald-orders, the
    seeded random search checks it, and the advice is that random ordering; followed, its
    pairs are above their floors."""
    import ionmd.structures.ordering as ordering

    monkeypatch.setattr(ordering, "ADVICE_EWALD_ARRANGEMENTS", 0)
    with pytest.raises(StructureError) as err:
        order_structure(_ring_cell(), "ewald")
    message = str(err.value)
    assert "arrangements were not Ewald-ordered (more than 0e+00 for this advice)" in message
    seed, advised = re.search(r"`--order random --order-seed (\d+) --supercell (\d+x\d+x\d+)`",
                              message).groups()
    s = order_structure(_ring_cell(), "random", seed=int(seed), supercell=advised).structure
    for el, state in (("Li", 1), ("Cl", -1)):
        atoms = [k for k, site in enumerate(s) if site.specie.symbol == el]
        d = s.distance_matrix[np.ix_(atoms, atoms)][np.triu_indices(len(atoms), 1)]
        assert d.min() >= _floor(el, state)
