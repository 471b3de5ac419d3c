"""Symmetry reduction of the scan: evaluate each symmetry-distinct (mobile ion, grid
point) pair once and unfold.

A space-group operation g (x -> R x + t in fractional coordinates) that maps the
structure onto itself maps mobile ion m to an ion m' and the framework of m onto the
framework of m', so E_m'(g r) = E_m(r). Operations that also map the grid onto itself
link grid pairs (m, p) -> (m', g p); the connected components of these links
(``scipy.sparse.csgraph.connected_components``) are the orbits, and one model
evaluation per orbit gives every energy. Operations come from pymatgen's
``SpacegroupAnalyzer`` (spglib). Equivalent ions share one evaluation this way, and so
do the points related by the site symmetry of each ion.

Only proper operations (rotations, det R = +1, with their translations) are used:
a model need not be invariant under mirrors and inversion. SevenNet-0 is not
(``is_parity: False``): two mirror-image configurations of LiCl differ by 4e-5 eV in
SevenNet's own calculator, which would make an improper-operation shortcut inexact.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from ionmd.screen.grid import fractional_points


def grid_operations(atoms: Atoms, shape: tuple[int, int, int], symprec: float = 1e-5):
    """Proper space-group operations that map the structure and the grid onto themselves.

    ``symprec`` (Angstrom) is tight on purpose: an operation that holds only
    approximately would make the shortcut approximate. Standardised cells
    (``--cell primitive|conventional``) are symmetrised, so they keep all operations.

    Returns
    -------
    list of (grid_perm, atom_perm)
        ``grid_perm[p]`` is the flat grid index of ``g(p)``; ``atom_perm[i]`` the atom
        that ``g`` maps atom ``i`` onto.
    """
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    sga = SpacegroupAnalyzer(AseAtomsAdaptor.get_structure(atoms), symprec=symprec)
    n = np.asarray(shape)
    frac = fractional_points(shape)
    pos = atoms.get_scaled_positions(wrap=True)
    numbers = atoms.numbers
    cell = atoms.cell.array
    out = []
    for op in sga.get_symmetry_operations(cartesian=False):
        r, t = op.rotation_matrix, op.translation_vector
        if np.linalg.det(r) < 0:
            continue                                   # improper: see the module docstring
        g = (frac @ r.T + t) * n
        gi = np.rint(g)
        if np.abs(g - gi).max() > 1e-6:
            continue                                   # this operation leaves the grid
        grid_perm = np.ravel_multi_index(tuple((gi.astype(np.int64) % n).T), shape)
        moved = pos @ r.T + t
        diff = moved[:, None, :] - pos[None, :, :]
        diff -= np.rint(diff)
        dist = np.linalg.norm(diff @ cell, axis=-1)
        dist[numbers[:, None] != numbers[None, :]] = np.inf
        atom_perm = dist.argmin(axis=1)
        if dist[np.arange(len(pos)), atom_perm].max() > symprec * 10:
            continue
        out.append((grid_perm, atom_perm))
    return out


def orbits(ops, mobile: list[int], masks: np.ndarray):
    """Orbit label of every (ion, grid point) pair and one representative per orbit.

    Parameters
    ----------
    ops
        From :func:`grid_operations`.
    mobile
        Atom indices of the mobile ions (order of ``masks``).
    masks
        ``(n_mobile, N1, N2, N3)`` scanned points.

    Returns
    -------
    (labels, representatives)
        ``labels`` ``(n_mobile, P)``: orbit of each pair (``-1`` for excluded points);
        ``representatives``: ``(n_orbits, 2)`` array of (ion position in ``mobile``, flat
        grid index) to evaluate, orbit ``j`` in row ``j``.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n_ion = len(mobile)
    flat = masks.reshape(n_ion, -1)
    n_pts = flat.shape[1]
    where = {m: k for k, m in enumerate(mobile)}
    src, dst = [], []
    for grid_perm, atom_perm in ops:
        for k, m in enumerate(mobile):
            k2 = where.get(int(atom_perm[m]))
            if k2 is None:
                continue
            p = np.nonzero(flat[k])[0]
            q = grid_perm[p]
            ok = flat[k2, q]                        # both ends scanned (always, if exact)
            src.append(k * n_pts + p[ok])
            dst.append(k2 * n_pts + q[ok])
    n_nodes = n_ion * n_pts
    if src:
        s, d = np.concatenate(src), np.concatenate(dst)
    else:
        s = d = np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(s), dtype=np.int8), (s, d)), shape=(n_nodes, n_nodes))
    _, comp = connected_components(graph, directed=False)
    comp = comp.reshape(n_ion, n_pts)
    scanned = np.nonzero(flat.ravel())[0]
    _, first, inverse = np.unique(comp.ravel()[scanned], return_index=True,
                                     return_inverse=True)
    labels = np.full(n_nodes, -1, dtype=np.int64)
    labels[scanned] = inverse
    reps = scanned[first]
    return labels.reshape(n_ion, n_pts), np.stack([reps // n_pts, reps % n_pts], axis=1)
