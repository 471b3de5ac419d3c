"""The counts that prove no arrangement of a supercell keeps ``order_structure``'s
``min_distance`` rule (split positions filled twice, pairs below the physical floor,
a linear-programming bound where clusters are too large to count); the rule itself is
``ordering_limits``' ``_PairLimits``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pymatgen.core import Structure

from ionmd.structures.geometry import bonded_components
from ionmd.structures.ordering_cells import VACANCY, _site_names

if TYPE_CHECKING:
    from ionmd.structures.ordering_limits import _PairLimits


def _forced_overlaps(big: Structure, groups, counts, limits: _PairLimits,
                     close: np.ndarray | None = None, apart: str = "no two overlapping"):
    """Whether the occupancies fill split positions (``limits.overlapping`` pairs of
    partially occupied sites) twice in every arrangement, by counting: sites joined by such
    pairs form small clusters, each holding at most as many atoms as its largest set of
    sites no two of which are that close; the groups of sites the clusters join need more
    atoms than their clusters hold. (pair, why) with a closest such pair, ``why`` the count
    where it proves that no arrangement exists, else None; None where no such pair is."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(limits.partial)
    if limits.distances is None:
        return None
    close = limits.overlapping() if close is None else close
    rows, cols = np.nonzero(close)
    if not len(rows):
        return None
    _, cluster = connected_components(coo_matrix((np.ones(len(rows)), (rows, cols)),
                                                 shape=(n, n)), directed=False)
    position = {i: k for k, i in enumerate(limits.partial)}
    group_of = np.empty(n, dtype=int)
    keys = list(groups)
    for g, key in enumerate(keys):
        group_of[[position[i] for i in groups[key][1]]] = g
    # groups joined by a cluster count together (argyrodite's 48h and 24g)
    _, joined = connected_components(coo_matrix(
        (np.ones(n), (group_of, cluster)), shape=(len(keys), n)).tocsr() @ coo_matrix(
        (np.ones(n), (cluster, group_of)), shape=(n, len(keys))).tocsr(), directed=False)

    def closest(sites: np.ndarray) -> tuple[int, int, float]:
        inside = np.isin(rows, sites)
        k = np.flatnonzero(inside)[int(np.argmin(limits.distances[rows[inside], cols[inside]]))]
        return (limits.partial[rows[k]], limits.partial[cols[k]],
                float(limits.distances[rows[k], cols[k]]))

    for part in np.unique(joined):
        members = np.flatnonzero(joined[group_of] == part)
        clusters = np.unique(cluster[members])
        sizes = [_largest_apart(np.flatnonzero(cluster == c), close) for c in clusters]
        if None in sizes:
            continue
        holds = sum(sizes)
        atoms = sum(count for g in np.flatnonzero(joined == part)
                    for sp, count in counts[keys[g]].items() if sp not in ("sites", VACANCY))
        if atoms > holds:
            names = _site_names(big, [limits.partial[m] for m in members])
            return closest(members), (
                f"no arrangement exists: the cell's {len(members)} {names} sites must hold "
                f"{atoms} atoms, but at most {holds} fit on them with {apart}")
    return closest(np.arange(n)), None


def _forced_close_pairs(big: Structure, groups, counts, limits: _PairLimits,
                        rule: _PairLimits) -> str | None:
    """The count that proves that every arrangement fills pairs of sites closer than
    ``rule`` for any species they may hold (``_forced_overlaps``: LGPS's 11 Li on 8 pairs
    of Li1 sites 1.73 A apart), else None (clusters of such sites too large to count: a
    cubic garnet's Li network)."""
    close = rule.closer_than_rule(big)
    if not close.any():
        return None
    found = _forced_overlaps(big, groups, counts, limits, close,
                             apart="no two that close")
    if found is not None and found[1] is not None:
        return found[1].removeprefix("no arrangement exists: ")
    return _fractional_bound(groups, counts, limits, close)


