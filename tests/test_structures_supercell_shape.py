"""Minimum-width supercells that are not repetitions of the cell as given: the fewest cells
whose perpendicular widths all reach the target, checked against a brute-force search over
every integer matrix with entries -2..2 (numpy, on the cell as given) and against the
analytic bound (widths w1 w2 w3 <= V, so n >= target^3 / V_cell)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from ionmd.structures import OrderOptions, load_structure, min_width_supercell
from ionmd.structures.supercell_shape import min_width_matrix

FCC = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]) / 2
BCC = np.array([[-1, 1, 1], [1, -1, 1], [1, 1, -1]]) / 2
CELLS = {
    # primitive cells as Materials Project and VASP users have them
    "fcc argyrodite a=9.86": 9.86 * FCC,
    "fcc rock salt a=5.13": 5.13 * FCC,
    "bcc garnet a=12.97": 12.97 * BCC,
    # a simple cubic 4 A lattice written with skewed vectors (a+2b, a+b+c): repeating
    # it along its own axes needs 5x3x2 = 30 cells for 8 A, a cube of 2x2x2 needs 8
    "skewed cubic": np.array([[4, 0, 0], [8, 4, 0], [4, 4, 4.0]]),
    "hexagonal Li3YCl6": Lattice.hexagonal(11.209, 6.047).matrix,
    "elongated 3x10x10": np.diag([3.0, 10.0, 10.0]),
    "monoclinic Ca2AlNbO6": Lattice.monoclinic(5.4, 5.4, 7.7, 89.97).matrix,
}


def widths(cells: np.ndarray) -> np.ndarray:
    """Perpendicular widths written out (volume over face area), not ionmd's helper."""
    a, b, c = cells[..., 0, :], cells[..., 1, :], cells[..., 2, :]
    vol = np.abs(np.einsum("...i,...i", a, np.cross(b, c)))
    return np.stack([vol / np.linalg.norm(np.cross(b, c), axis=-1),
                     vol / np.linalg.norm(np.cross(c, a), axis=-1),
                     vol / np.linalg.norm(np.cross(a, b), axis=-1)], axis=-1)


def brute_force(m: np.ndarray, target: float) -> tuple[int, float]:
    """Fewest cells, and the largest smallest width at that count, over every integer
    matrix with entries -2..2 (5^9 of them) applied to ``m``."""
    rows = np.array(list(itertools.product(range(-2, 3), repeat=3)))
    best = (10**9, 0.0)
    for first in rows:                          # 125 chunks of 15,625 matrices
        p = np.empty((len(rows) ** 2, 3, 3))
        p[:, 0] = first
        p[:, 1] = np.repeat(rows, len(rows), axis=0)
        p[:, 2] = np.tile(rows, (len(rows), 1))
        n = np.abs(np.rint(np.linalg.det(p))).astype(int)
        keep = n > 0
        p, n = p[keep], n[keep]
        w = widths(p @ m).min(axis=1)
        ok = w >= target - 1e-9
        if ok.any():
            k = n[ok].min()
            wk = w[ok][n[ok] == k].max()
            if (k, -wk) < (best[0], -best[1]):
                best = (int(k), float(wk))
    return best


@pytest.mark.parametrize("name", sorted(CELLS))
def test_fewest_cells_against_brute_force_and_bound(name):
    m, target = CELLS[name], 8.0
    p = min_width_matrix(m, target)
    n = round(abs(np.linalg.det(p)))
    w = widths(p @ m)
    assert w.min() >= target - 1e-9
    bound = math.ceil(target**3 / abs(np.linalg.det(m)) - 1e-9)
    assert n >= bound
    brute_n, brute_w = brute_force(m, target)
    assert n <= brute_n
    if n == brute_n:                                        # as compact as the best found
        assert w.min() >= 0.98 * brute_w
    assert n <= np.prod(min_width_supercell(m, target))     # never more than repeating it
    expected = {"fcc argyrodite a=9.86": 4, "skewed cubic": 8, "bcc garnet a=12.97": 1,
                "hexagonal Li3YCl6": 2, "elongated 3x10x10": 3, "monoclinic Ca2AlNbO6": 4,
                "fcc rock salt a=5.13": 20}
    if name in expected:
        assert n == expected[name]


