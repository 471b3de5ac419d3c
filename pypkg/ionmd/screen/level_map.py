"""Level map (eq. 1 of Maevskiy et al.) and minimal percolation energy (eq. 2).

The PES of one mobile ion (energies relative to its minimum; excluded points = +inf)
is repeated to a 2x2x2 supercell of ``(2 N_i + 1)`` points per axis with the minimum at
the centre, so that its 26 replicas lie on the outer faces. The level map is the
minimax path energy from the centre,

    LM(r) = min over paths C from r0 to r of max over r' in C of E(r'),

on the grid graph; MPE is the minimum of LM over the faces of the supercell.

Why a minimum spanning tree: for edge weights w(u, v) = max(E_u, E_v) the maximum edge
along a path equals the maximum node energy along it, and a minimum spanning tree
contains a minimax (bottleneck) path between every pair of nodes. So one
``scipy.sparse.csgraph.minimum_spanning_tree`` call plus one tree traversal gives the
exact LM at every point, with no thresholds or step sizes (the reference code's wave
search raises a level in steps) and no hand-written priority queue.
"""

from __future__ import annotations

import itertools

import numpy as np

CONNECTIVITIES = ("sqrt3", "all", "faces")


def neighbour_offsets(cell: np.ndarray, shape: tuple[int, int, int],
                      connectivity: str = "sqrt3") -> np.ndarray:
    """Grid steps that join neighbouring points, one of each +/- pair, shape ``(K, 3)``.

    Parameters
    ----------
    cell
        3x3 lattice vectors of the cell the grid spans (rows, Angstrom).
    shape
        Grid points per lattice vector ``(N1, N2, N3)``.
    connectivity
        ``"sqrt3"`` (default): the 26 neighbours whose Cartesian step is no longer than
        the diagonal ``sqrt(|g1|^2 + |g2|^2 + |g3|^2)`` of the grid's steps ``g_i`` (all 26
        in an orthogonal cell; in a skewed cell the long body diagonals are dropped, as
        in the authors' code); ``"all"``: all 26; ``"faces"``: the 6 face neighbours.
    """
    if connectivity not in CONNECTIVITIES:
        raise ValueError(f"connectivity must be one of {CONNECTIVITIES}, got {connectivity!r}")
    steps = np.array([d for d in itertools.product((-1, 0, 1), repeat=3)
                      if d > (0, 0, 0)])  # lexicographically positive: one of each pair
    if connectivity == "faces":
        return steps[np.abs(steps).sum(axis=1) == 1]
    if connectivity == "all":
        return steps
    g = np.asarray(cell, dtype=float) / np.asarray(shape, dtype=float)[:, None]
    limit = np.sqrt((g ** 2).sum()) * (1 + 1e-9)
    return steps[np.linalg.norm(steps @ g, axis=1) <= limit]


def centred_supercell(pes: np.ndarray, imin: tuple[int, int, int]) -> np.ndarray:
    """Repeat a unit-cell PES to ``(2 N_i + 1)`` points per axis centred on ``imin``.

    Index ``k`` of the result is the point ``o + k - N`` of the periodic grid (``o`` =
    ``imin``), so the minimum sits at ``k = N`` and its replicas at ``k = 0, 2N``.
    """
    index = [(o + np.arange(2 * n + 1) - n) % n for o, n in zip(imin, pes.shape)]
    return pes[np.ix_(*index)]


def level_map(energies: np.ndarray, seed: tuple[int, int, int],
              offsets: np.ndarray) -> np.ndarray:
    """Minimax path energy from ``seed`` to every grid point (non-periodic grid).

    Parameters
    ----------
    energies
        3D array of node energies; ``+inf`` marks points that no path may visit.
    seed
        Index of the start point (must be finite).
    offsets
        Neighbour steps from :func:`neighbour_offsets` (one of each +/- pair).

    Returns
    -------
    numpy.ndarray
        Same shape as ``energies``; ``+inf`` where no path exists.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order, minimum_spanning_tree

    shape = energies.shape
    flat = energies.ravel()
    n = flat.size
    seed_flat = int(np.ravel_multi_index(seed, shape))
    if not np.isfinite(flat[seed_flat]):
        raise ValueError("the seed of the level map is an excluded point")
    finite = np.isfinite(flat)
    base = flat[finite].min()
    ids = np.arange(n).reshape(shape)
    rows, cols, weights = [], [], []
    for d in offsets:
        src = tuple(slice(max(0, -k), s - max(0, k)) for k, s in zip(d, shape))
        dst = tuple(slice(max(0, k), s - max(0, -k)) for k, s in zip(d, shape))
        u, v = ids[src].ravel(), ids[dst].ravel()
        ok = finite[u] & finite[v]
        u, v = u[ok], v[ok]
        rows.append(u)
        cols.append(v)
        # +1 keeps every weight > 0: csgraph reads a stored 0 as "no edge"; a constant
        # shift leaves the spanning tree unchanged (every tree has n-1 edges)
        weights.append(np.maximum(flat[u], flat[v]) - base + 1.0)
    graph = coo_matrix((np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(n, n)).tocsr()
    tree = minimum_spanning_tree(graph)
    _, pred = breadth_first_order(tree, seed_flat, directed=False, return_predecessors=True)

    # LM(v) = max of E over the tree path seed -> v, by pointer doubling: val[v] holds the
    # max over (anc[v], v]; each pass doubles the covered path (log2(depth) passes).
    reached = pred >= 0
    reached[seed_flat] = True
    anc = np.where(reached, pred, np.arange(n))
    anc[seed_flat] = seed_flat
    val = np.where(reached, flat, np.inf)
    val[seed_flat] = flat[seed_flat]
    while True:
        moving = anc != anc[anc]
        if not moving.any():
            break
        val = np.where(reached, np.maximum(val, val[anc]), np.inf)
        anc = anc[anc]
    lm = np.where(reached, np.maximum(val, val[anc]), np.inf)
    return lm.reshape(shape)


def faces_minimum(lm: np.ndarray) -> float:
    """Minimum of a supercell array over its six outer faces (eq. 2: the MPE)."""
    return float(min(lm[0].min(), lm[-1].min(), lm[:, 0].min(), lm[:, -1].min(),
                     lm[:, :, 0].min(), lm[:, :, -1].min()))
