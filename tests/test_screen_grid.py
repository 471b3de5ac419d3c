"""Grid construction and excluded points, against brute force (ASE minimum-image
distances over every framework atom)."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.geometry import get_distances
from ionmd.errors import IonmdError
from ionmd.screen.grid import allowed_masks, cartesian_points, grid_shape


@pytest.mark.parametrize("length", [5.0, 5.0000001, 4.9999, 3.6, 0.2, 12.34])
def test_grid_shape_is_smallest_with_step_below_spacing(length):
    spacing = 0.25
    cell = np.diag([length, 2 * length, 1.0])
    shape = grid_shape(cell, spacing)
    for axis, n in enumerate(shape):
        l_i = np.linalg.norm(cell[axis])
        assert l_i / n <= spacing + 1e-12
        assert n == 1 or l_i / (n - 1) > spacing


def test_grid_shape_rejects_nonpositive_spacing():
    with pytest.raises(IonmdError, match="positive"):
        grid_shape(np.eye(3), 0.0)


def test_excluded_points_match_minimum_image_distances():
    atoms = bulk("LiCl", "rocksalt", a=5.14)          # triclinic primitive cell
    atoms.set_cell(atoms.cell.array @ np.array([[1.02, 0.03, 0], [0, 0.98, 0.02],
                                                [0.01, 0, 1.0]]), scale_atoms=True)
    atoms = atoms * (1, 1, 2)                          # two Li: each is framework of the other
    atoms.positions[1] += [0.07, -0.04, 0.05]
    shape = grid_shape(atoms.cell.array, 0.5)
    rmin = 1.2
    mobile = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s == "Li"]
    masks = allowed_masks(atoms, mobile, shape, rmin)
    points = cartesian_points(atoms.cell.array, shape)
    for k, m in enumerate(mobile):
        frame = [i for i in range(len(atoms)) if i != m]
        _, d = get_distances(points, atoms.positions[frame], cell=atoms.cell, pbc=True)
        expected = (d.min(axis=1) >= rmin).reshape(shape)
        np.testing.assert_array_equal(masks[k], expected)
        assert 0 < masks[k].sum() < masks[k].size
    assert not np.array_equal(masks[0], masks[1])


def test_dilute_repeat_is_smallest_with_wide_enough_planes():
    from ionmd.screen.screen import dilute_repeat

    atoms = bulk("LiCl", "rocksalt", a=5.14)                     # fcc primitive, width 2.97 A
    width = atoms.cell.volume / np.linalg.norm(np.cross(atoms.cell[1], atoms.cell[2]))
    assert dilute_repeat(atoms, 10.0) == (4, 4, 4)
    assert 3 * width < 10.0 <= 4 * width
    assert dilute_repeat(atoms, 0.5) == (1, 1, 1)


def test_narrow_cells_get_a_note():
    """A 2-atom rock-salt cell (image planes 2.97 A apart) is flagged; the same crystal
    repeated to 5.5 A is not."""
    from ase.build import bulk
    from ionmd.screen.screen import dilute_repeat, image_plane_widths, small_cell_note

    prim = bulk("LiCl", "rocksalt", a=5.14)
    assert np.allclose(image_plane_widths(prim), 5.14 / np.sqrt(3))
    assert "planes 2.97 A apart" in small_cell_note(prim, "Li")
    assert small_cell_note(prim * dilute_repeat(prim, 5.5), "Li") is None


def test_level_map_size_guard():
    from ionmd.screen.screen import ScreenSettings, screen_structure

    class NoModel:
        def species_of(self, symbols):
            return np.zeros(len(symbols), dtype=int)

    big = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (4, 4, 4)
    with pytest.raises(IonmdError, match="coarsen --spacing"):
        screen_structure(big, NoModel(), ScreenSettings(cell="as-given", spacing=0.05))


def test_neighbour_search_in_a_large_sparse_cell_does_not_corrupt_memory():
    """LiH in a 40 A box, searched in the scan's small batches: pymatgen's search with
    tol=0 wrote past its buffers here (free(): invalid next size, segfault). Run in a child
    process so that a crash fails this test instead of killing the test session."""
    import subprocess
    import sys

    script = """
import gc
import numpy as np
from ase import Atoms
from ionmd.screen.grid import cartesian_points, points_near_atoms
from ionmd.screen.screen import ScreenSettings, plan_screen
lih = Atoms("LiH", positions=[[20, 20, 20], [20, 20, 21.6]], cell=np.eye(3) * 40.0, pbc=True)
plan = plan_screen(lih, ScreenSettings(spacing=0.5))
points = cartesian_points(plan.cell_atoms.cell.array, plan.grid)[plan.reps[:, 1]]
framework = plan.cell_atoms[[1]]
for start in range(0, len(points), 32):
    points_near_atoms(framework, points[start:start + 32], 5.0)
gc.collect(); junk = [np.ones(1000 + i) for i in range(3000)]; del junk; gc.collect()
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_neighbour_search_keeps_a_point_on_an_atom():
    from ase import Atoms
    from ionmd.screen.grid import points_near_atoms

    atoms = Atoms("LiCl", positions=[[0, 0, 0], [2.5, 2.5, 2.5]], cell=np.eye(3) * 5.0, pbc=True)
    points = np.array([[0.0, 0, 0], [5.0, 5, 5], [2.5, 2.5, 2.5], [1.0, 0, 0]])
    p_idx, a_idx, _, dist = points_near_atoms(atoms, points, 1.2)
    assert sorted(zip(p_idx.tolist(), a_idx.tolist())) == [(0, 0), (1, 0), (2, 1), (3, 0)]
    assert np.allclose(sorted(dist), [0, 0, 0, 1])
