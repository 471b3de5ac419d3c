"""``method="random"``: a seeded draw of each group's species over its sites, and where it
breaks the pair rule a seeded min-conflicts search that moves clashing atoms to empty sites
of their group (or, in a group without any, swaps them with atoms of another species); where that fails, a smaller cell the cell repeats (with counts that divide
its own) searched the same way and repeated."""

from __future__ import annotations

import copy
import itertools

import numpy as np
from pymatgen.core import Lattice, Structure

from ionmd.structures.ordering_cells import VACANCY, _groups, _site_counts
from ionmd.structures.errors import StructureError
from ionmd.structures.ordering_clashes import _Clashes
from ionmd.structures.ordering_limits import _PairLimits
from ionmd.structures.ordering_proofs import _counts, _forced_close_pairs, _proven

RANDOM_RESTARTS = 5
RESOLVE_MOVES_PER_SITE = 50
RESOLVE_CANDIDATES = 64
"""``method="random"`` with ``min_distance``: seeded draws, atom moves per partially occupied
site in each, and empty sites tried per move, before the rule is reported unreachable. (16
empty sites per move, of a 2x2x2 cubic garnet's 424 empty 96h ones, left 18-23 Li-Li pairs
1.60 A apart where none need be; 64 find none in 0.4-2.8 s.)"""
LEGACY_CANDIDATES = 16
"""Empty sites tried per move by the first search, as ionmd searched before 97b4324: with
the same draws from the seed, an arrangement it finds is the one earlier versions drew, bit
for bit (a campaign's ``structure_hash`` stays); only where it fails does the search go on
with ``RESOLVE_CANDIDATES`` and then the smaller-cell fallback."""
TILE_FACTORS = (2, 3, 4)
"""Where the search finds no arrangement keeping the rule, a smaller cell (the ordered one
divided by these along its axes) whose counts divide the cell's is ordered and repeated."""
TILE_CELLS_TRIED = 3
"""Smaller cells (the most divided first) searched before the fallback gives up."""
TILE_SHUFFLE_MOVES_PER_SITE = 5
"""Moves per partially occupied site, each to an empty site of the atom's group where it
keeps the rule, that take a repeated arrangement's periodicity away."""
STALL_MOVES_PER_SITE = 5
"""The search for the fewest forced close pairs stops after this many moves per partially
occupied site without finding fewer."""


def _order_random(big: Structure, groups, counts, seed: int,
                  limits: _PairLimits) -> tuple[Structure, list]:
    """The seeded random arrangement (see ``order_structure``): the ordered cell and the
    species drawn per site (``VACANCY`` for empty ones). Where the search finds none, the
    error names the distance an arrangement needs, checked by running this search with
    it (``_workable_distance``), or says that none can work."""
    counted = limits.min_distance is None
    if counted:
        # a count that proves no (physical) arrangement exists is cheaper than the search
        # that fails to find one (OBELiX e81's 10-cell pyrochlore: 15 s; fj5: 21 s)
        forced, unphysical = _counts(big, groups, counts, limits)
        if unphysical is not None or _proven(forced):
            raise limits.error(big, "random", "counted before any search", None, None,
                               forced, unphysical)
    draw, hit = _search(big, groups, counts, seed, limits)
    if draw is None:
        tried = (f"{2 * RANDOM_RESTARTS} seeded draws, each followed by up to "
                 f"{RESOLVE_MOVES_PER_SITE} moves per site")
        if not counted:             # else counted above, and neither proved anything
            forced, unphysical = _counts(big, groups, counts, limits)
        workable = (None if _proven(forced) or unphysical
                    else _workable_distance(big, groups, counts, seed, limits))
        raise limits.error(big, "random", tried, hit, workable, forced, unphysical)
    return _ordered(big, draw), draw


def _ordered(big: Structure, draw: list) -> Structure:
    keep = [i for i, sp in enumerate(draw) if sp != VACANCY]
    return Structure(big.lattice, [draw[i] for i in keep], big.frac_coords[keep],
                     labels=[big[i].label for i in keep])


