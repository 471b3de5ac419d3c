"""The Ewald ordering of split-site cells searched exactly under the pair rule.

Argyrodite's Li sit on 48h sites in pairs 1.9-2.0 A apart, too close to hold two Li (the
default rule, ``ordering_limits``): the shipped Li6PS5Cl.cif's 24 Li on 48 half-occupied
sites have C(48, 24) = 3.2e13 arrangements, of which only 2^24 = 1.7e7 keep the rule (one
Li per pair). pymatgen's ``EwaldMinimizer`` searches all of them, then the rule filters
its lowest; past ``DEFAULT_MAX_ARRANGEMENTS`` it is not run. Where the rule splits every
group's sites into clusters of mutually too-close sites that must each hold exactly one
atom (as many atoms as clusters), the arrangements that keep it are one site per cluster
(times the arrangements of groups the rule leaves free: argyrodite's S/Cl sites), and
their Ewald energies, a quadratic form in the occupations (pymatgen's
``EwaldSummation`` matrix, the one the minimizer sums), are all evaluated: the clusters
are split in two halves, each half's choices enumerated, and the energies of every
combination are one matrix product per block of the first half's choices. The lowest
are exactly the lowest of the minimizer's list that keep the rule (the same matrix,
the same background term)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from pymatgen.core import Structure

from ionmd.structures.ordering_cells import VACANCY
from ionmd.structures.ordering_limits import _PairLimits

PAIR_RULE_FACTOR = 10
"""The search under the rule takes up to this many times ``order_structure``'s
``max_arrangements`` (1e9 by default): it evaluates an arrangement in ~2e-8 s of one CPU
(OBELiX 122's 6.0e8 at ``occ_tol`` 0.15: 13 s, 280 MB); the minimizer took ~10 s for
LGPS's 1.5e6 (7e-6 s each)."""

BLOCK_ENTRIES = 1 << 22
"""Energies evaluated per matrix product (32 MB of float64)."""


HALF_ENTRIES = 1 << 25
"""At most this many numbers (choices x sites, 256 MB) per half of the search: beyond
(one free group of 1e6 arrangements), the cell is refused as before, both counts named."""


@dataclass
class PairClusters:
    """A cell whose arrangements that keep the pair rule are one site per cluster, times
    the arrangements of the groups the rule leaves free."""

    clusters: list[list[int]]
    """Sites of ``big`` (indices) of each cluster, each to hold one atom."""
    species: dict[int, str]
    """The element each clustered site holds when filled."""
    free: list[tuple[list[int], dict[str, int]]] = field(default_factory=list)
    """Groups no two of whose sites (nor any other partially occupied one) the rule
    forbids: (sites, atoms of each species, ``VACANCY`` included)."""

    @property
    def count(self) -> int:
        """How many arrangements keep the rule."""
        return math.prod(len(c) for c in self.clusters) * math.prod(
            _multinomial(n) for _, n in self.free)

    def searchable(self) -> bool:
        """Whether both halves of the search fit in ``HALF_ENTRIES``."""
        sizes = [len(c) for c in self.clusters] + [_multinomial(n) for _, n in self.free]
        widths = [len(c) for c in self.clusters] + [len(i) for i, _ in self.free]
        half = _split(sizes)
        width = sum(widths)
        return all(math.prod(part) * width <= HALF_ENTRIES
                   for part in (sizes[:half], sizes[half:]))


def pair_clusters(big: Structure, groups, counts, limits: _PairLimits) -> PairClusters | None:
    """The clusters where the default rule (``limits`` without a user's ``min_distance``)
    reduces the arrangements that keep it to one site per cluster: the rule forbids pairs
    only within connected sets of sites (clusters) of one group holding one element and
    vacancies, where it forbids every pair (cliques), and such a group has as many atoms
    as clusters; groups with no forbidden pair are free. None where the cell is not of
    that kind (then the minimizer searches it)."""
    if limits.min_distance is not None or limits.relaxed or not limits.partial:
        return None
    group_of = {i: key for key, (_, idx) in groups.items() for i in idx}
    elements = {i: [sp for sp in groups[group_of[i]][0] if sp != VACANCY] for i in group_of}

    def forbidden(i: int, j: int, d: float) -> bool | None:
        """True: no atoms on both; False: any; None: depends on which species."""
        hits = {d < limits.limit(a, b) for a in elements[i] for b in elements[j]}
        return hits.pop() if len(hits) == 1 else None

    clusters, seen = [], set()
    for i in limits.partial:
        if i in seen:
            continue
        members, todo = {i}, [i]
        while todo:         # the connected set of sites the rule joins to i
            k = todo.pop()
            for j, d in limits.near[k]:
                rule = forbidden(k, j, d)
                if rule is None:
                    return None
                if rule and j not in members:
                    members.add(j)
                    todo.append(j)
        seen |= members
        clusters.append(sorted(members))
    for c in clusters:
        if len({group_of[i] for i in c}) != 1:
            return None
        for a in c:         # a clique: every two of its sites too close to hold two atoms
            close = {j for j, d in limits.near[a] if forbidden(a, j, d)}
            if not set(c) - {a} <= close:
                return None
    by_group: dict[str, list] = {}
    for c in clusters:
        by_group.setdefault(group_of[c[0]], []).append(c)
    kept, free, species = [], [], {}
    for key, found in by_group.items():
        atoms = {sp: n for sp, n in counts[key].items() if sp != "sites"}
        if all(len(c) == 1 for c in found):             # the rule leaves the group free
            free.append(([c[0] for c in found], atoms))
            continue
        real = [sp for sp in atoms if sp != VACANCY]
        if len(real) != 1 or atoms[real[0]] != len(found):
            return None
        kept += found
        species.update({i: real[0] for c in found for i in c})
    return PairClusters(kept, species, free)


def pair_rule_draws(big: Structure, matrix: np.ndarray, charges: np.ndarray, oxi: dict,
                    reduced: PairClusters, num: int,
                    background: float) -> list[tuple[float, list]]:
    """The ``num`` lowest-Ewald arrangements of ``reduced``'s (one atom per cluster, the
    free groups' every arrangement), lowest first, as ``ordering_ewald._ewald_draws``
    gives them (energy in eV, species per site of ``big``, ``VACANCY`` where empty).
    ``matrix``: pymatgen's ``total_energy_matrix`` of ``big`` with every site filled, site
    ``i`` with charge ``charges[i]`` (e); ``oxi``: each element's charge; ``background``:
    the charged cell's term (``_charged_cell_energy``). The energy is the minimizer's sum:
    the matrix's rows and columns scaled by each site's charge over ``charges[i]`` (0:
    empty). Equal energies keep the enumeration's order (the first unit varying
    slowest)."""
    matrix = (matrix + matrix.T) / 2           # as the minimizer symmetrizes it
    units = ([(c, [[(i, reduced.species[i])] for i in c]) for c in reduced.clusters]
             + [(idx, _arrangements_of(idx, atoms)) for idx, atoms in reduced.free])
    sites = [i for idx, _ in units for i in idx]
    p = np.array(sites, dtype=int)
    column = {i: k for k, i in enumerate(sites)}
    fixed = np.setdiff1d(np.arange(len(big)), p)
    const = matrix[np.ix_(fixed, fixed)].sum()
    diag = np.diag(matrix)[p]
    linear = 2 * matrix[np.ix_(p, fixed)].sum(axis=1)
    pair = matrix[np.ix_(p, p)].copy()
    np.fill_diagonal(pair, 0.0)

    def scales(choices) -> np.ndarray:      # each choice's scale per site (column)
        out = np.zeros((len(choices), len(p)))
        for row, choice in enumerate(choices):
            for i, sp in choice:
                q = charges[i]
                out[row, column[i]] = (oxi[sp] / q if q else 0.0) if sp != VACANCY else 0.0
        return out

    half = _split([len(choices) for _, choices in units])
    parts = []
    for part in (units[:half], units[half:]):
        picks, scale = _product([scales(choices) for _, choices in part], len(p))
        own = scale**2 @ diag + scale @ linear + np.einsum("ij,jk,ik->i", scale, pair, scale)
        parts.append((picks, scale, own))
    (picks_a, scale_a, own_a), (picks_b, scale_b, own_b) = parts
    cross = 2 * scale_a @ pair
    best_e, best_a, best_b = np.empty(0), np.empty(0, int), np.empty(0, int)
    rows = max(1, BLOCK_ENTRIES // len(own_b))
    for start in range(0, len(own_a), rows):
        stop = min(start + rows, len(own_a))
        flat = (own_a[start:stop, None] + own_b[None, :]
                + cross[start:stop] @ scale_b.T).ravel()
        take = np.argpartition(flat, num - 1)[:num] if len(flat) > num else np.arange(len(flat))
        a, b = np.divmod(take, len(own_b))
        best_e = np.concatenate([best_e, flat[take]])
        best_a = np.concatenate([best_a, a + start])
        best_b = np.concatenate([best_b, b])
        order = np.lexsort((best_b, best_a, best_e))[:num]
        best_e, best_a, best_b = best_e[order], best_a[order], best_b[order]
    names = [site.specie.symbol if site.is_ordered else VACANCY for site in big]
    draws = []
    for energy, a, b in zip(best_e, best_a, best_b):
        draw = list(names)
        chosen = list(picks_a[a]) + list(picks_b[b])
        for (_, choices), k in zip(units, chosen):
            for i, sp in choices[k]:
                draw[i] = sp
        draws.append((float(energy + const + background), draw))
    return draws


def _multinomial(atoms: dict[str, int]) -> int:
    return math.factorial(sum(atoms.values())) // math.prod(
        math.factorial(n) for n in atoms.values())


def _arrangements_of(sites: list[int], atoms: dict[str, int]) -> list[list[tuple[int, str]]]:
    """Every arrangement of ``atoms`` (species -> count, ``VACANCY`` included) on
    ``sites``: [(site, species)] each."""
    out = [[]]
    left = [list(sites)]
    for sp, n in sorted(atoms.items()):
        grown, rest = [], []
        for done, free in zip(out, left):
            for pick in itertools.combinations(free, n):
                grown.append(done + [(i, sp) for i in pick])
                rest.append([i for i in free if i not in pick])
        out, left = grown, rest
    return out


def _product(scales: list[np.ndarray], width: int) -> tuple[np.ndarray, np.ndarray]:
    """Every combination of one row of each of ``scales`` (the first varying slowest):
    the rows picked (one column per array) and their sum (``width`` columns)."""
    picks = np.zeros((1, 0), dtype=int)
    total = np.zeros((1, width))
    for s in scales:
        n = len(s)
        picks = np.hstack([np.repeat(picks, n, axis=0),
                           np.tile(np.arange(n), len(picks))[:, None]])
        total = np.repeat(total, n, axis=0) + np.tile(s, (len(total), 1))
    return picks, total


def _split(sizes: list[int]) -> int:
    """Where to split the units so that the two halves' choices are about as many."""
    if len(sizes) < 2:
        return len(sizes)
    logs = np.cumsum([math.log(n) for n in sizes])
    return int(np.argmin(np.abs(logs - logs[-1] / 2))) + 1
