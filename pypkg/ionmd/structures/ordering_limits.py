"""The ``min_distance`` rule of ``order_structure``: which pairs of partially occupied
sites may not both hold atoms (the default fraction of covalent radii, its ionic floor, or
a user's distance), checks of whole arrangements, and the error when none keeps it."""

from __future__ import annotations

import copy
import math

import numpy as np
from pymatgen.core import Structure

from ionmd.structures.errors import StructureError
from ionmd.structures.ionic_radii import BOND_VALENCE_B, _ionic_radii, bond_valence_floor
from ionmd.structures.ordering_cells import VACANCY, _site_names
from ionmd.structures.ordering_proofs import _forced_close_pairs

MIN_DISTANCE_FRACTION = 0.8
"""Default ``min_distance``: two atoms placed on partially occupied sites keep at least this
fraction of their covalent radii sum (Li-Li 2.05 A). Bonds are 0.8-1.2x that sum; partially
occupied sites closer than this are alternatives of one site model (argyrodite's 48h pairs
at 1.95 A), which a real ordered cell does not fill both of. Distances to fully occupied
sites are the site model's, not the ordering's choice (the overlap check covers them)."""
IONIC_FLOOR_FRACTION = 0.85
"""Where the occupancies force pairs closer than the default rule (LGPS: 11 Li on 8 pairs of
Li1 sites 1.73 A apart, so 3 pairs must be filled; a cubic garnet's Li 24d/96h sites 1.62 A
apart, with more Li than an arrangement without such pairs holds), the default rule gives
way down to this fraction of the pair's ionic radii sum (pymatgen's radii for the oxidation
states; Li+-Li+ 1.53 A): the arrangement then has the fewest such pairs found, named in the
ordering line. Closer pairs (split positions of one atom, 0.5-1 A apart: the garnet's 96h
pairs 0.8 A) are still refused."""
UNKNOWN_STATE_FLOOR_FRACTION = 0.6
"""The physical floor (``_PairLimits.physical_floor``) of a pair whose ionic radii are not
known: this fraction of the covalent radii sum, what the ionic floor is for alkali pairs
(Li+-Li+ 1.53 A of 2.56 A, Na+-Na+ 1.97 of 3.32)."""


