"""order_structure (and load_structures' OrderOptions) from Python took any seed: -1 and
1.5 ended in numpy's ValueError/TypeError from inside the generator, ``"1"`` in a
TypeError, and ``True`` ordered as seed 1. The command line and campaigns take a whole
number >= 0; the Python API now refuses the others alike, before any work."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Composition, Lattice, Structure

from ionmd.structures import OrderOptions, StructureError, load_structure, order_structure

MIXED = Structure(Lattice.cubic(4.2), [{"Li": 0.5, "Na": 0.5}, "Cl"],
                  [[0, 0, 0], [0.5, 0.5, 0.5]])


@pytest.mark.parametrize("seed", [-1, 1.5, "1", True])
def test_a_seed_that_is_no_whole_number_from_0_is_refused(seed):
    with pytest.raises(StructureError, match=r"seed must be a whole number >= 0 .*got "):
        order_structure(MIXED, "random", seed=seed)
    with pytest.raises(StructureError, match=r"seed must be a whole number >= 0"):
        load_structure(MIXED, OrderOptions(method="random", seed=seed))


def test_a_numpy_integer_seed_orders_as_the_int_does():
    a = order_structure(MIXED, "random", seed=np.int64(3), supercell="2x2x2").structure
    b = order_structure(MIXED, "random", seed=3, supercell="2x2x2").structure
    assert a == b and a.composition == Composition("Li4Na4Cl8")
