"""Supercells beyond repetitions of the cell as given: the fewest cells whose perpendicular
widths all reach a target, where the cell is skewed (a needle such as 17x1x1 of a cell
whose vectors are not the lattice's shortest) or primitive (a face-centred cell's
conventional cube holds 4 primitive cells and is wider than 2x2x2 = 8 of them)."""

from __future__ import annotations

import itertools
import math

import numpy as np

from ionmd.structures.geometry import perpendicular_widths

_ROWS = np.array(list(itertools.product(range(-2, 3), repeat=3)), dtype=int)
"""Rows of the matrices searched on the reduced cell: every integer matrix with entries
-2..2 (5^9, in chunks of one first row), and each with entries -1..1 scaled by 3, 4, ...
(conventional cells of centred lattices and their rotations, repeated)."""
_UNIT = np.array([p for p in itertools.product(*[_ROWS[np.abs(_ROWS).max(axis=1) <= 1]] * 3)])
_UNIT = _UNIT[np.abs(np.rint(np.linalg.det(_UNIT))) > 0.5]


PLAIN_WIDTH_SHARE = 0.98
"""The repetition of the cell as given is kept when it needs no more cells and its smallest
width is within 2 % of the best found: a file's own axes are easier to read in the output."""


def reduced_basis(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The LLL-reduced lattice vectors (pymatgen) of ``matrix`` and the integer matrix U
    with ``reduced = U @ matrix``."""
    from pymatgen.core import Lattice

    reduced = Lattice(matrix).get_lll_reduced_lattice().matrix
    u = np.rint(reduced @ np.linalg.inv(matrix)).astype(int)
    return u @ matrix, u


def min_width_matrix(matrix, min_width: float) -> np.ndarray:
    """Integer matrix P (supercell vectors = ``P @ matrix``, rows) of the supercell with the
    fewest cells whose perpendicular widths all reach ``min_width``; among those, the one
    whose smallest width is largest (closest to a cube); the plain repetition of the cell
    as given where that is as good (``PLAIN_WIDTH_SHARE``).

    Searched: the diagonal repetitions of the cell as given and of its LLL-reduced cell,
    every integer matrix with entries -2..2 on the reduced cell, and k x M for every M
    with entries -1..1, k = 3, 4, ... up to the reduced cell's diagonal repetition (about
    a second).
    """
    m = np.asarray(getattr(matrix, "matrix", matrix), dtype=float)
    reduced, u = reduced_basis(m)

    def diagonal(cell):
        w = perpendicular_widths(cell)
        return np.diag([max(1, math.ceil(min_width / x - 1e-9)) for x in w])

    plain = diagonal(m)
    fewest_possible = math.ceil(min_width**3 / abs(np.linalg.det(m)) - 1e-9)
    if round(abs(np.linalg.det(plain))) <= fewest_possible:     # w1 w2 w3 <= V: no fewer
        return plain
    candidates = [plain, diagonal(reduced) @ u]
    most = round(min(abs(np.linalg.det(c)) for c in candidates))
    n_rows = len(_ROWS)
    for first in _ROWS:
        p = np.empty((n_rows * n_rows, 3, 3), dtype=int)
        p[:, 0] = first
        p[:, 1] = np.repeat(_ROWS, n_rows, axis=0)
        p[:, 2] = np.tile(_ROWS, (n_rows, 1))
        found = _best_of(p, reduced, min_width, most, fewest_possible)
        if len(found):
            most = round(abs(np.linalg.det(found[0])))
            candidates.extend(found @ u)
    for k in range(3, int(diagonal(reduced).max()) + 1):
        found = _best_of(k * _UNIT, reduced, min_width, most, fewest_possible)
        if len(found):
            most = round(abs(np.linalg.det(found[0])))
            candidates.extend(found @ u)
    stack = np.array(candidates)
    n_cells = np.abs(np.rint(np.linalg.det(stack.astype(float)))).astype(int)
    widths = perpendicular_widths(stack @ m).min(axis=1)
    fewest = n_cells.min()
    best_width = widths[n_cells == fewest].max()
    if n_cells[0] == fewest and widths[0] >= PLAIN_WIDTH_SHARE * best_width:
        return plain
    k = int(np.flatnonzero((n_cells == fewest) & (widths >= best_width - 1e-9))[0])
    # the same supercell by its shortest vectors: small tilts for LAMMPS
    _, u_big = reduced_basis(stack[k] @ m)
    tidy = u_big @ stack[k]
    return tidy if perpendicular_widths(tidy @ m).min() >= widths[k] - 1e-9 else stack[k]


MAX_SUBLATTICES = 20000
"""``widest_matrix`` tries every supercell of the given number of cells (Hermite normal
forms, about n^2 of them: 553 for 23 cells, 0.1 s) up to this many; beyond, the
repetition stands."""


def widest_matrix(matrix, cells: int, min_width: float = 0.0) -> np.ndarray | None:
    """The integer matrix of exactly ``cells`` cells on ``matrix`` (rows) whose smallest
    perpendicular width is largest (within ``PLAIN_WIDTH_SHARE``: then the one whose
    largest width is smallest), each supercell taken by its LLL-reduced vectors. Every
    supercell of that many cells is tried (each sublattice of index n has one Hermite
    normal form). None where none reaches ``min_width`` or there are more than
    ``MAX_SUBLATTICES``. For occupancies that need a prime number of cells (17 for
    Ca2AlNbO6's Al/Nb 0.941/0.059, 23 for Li3YCl6's Y split): a compact cell instead of a
    17x1x1 or 1x1x23 needle."""
    m = np.asarray(getattr(matrix, "matrix", matrix), dtype=float)
    forms = _hermite_normal_forms(cells)
    if forms is None:
        return None
    tidy = np.array([reduced_basis(h @ m)[1] @ h for h in forms])
    widths = np.sort(perpendicular_widths(tidy @ m), axis=1)
    ok = widths[:, 0] >= PLAIN_WIDTH_SHARE * widths[:, 0].max()
    ok &= widths[:, 0] >= min_width - 1e-9
    if not ok.any():
        return None
    k = np.flatnonzero(ok)[int(np.argmin(widths[ok, 2]))]
    return tidy[k]


def _hermite_normal_forms(n: int) -> np.ndarray | None:
    """Every lower-triangular Hermite normal form of determinant ``n`` (rows: supercell
    vectors in cell vectors; diagonal d1 d2 d3 = n, entries below it in column j in
    0..d_j - 1), None when there are more than ``MAX_SUBLATTICES``."""
    splits = [(d1, d2, n // (d1 * d2)) for d1 in range(1, n + 1) if n % d1 == 0
              for d2 in range(1, n // d1 + 1) if (n // d1) % d2 == 0]
    if sum(d1 * d1 * d2 for d1, d2, _ in splits) > MAX_SUBLATTICES:
        return None
    return np.array([[[d1, 0, 0], [b, d2, 0], [c, e, d3]] for d1, d2, d3 in splits
                     for b in range(d1) for c in range(d1) for e in range(d2)], dtype=int)


def _best_of(p: np.ndarray, cell: np.ndarray, min_width: float, most: int,
             least: int) -> np.ndarray:
    """Those of the matrices ``p`` (on ``cell``) of ``least`` to ``most`` cells that reach
    ``min_width`` with the fewest cells (none: an empty stack)."""
    n = np.abs(np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])))
    small = (n >= least) & (n <= most)
    p, n = p[small], n[small]
    ok = perpendicular_widths(p @ cell).min(axis=1) >= min_width - 1e-9
    if not ok.any():
        return p[:0]
    return p[ok & (n == n[ok].min())]