class _PairLimits:
    """The ``min_distance`` rule on one supercell: which pairs of partially occupied sites
    may not both hold atoms, and checks of whole arrangements."""

    def __init__(self, big: Structure, min_distance: float | None,
                 charges: dict[str, float] | None = None, distances: np.ndarray | None = None):
        from ionmd.structures.checks import OVERLAP_FRACTION, covalent_radius

        if min_distance is not None and not (min_distance >= 0 and math.isfinite(min_distance)):
            raise StructureError(f"min_distance must be >= 0 A (0: no rule), got {min_distance}")
        self.min_distance = min_distance
        self.partial = [i for i, site in enumerate(big) if not site.is_ordered]
        self.symbols = sorted({el.symbol for site in big for el in site.species.elements})
        self.radius = {el: covalent_radius(el) for el in self.symbols}
        # the ionic radii and states, kept for the physical floor whatever rule is given
        self._ionic_radii = _ionic_radii(self.symbols, charges)
        self._states = dict(charges) if charges else {}
        self.ionic = self._ionic_radii if min_distance is None else None
        self.relaxed = False    # True: the floor, not the rule, is the limit
        self._tables: dict[bool, dict[tuple[str, str], float]] = {}    # shared by copies
        self._matrices: dict[bool, np.ndarray] = {}
        # the overlap check's limit for two sites: their largest elements' (any atom the
        # ordering puts there must pass it)
        self._site_radius = np.array([max(self.radius[el.symbol] for el in big[i].species)
                                      for i in self.partial])
        self.overlap_fraction = OVERLAP_FRACTION
        self.reach = (min_distance if min_distance is not None
                      else MIN_DISTANCE_FRACTION * 2 * max(self.radius.values()))
        # distances between partially occupied sites (kept for other distances' limits)
        self.distances = distances
        if self.distances is None and self.partial:
            coords = big.frac_coords[self.partial]
            self.distances = big.lattice.get_all_distances(coords, coords)
        self._neighbours()

    def _neighbours(self) -> None:
        """Neighbours of each partially occupied site within the largest limit: ``near``
        (site -> [(site, distance)]) and, numbered as ``partial``, rows padded with the
        index ``len(partial)`` at infinite distance (``neighbours``)."""
        n = len(self.partial)
        self.near: dict[int, list[tuple[int, float]]] = {i: [] for i in self.partial}
        self._nbr = np.full((n, 0), n, dtype=int)
        self._dist = np.full((n, 0), np.inf)
        if not (self.reach > 0 and n):
            return
        d = self.distances
        close = d < self.reach
        np.fill_diagonal(close, False)
        rows, cols = np.nonzero(close)          # row by row
        degree = np.bincount(rows, minlength=n)
        slot = np.arange(len(rows)) - np.repeat(np.cumsum(degree) - degree, degree)
        self._nbr = np.full((n, degree.max(initial=0)), n, dtype=int)
        self._dist = np.full((n, degree.max(initial=0)), np.inf)
        self._nbr[rows, slot] = cols
        self._dist[rows, slot] = d[rows, cols]
        for row, (i, js) in enumerate(zip(self.partial, np.split(cols, np.cumsum(degree)[:-1]))):
            self.near[i] = [(self.partial[j], float(d[row, j])) for j in js]

    def with_distance(self, min_distance: float) -> "_PairLimits":
        """A user's ``min_distance`` on the same cell (its distances reused)."""
        out = copy.copy(self)
        out.min_distance, out.ionic, out.relaxed = min_distance, None, False
        out._tables, out._matrices = {}, {}
        out.reach = min_distance
        out._neighbours()
        return out

    def default_rule(self) -> "_PairLimits":
        """The default rule (no ionic floor) on the same cell."""
        out = copy.copy(self)
        out.min_distance, out.ionic, out.relaxed = None, None, False
        out._tables, out._matrices = {}, {}
        out.reach = MIN_DISTANCE_FRACTION * 2 * max(self.radius.values())
        out._neighbours()
        return out

    def below_default(self) -> bool:
        """A user's ``min_distance`` that allows pairs the default rule forbids (0: none,
        no rule at all)."""
        return (self.min_distance is not None
                and 0 < self.min_distance < MIN_DISTANCE_FRACTION * 2 * max(self.radius.values()))

    def neighbours(self) -> tuple[np.ndarray, np.ndarray]:
        return self._nbr, self._dist

    def codes(self, draw: list) -> np.ndarray:
        """Species code (index in ``symbols``; -1 for empty) of each partially occupied
        site, and -1 for the padding."""
        index = {el: c for c, el in enumerate(self.symbols)}
        return np.array([index.get(draw[i], -1) for i in self.partial] + [-1], dtype=int)

    def matrix(self) -> np.ndarray:
        """``limit`` by species codes; the last row and column (code -1: empty) -inf."""
        if self.relaxed not in self._matrices:
            table = self.table()
            m = np.full((len(self.symbols) + 1,) * 2, -np.inf)
            for a, x in enumerate(self.symbols):
                for b, y in enumerate(self.symbols):
                    m[a, b] = table[x, y]
            self._matrices[self.relaxed] = m
        return self._matrices[self.relaxed]

    def limit(self, a: str, b: str) -> float:
        if self.min_distance is not None:
            return self.min_distance
        rule = MIN_DISTANCE_FRACTION * (self.radius[a] + self.radius[b])
        return min(rule, self.floor(a, b)) if self.relaxed else rule

    def table(self) -> dict[tuple[str, str], float]:
        """``limit`` of every element pair, looked up by the min-conflicts searches (they
        ask millions of times: Al-LLZO's 5-cell garnet spent half its 150 s there)."""
        if self.relaxed not in self._tables:
            self._tables[self.relaxed] = {(a, b): self.limit(a, b) for a in self.radius
                                          for b in self.radius}
        return self._tables[self.relaxed]

    def floor(self, a: str, b: str) -> float:
        """The closest the default rule gives way to (``IONIC_FLOOR_FRACTION``)."""
        return IONIC_FLOOR_FRACTION * (self.ionic[a] + self.ionic[b])

    def physical_floor(self, a: str, b: str) -> float:
        """The closest two atoms of elements ``a`` and ``b`` may be in a physical cell. A
        cation and an anion: where one bond alone would carry the whole valence of the more
        charged of the two (``bond_valence_floor``; no published ordered crystal has a
        shorter contact: OBELiX's 72 ordered CIFs come no closer than 1.07 x it, LiGd(PO3)4's
        P-O 1.18 A). Other pairs: the default rule given way to the ionic floor
        (``min(MIN_DISTANCE_FRACTION`` x covalent, ``IONIC_FLOOR_FRACTION`` x ionic radii
        sum)), else ``UNKNOWN_STATE_FLOOR_FRACTION`` x covalent: cation pairs (Li3N Li-Li
        2.01 A, Li5La3Ta2O12 La-Li 2.27 A) sit above 0.85 x their ionic sum (Li+-Li+ 1.53
        A), anion pairs at bonds (disulfide S-S 2.04 A, O2 1.21 A, peroxide 1.49 A of O-O
        1.32) or edges (NO3- O-O 2.16 A, 0.85 x O2- 2.14 A). That floor is too tight for
        cation-anion bonds (P5+-O 1.18-1.36 A in phosphates, Ti4+-O 1.49 A, all below 0.85
        x their ionic sums): 12 of OBELiX's 72 ordered CIFs broke it. Pairs closer than
        the floor (split positions: O-O 0.7-1 A) put MD's atoms on top of each other, and
        the cell explodes. No floor is above the default rule (``MIN_DISTANCE_FRACTION`` x
        covalent), which gives way to it: a monovalent pair's bond-valence floor is (Li+-Cl-
        1.87 A over 1.84 A, Na+-I- 2.57 over 2.44, Li+-H- 1.38 over 1.27), and orderings
        kept such pairs that refusals and the larger-cell advice called unphysical."""
        cov = self.radius[a] + self.radius[b]
        qa, qb = self._states.get(a), self._states.get(b)
        if qa and qb and qa * qb < 0:
            floor = bond_valence_floor(a, b, max(abs(qa), abs(qb)))
            if floor is not None:
                return min(floor, MIN_DISTANCE_FRACTION * cov)
        if self._ionic_radii is None:
            return UNKNOWN_STATE_FLOOR_FRACTION * cov
        ionic = IONIC_FLOOR_FRACTION * (self._ionic_radii[a] + self._ionic_radii[b])
        return min(MIN_DISTANCE_FRACTION * cov, ionic)

    def _floor_rule(self, a: str, b: str) -> str:
        """How ``physical_floor`` of ``a`` and ``b`` is reckoned, in words, for messages."""
        qa, qb = self._states.get(a), self._states.get(b)
        if qa and qb and qa * qb < 0 and bond_valence_floor(a, b, 1.0) is not None:
            return (f"where one bond carries the whole valence of the larger ion, "
                    f"{max(abs(qa), abs(qb)):g} (bond valence R0 - {BOND_VALENCE_B:g} ln V), "
                    f"at most {MIN_DISTANCE_FRACTION:g} x the covalent radii sum")
        if self._ionic_radii is None:
            return f"{UNKNOWN_STATE_FLOOR_FRACTION:g} x the covalent radii sum"
        return (f"the smaller of {MIN_DISTANCE_FRACTION:g} x the covalent and "
                f"{IONIC_FLOOR_FRACTION:g} x the ionic radii sum")

    def unphysical(self, big: Structure) -> np.ndarray:
        """Which pairs of partially occupied sites (numbered as ``partial``) are closer than
        the physical floor of every pair of elements they may hold: a boolean matrix."""
        if self.distances is None:
            return np.zeros((0, 0), dtype=bool)
        elements = [sorted(el.symbol for el in big[i].species) for i in self.partial]
        kinds = sorted({tuple(e) for e in elements})
        kind = np.array([kinds.index(tuple(e)) for e in elements], dtype=int)
        floor = np.array([[min(self.physical_floor(a, b) for a in x for b in y) for y in kinds]
                          for x in kinds])
        out = self.distances < floor[kind][:, kind]
        np.fill_diagonal(out, False)
        return out

    def closer_than_rule(self, big: Structure) -> np.ndarray:
        """Which pairs of partially occupied sites (numbered as ``partial``) are closer than
        this rule's limit for every pair of elements they may hold: a boolean matrix."""
        if self.distances is None:
            return np.zeros((0, 0), dtype=bool)
        elements = [[el.symbol for el in big[i].species] for i in self.partial]
        kinds = sorted({tuple(sorted(e)) for e in elements})
        kind = np.array([kinds.index(tuple(sorted(e))) for e in elements], dtype=int)
        limit = np.array([[min(self.limit(a, b) for a in x for b in y) for y in kinds]
                          for x in kinds])
        out = self.distances < limit[kind][:, kind]
        np.fill_diagonal(out, False)
        return out

    def unphysical_pairs(self, draw: list) -> dict[tuple[str, str], tuple[int, float, float]]:
        """Pairs of atoms of ``draw`` on partially occupied sites closer than their
        physical floor, by element pair: (count, shortest distance, floor)."""
        species = [draw[i] for i in self.partial]
        symbols = sorted(set(species) - {VACANCY})
        if self.distances is None or not symbols:
            return {}
        code = np.array([symbols.index(x) if x != VACANCY else -1 for x in species])
        floor = np.array([[self.physical_floor(a, b) for b in symbols] for a in symbols])
        filled = np.flatnonzero(code >= 0)
        c = code[filled]
        d = self.distances[np.ix_(filled, filled)]
        rows, cols = np.nonzero(np.triu(d < floor[c][:, c], 1))
        found: dict[tuple[str, str], list[float]] = {}
        for r, k in zip(rows, cols):
            pair = tuple(sorted((symbols[c[r]], symbols[c[k]])))
            found.setdefault(pair, []).append(float(d[r, k]))
        return {k: (len(v), min(v), self.physical_floor(*k)) for k, v in sorted(found.items())}

    def relax(self) -> "_PairLimits | None":
        """These limits with the default rule given way to the ionic floor; None where
        no floor is known (a user's ``min_distance``, elements without oxidation states)."""
        if self.ionic is None:
            return None
        out = copy.copy(self)
        out.relaxed = True
        return out

    def strict(self) -> "_PairLimits":
        out = copy.copy(self)
        out.relaxed = False
        return out

    def _unphysical_error(self, big: Structure, head: str, unphysical) -> StructureError:
        pair, why, any_supercell = unphysical
        i, j, _ = pair
        a, b = sorted((_main_element(big, i), _main_element(big, j)))
        scope = ("the clusters of such sites are small and the count is per cluster, so it "
                 "is the same in every supercell: no larger or other supercell helps, and a "
                 "smaller min_distance only fills such pairs, atoms that close explode in MD"
                 if any_supercell else
                 "so in this cell (its clusters of such sites reach their own images, so a "
                 "larger cell may differ); a smaller min_distance only fills such pairs, "
                 "atoms that close explode in MD")
        err = StructureError(
            f"{head}: {why.replace('no arrangement', 'no physical arrangement', 1)} "
            f"({a}-{b}: {self.physical_floor(a, b):.2f} A, the physical floor: "
            f"{self._floor_rule(a, b)}); closest: sites of {_pair_text(big, *pair)}; "
            f"{scope}. " + _SITE_MODEL_ADVICE)
        err.unphysical = not any_supercell
        return err

    def close_pairs_note(self, draw: list, cell=None, searched: str = "",
                         advice: str = "") -> str:
        """The pairs of atoms placed on partially occupied sites (``draw``: species per
        site, ``VACANCY`` for empty ones) closer than the default rule, by element pair:
        count and shortest distance; ``""`` where none, or a user's ``min_distance`` allows
        none of them. That the occupancies force such pairs is said only where a count
        proves it (``_forced_close_pairs`` on ``cell``: (big, groups, counts)); else the
        note says that the search (``searched``: what it tried) found no arrangement without
        them, and ``advice`` what to try (a cubic garnet's 2x2x2 cell kept 18 pairs 1.60 A
        apart, 'forced', where the 1x1x1 cell's arrangement repeated has none)."""
        if self.min_distance is None:
            rule, floor = self.strict(), f"{IONIC_FLOOR_FRACTION:g} x ionic radii sum"
        elif self.below_default():
            rule, floor = self.default_rule(), f"min_distance {self.min_distance:g} A"
        else:
            return ""
        found: dict[tuple[str, str], list[float]] = {}
        for i in rule.partial:
            for j, d in rule.near[i]:
                a, b = draw[i], draw[j]
                if i < j and VACANCY not in (a, b) and d < rule.limit(a, b):
                    found.setdefault(tuple(sorted((a, b))), []).append(d)
        proof = (_forced_close_pairs(*cell, self, rule)
                 if found and cell is not None else None)
        note = self._describe_close(found, floor, proof, searched, advice)
        below = self.unphysical_pairs(draw) if self.below_default() else {}
        if below:       # a user's distance that lets atoms sit on each other
            note += (f"; {_below_text(below)}: below the physical floor, atoms that close "
                     "explode in MD")
        return note

    def _describe_close(self, found, floor: str, proof: str | None = None,
                        searched: str = "", advice: str = "") -> str:
        if not found:
            return ""
        parts = [f"{len(ds)} {a}-{b} pair{'s' if len(ds) > 1 else ''} {min(ds):.2f} A apart"
                 for (a, b), ds in sorted(found.items())]
        if proof is not None:
            why = f"the occupancies force such pairs of partially occupied sites ({proof})"
        else:
            why = ("the search found no arrangement without them"
                   + (f" in {searched}" if searched else "")
                   + " (the counts made here do not prove them forced by the occupancies)"
                   + (f"; try {advice}" if advice else ""))
        return (f"{', '.join(parts)} (closer than {MIN_DISTANCE_FRACTION:g} x covalent radii "
                f"sum: {why}; the fewest found, none closer than {floor}; "
                "--order-min-distance sets another rule)")

    def clash(self, i: int, species: str, placed: list) -> tuple[int, float] | None:
        """A placed atom too close to ``species`` on site ``i``: (site, distance), or None."""
        for j, d in self.near[i]:
            other = placed[j]
            if other is not None and other != VACANCY and d < self.limit(species, other):
                return j, d
        return None

    def first_clash(self, species: list) -> tuple[int, int, float] | None:
        for i in self.partial:
            if species[i] not in (None, VACANCY):
                hit = self.clash(i, species[i], species)
                if hit:
                    return (i, *hit)
        return None

    def describe(self) -> str:
        if self.min_distance is None:
            return f"{MIN_DISTANCE_FRACTION:g} x covalent radii sum"
        return f"{self.min_distance:g} A" if self.min_distance > 0 else "none"

    def overlapping(self) -> np.ndarray:
        """Which pairs of partially occupied sites (numbered as ``partial``) are closer
        than the overlap check allows any two atoms there to be (split positions of one
        atom): a boolean matrix."""
        if self.distances is None:
            return np.zeros((0, 0), dtype=bool)
        r = self._site_radius
        out = self.distances < self.overlap_fraction * (r[:, None] + r[None, :])
        np.fill_diagonal(out, False)
        return out

    def candidates(self) -> np.ndarray:
        """The ``min_distance`` values (A, two decimals, ascending) that forbid fewer pairs
        of partially occupied sites than these limits do but still every pair that
        ``overlapping``: each pair distance rounded down."""
        if self.distances is None:
            return np.array([])
        d = self.distances[np.triu_indices(len(self.partial), 1)]
        x = np.unique(np.floor(d[d < self.reach] * 100 + 1e-9) / 100)
        hard = self.distances[self.overlapping()]
        return x[x > hard.max()] if len(hard) else x[x > 0]

    def closest_pair(self, draw: list) -> tuple[int, int, float] | None:
        """The closest two atoms of ``draw`` on partially occupied sites: (site, site, A)."""
        filled = [(i, j, d) for i in self.partial for j, d in self.near[i]
                  if i < j and draw[i] != VACANCY and draw[j] != VACANCY]
        return min(filled, key=lambda p: p[2], default=None)

    def error(self, big: Structure, method: str, tried: str, hit, workable=None,
              forced=None, unphysical=None) -> StructureError:
        """No arrangement found: the distance that one needs (``workable``: (min_distance,
        its closest pair, its draw), checked to order the cell) where it keeps every pair
        above its physical floor; else why no physical arrangement exists (``unphysical``:
        (pair, why, whether the count holds in any supercell) from ``_forced_overlaps``
        under the physical floor) or none was found (``workable`` below the floor: the
        error's ``unphysical`` attribute is then True, for the caller to try larger
        cells); else the pair of split positions that blocks every arrangement
        (``forced``: (pair, why), a count where it proves that none exists), else the
        first pair the search hit."""
        head = (f"no {method} arrangement keeps the atoms on partially occupied sites at least "
                f"{self.describe()} apart ({tried})")
        if unphysical is not None and not (forced is not None and forced[1]):
            return self._unphysical_error(big, head, unphysical)
        below = self.unphysical_pairs(workable[2]) if workable is not None else {}
        if below:
            x, pair, _ = workable
            err = StructureError(
                f"{head}: the occupancies force pairs closer than that, and no physical "
                f"arrangement was found in this cell: min_distance={x:g} orders it, but "
                f"fills {_below_text(below)} (two sites of {_pair_text(big, *pair)}): "
                "atoms that close explode in MD, so that distance is not advised. "
                + _SITE_MODEL_ADVICE)
            err.unphysical = True
            return err
        if workable is not None:
            x, pair, _ = workable
            closest = (f"two sites of {_pair_text(big, *pair)}" if pair else
                       f"no two atoms closer than {self.reach:.2f} A")
            return StructureError(
                f"{head}: the occupancies force pairs closer than that; the {method} ordering "
                f"with min_distance={x:g} orders the cell, and fills {closest}. If the site "
                "model means it, allow it: "
                f"min_distance={x:g} (`--order-min-distance {x:g}`, `order_min_distance` in "
                "a campaign), or 0 for no rule")
        if forced is None:
            return StructureError(
                f"{head}: sites of {_pair_text(big, *hit)}, and the search found no "
                "arrangement with any smaller min_distance either. Round the occupancies in "
                "the input, or give min_distance=0 (no rule)")
        pair, why = forced
        i, j, _ = pair
        overlap = self.overlap_fraction * (self._site_radius[self.partial.index(i)]
                                           + self._site_radius[self.partial.index(j)])
        return StructureError(
            f"{head}: sites of {_pair_text(big, *pair)}, closer than any two atoms may "
            f"be ({self.overlap_fraction:g} x covalent radii sum, {overlap:.2f} A: "
            "split positions of one atom), and "
            + (why or "no arrangement found leaves one of each such pair empty, whatever "
               "min_distance down to that") +
            ". Round the occupancies in the input so that each set of split positions holds "
            "at most one atom")


def _pair_text(big: Structure, i: int, j: int, d: float) -> str:
    """``"Li1 (Li 0.5; Li 0.5), 1.96 A apart"``, naming both labels where they differ."""
    names = _site_names(big, [i]) + (f" and {_site_names(big, [j])}"
                                     if _site_names(big, [j]) != _site_names(big, [i]) else "")
    return f"{names} ({_fmt_site(big, i)}; {_fmt_site(big, j)}), {d:.2f} A apart"


_SITE_MODEL_ADVICE = (
    "Check the site model against its publication (positions, occupancies), or take the "
    "structure from another refinement")


def _below_text(below: dict) -> str:
    """``"16 O-O pairs 0.99 A apart (physical floor 1.06 A)"``, per element pair."""
    return ", ".join(f"{n} {a}-{b} pair{'s' if n > 1 else ''} {d:.2f} A apart (physical "
                     f"floor {floor:.2f} A)" for (a, b), (n, d, floor) in below.items())


def _main_element(big: Structure, i: int) -> str:
    return max(big[i].species.items(), key=lambda kv: kv[1])[0].symbol


def _fmt_site(big: Structure, i: int) -> str:
    return " ".join(f"{sp} {x:.3g}" for sp, x in big[i].species.items())
