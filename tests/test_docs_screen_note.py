"""The narrow-cell note of `ionmd screen` gives the image-plane spacing and the nearest
image's distance, each what it says: the note used to call the plane spacing the ion's
distance from its images (rock-salt LiCl's primitive cell: 2.96 A, while the nearest image
is a/sqrt(2) = 3.63 A away). Reference: pymatgen's periodic neighbour search."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk


def _cells():
    yield "rocksalt primitive", bulk("LiCl", "rocksalt", a=5.13)
    yield "hexagonal", Atoms("Li", cell=[[3.1, 0, 0], [-1.55, 2.685, 0], [0, 0, 4.9]], pbc=True)
    # a skewed cell whose shortest lattice vector is a combination, not one of its edges
    yield "skewed triclinic", Atoms("Li", cell=[[4.0, 0, 0], [3.7, 1.9, 0], [0.4, 3.8, 2.6]],
                                    pbc=True)


@pytest.mark.parametrize("name,atoms", list(_cells()), ids=[n for n, _ in _cells()])
def test_nearest_image_distance_matches_pymatgen(name, atoms):
    from pymatgen.io.ase import AseAtomsAdaptor
    from ionmd.screen.screen import nearest_image_distance

    structure = AseAtomsAdaptor.get_structure(atoms)
    images = [n.nn_distance for n in structure.get_neighbors(structure[0], 12.0)
              if n.index == 0]
    assert nearest_image_distance(atoms) == pytest.approx(min(images), abs=1e-9)


def test_note_names_plane_spacing_and_nearest_image():
    from ionmd.screen.screen import small_cell_note

    a = 5.13
    note = small_cell_note(bulk("LiCl", "rocksalt", a=a), "Li")
    assert f"planes {a / np.sqrt(3):.2f} A apart" in note
    assert f"nearest {a / np.sqrt(2):.2f} A away" in note
