"""Positions in the orientation MDAnalysis's box dimensions mean, on a reduced cell.

MDAnalysis describes a periodic cell by its lengths and angles (``[a, b, c, alpha, beta,
gamma]``) and places it canonically: ``a`` along x, ``b`` in the xy plane (LAMMPS's
orientation). Positions given with those dimensions must be in that orientation. LAMMPS
boxes always are; a cell read through ASE (an XDATCAR from a Materials Project structure,
``ase.build.bulk``'s primitive vectors, an extended XYZ ``Lattice``) need not be, and its
minimum-image distances came out wrong: a healthy rock-salt crystal on primitive vectors
had two atoms at 0.36 x the sum of their covalent radii and a Cl-Cl nearest-neighbour
distance of 2.46 A instead of 3.63 A. Distances are kept by turning the positions with the
cell into the canonical orientation (a rotation, or a rotation and a reflection for a
left-handed cell); direction-resolved quantities (MSD along x) stay in the input's frame.
"""

from __future__ import annotations

import numpy as np


def canonical_rotation(box: np.ndarray) -> np.ndarray:
    """The orthogonal matrix ``Q`` with ``box @ Q`` the canonical cell of the same lengths
    and angles (rows are cell vectors); positions turn as ``positions @ Q``."""
    # box.T = Q R (QR decomposition): box @ Q = R.T is lower triangular, i.e. canonical; the
    # signs make its diagonal positive (MDAnalysis's and LAMMPS's cells are right-handed),
    # in float64 (MDAnalysis's triclinic_vectors works in float32)
    q, r = np.linalg.qr(np.asarray(box, dtype=np.float64).T)
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


def canonical_frame(positions: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``positions`` (N, 3) of one frame turned into the canonical orientation of ``box``
    (3, 3) reduced, and that cell's MDAnalysis dimensions: what MDAnalysis's distance
    functions take."""
    from ase.geometry import minkowski_reduce
    from MDAnalysis.lib.mdamath import triclinic_box

    # MDAnalysis's minimum image holds for reduced cells only: the same lattice on skewed
    # vectors (b + 2a) gave distances up to 0.8 A off; the reduced cell spans the same
    # lattice, so the (Cartesian) positions stand as they are
    box = minkowski_reduce(np.asarray(box, dtype=np.float64))[0]
    q = canonical_rotation(box)
    return np.asarray(positions, dtype=np.float64) @ q, triclinic_box(*box)


def canonical_trajectory(positions: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every frame of ``positions`` (T, N, 3) turned with its own box ``boxes`` (T, 3, 3);
    returns the positions and the dimensions (T, 6)."""
    turned = np.empty(np.shape(positions), dtype=np.float64)
    dims = np.empty((len(boxes), 6), dtype=np.float64)
    for t, (pos, box) in enumerate(zip(positions, boxes)):
        turned[t], dims[t] = canonical_frame(pos, box)
    return turned, dims
