"""Cell geometry that every layer needs, in numpy only (no pymatgen import; scipy's graph
search for bonded components)."""

from __future__ import annotations

import numpy as np


def perpendicular_widths(cell) -> np.ndarray:
    """Distance between opposite faces of a cell, V / |a_j x a_k| for each axis i: how far
    an atom is from its own periodic images across that face.

    Parameters
    ----------
    cell
        Lattice vectors as rows, shape (3, 3) or a stack (..., 3, 3); a pymatgen
        ``Lattice`` or ``Structure``, an ASE ``Cell`` or ``Atoms`` too.

    Returns
    -------
    numpy.ndarray
        Shape (3,) or (..., 3).
    """
    # a Structure or Atoms stands for its cell (a Structure was "setting an array element
    # with a sequence" from numpy, through supercell_repeats(structure, "8A") too)
    cell = getattr(cell, "lattice", cell)
    if not hasattr(cell, "array"):
        cell = getattr(cell, "cell", cell)
    try:
        m = np.asarray(getattr(cell, "matrix", getattr(cell, "array", cell)), dtype=float)
    except (TypeError, ValueError):
        m = np.empty(0)
    if m.ndim < 2 or m.shape[-2:] != (3, 3):
        from ionmd.structures.errors import StructureError

        raise StructureError(f"a cell is three lattice vectors as rows (3x3), a pymatgen "
                             f"Lattice or Structure, or an ASE Cell or Atoms; got "
                             f"{type(cell).__name__}" + (f" of shape {m.shape}" if m.size else ""))
    volume = np.abs(np.linalg.det(m))[..., None]
    faces = np.cross(m[..., [1, 2, 0], :], m[..., [2, 0, 1], :])
    return volume / np.linalg.norm(faces, axis=-1)


def bonded_components(n: int, bonds: np.ndarray, images: np.ndarray):
    """Connected components of ``n`` atoms (or sites) under ``bonds`` (i, j), atom j's
    bonded image ``images`` cells from its stored one (numbered by their first atom), and
    whether each component is periodic: a walk through its bonds comes back to an atom in
    another image (a chain or network through the cell), where a molecule's comes back to
    the same image; and each atom's image that its molecule's bonds join (cells, (n, 3)
    integers; zero in a periodic component).

    scipy's graph search (a spanning tree from each component's first atom, each atom's
    image summed along its path by pointer jumping), where a walk in Python took 2 s for
    50k atoms."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order, connected_components

    i, j = bonds[:, 0].astype(np.int64), bonds[:, 1].astype(np.int64)
    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n)).tocsr()
    _, label = connected_components(graph, directed=False)
    first = np.full(label.max() + 1, n)
    np.minimum.at(first, label, np.arange(n))
    component = np.argsort(np.argsort(first))[label]        # numbered by their first atom
    # one search from a root bonded to each component's first atom
    root = n
    ri = np.concatenate([i, np.full(first.size, root)])
    rj = np.concatenate([j, first])
    tree = coo_matrix((np.ones(len(ri)), (ri, rj)), shape=(n + 1, n + 1)).tocsr()
    _, parent = breadth_first_order(tree, root, directed=False, return_predecessors=True)
    parent = parent.astype(np.int64)           # scipy's int32: keys below reach n**2
    parent[root] = root
    # the image step from each atom's parent to it, from one bond between them (either way)
    step = np.zeros((n + 1, 3), dtype=int)
    key = np.concatenate([i * (n + 1) + j, j * (n + 1) + i])
    along = np.concatenate([images, -images])
    order = np.argsort(key, kind="stable")
    child = np.flatnonzero(parent[:n] != root)
    at = np.searchsorted(key[order], parent[child] * (n + 1) + child)
    step[child] = along[order[at]]
    image, up = step.copy(), parent.copy()
    while (up[:n] != root).any():                            # pointer jumping
        image += image[up] * (up != root)[:, None]
        up = up[up]
    image = image[:n]
    broken = (image[j] - image[i] != images).any(1)
    periodic = np.zeros(first.size, dtype=bool)
    periodic[component[i[broken]]] = True
    image[periodic[component]] = 0
    return component, periodic, image