def _workable_distance(big: Structure, groups, counts, seed: int, limits: _PairLimits):
    """The largest ``min_distance`` (of ``limits.candidates``: the pair distances the rule
    forbids, rounded down, none below the overlap check's) with which this seeded search
    orders the cell, and the closest pair of that arrangement; None where even the
    smallest fails (and the arrangement, to check its pairs against the physical floor).
    Found by bisection (a smaller distance forbids fewer pairs); each value
    tried is the search a user runs with it, so the one returned is checked, and its cell
    passes the overlap check."""
    from ionmd.structures.checks import check_overlaps

    values = limits.candidates()

    def arrangement(k: int) -> list | None:
        rule = limits.with_distance(float(values[k]))
        draw, _ = _search(big, groups, counts, seed, rule)
        if draw is not None:
            try:
                check_overlaps(_ordered(big, draw), "the ordered cell")
            except StructureError:
                return None
        return draw

    if not len(values) or (found := arrangement(0)) is None:
        return None
    low, high = 0, len(values)          # values[low] works, values[high] fails (or is none)
    while high - low > 1:
        mid = (low + high) // 2
        draw = arrangement(mid)
        if draw is None:
            high = mid
        else:
            low, found = mid, draw
    return float(values[low]), limits.closest_pair(found), found


def _search(big: Structure, groups, counts, seed: int, limits: _PairLimits):
    """(draw, None) for the seeded arrangement that keeps ``limits`` (or, where the
    occupancies force closer pairs, its ionic floor with the fewest pairs below the rule);
    (None, the first pair the plain draw broke the rule with) where none was found."""
    rng = np.random.default_rng(seed)
    species: list[str | None] = [None] * len(big)
    for i, site in enumerate(big):
        if site.is_ordered:
            species[i] = str(next(iter(site.species)))
    pools = {key: [sp for sp in fractions for _ in range(counts[key][sp])]
             for key, (fractions, idx) in groups.items()}

    def plain_draw() -> list:
        draw = list(species)
        for key, (fractions, idx) in groups.items():
            for i, sp in zip(idx, rng.permutation(np.array(pools[key], dtype=object))):
                draw[i] = sp
        return draw

    members = {key: idx for key, (_, idx) in groups.items()}
    draw = plain_draw()
    hit = limits.first_clash(draw)
    if hit is None:
        return _fewest_below_default(rng, draw, members, limits, LEGACY_CANDIDATES), None
    # the plain draw breaks the rule: move atoms until none clash, first as earlier
    # versions did (their arrangement, where they found one), then trying more sites, then
    # (only where earlier versions found none) swapping atoms of fully occupied mixed sites
    passes = [(LEGACY_CANDIDATES, False), (RESOLVE_CANDIDATES, False)]
    if _has_full_mixed_group(groups, counts):
        passes.append((RESOLVE_CANDIDATES, True))
    for candidates, swaps in passes:
        if candidates == RESOLVE_CANDIDATES and not swaps:
            legacy_end = copy.deepcopy(rng.bit_generator.state)
            if _forced_close_pairs(big, groups, counts, limits, limits) is not None:
                # a count proves that every arrangement breaks the rule: the wider searches
                # cannot succeed, and the one below starts from this state whatever they
                # draw (Ga-LLZO's and LLZTO's garnet cells spent 60-100 s in them)
                break
        for attempt in range(RANDOM_RESTARTS):
            state = _Clashes(draw, members, limits)
            if _min_conflicts(rng, state, candidates=candidates, swaps=swaps) == 0:
                return _fewest_below_default(rng, state.draw_out(), members, limits,
                                             candidates), None
            if attempt == 0 and candidates == RESOLVE_CANDIDATES and not swaps:
                # where the cell repeats a smaller one the counts divide, that one's
                # arrangement repeated keeps the rule too (a 2x2x2 cubic garnet's 960 Li
                # sites: min-conflicts left 18-23 pairs 1.60 A apart; the 1x1x1 cell's,
                # repeated, none)
                tiled = _tiled_draw(rng, big, groups, counts, species, limits)
                if tiled is not None:
                    return _fewest_below_default(rng, tiled, members, limits), None
            draw = plain_draw()
    # the occupancies force close pairs: the fewest above the ionic floor, searched from
    # where earlier versions' search went on, as they did (their arrangement: LGPS's 46
    # forced Li-Li pairs, as many as the wider search leaves)
    rng.bit_generator.state = legacy_end
    relaxed = limits.relax()
    best = None
    for _ in range(RANDOM_RESTARTS if relaxed else 0):
        state = _Clashes(plain_draw(), members, relaxed)
        if _min_conflicts(rng, state, candidates=LEGACY_CANDIDATES) == 0:
            state = _Clashes(state.draw_out(), members, limits)
            n = _min_conflicts(rng, state, keep=relaxed, candidates=LEGACY_CANDIDATES)
            if best is None or n < best[0]:
                best = (n, state.draw_out())
    return (None, hit) if best is None else (best[1], None)


