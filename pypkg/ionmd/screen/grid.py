"""The PES grid of the frozen-framework scan (Maevskiy et al., sec. II A).

A grid spans the unit cell along the lattice vectors: point ``(n1, n2, n3)`` sits at
fractional coordinates ``n_i / N_i`` with ``N_i`` the smallest integer such that
``|l_i| / N_i <= spacing``. For each mobile ion the framework is every other atom (other
ions of the mobile species included, frozen); grid points closer than ``rmin`` to any
framework atom (periodic images included) are excluded from the scan.
"""

from __future__ import annotations

import math

import numpy as np
from ase import Atoms

from ionmd.errors import IonmdError

# pymatgen's default numerical tolerance of find_points_in_spheres (see points_near_atoms)
NEIGHBOUR_SEARCH_TOL = 1e-8


def grid_shape(cell: np.ndarray, spacing: float) -> tuple[int, int, int]:
    """Smallest ``N_i`` with ``|l_i| / N_i <= spacing`` for each lattice vector ``l_i``.

    Parameters
    ----------
    cell
        3x3 lattice vectors as rows (Angstrom).
    spacing
        Largest allowed grid step (Angstrom).
    """
    if not spacing > 0:
        raise IonmdError(f"grid spacing must be positive, got {spacing}")
    lengths = np.linalg.norm(np.asarray(cell, dtype=float), axis=1)
    # the tolerance keeps an exact multiple (5.0 A / 0.25 A) at 20, not 21
    return tuple(max(1, math.ceil(length / spacing - 1e-9)) for length in lengths)


def fractional_points(shape: tuple[int, int, int]) -> np.ndarray:
    """Fractional coordinates ``n_i / N_i`` of all grid points, C order, shape ``(P, 3)``."""
    axes = [np.arange(n) / n for n in shape]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)


def cartesian_points(cell: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Cartesian positions (Angstrom) of all grid points, C order, shape ``(P, 3)``."""
    return fractional_points(shape) @ np.asarray(cell, dtype=float)


def points_near_atoms(atoms: Atoms, points: np.ndarray, radius: float):
    """All (point, atom) pairs closer than ``radius``, periodic images included.

    Uses pymatgen's compiled periodic neighbour search (``find_points_in_spheres``),
    which handles triclinic cells and returns the image offsets.

    Returns
    -------
    (point_index, atom_index, offsets, distances)
        ``offsets`` are integer lattice translations of the atom image.
    """
    from pymatgen.optimization.neighbors import find_points_in_spheres

    if len(atoms) == 0 or len(points) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros((0, 3)), np.zeros(0)
    cell = np.ascontiguousarray(atoms.cell.array, dtype=float)
    pbc = np.array(atoms.pbc, dtype=np.int64)
    # tol must stay > 0: tol=0 makes pymatgen write past its buffers in large sparse cells
    # (LiH in a 40 A box: heap corruption, segfault). A point on an atom (distance 0) is
    # still found with this tol (tests/test_screen_grid.py checks both).
    p_idx, a_idx, offsets, dist = find_points_in_spheres(
        np.ascontiguousarray(atoms.positions, dtype=float),
        np.ascontiguousarray(points, dtype=float), float(radius), pbc, cell,
        tol=NEIGHBOUR_SEARCH_TOL)
    keep = dist < radius  # the search is inclusive; the seed's criterion is strict
    return p_idx[keep], a_idx[keep], offsets[keep], dist[keep]


def allowed_masks(atoms: Atoms, mobile_indices, shape: tuple[int, int, int],
                  rmin: float) -> np.ndarray:
    """Grid points at least ``rmin`` from every framework atom, one mask per mobile ion.

    The framework of mobile ion ``m`` is every atom but ``m`` (and ``m``'s periodic
    images), so a point next to ``m``'s own site stays allowed.

    Returns
    -------
    numpy.ndarray
        Boolean array ``(len(mobile_indices), N1, N2, N3)``; True = the point is scanned.
    """
    mobile_indices = [int(m) for m in mobile_indices]
    points = cartesian_points(atoms.cell.array, shape)
    p_idx, a_idx, _, _ = points_near_atoms(atoms, points, rmin)
    n_points = len(points)
    total = np.bincount(p_idx, minlength=n_points)
    masks = np.empty((len(mobile_indices), n_points), dtype=bool)
    for k, m in enumerate(mobile_indices):
        own = np.bincount(p_idx[a_idx == m], minlength=n_points)
        masks[k] = (total - own) == 0
    return masks.reshape((len(mobile_indices),) + tuple(shape))