def test_run_cell_of_a_primitive_file_is_the_compact_supercell(tmp_path):
    """A primitive rock-salt POSCAR with 5 A: the conventional cube (8 atoms, 4 cells), not
    2x2x2 primitive cells (16 atoms); marked as the run cell so it is not repeated again,
    and the same crystal (pymatgen's StructureMatcher)."""
    from pymatgen.analysis.structure_matcher import StructureMatcher

    conv = Structure(Lattice.cubic(5.13), ["Li"] * 4 + ["Cl"] * 4,
                     [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0],
                      [.5, .5, .5], [.5, 0, 0], [0, .5, 0], [0, 0, .5]])
    prim = conv.get_primitive_structure()
    path = tmp_path / "LiCl_prim.vasp"
    prim.to(filename=str(path), fmt="poscar")
    loaded = load_structure(path, OrderOptions(supercell="5A"))
    assert len(loaded.structure) == 8 and loaded.in_run_cell
    assert "4 cells (repeating it: 2x2x2, 8 cells)" in loaded.supercell
    assert StructureMatcher().fit(loaded.structure, conv)
    assert np.allclose(sorted(loaded.structure.lattice.abc), [5.13] * 3)
    # explicit repetitions stay repetitions of the file's cell
    same = load_structure(path, OrderOptions(supercell="2x2x2"))
    assert len(same.structure) == 2 and not same.in_run_cell and same.supercell is None


def _all_sublattice_widths(m: np.ndarray, n: int) -> float:
    """Largest smallest width over every supercell of ``n`` cells: each sublattice of
    index n once (its Hermite normal form), by pymatgen's LLL-reduced basis."""
    best = 0.0
    for d1 in range(1, n + 1):
        for d2 in range(1, n // d1 + 1):
            if n % (d1 * d2):
                continue
            d3 = n // (d1 * d2)
            for b, c, e in itertools.product(range(d1), range(d1), range(d2)):
                h = np.array([[d1, 0, 0], [b, d2, 0], [c, e, d3]])
                reduced = Lattice(h @ m).get_lll_reduced_lattice().matrix
                best = max(best, widths(reduced).min())
    return best


def test_ordering_that_needs_a_prime_number_of_cells_is_not_a_needle():
    """Li3YCl6 (shipped): its Y split occupancies need 23 cells. Repeating the cell gave
    1x1x23 (widths 9.7, 9.7, 139 A, 690 atoms); the ordered cell now has as many atoms,
    the file's composition x 23, and the largest smallest width any 23-cell supercell
    has (brute force over all of them)."""
    from ionmd.structures import order_structure, read_structure

    s = read_structure("Li3YCl6")
    cell = order_structure(s, "random", seed=0, min_width=8.0)
    assert cell.cells == 23
    assert cell.structure.composition == s.composition * 23
    w = widths(cell.structure.lattice.matrix)
    assert w.min() >= 0.98 * _all_sublattice_widths(s.lattice.matrix, 23)
    assert w.max() / w.min() < 1.3 and w.min() > 2 * widths(s.lattice.matrix * [[1], [1], [23]]).min()


def test_disordered_primitive_cell_is_ordered_in_its_fewest_cells():
    """The shipped argyrodite's primitive cell (pymatgen's get_primitive_structure: 19
    sites, widths 5.7 A) ordered at 8 A: the 4 cells of its conventional cube (52 atoms,
    9.85 A wide), as the conventional file gives, not 2x2x2 = 8 cells (104 atoms)."""
    from ionmd.structures import order_structure, read_structure

    conv = read_structure("Li6PS5Cl")
    prim = conv.get_primitive_structure(tolerance=0.01)
    assert len(prim) * 4 == len(conv)
    assert min_width_supercell(prim.lattice, 8.0) == (2, 2, 2)
    cell = order_structure(prim, "random", seed=0, min_width=8.0)
    assert cell.cells == 4 and len(cell.structure) == 52
    assert cell.structure.composition == order_structure(conv, "random", seed=0,
                                                         min_width=8.0).structure.composition
    assert widths(cell.structure.lattice.matrix).min() == pytest.approx(conv.lattice.a, rel=1e-6)