def _has_full_mixed_group(groups, counts) -> bool:
    """Whether a group of sites has no vacancy and more than one species: there, only a
    swap changes the arrangement (a move needs an empty site)."""
    return any(sum(n for sp, n in counts[key].items() if sp not in ("sites", VACANCY))
               == counts[key]["sites"]
               and sum(1 for sp, n in counts[key].items()
                       if sp not in ("sites", VACANCY) and n) > 1
               for key in groups)


def _fewest_below_default(rng, draw: list, members: dict, limits: _PairLimits,
                          candidates: int = RESOLVE_CANDIDATES) -> list:
    """``draw`` (which keeps ``limits``) with, under a user's ``min_distance`` below the
    default rule, the pairs closer than the default rule made as few as the search finds,
    none closer than that distance: the user's distance is then the floor the default rule
    gives way to, as the ionic floor is without one (an advised 1.5 A for vj7's argyrodite
    filled 51 Li pairs 1.50 A apart as drawn; the occupancies force 11). ``candidates``: empty
sites tried per move, as by the search that found ``draw``."""
    if not limits.below_default():
        return draw
    state = _Clashes(draw, members, limits.default_rule())
    if state.pairs():
        _min_conflicts(rng, state, keep=limits, candidates=candidates)
    return state.draw_out()


def _min_conflicts(rng, state: "_Clashes", keep: _PairLimits | None = None,
                   candidates: int = RESOLVE_CANDIDATES, swaps: bool = False) -> int:
    """Min-conflicts search, in place on ``state``: repeatedly take a random atom that is
    too close to another one and move it to the empty site of its own group (of a few drawn
    at random: ``candidates``) where it has the fewest such neighbours. Returns the pairs
    left.

    With ``keep`` (a draw that keeps these looser limits, searched for the fewest pairs
    that break ``state``'s): the atom may also stay, only sites where it breaks ``keep``
    not at all are taken, ties are broken at random, and the search stops after
    ``STALL_MOVES_PER_SITE`` moves per site without fewer pairs, keeping the best draw.

    ``swaps``: an atom of a group without empty sites is swapped with one of another
    species (``_Clashes.swap``); without, such an atom ends the search (``keep``: is
    passed over), as earlier versions searched: their seeded arrangements stay theirs."""
    n = len(state.sites)
    if keep is None:
        def choose(sp: int, trial: np.ndarray) -> int:
            return int(trial[state.counts(trial, sp).argmin()])
    else:
        loose = keep.matrix()

        def choose(sp: int, trial: np.ndarray) -> int:
            # the atom's own site is among the trial sites, so some site keeps ``keep``
            allowed = trial[state.counts(trial, sp, loose) == 0]
            cost = state.counts(allowed, sp)
            choices = allowed[cost == cost.min()]
            return int(choices[int(rng.integers(len(choices)))])

    best, best_code, since_best = state.pairs(), state.code.copy(), 0
    for _ in range(RESOLVE_MOVES_PER_SITE * n):
        if not state.pairs() or (keep is not None and since_best > STALL_MOVES_PER_SITE * n):
            break
        since_best += 1
        if not state.move(rng, choose, stay=keep is not None, candidates=candidates,
                          keep=None if keep is None else loose, swaps=swaps):
            if keep is None:
                break       # a group of one species without vacancies: nothing to change
            continue
        if keep is not None and state.pairs() < best:
            best, best_code, since_best = state.pairs(), state.code.copy(), 0
    if keep is not None:
        state.restore(best_code)
    return state.pairs()


