"""The state the random ordering's min-conflicts search (``ordering_search``) changes: a
draw's species on the partially occupied sites and, per site, how many atoms would be too
close to each species put there, kept up to date move by move."""

from __future__ import annotations

import numpy as np

from ionmd.structures.ordering_cells import VACANCY
from ionmd.structures.ordering_limits import _PairLimits


class _Clashes:
    """A draw (species per site, ``VACANCY`` for empty ones) as the min-conflicts search
    changes it: per partially occupied site (numbered as ``limits.partial``) the code of
    its species (-1: empty), how many atoms on such sites it is too close to under
    ``limits`` (``n_near``; 0 for empty sites), and how many it would be too close to with
    each species on it (``near_by``, a column per species code, the last one -1: empty,
    always 0). Arrays, as the search makes ~10^6 moves on cells of ~2000 such sites (lists
    and dicts took minutes there); ``near_by`` makes a move's choice among its candidate
    sites one look-up (recounting each candidate's neighbours took a third of a move).

    The counts are kept by each changed site's own row of neighbours: the same numbers as
    counting each site's row anew, as the neighbour table is symmetric (distances between
    the partially occupied sites of one list, ``pymatgen``'s ``get_all_distances`` of it
    with itself: the pair's two vectors negate each other exactly, so do their lengths)."""

    def __init__(self, draw: list, members: dict, limits: _PairLimits):
        self.draw, self.limits = list(draw), limits
        self.sites = np.array(limits.partial, dtype=int)
        self.code = limits.codes(draw)
        self.limit = limits.matrix()
        # row b: the limit of each species beside one of code b (``limit[:, b]``)
        self._beside = np.ascontiguousarray(self.limit.T)
        self.nbr, self.dist = limits.neighbours()
        position = {i: k for k, i in enumerate(limits.partial)}
        self.members = [np.array([position[i] for i in idx], dtype=int)
                        for idx in members.values()]
        self.group_of = np.zeros(len(self.sites), dtype=int)
        for g, ks in enumerate(self.members):
            self.group_of[ks] = g
        n = len(self.sites)
        self._width = width = len(self.limit)
        self.near_by = np.zeros((n + 1, width), dtype=int)      # + the padding's row
        # ``near_by`` flat: row y, column c at y * width + c; an empty site's code, -1,
        # then points at the row before's last column, 0 like every empty column
        self._flat = self.near_by.reshape(-1)
        self._row_at = np.arange(n + 1) * width
        self._close_to: dict[int, list] = {}
        # each group's empty sites, in the group's order, kept by ``move`` (finding them
        # anew took a sixth of a move); only where that order is ascending, as it is for
        # ``_groups``' site indices (the moves insert by value)
        self._ascending = all((np.diff(m) > 0).all() for m in self.members)
        self._empty: list[np.ndarray | None] = [None] * len(self.members)
        self.restore(self.code)

    def counts(self, ks: np.ndarray, sp: int, limit: np.ndarray | None = None) -> np.ndarray:
        """Atoms too close to species code ``sp`` put on each site of ``ks``, under
        ``limit`` (default ``limits``': the kept counts). An empty neighbour's code (-1) and
        the padding's pick the limit matrix's last column, -inf."""
        if limit is None:
            return self.near_by[ks, sp]
        return (self.dist[ks] < limit[sp][self.code[self.nbr[ks]]]).sum(axis=1)

    def pairs(self) -> int:
        return self.n_pairs

    @property
    def n_near(self) -> np.ndarray:
        """Per site (and the padding's slot, 0): how many atoms on partially occupied
        sites its atom is too close to (0 for empty sites)."""
        return self._flat[self._own]

    def move(self, rng, choose, stay: bool = False, *, candidates: int,
             keep: np.ndarray | None = None, swaps: bool = False) -> bool:
        """Lift a random atom too close to another and put it on the site
        ``choose(species, sites)`` picks among up to ``candidates`` empty sites of
        its group drawn at random (its own site first, where ``stay``). Where the group
        has no empty site (a fully occupied mixed site), with ``swaps`` swap the atom with
        one of another species of its group instead (``swap``); False, changing nothing,
        where there is none (or no ``swaps``). (The draws from ``rng`` come in this order, then ``choose``'s: a
        seeded ordering depends on it.)"""
        bad = self._flat.take(self._own).nonzero()[0]     # (methods: numpy's functions
        # cost more than the small arrays' work)
        k = int(bad[int(rng.integers(len(bad)))])
        g = self.group_of[k]
        empty = self._empty_sites(g)
        if not len(empty):
            return swaps and self.swap(rng, k, self.members[g], keep, candidates)
        sp = int(self.code[k])
        self._place(k, -1)
        picked = empty[rng.permutation(len(empty))[:candidates]]
        trial = np.concatenate(([k], picked)) if stay else picked
        site = choose(sp, trial)
        self._place(site, sp)
        if site != k:
            self._emptied(g, k, site)
        return True

    def _empty_sites(self, g: int) -> np.ndarray:
        """Group ``g``'s empty sites in its order (kept: do not change the array)."""
        if self._empty[g] is not None:
            return self._empty[g]
        group = self.members[g]
        empty = group[self.code[group] < 0]
        if self._ascending:
            self._empty[g] = empty
        return empty

    def _emptied(self, g: int, k: int, filled: int) -> None:
        """Site ``k`` of group ``g`` emptied, its empty site ``filled`` filled: the kept
        empty sites, in order, with ``k`` in ``filled``'s place."""
        empty = self._empty[g]
        if empty is None:
            return
        i, at = int(empty.searchsorted(filled)), int(empty.searchsorted(k))
        if at <= i:
            empty[at + 1:i + 1] = empty[at:i]
            empty[at] = k
        else:
            empty[i:at - 1] = empty[i + 1:at]
            empty[at - 1] = k

    def swap(self, rng, k: int, group: np.ndarray, keep: np.ndarray | None,
             candidates: int) -> bool:
        """Swap the atom on site ``k`` with the one, of another species of its group (of
        up to ``candidates`` drawn at random), that leaves the fewest pairs (ties drawn
        at random); with ``keep`` (looser limits), only swaps after which neither atom
        breaks them, and staying is among the choices. The moves to empty sites never
        changed a fully occupied Li 0.75 / Na 0.25 site, and called Na-Na pairs forced
        where a quarter of a square net's sites hold Na none of them neighbours."""
        sp = int(self.code[k])
        others = group[(self.code[group] != sp) & (self.code[group] >= 0)]
        if not len(others):
            return False
        picked = others[rng.permutation(len(others))[:candidates]]
        cost, fine = self.swap_costs(k, picked, keep)
        options = ([k] if keep is not None else []) + [int(j) for j in picked[fine]]
        costs = ([self.n_pairs] if keep is not None else []) + cost[fine].tolist()
        if not options:
            return True
        costs = np.array(costs)
        best = (costs == costs.min()).nonzero()[0]
        j = options[int(best[int(rng.integers(len(best)))])]
        if j != k:
            other = int(self.code[j])
            self.put(k, other)
            self.put(j, sp)
        return True

    def swap_costs(self, k: int, picked: np.ndarray,
                   keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """For each site j of ``picked`` (atoms of species other than site ``k``'s): the
        pairs left after swapping the atoms on ``k`` and j, and whether neither then breaks
        ``keep`` (all True without). All candidates at once: the swaps tried one by one,
        four ``put`` calls each, took 2 of Ga-LLZO's 2.5 minutes."""
        limit, code = self.limit, self.code
        sp = int(code[k])
        other = code[picked]                                    # (m,)
        nbr_k, dist_k = self.nbr[k], self.dist[k]               # (deg,)
        nbr_j, dist_j = self.nbr[picked], self.dist[picked]     # (m, deg)
        j_at = nbr_k[None, :] == picked[:, None]                # j's slot in k's row
        d_kj = np.where(j_at, dist_k[None, :], np.inf).min(axis=1)
        k_at = nbr_j == k
        # k holding j's species beside all it holds now (j's atom included); j holding
        # k's, beside k now holding j's
        around_j = np.where(k_at, other[:, None], code[nbr_j])
        on_k = self.near_by[k, other]
        on_j = (dist_j < limit[sp][around_j]).sum(axis=1)
        # the pairs k and j are in now, the one between them counted once
        now = self.near_by[k, sp] + self.near_by[picked, other] - (d_kj < limit[sp, other])
        cost = self.n_pairs - now + on_k + on_j - (d_kj < limit[other, other])
        if keep is None:
            return cost, np.ones(len(picked), dtype=bool)
        around_k = np.where(j_at, sp, code[nbr_k][None, :])
        fine = (((dist_j < keep[sp][around_j]).sum(axis=1) == 0)
                & ((dist_k[None, :] < keep[other[:, None], around_k]).sum(axis=1) == 0))
        return cost, fine

    def put(self, k: int, sp: int) -> None:
        """Put species code ``sp`` (-1: a vacancy) on site ``k`` and update the counts
        around it."""
        if (int(self.code[k]) < 0) != (sp < 0):
            self._empty[self.group_of[k]] = None
        self._place(k, sp)

    def _place(self, k: int, sp: int) -> None:
        """``put`` but for the kept empty sites (``move`` keeps them itself). The counts of
        ``k``'s own row do not depend on what it holds."""
        flat = self._flat
        old = int(self.code[k])
        at = k * self._width
        self.n_pairs -= int(flat[at + old])
        if old >= 0:
            flat[(self._close_to.get(old) or self._closer(old))[k]] -= 1
        if sp >= 0:
            flat[(self._close_to.get(sp) or self._closer(sp))[k]] += 1
        self.code[k] = sp
        self._own[k] = at + sp
        self.n_pairs += int(flat[at + sp])

    def _closer(self, sp: int) -> list:
        """Per site k: where in ``near_by`` (flat) an atom of code ``sp`` on k adds one,
        (neighbour y, species c) for each y closer to k than c's limit beside ``sp``.
        (A site's neighbours are distinct, the padding's slots, at infinite distance, in
        none.)"""
        if sp not in self._close_to:
            width = len(self.limit)
            k, slot, c = np.nonzero(self.dist[:, :, None] < self._beside[sp])
            at = self.nbr[k, slot] * width + c
            self._close_to[sp] = np.split(at, np.cumsum(np.bincount(k, minlength=len(self.sites)))[:-1])
        return self._close_to[sp]

    def restore(self, code: np.ndarray) -> None:
        """Set every site's species code (``code``, padding included) and count anew."""
        self.code = code.copy()
        self._own = self._row_at + self.code         # where each site's own count is
        self._empty = [None] * len(self.members)
        n = len(self.sites)
        self.near_by[:n] = (self.dist[:, :, None] < self._beside[self.code[self.nbr]]).sum(1)
        self.n_pairs = int(self.n_near.sum()) // 2

    def draw_out(self) -> list:
        """The draw as species per site of the cell."""
        symbols = self.limits.symbols
        for i, c in zip(self.sites, self.code[:-1]):
            self.draw[i] = symbols[c] if c >= 0 else VACANCY
        return list(self.draw)
