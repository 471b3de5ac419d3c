"""Cell geometry that every layer needs, in numpy only (no pymatgen import)."""

from __future__ import annotations

import numpy as np


def perpendicular_widths(cell) -> np.ndarray:
    """Distance between opposite faces of a cell, V / |a_j x a_k| for each axis i: how far
    an atom is from its own periodic images across that face.

    Parameters
    ----------
    cell
        Lattice vectors as rows, shape (3, 3) or a stack (..., 3, 3); a pymatgen
        ``Lattice`` or an ASE ``Cell`` too.

    Returns
    -------
    numpy.ndarray
        Shape (3,) or (..., 3).
    """
    m = np.asarray(getattr(cell, "matrix", getattr(cell, "array", cell)), dtype=float)
    volume = np.abs(np.linalg.det(m))[..., None]
    faces = np.cross(m[..., [1, 2, 0], :], m[..., [2, 0, 1], :])
    return volume / np.linalg.norm(faces, axis=-1)