def _tiled_draw(rng, big: Structure, groups, counts, species: list,
                limits: _PairLimits) -> list | None:
    """A draw of ``big`` that keeps ``limits``, made from a smaller cell that ``big``
    repeats: that cell's seeded min-conflicts arrangement (its fewer sites are searched
    far better) repeated over ``big``, then shuffled by moves that keep the rule; None
    where no smaller cell's counts divide ``big``'s or its search finds none. Only the
    groups whose sites can clash are repeated; the others are drawn at random."""
    linked = _clashing_groups(big, groups, limits)
    sites = np.array([i for key in linked for i in groups[key][1]], dtype=int)
    if not len(sites):
        return None
    for factors in _tile_factors(big, groups, linked, sites, limits)[:TILE_CELLS_TRIED]:
        small, rep_of = _small_cell(big, sites, factors)
        if small is None:
            continue
        tiles = int(np.prod(factors))
        small_groups = _groups(small)
        small_counts = _site_counts(small_groups)
        if any(small_counts.get(key, {}).get(sp, -1) * tiles != n
               for key in linked for sp, n in counts[key].items()):
            continue
        small_limits = _PairLimits(small, limits.min_distance, limits._states or None)
        small_draw = _draw_keeping(rng, small, small_groups, small_counts, small_limits)
        if small_draw is None:
            continue
        draw = list(species)
        for i, k in zip(sites, rep_of):
            draw[i] = small_draw[k]
        for key, (fractions, idx) in groups.items():
            if key not in linked:
                pool = [sp for sp in fractions for _ in range(counts[key][sp])]
                for i, sp in zip(idx, rng.permutation(np.array(pool, dtype=object))):
                    draw[i] = sp
        members = {key: idx for key, (_, idx) in groups.items()}
        state = _Clashes(draw, members, limits)
        if state.pairs():       # a pair the smaller cell's distances did not see
            continue
        _shuffle_keeping(rng, state)
        return state.draw_out()
    return None


def _clashing_groups(big: Structure, groups, limits: _PairLimits) -> list[str]:
    """The groups with a site that some species they may hold puts too close to another
    partially occupied site's (a garnet's Li 24d and 96h, not its La/Zr 16a sites, whose
    near Li sites are farther than the rule)."""
    def elements(i: int) -> list[str]:
        return [el.symbol for el in big[i].species]

    def clashes(i: int) -> bool:
        return any(d < limits.limit(a, b) for j, d in limits.near[i]
                   for a in elements(i) for b in elements(j))
    return [key for key, (_, idx) in groups.items() if any(clashes(i) for i in idx)]


def _tile_factors(big: Structure, groups, linked: list, sites: np.ndarray,
                  limits: _PairLimits) -> list[tuple[int, int, int]]:
    """Divisions of ``big`` along its axes (of ``TILE_FACTORS``) into smaller cells whose
    translations map every site of the ``linked`` groups onto one of its own group, each
    smaller cell wider than twice the rule's reach (so that a pair is seen once), the
    most divided first."""
    from ionmd.structures.geometry import perpendicular_widths

    frac = big.frac_coords[sites]
    key_of = np.array([linked.index(k) for k in linked for _ in groups[k][1]])
    allowed = []
    for axis in range(3):
        ok = [1]
        for m in TILE_FACTORS:
            shift = np.zeros(3)
            shift[axis] = 1.0 / m
            if _translation_keeps_groups(big.lattice, frac, key_of, shift):
                ok.append(m)
        allowed.append(ok)
    widths = perpendicular_widths(big.lattice.matrix)
    out = [f for f in itertools.product(*allowed)
           if np.prod(f) > 1 and (widths / np.array(f)).min() > 2 * limits.reach]
    return sorted(out, key=lambda f: -int(np.prod(f)))


