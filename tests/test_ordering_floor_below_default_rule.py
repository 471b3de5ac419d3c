"""The physical floor of a cation-anion pair never exceeds the default rule it is the floor
of. The bond-valence floor (R0 - 0.37 ln V) of a monovalent pair lies above 0.8 x the
covalent radii sum (Li+-Cl- 1.87 A over 1.84 A): orderings kept Li-Cl pairs at 1.86 A (the
rule's), while the refusal of the smallest cell named them below 'the physical floor 1.87
A' and the larger-cell advice said no larger cell orders it ('Nor did ... 2x1x2'), though
``--supercell 2x1x2`` ordered it. References: ASE's covalent radii, pymatgen's Shannon
radii, numpy distances of the ordered cell."""

from __future__ import annotations

import re

import pytest
from pymatgen.core import Lattice, Structure

from ionmd.structures import StructureError, order_structure
from ionmd.structures.ordering_limits import _PairLimits
from ordering_rings import assert_li_cl_pairs_above_floors, covalent_rule, li_cl_rings


@pytest.mark.parametrize("cation,anion", [("Li", "Cl"), ("Na", "I"), ("Li", "H"), ("Ag", "Br"),
                                          ("Li", "O"), ("P", "O")])
def test_a_cation_anion_floor_is_not_above_the_default_rule(cation, anion):
    s = Structure(Lattice.cubic(6.0), [cation, anion], [[0, 0, 0], [0.5, 0.5, 0.5]])
    states = {"Cl": -1, "I": -1, "H": -1, "Br": -1, "O": -2}[anion]
    limits = _PairLimits(s, None, {cation: 5 if cation == "P" else 1, anion: states})
    assert 0 < limits.physical_floor(cation, anion) <= covalent_rule(cation, anion) + 1e-12


def _rings(c: float = 1.9) -> Structure:
    """Li 0.5 and Cl 0.5 on rings of three sites 1.40 A apart along a 4.2 A axis, Li-Cl
    sites 1.86 A apart: 0.8 x the Li-Cl covalent sum is 1.84 A. The smallest cell closes
    the Li rings on themselves (two Li 1.40 A apart); one doubled along a opens them."""
    return li_cl_rings(c)


@pytest.fixture(scope="module")
def refusal() -> str:
    with pytest.raises(StructureError) as err:
        order_structure(_rings(), "ewald")
    return str(err.value)


def test_the_refusal_names_the_li_pair_and_advises_the_larger_cell(refusal):
    assert "Li-Cl pairs" not in refusal and "1.40 A apart" in refusal
    assert "Nor did" not in refusal
    assert re.search(r"`--supercell (\d+x\d+x\d+)`", refusal)


def test_the_advised_cell_orders_with_every_pair_above_its_floor(refusal):
    advised = re.search(r"`--supercell (\d+x\d+x\d+)`", refusal).group(1)
    s = order_structure(_rings(), "ewald", supercell=advised).structure
    assert_li_cl_pairs_above_floors(s)
