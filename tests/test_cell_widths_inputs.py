"""perpendicular_widths (and supercell_repeats, min_width_supercell through it) took a
lattice, but a notebook passes the Structure or Atoms it holds: a pymatgen Structure ended
in numpy's "setting an array element with a sequence", an ASE Atoms in a wrong shape
further on. Both now stand for their cell; anything else is a StructureError saying what a
cell is. Widths are checked against V / |a_j x a_k| by hand for a triclinic cell."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from pymatgen.core import Lattice, Structure

from ionmd.structures import StructureError, perpendicular_widths, supercell_repeats

ROWS = np.array([[5.0, 0.0, 0.0], [1.5, 4.0, 0.0], [0.7, 0.9, 6.0]])


def _by_hand(rows):
    v = abs(np.linalg.det(rows))
    return [v / np.linalg.norm(np.cross(rows[(i + 1) % 3], rows[(i + 2) % 3])) for i in range(3)]


@pytest.mark.parametrize("make", [
    lambda: Structure(Lattice(ROWS), ["Li"], [[0, 0, 0]]),
    lambda: Atoms("Li", cell=ROWS, pbc=True),
    lambda: Lattice(ROWS),
    lambda: Atoms("Li", cell=ROWS, pbc=True).cell,
    lambda: ROWS,
])
def test_a_structure_or_atoms_stands_for_its_cell(make):
    np.testing.assert_allclose(perpendicular_widths(make()), _by_hand(ROWS), rtol=1e-12)
    assert supercell_repeats(make(), "8A") == tuple(int(np.ceil(8 / w)) for w in _by_hand(ROWS))


@pytest.mark.parametrize("bad", ["Li3YCl6", [1.0, 2.0, 3.0], np.eye(2), None])
def test_what_is_no_cell_is_refused_saying_what_a_cell_is(bad):
    with pytest.raises(StructureError, match="a cell is three lattice vectors as rows"):
        perpendicular_widths(bad)