def _fractional_bound(groups, counts, limits: _PairLimits, close: np.ndarray) -> str | None:
    """Where no arrangement even of fractional atoms (x in [0, 1] per site, each group's
    atoms in all, x_i + x_j <= 1 for each ``close`` pair) exists, a linear-programming
    proof that every whole one fills such a pair, in words; else None. It reaches where
    ``_forced_overlaps``' clusters are too large to count: a cubic garnet's Li 24d x 0.564
    and 96h x 0.442 sites 1.6 A apart need 1.006 atoms per such pair, while 0.5417 and
    0.4479 (0.99) prove nothing, and a pair-free arrangement exists."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    position = {i: k for k, i in enumerate(limits.partial)}
    rows, cols = np.nonzero(np.triu(close, 1))
    if not len(rows):
        return None
    used = np.unique(np.concatenate([rows, cols]))
    keys = [key for key, (_, idx) in groups.items()
            if np.isin([position[i] for i in idx], used).any()]
    sites = np.array(sorted({position[i] for key in keys for i in groups[key][1]}))
    column = {k: c for c, k in enumerate(sites)}
    n_pairs = len(rows)
    pair_rows = np.repeat(np.arange(n_pairs), 2)
    pair_cols = [column[k] for pair in zip(rows, cols) for k in pair]
    a_ub = coo_matrix((np.ones(2 * n_pairs), (pair_rows, pair_cols)), shape=(n_pairs, len(sites)))
    eq_rows = [g for g, key in enumerate(keys) for _ in groups[key][1]]
    eq_cols = [column[position[i]] for key in keys for i in groups[key][1]]
    a_eq = coo_matrix((np.ones(len(eq_cols)), (eq_rows, eq_cols)), shape=(len(keys), len(sites)))
    atoms = [sum(n for sp, n in counts[key].items() if sp not in ("sites", VACANCY))
             for key in keys]
    result = linprog(np.zeros(len(sites)), A_ub=a_ub.tocsr(), b_ub=np.ones(n_pairs),
                     A_eq=a_eq.tocsr(), b_eq=atoms, bounds=(0, 1), method="highs")
    if result.status != 2:      # 2: infeasible; anything else proves nothing
        return None
    held = ", ".join(f"{n} atoms on {counts[key]['sites']} sites {key}"
                     for key, n in zip(keys, atoms))
    return (f"{held}: no arrangement, not even one of fractional atoms, keeps at most one "
            "atom on each pair of sites that close")


def _unphysical_proof(big: Structure, groups, counts, limits: _PairLimits):
    """(pair, why, any_supercell) where the count of ``_forced_overlaps`` under the physical
    floor (``limits.unphysical``) proves that no physical arrangement exists, else None;
    ``any_supercell``: no cluster of such sites reaches its own image (``_wraps``), so a
    larger supercell repeats the same clusters and the same count."""
    close = limits.unphysical(big)
    if not close.any():
        return None
    found = _forced_overlaps(big, groups, counts, limits, close,
                             apart="no two closer than their physical floor")
    if found is None or found[1] is None:
        return None
    return (*found, not _wraps(big, limits, close))


def _counts(big: Structure, groups, counts, limits: _PairLimits):
    """The counts that can prove no arrangement exists: the split positions filled twice
    (``_forced_overlaps``), and, where those prove nothing, the pairs below the physical
    floor (``_unphysical_proof``: pairs closer than any ordered crystal has, none to
    advise)."""
    forced = _forced_overlaps(big, groups, counts, limits)
    return forced, None if _proven(forced) else _unphysical_proof(big, groups, counts, limits)


def _proven(forced) -> bool:
    """Whether ``_forced_overlaps`` proved that no arrangement exists (no distance helps)."""
    return forced is not None and forced[1] is not None


def _wraps(big: Structure, limits: _PairLimits, close: np.ndarray) -> bool:
    """Whether a cluster of ``close`` sites reaches its own periodic image (a chain through
    the cell, a ring of three sites along a 4 A axis): there a larger supercell makes other
    clusters, and the count of this one need not hold. Each pair joins its sites along
    their shortest vector; a cluster whose pairs do not agree on where a site is is
    periodic (:func:`ionmd.structures.geometry.bonded_components`)."""
    frac = big.frac_coords[limits.partial]
    rows, cols = np.nonzero(close)
    images = -np.round(frac[cols] - frac[rows]).astype(int)   # site j's image beside i
    _, periodic, _ = bonded_components(len(frac), np.column_stack([rows, cols]), images)
    return bool(periodic.any())


def _largest_apart(sites: np.ndarray, close: np.ndarray) -> int | None:
    """The most of ``sites`` (one cluster) that can hold atoms with no two ``close``: the
    largest independent set, by enumeration (clusters of split positions are 2-4 sites);
    None for a cluster too large to enumerate."""
    if len(sites) > 10:
        return None
    sub = close[np.ix_(sites, sites)]
    best = 1
    for mask in range(1, 1 << len(sites)):
        chosen = [a for a in range(len(sites)) if mask >> a & 1]
        if len(chosen) > best and not sub[np.ix_(chosen, chosen)].any():
            best = len(chosen)
    return best