def _translation_keeps_groups(lattice: Lattice, frac: np.ndarray, key_of: np.ndarray,
                              shift: np.ndarray, tol: float = 1e-2) -> bool:
    """Whether moving every site (``frac``) by ``shift`` puts it within ``tol`` A of a site
    of its own group (``key_of``). Each site's nearest is found in a periodic k-d tree of
    the fractional coordinates: all pairs' distances took 225 s and 3.4 GB per shift on a
    4x4x4 cubic garnet's 7680 Li sites."""
    from scipy.spatial import cKDTree

    def wrapped(x: np.ndarray) -> np.ndarray:
        out = np.mod(x, 1.0)
        out[out >= 1.0] = 0.0           # -1e-17 % 1.0 is 1.0, outside the tree's box
        return out

    moved = wrapped(frac + shift)
    _, nearest = cKDTree(wrapped(frac), boxsize=1.0).query(moved)
    step = moved - wrapped(frac)[nearest]
    step -= np.round(step)
    apart = np.linalg.norm(lattice.get_cartesian_coords(step), axis=1)
    return bool((apart < tol).all() and (key_of[nearest] == key_of).all())


def _small_cell(big: Structure, sites: np.ndarray, factors):
    """The cell of ``big`` divided by ``factors`` along its axes, holding the ``sites``
    of its first tile, and the index in it of each of ``sites``' copies (None, ... where
    they do not fall in whole tiles)."""
    m = np.array(factors, dtype=float)
    lattice = Lattice(big.lattice.matrix / m[:, None])
    frac = np.mod(big.frac_coords[sites] * m, 1.0)
    tile = np.floor(np.mod(big.frac_coords[sites], 1.0) * m + 1e-6).astype(int) % factors
    first = np.flatnonzero((tile == 0).all(axis=1))
    d = lattice.get_all_distances(frac, frac[first])
    rep_of = d.argmin(axis=1)
    if np.bincount(rep_of, minlength=len(first)).tolist() != [len(sites) // len(first)] * len(first):
        return None, rep_of     # sites on a tile's face counted twice or not at all
    small = Structure(lattice, [big[int(i)].species for i in sites[first]], frac[first],
                      labels=[big[int(i)].label for i in sites[first]])
    return small, rep_of


def _draw_keeping(rng, cell: Structure, groups, counts, limits: _PairLimits) -> list | None:
    """A seeded min-conflicts arrangement of ``cell`` that keeps ``limits`` (the search of
    ``_search`` without its fallbacks), None where its draws find none."""
    members = {key: idx for key, (_, idx) in groups.items()}
    for _ in range(RANDOM_RESTARTS):
        draw: list = [None] * len(cell)
        for key, (fractions, idx) in groups.items():
            pool = [sp for sp in fractions for _ in range(counts[key][sp])]
            for i, sp in zip(idx, rng.permutation(np.array(pool, dtype=object))):
                draw[i] = sp
        state = _Clashes(draw, members, limits)
        if _min_conflicts(rng, state) == 0:
            return state.draw_out()
    return None


def _shuffle_keeping(rng, state: "_Clashes") -> None:
    """Random moves of atoms to empty sites of their group that keep ``state`` free of
    pairs, ``TILE_SHUFFLE_MOVES_PER_SITE`` per partially occupied site tried."""
    n = len(state.sites)
    for _ in range(TILE_SHUFFLE_MOVES_PER_SITE * n):
        filled = (state.code[:-1] >= 0).nonzero()[0]
        k = int(filled[int(rng.integers(len(filled)))])
        sp = int(state.code[k])
        group = state.members[state.group_of[k]]
        empty = group[state.code[group] < 0]
        if not len(empty):
            continue
        target = int(empty[int(rng.integers(len(empty)))])
        state.put(k, -1)
        if state.counts(np.array([target]), sp)[0] == 0:
            state.put(target, sp)
        else:
            state.put(k, sp)
