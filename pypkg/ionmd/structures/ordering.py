"""Ordered cells from partially occupied sites.

Sites with the same occupancy (same species and fractions) form one group, as in
pymatgen's ``OrderDisorderedStructureTransformation``. The cell is first repeated
until every group holds a whole number of each species (and of vacancies); then
either the lowest-Ewald-energy arrangement is taken (pymatgen, needs oxidation
states) or one is drawn at random from a seeded generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pymatgen.core import Structure

from ionmd.structures.charges import (declared_oxidation_states, guess_oxidation_states,
                                      nearly_neutral_states)
from ionmd.structures.errors import StructureError
from ionmd.structures.geometry import perpendicular_widths
from ionmd.structures.split_sites import merge_split_sites
from ionmd.structures.supercell import min_width_supercell, parse_supercell

VACANCY = "vacancy"
DEFAULT_MAX_ARRANGEMENTS = 10**8
"""Ewald ordering is refused above this many distinct arrangements (pymatgen's search
took ~10 s for LGPS's 1.5e6 and did not finish in minutes for Li6PS5Cl's 3e13)."""
DEFAULT_MAX_ATOMS = 2000
"""Largest supercell (counting every partially occupied site) searched for integral occupancies."""
MIN_DISTANCE_FRACTION = 0.8
"""Default ``min_distance``: two atoms placed on partially occupied sites keep at least this
fraction of their covalent radii sum (Li-Li 2.05 A). Bonds are 0.8-1.2x that sum; partially
occupied sites closer than this are alternatives of one site model (argyrodite's 48h pairs
at 1.95 A), which a real ordered cell does not fill both of. Distances to fully occupied
sites are the site model's, not the ordering's choice (the overlap check covers them)."""
RANDOM_RESTARTS = 5
RESOLVE_MOVES_PER_SITE = 50
RESOLVE_CANDIDATES = 16
"""``method="random"`` with ``min_distance``: seeded draws, atom moves per partially occupied
site in each, and empty sites tried per move, before the rule is reported unreachable."""
STALL_MOVES_PER_SITE = 5
"""The search for the fewest forced close pairs stops after this many moves per partially
occupied site without finding fewer."""
ROUNDING_HINTS = (5e-3, 0.01, 0.02, 0.05, 0.1, 0.15)
"""Rounding tolerances (``occ_tol``) an error about too large a cell offers, the smallest
that fits; Al-LLZO's Li 0.69 / Al 0.08 on 24d needs 9 cells (2304 sites) at 2e-3, 2 at 5e-3;
LATP's Ewald ordering 5 cells (6.6e24 arrangements) at 2e-3, 1 (4.2e4) at 0.02."""
EWALD_CANDIDATES = 100
"""Lowest-Ewald arrangements searched for one that keeps ``min_distance``."""
IONIC_FLOOR_FRACTION = 0.85
"""Where the occupancies force pairs closer than the default rule (LGPS: 11 Li on 8 pairs of
Li1 sites 1.73 A apart, so 3 pairs must be filled; a cubic garnet's Li 24d/96h sites 1.62 A
apart, with more Li than an arrangement without such pairs holds), the default rule gives
way down to this fraction of the pair's ionic radii sum (pymatgen's radii for the oxidation
states; Li+-Li+ 1.53 A): the arrangement then has the fewest such pairs found, named in the
ordering line. Closer pairs (split positions of one atom, 0.5-1 A apart: the garnet's 96h
pairs 0.8 A) are still refused."""


@dataclass
class OrderedCell:
    """An ordered supercell and how it was made.

    Attributes
    ----------
    structure
        The ordered supercell (every site fully occupied by one element; vacancies removed).
    supercell
        Repetitions of the input cell along a, b, c; or, where no explicit supercell was
        asked for and repeating the cell makes a needle, the rows of the supercell's
        integer matrix (``supercell_text`` writes either).
    site_counts
        For each partially occupied group (keyed by its occupancy, e.g. ``"Cl:0.5 Br:0.5"``):
        how many sites of that kind the supercell has (``"sites"``) and how many got each
        species (``"vacancy"`` for empty ones).
    method
        ``"ewald"``, ``"random"`` or ``"ordered"`` (input had no partial occupancy).
    ewald_energy
        Ewald energy (eV) of the chosen arrangement for ``method="ewald"``, else None.
    seed
        The random seed for ``method="random"``.
    min_distance
        The distance rule the arrangement keeps (see ``order_structure``).
    charges
        The oxidation states the rounding of occupancies kept the cell neutral with (None:
        none known, or the input was ordered).
    """

    structure: Structure
    supercell: tuple
    site_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    method: str = "ordered"
    ewald_energy: float | None = None
    seed: int | None = None
    min_distance: str = ""
    charges: dict[str, float] | None = None
    merged: str = ""
    """Sites of two labels merged into one mixed site (``split_sites.merge_split_sites``),
    e.g. ``"Al5 and Li0 merged (96 pairs of sites 0.10 A apart or closer: one mixed
    site)"``; ``""`` where none were."""
    close_pairs: str = ""
    """Pairs below the default rule that the occupancies force (``IONIC_FLOOR_FRACTION``),
    e.g. ``"3 Li-Li pairs 1.73 A apart ..."``; ``""`` where the rule was kept."""

    @property
    def matrix(self) -> np.ndarray:
        """The supercell's integer matrix (rows: its vectors in the input cell's)."""
        m = np.array(self.supercell, dtype=int)
        return np.diag(m) if m.ndim == 1 else m

    @property
    def cells(self) -> int:
        """How many input cells the ordered cell holds."""
        return round(abs(np.linalg.det(self.matrix.astype(float))))


def _groups(structure: Structure) -> dict[str, tuple[dict[str, float], list[int]]]:
    """Partially occupied sites grouped by occupancy: key -> (fractions, site indices)."""
    groups: dict[str, tuple[dict[str, float], list[int]]] = {}
    for i, site in enumerate(structure):
        if site.is_ordered:
            continue
        fractions = {str(sp.element if hasattr(sp, "element") else sp): float(occ)
                     for sp, occ in site.species.items()}
        vacancy = 1.0 - sum(fractions.values())
        if vacancy > 1e-6:
            fractions[VACANCY] = vacancy
        key = " ".join(f"{sp}:{occ:.4g}" for sp, occ in sorted(fractions.items()))
        groups.setdefault(key, (fractions, []))[1].append(i)
    return groups


def _site_names(structure: Structure, indices: list[int]) -> str:
    # "Li1_7" (shipped examples: Wyckoff label _ running number) names site Li1
    labels = sorted({structure[i].label.rsplit("_", 1)[0] for i in indices if structure[i].label})
    return "/".join(labels) if labels else f"site {indices[0]}"


def _integral(count: float, occ_tol: float, n_sites: int) -> bool:
    return abs(count - round(count)) <= occ_tol * n_sites + 1e-9


def _group_integral(fractions: dict[str, float], n_sites: int, total: int, tol: float) -> bool:
    """Whether each species' count on a group of ``n_sites`` sites per cell is whole within
    ``tol`` per site in ``total`` cells."""
    return all(_integral(total * n_sites * f, tol, total * n_sites) for f in fractions.values())


def _site_counts(groups) -> dict:
    """Per group: its sites and the atoms of each species (vacancies among them) they get,
    the occupancies rounded to whole atoms."""
    return {key: {"sites": len(idx), **{sp: int(round(len(idx) * f)) for sp, f in fr.items()}}
            for key, (fr, idx) in groups.items()}


def _multiplier_needed(fractions: dict[str, float], n_sites: int, occ_tol: float,
                       limit: int = 10000) -> int | None:
    """Smallest k with k * n_sites * fraction near-integral for all species; None past limit."""
    for k in range(1, limit + 1):
        if _group_integral(fractions, n_sites, k, occ_tol):
            return k
    return None


def integral_supercell(structure: Structure, base: tuple[int, int, int] = (1, 1, 1), *,
                       max_atoms: int = DEFAULT_MAX_ATOMS, occ_tol: float = 2e-3,
                       exact: bool = False,
                       charges: dict[str, float] | None = None) -> tuple[int, int, int]:
    """Smallest diagonal repetition (each >= ``base``) with whole numbers on every site group.

    Among repetitions with the fewest cells, the one with the largest smallest
    perpendicular width is taken (most compact cell).

    Parameters
    ----------
    structure
        A structure with partial occupancies (the unit cell to be repeated).
    base
        Minimum repetitions per axis (e.g. from a minimum-width rule).
    max_atoms
        Largest supercell searched, counted in sites of ``structure`` (each partially
        occupied site counts once).
    occ_tol
        Tolerated occupancy error per site (CIF occupancies such as 0.333 are rounded).
    exact
        If True, ``base`` itself must already give whole numbers (an explicit user choice).
    charges
        Element -> oxidation state: a cell whose rounded counts change the charge by half
        an electron or more is skipped (refused where ``exact``). Rounding each site group on
        its own can do that: argyrodite's 4a/4d S/Cl occupancies 1.5 and 3.5 Cl per cell
        both round up, to one Cl too many.

    Raises
    ------
    StructureError
        Naming the site whose occupancies cannot be made whole within ``max_atoms``.
    """
    groups = _groups(structure)
    n_max = max_atoms // max(len(structure), 1)

    def whole(total: int, tol: float = occ_tol) -> bool:
        # each species' count whole within tol, and the rounded counts (vacancies among
        # them) still fill the group's sites once: l6h's Al 0.004 / Li 0.692 / vacancy 0.304
        # rounded all three up at occ_tol 0.005, which the error then offered
        return all(_group_integral(fr, len(idx), total, tol)
                   and sum(round(total * len(idx) * f) for f in fr.values()) == total * len(idx)
                   for fr, idx in groups.values())

    # the file's own charge per cell: rounding that brings a cell nearer neutral is kept
    # (Al-LLZO wa3, -0.15 e per cell as refined: 5 cells round by +0.76 e to neutral)
    own = (sum(charges.get(el.symbol, 0.0) * n
               for el, n in structure.composition.element_composition.items())
           if charges is not None else 0.0)

    def ok(total: int, tol: float = occ_tol) -> bool:
        if not whole(total, tol):
            return False
        if charges is None:
            return True
        added = _rounding_charge(groups, total, charges)
        return abs(added) < 0.5 or abs(own * total + added) < 0.5

    if exact:
        if ok(math.prod(base)):
            return base
        if whole(math.prod(base)):
            raise _charged_rounding_error(structure, groups, math.prod(base), charges,
                                          f"supercell {'x'.join(map(str, base))}")
        # the groups ``whole`` refused, by its own tolerance (one site's, 2e-3, named the
        # garnet's Li 96h: 0.293 x 96 x 8 = 225.02 is whole within 8 x 96 x 2e-3)
        total = math.prod(base)
        bad = [(fr, idx) for fr, idx in groups.values()
               if not _group_integral(fr, len(idx), total, occ_tol)]
        named = "; ".join(f"{_site_names(structure, idx)} ({_fmt(fr)}, {len(idx)} sites per "
                          f"cell: {_counts_text(fr, total * len(idx))})" for fr, idx in bad)
        raise StructureError(
            f"supercell {'x'.join(map(str, base))} gives non-integral occupancies on "
            f"{named}; choose a supercell whose number of cells makes every occupancy x sites "
            "a whole number, or give a minimum width instead and let ionmd enlarge it")
    best: tuple[float, tuple[int, int, int]] | None = None
    for total in range(math.prod(base), n_max + 1):
        if not ok(total):
            continue
        for r1 in range(base[0], total + 1):
            for r2 in range(base[1], total // r1 + 1):
                if total % (r1 * r2) == 0 and total // (r1 * r2) >= base[2]:
                    reps = (r1, r2, total // (r1 * r2))
                    w = perpendicular_widths(structure.lattice.matrix * np.array(reps)[:, None]).min()
                    if best is None or w > best[0] + 1e-9:
                        best = (w, reps)
        if best is not None:
            return best[1]
    # max_atoms is Python's only (order_structure); commands and campaigns set the rounding
    looser = next(((tol, n) for tol in ROUNDING_HINTS if tol > occ_tol
                   for n in range(math.prod(base), n_max + 1) if ok(n, tol)), None)
    hint = (f"Allow more rounding: occ_tol={looser[0]:g} (`--order-tol {looser[0]:g}`, "
            f"`order_tol = {looser[0]:g}` in a campaign) makes them whole in {looser[1]} "
            f"cell{'s' if looser[1] > 1 else ''}; or " if looser else "")
    charged = next((t for t in range(math.prod(base), n_max + 1) if whole(t)), None)
    if charged is not None:
        raise _charged_rounding_error(
            structure, groups, charged, charges,
            f"every supercell of at most max_atoms={max_atoms} sites",
            advice=(f"{hint}{'r' if looser else 'R'}ound the occupancies in the input so "
                    "that they are neutral, or (Python) raise max_atoms of order_structure"))
    # name the group that needs the largest repetition
    worst = max(groups.values(), key=lambda g: _multiplier_needed(g[0], len(g[1]), occ_tol) or 10**9)
    k = _multiplier_needed(worst[0], len(worst[1]), occ_tol)
    need = f"needs {k} copies of the cell" if k else "cannot be made whole in any cell up to 10000 copies"
    wide = (f" as wide as asked ({'x'.join(map(str, base))} repetitions are)"
            if math.prod(base) > 1 else "")
    raise StructureError(
        f"occupancies of {_site_names(structure, worst[1])} ({_fmt(worst[0])}, {len(worst[1])} "
        f"sites per cell) {need}; no supercell of at most max_atoms={max_atoms} sites"
        f"{wide} has whole numbers on every site. {hint}{'r' if looser else 'R'}ound the "
        f"occupancies in the input{', ask for a smaller width' if wide else ''}, or (Python) "
        "raise max_atoms of order_structure")


def _counts_text(fractions: dict[str, float], sites: int) -> str:
    """``"Zr 89.6, Ta 38.4"``: each species' count on ``sites`` sites."""
    return ", ".join(f"{sp} {sites * f:.4g}" for sp, f in fractions.items() if sp != VACANCY)


def _rounding_charge(groups, total: int, charges: dict[str, float]) -> float:
    """Charge (e) that rounding every group's counts to whole atoms adds to a cell of
    ``total`` copies (the counts ``order_structure`` places)."""
    return sum(charges.get(sp, 0.0) * (round(total * len(idx) * f) - total * len(idx) * f)
               for fr, idx in groups.values() for sp, f in fr.items() if sp != VACANCY)


def _charged_rounding_error(structure, groups, total: int, charges, what: str,
                            advice: str = "allow less rounding (--order-tol, occ_tol) or a "
                                          "larger supercell") -> StructureError:
    exact: dict[str, float] = {}
    placed: dict[str, int] = {}
    for fr, idx in groups.values():
        for sp, f in fr.items():
            if sp != VACANCY:
                exact[sp] = exact.get(sp, 0) + total * len(idx) * f
                placed[sp] = placed.get(sp, 0) + round(total * len(idx) * f)
    changed = ", ".join(f"{sp} {exact[sp]:.4g} -> {placed[sp]}" for sp in sorted(exact)
                        if abs(placed[sp] - exact[sp]) > 1e-6)
    cells = f"{total} cell{'s' if total > 1 else ''}"
    sites = _site_names(structure, [i for _, idx in groups.values() for i in idx])
    return StructureError(
        f"{what} can only round the occupancies to whole atoms with a net charge "
        f"({_rounding_charge(groups, total, charges):+.2g} e in {cells}: {changed} on the "
        f"partially occupied sites {sites}). {advice[0].upper()}{advice[1:]}")


def _fmt(fractions: dict[str, float]) -> str:
    return ", ".join(f"{sp} {occ:.4g}" for sp, occ in fractions.items())


def _with_oxidation_states(structure: Structure, oxidation_states: dict[str, float] | None,
                           counts: dict[str, int]) -> Structure:
    """``structure`` decorated with oxidation states: the user's, or pymatgen's guess for
    the whole-number composition ``counts`` of the ordered cell."""
    from pymatgen.core import Composition
    s = structure.copy()
    if oxidation_states:
        missing = {str(e) for e in s.composition.elements} - set(oxidation_states)
        if missing:
            raise StructureError(f"oxidation_states lacks {sorted(missing)}; give one per element")
        s.add_oxidation_state_by_element(oxidation_states)
        return s
    guess = guess_oxidation_states(counts)
    if not guess:
        raise StructureError(
            f"cannot guess oxidation states for {Composition(counts).reduced_formula} (needed "
            "for the Ewald ordering); use --order random (Python: method='random'), or from "
            "Python give them: oxidation_states={'Li': 1, ...}")
    s.add_oxidation_state_by_element(guess)
    return s


def order_structure(structure: Structure, method: Literal["ewald", "random"] = "random", *,
                    seed: int | None = None, supercell=None, min_width: float | None = None,
                    oxidation_states: dict[str, float] | None = None,
                    max_atoms: int = DEFAULT_MAX_ATOMS, occ_tol: float = 2e-3,
                    max_arrangements: int = DEFAULT_MAX_ARRANGEMENTS,
                    min_distance: float | None = None) -> OrderedCell:
    """An ordered supercell of ``structure``.

    Parameters
    ----------
    structure
        pymatgen ``Structure``, possibly with partially occupied sites.
    method
        ``"ewald"``: the lowest-Ewald-energy arrangement (pymatgen's
        ``OrderDisorderedStructureTransformation``; cost grows combinatorially with the
        number of partially occupied sites, so keep such cells small). ``"random"``: each
        group's species are spread over its sites by a random permutation from ``seed``.
    seed
        Seed for ``method="random"`` (required there: the same seed gives the same cell).
    supercell
        Explicit repetitions (``"2x2x2"``); must already make every occupancy whole.
    min_width
        Minimum perpendicular width (A) of the cell; the repetition is then enlarged
        further, if needed, until occupancies are whole. Neither given: the smallest
        such cell.
    oxidation_states
        Element -> oxidation state for the Ewald energy; default: those ``structure``
        carries when it gives one per element (a CIF's ``_atom_type_oxidation_number``,
        ``charges.declared_oxidation_states``), else pymatgen's guess
        (``charges.guess_oxidation_states``; LiNi0.5Mn0.5O2: Ni 4, Mn 2).
    max_atoms, occ_tol
        See ``integral_supercell``. A larger ``occ_tol`` rounds occupancies to the
        nearest whole count in a small cell (e.g. 0.05 makes LGPS's refined
        occupancies Li20Ge2P4S24 in one cell).
    max_arrangements
        ``method="ewald"`` is refused when the cell has more distinct arrangements
        (product over site groups of multinomial coefficients) than this.
    min_distance
        Two atoms placed on partially occupied sites stay at least this far (A) apart,
        periodic images included. Default (None): ``MIN_DISTANCE_FRACTION`` x the pair's
        covalent radii sum, giving way where the occupancies force closer pairs (the
        fewest such pairs, none below ``IONIC_FLOOR_FRACTION`` x the ionic radii sum,
        ``OrderedCell.close_pairs``); 0 turns the rule off. ``"random"`` keeps the
        plain seeded draw when it already obeys the rule, else moves clashing atoms to
        other sites of their group (seeded min-conflicts search); ``"ewald"`` takes the lowest-energy
        arrangement that obeys it. When no arrangement is found, a ``StructureError``
        names the sites and the closest pair the occupancies force.

    Raises
    ------
    StructureError
        On an unknown method, a missing seed, occupancies that cannot be made whole, too
        many arrangements for Ewald ordering, or a ``min_distance`` no arrangement keeps.
    """
    if method not in ("ewald", "random"):
        raise StructureError(f"unknown ordering method {method!r}; use 'ewald' or 'random'")
    if method == "random" and seed is None:
        raise StructureError("method='random' needs a seed (an integer) so the cell can be reproduced")
    if supercell is not None and min_width is not None:
        raise StructureError("give either an explicit supercell or a minimum width, not both")
    structure = structure.copy()
    if oxidation_states is None:        # the file's own states, where it gives one per element
        oxidation_states = declared_oxidation_states(structure)
    structure.remove_oxidation_states()
    structure, merged = merge_split_sites(structure)
    if supercell is not None:
        base = parse_supercell(supercell)
    elif min_width is not None:
        base = min_width_supercell(structure.lattice, min_width)
    else:
        base = (1, 1, 1)
    if structure.is_ordered:
        return OrderedCell(structure.make_supercell(base, in_place=False), base)
    charges = _charges_of(structure, oxidation_states)
    try:
        reps = integral_supercell(structure, base, max_atoms=max_atoms, occ_tol=occ_tol,
                                  exact=supercell is not None, charges=charges)
    except StructureError:
        # a width no diagonal repetition of a whole count reaches within max_atoms may be
        # reached by another supercell of such a count (argyrodite's S/Cl 0.385 needs 11,
        # 22 or 33 cells; 20 A: 3x3x3, 27, diagonally; 22 cells otherwise)
        reps = None if supercell is not None else _fewer_cells(
            structure, max_atoms // len(structure) + 1, min_width, max_atoms, occ_tol, charges)
        if reps is None:
            raise
    else:
        if supercell is None:   # not the user's repetitions: the most compact of that size
            reps = (_fewer_cells(structure, math.prod(reps), min_width, max_atoms, occ_tol,
                                 charges)
                    or _compact(structure.lattice.matrix, reps, min_width))
    big = structure.make_supercell(reps, in_place=False)
    groups = _groups(big)
    counts = _site_counts(groups)
    for key, c in counts.items():  # rounding within occ_tol must still fill every site once
        excess = sum(v for k, v in c.items() if k != "sites") - c["sites"]
        if excess:
            raise StructureError(f"occupancies {key} do not add up to whole sites; round them in the input")
    element_counts: dict[str, int] = {}
    for site in big:
        if site.is_ordered:
            element_counts[site.specie.symbol] = element_counts.get(site.specie.symbol, 0) + 1
    for c in counts.values():
        for sp, n in c.items():
            if sp not in ("sites", VACANCY):
                element_counts[sp] = element_counts.get(sp, 0) + n
    # the ionic floor's radii: the known states, else the guess for the whole-number cell
    # (a refined Li55.968 La24 Zr16 O96 has no neutral guess; its Li56 cell has)
    limits = _PairLimits(big, min_distance, charges or guess_oxidation_states(element_counts))
    if method == "random":
        ordered, draw = _order_random(big, groups, counts, seed, limits)
        return OrderedCell(ordered, reps, counts, "random", seed=seed,
                           min_distance=limits.describe(), charges=charges, merged=merged,
                           close_pairs=limits.close_pairs_note(draw))
    arrangements = _arrangements(counts)
    if arrangements > max_arrangements:
        # the cell is the smallest with whole occupancies unless the user chose it: only
        # more rounding makes it smaller (LATP: 5 cells, 6.6e24; occ_tol 0.02: 1, 4.2e4)
        smaller = (" or use a smaller supercell" if supercell is not None else
                   _ewald_rounding_hint(structure, base, max_atoms, occ_tol, charges,
                                        max_arrangements))
        raise StructureError(
            f"Ewald ordering of this {supercell_text(reps)} cell would search "
            f"{float(arrangements):.1e} arrangements (at most {max_arrangements:.0e}); order "
            "it at random with a seed instead (`--order random --order-seed N`; in a campaign "
            f"`order = \"random\"`; in Python method='random'){smaller}")
    ordered, energy, draw = _order_ewald(big, oxidation_states, element_counts, groups,
                                         counts, limits)
    return OrderedCell(ordered, reps, counts, "ewald", ewald_energy=energy,
                       min_distance=limits.describe(), charges=charges, merged=merged,
                       close_pairs=limits.close_pairs_note(draw))


def _arrangements(counts: dict) -> int:
    """Distinct arrangements of ``counts`` (per group: sites and atoms of each species)."""
    return math.prod(
        math.factorial(c["sites"]) // math.prod(math.factorial(n) for k, n in c.items() if k != "sites")
        for c in counts.values())


def _ewald_rounding_hint(structure: Structure, base, max_atoms: int, occ_tol: float,
                         charges, max_arrangements: int) -> str:
    """``", or allow more rounding: ..."`` naming the smallest ``ROUNDING_HINTS`` tolerance
    whose cell has few enough arrangements for Ewald ordering; ``""`` where none has."""
    for tol in (t for t in ROUNDING_HINTS if t > occ_tol):
        try:
            reps = integral_supercell(structure, base, max_atoms=max_atoms, occ_tol=tol,
                                      charges=charges)
        except StructureError:
            continue
        n = _arrangements(_site_counts(_groups(structure.make_supercell(reps, in_place=False))))
        if n <= max_arrangements:
            cells = math.prod(reps)
            return (f", or allow more rounding: occ_tol={tol:g} (`--order-tol {tol:g}`, "
                    f"`order_tol = {tol:g}` in a campaign) gives {cells} cell"
                    f"{'s' if cells > 1 else ''} with {float(n):.1e} arrangements")
    return ""


def _compact(matrix: np.ndarray, reps: tuple[int, int, int], min_width: float | None):
    """``reps``, or a supercell of as many cells that is closer to a cube (``widest_matrix``)
    where repeating the cell makes a needle: occupancies that need a prime number of cells
    (17) gave 17x1x1. Returned as a matrix (tuple of rows) where it is not diagonal."""
    from ionmd.structures.supercell_shape import PLAIN_WIDTH_SHARE, widest_matrix

    alt = widest_matrix(matrix, math.prod(reps), min_width or 0.0)
    if alt is None:
        return reps
    plain = np.sort(perpendicular_widths(np.diag(reps) @ matrix))
    other = np.sort(perpendicular_widths(alt @ matrix))
    if plain[0] >= PLAIN_WIDTH_SHARE * other[0] and plain[2] * PLAIN_WIDTH_SHARE <= other[2]:
        return reps
    if np.count_nonzero(alt - np.diag(np.diag(alt))) == 0 and (np.diag(alt) > 0).all():
        return tuple(int(x) for x in np.diag(alt))
    return tuple(tuple(int(x) for x in row) for row in alt)


def _fewer_cells(structure: Structure, below: int, min_width: float | None, max_atoms: int,
                 occ_tol: float, charges) -> tuple | None:
    """The supercell of fewest cells, fewer than ``below`` (those of a diagonal repetition),
    that reaches ``min_width`` with whole occupancies (a primitive cell: 4 cells of a
    face-centred one make its conventional cube, wider than 2x2x2), as a matrix; None where
    there is none."""
    from ionmd.structures.supercell_shape import min_width_matrix, widest_matrix

    if min_width is None:
        return None
    fewest = round(abs(np.linalg.det(min_width_matrix(structure.lattice.matrix, min_width))))
    for total in range(fewest, below):
        try:    # the same whole-count and charge rule, for this many cells
            integral_supercell(structure, (total, 1, 1), max_atoms=max_atoms, occ_tol=occ_tol,
                               exact=True, charges=charges)
        except StructureError:
            continue
        matrix = widest_matrix(structure.lattice.matrix, total, min_width)
        if matrix is not None:
            return tuple(tuple(int(x) for x in row) for row in matrix)
    return None


def supercell_text(supercell) -> str:
    """``"2x2x2"`` for repetitions, ``"[[2, 1, 0], ...] (17 cells)"`` for a matrix."""
    if all(isinstance(x, (int, np.integer)) for x in supercell):
        return "x".join(map(str, supercell))
    n = round(abs(np.linalg.det(np.array(supercell, dtype=float))))
    return f"{[list(r) for r in supercell]} ({n} cells)"


def _charges_of(structure: Structure, oxidation_states) -> dict[str, float] | None:
    """Oxidation states to keep rounded cells neutral with: the given ones, else the guess
    for the file's composition; None when an element has none."""
    states = oxidation_states
    if not states:
        guess = guess_oxidation_states(structure.composition)
        if not guess or any(v != round(v) for v in guess.values()):
            # refined occupancies a little off neutral: pymatgen fits fractional states
            # (Li6 In2.03 Cl12: In 2.67, a -16 e "net charge" of an ordered cell whose
            # In3+ charge is +3 e; Al-LLZO: Zr 3.5, without an ionic radius, so no floor
            # for the close pairs its occupancies force) or none (Li6.4La3Zr1.4Ta0.6O12
            # as refined, -0.03 e)
            guess = nearly_neutral_states(structure.composition) or guess
        states = guess
    elements = {el.symbol for el in structure.composition.elements}
    return states if states and elements <= set(states) else None


def net_charge_note(parent: Structure, cell: OrderedCell) -> str:
    """``", net charge +2 e (...)"`` where ``cell`` (ordered from ``parent``) is charged
    under the oxidation states its ordering used (``cell.charges``: the file's, else
    pymatgen's guess), ``""`` where it is neutral or none are known. Rounding keeps the
    file's own charge (``integral_supercell``); a file whose refined occupancies are charged
    (the shipped LGPS: +0.14 e per cell) gives a charged cell, which MD with a
    machine-learned potential runs without a word."""
    states = cell.charges
    if states is None:
        return ""

    def charge(structure):
        return sum(states[el.symbol] * n for el, n in structure.composition.element_composition.items())
    net = charge(cell.structure)
    if abs(net) < 0.5:
        return ""
    names = " ".join(f"{el}{v:+g}" for el, v in states.items())
    return (f", net charge {net:+.0f} e ({names}; the file's occupancies give {charge(parent):+.2g} "
            f"e per cell)")


class _PairLimits:
    """The ``min_distance`` rule on one supercell: which pairs of partially occupied sites
    may not both hold atoms, and checks of whole arrangements."""

    def __init__(self, big: Structure, min_distance: float | None,
                 charges: dict[str, float] | None = None):
        from ionmd.structures.checks import covalent_radius

        if min_distance is not None and not (min_distance >= 0 and math.isfinite(min_distance)):
            raise StructureError(f"min_distance must be >= 0 A (0: no rule), got {min_distance}")
        self.min_distance = min_distance
        self.partial = [i for i, site in enumerate(big) if not site.is_ordered]
        symbols = sorted({el.symbol for site in big for el in site.species.elements})
        self.radius = {el: covalent_radius(el) for el in symbols}
        self.ionic = _ionic_radii(symbols, charges) if min_distance is None else None
        self.relaxed = False    # True: the floor, not the rule, is the limit
        self._tables: dict[bool, dict[tuple[str, str], float]] = {}    # shared by copies
        reach = (min_distance if min_distance is not None
                 else MIN_DISTANCE_FRACTION * 2 * max(self.radius.values()))
        # neighbours of each partially occupied site within the largest limit
        self.near: dict[int, list[tuple[int, float]]] = {i: [] for i in self.partial}
        if reach > 0 and self.partial:
            coords = big.frac_coords[self.partial]
            d = big.lattice.get_all_distances(coords, coords)
            for row, i in enumerate(self.partial):
                self.near[i] = [(self.partial[j], float(d[row, j]))
                                for j in np.flatnonzero(d[row] < reach) if j != row]

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

    def relax(self) -> "_PairLimits | None":
        """These limits with the default rule given way to the ionic floor; None where
        no floor is known (a user's ``min_distance``, elements without oxidation states)."""
        if self.ionic is None:
            return None
        import copy
        out = copy.copy(self)
        out.relaxed = True
        return out

    def strict(self) -> "_PairLimits":
        import copy
        out = copy.copy(self)
        out.relaxed = False
        return out

    def close_pairs_note(self, draw: list) -> str:
        """The pairs of atoms placed on partially occupied sites (``draw``: species per
        site, ``VACANCY`` for empty ones) closer than the default rule, by element pair:
        count and shortest distance; ``""`` where none or a user's ``min_distance`` rules."""
        if self.min_distance is not None:
            return ""
        rule = self.strict()
        found: dict[tuple[str, str], list[float]] = {}
        for i in self.partial:
            for j, d in self.near[i]:
                a, b = draw[i], draw[j]
                if i < j and VACANCY not in (a, b) and d < rule.limit(a, b):
                    found.setdefault(tuple(sorted((a, b))), []).append(d)
        return self._describe_close(found)

    def _describe_close(self, found) -> str:
        if not found:
            return ""
        parts = [f"{len(ds)} {a}-{b} pair{'s' if len(ds) > 1 else ''} {min(ds):.2f} A apart"
                 for (a, b), ds in sorted(found.items())]
        return (f"{', '.join(parts)} (closer than {MIN_DISTANCE_FRACTION:g} x covalent radii "
                "sum: the occupancies force such pairs of partially occupied sites; the fewest "
                f"found, none closer than {IONIC_FLOOR_FRACTION:g} x ionic radii sum; "
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

    def error(self, big: Structure, method: str, tried: str, hit) -> StructureError:
        i, j, d = hit
        a, b = _fmt_site(big, i), _fmt_site(big, j)
        names = _site_names(big, [i]) + (f" and {_site_names(big, [j])}"
                                         if _site_names(big, [j]) != _site_names(big, [i]) else "")
        from ionmd.structures.checks import OVERLAP_FRACTION, covalent_radius

        overlap = OVERLAP_FRACTION * min(covalent_radius(x.symbol) + covalent_radius(y.symbol)
                                         for x in big[i].species for y in big[j].species)
        if d < overlap:     # no min_distance helps: the overlap check refuses such a cell
            return StructureError(
                f"no {method} arrangement keeps the atoms on partially occupied sites at least "
                f"{self.describe()} apart ({tried}): sites of {names} ({a}; {b}) are {d:.2f} A "
                f"apart, closer than any two atoms may be ({OVERLAP_FRACTION:g} x covalent radii "
                f"sum, {overlap:.2f} A: split positions of one atom), and no arrangement found "
                "leaves one of each such pair empty. Round the occupancies in the input so that "
                "each pair of split positions holds at most one atom")
        return StructureError(
            f"no {method} arrangement keeps the atoms on partially occupied sites at least "
            f"{self.describe()} apart ({tried}): sites of {names} ({a}; {b}) are "
            f"{d:.2f} A apart and the occupancies force some such pairs to be filled. If the "
            f"site model means it, allow it: min_distance={math.floor(d * 10) / 10:g} "
            f"(`--order-min-distance {math.floor(d * 10) / 10:g}`, `order_min_distance` in a "
            "campaign), or 0 for no rule")


def _ionic_radii(symbols, charges: dict[str, float] | None) -> dict[str, float] | None:
    """pymatgen's ionic radius (A) of each element in its oxidation state; None where a
    state or a radius is unknown."""
    from pymatgen.core import Species

    if not charges or not set(symbols) <= set(charges):
        return None
    out = {}
    for el in symbols:
        try:
            r = Species(el, charges[el]).ionic_radius
        except Exception:       # a state pymatgen has no data for
            r = None
        if not r:
            return None
        out[el] = float(r)
    return out


def _fmt_site(big: Structure, i: int) -> str:
    return " ".join(f"{sp} {x:.3g}" for sp, x in big[i].species.items())


def _order_random(big: Structure, groups, counts, seed: int,
                  limits: _PairLimits) -> tuple[Structure, list]:
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

    draw = plain_draw()
    hit = limits.first_clash(draw)
    if hit is not None:     # the plain draw breaks the rule: move atoms until none clash
        members = {key: idx for key, (_, idx) in groups.items()}
        for _ in range(RANDOM_RESTARTS):
            if _resolve_clashes(rng, draw, members, limits):
                break
            draw = plain_draw()
        else:   # the occupancies force close pairs: the fewest above the ionic floor
            relaxed = limits.relax()
            best = None
            for _ in range(RANDOM_RESTARTS if relaxed else 0):
                draw = plain_draw()
                if _resolve_clashes(rng, draw, members, relaxed):
                    n = _fewest_close_pairs(rng, draw, members, limits, relaxed)
                    if best is None or n < best[0]:
                        best = (n, draw)
            if best is None:
                raise limits.error(big, "random", f"{RANDOM_RESTARTS} seeded draws, each "
                                   f"followed by up to {RESOLVE_MOVES_PER_SITE} moves per site",
                                   hit)
            draw = best[1]
    keep = [i for i, sp in enumerate(draw) if sp != VACANCY]
    return (Structure(big.lattice, [draw[i] for i in keep], big.frac_coords[keep],
                      labels=[big[i].label for i in keep]), draw)


def _fewest_close_pairs(rng, draw: list, members: dict, strict: _PairLimits,
                        relaxed: _PairLimits) -> int:
    """Min-conflicts search, in place, on a draw that keeps ``relaxed``: move atoms that
    break ``strict`` to empty sites of their group that keep ``relaxed`` and break
    ``strict`` least; the draw with the fewest such pairs is kept. Returns that number."""
    state = _Clashes(draw, members, strict)

    def least_strict_clashes(sp: str, trial: list) -> int:
        # the atom's own site is among the trial sites, so some site keeps ``relaxed``
        allowed = [j for j in trial if _count_clashes(j, sp, draw, relaxed) == 0]
        cost = [state.count(j, sp) for j in allowed]
        choices = [j for j, c in zip(allowed, cost) if c == min(cost)]
        return choices[int(rng.integers(len(choices)))]

    best, best_draw = state.pairs(), list(draw)
    since_best = 0
    for _ in range(RESOLVE_MOVES_PER_SITE * len(strict.partial)):
        if not state.bad or since_best > STALL_MOVES_PER_SITE * len(strict.partial):
            break
        since_best += 1
        if not state.move(rng, least_strict_clashes, stay=True):
            continue
        if state.pairs() < best:
            best, best_draw, since_best = state.pairs(), list(draw), 0
    draw[:] = best_draw
    return best


def _resolve_clashes(rng, draw: list, members: dict, limits: _PairLimits) -> bool:
    """Min-conflicts search, in place: repeatedly take a random atom that is too close to
    another one and move it to the empty site of its own group (of a few drawn at random)
    where it has the fewest such neighbours. True when no pair breaks the rule."""
    state = _Clashes(draw, members, limits)

    def fewest_clashes(sp: str, trial: list) -> int:
        return trial[int(np.argmin([state.count(j, sp) for j in trial]))]

    for _ in range(RESOLVE_MOVES_PER_SITE * len(limits.partial)):
        if not state.bad:
            return True
        if not state.move(rng, fewest_clashes):
            return False          # a group without vacancies: its sites are all filled anyway
    return not state.bad


class _Clashes:
    """The state both min-conflicts searches share, on ``draw`` (species per site,
    ``VACANCY`` for empty ones; changed in place): how many atoms placed on partially
    occupied sites each atom is too close to under ``limits`` (``n_near``), and the atoms
    with any (``bad``)."""

    def __init__(self, draw: list, members: dict, limits: _PairLimits):
        self.draw, self.members, self.limits = draw, members, limits
        self.group_of = {i: key for key, idx in members.items() for i in idx}
        self.n_near = {i: self.count(i, draw[i]) for i in limits.partial if draw[i] != VACANCY}
        self.bad = {i for i, n in self.n_near.items() if n}

    def count(self, i: int, sp: str) -> int:
        """Atoms too close to ``sp`` put on site ``i``."""
        return _count_clashes(i, sp, self.draw, self.limits)

    def pairs(self) -> int:
        return sum(self.n_near.values()) // 2

    def move(self, rng, choose, stay: bool = False) -> bool:
        """Lift a random atom of ``bad`` and put it on the site ``choose(species, sites)``
        picks among up to ``RESOLVE_CANDIDATES`` empty sites of its group drawn at random
        (its own site first, where ``stay``). False, moving nothing, where the group has
        no empty site. (The draws from ``rng`` come in this order, then ``choose``'s: a
        seeded ordering depends on it.)"""
        i = sorted(self.bad)[int(rng.integers(len(self.bad)))]
        empty = [j for j in self.members[self.group_of[i]] if self.draw[j] == VACANCY]
        if not empty:
            return False
        sp = self.draw[i]
        self.put(i, VACANCY)
        trial = ([i] if stay else []) + [empty[k] for k in
                                         rng.permutation(len(empty))[:RESOLVE_CANDIDATES]]
        self.put(choose(sp, trial), sp)
        return True

    def put(self, i: int, sp: str) -> None:
        """Put ``sp`` (or a vacancy) on site ``i`` and update the clash counts around it."""
        draw, n_near, bad, limits = self.draw, self.n_near, self.bad, self.limits
        limit = limits.table()
        old = draw[i]
        for j, d in limits.near[i]:
            other = draw[j]
            if other in (None, VACANCY):
                continue
            if old != VACANCY and d < limit[old, other]:
                n_near[j] -= 1
            if sp != VACANCY and d < limit[sp, other]:
                n_near[j] += 1
            (bad.add if n_near[j] else bad.discard)(j)
        draw[i] = sp
        if sp == VACANCY:
            n_near.pop(i, None)
            bad.discard(i)
        else:
            n_near[i] = self.count(i, sp)
            (bad.add if n_near[i] else bad.discard)(i)


def _count_clashes(i: int, sp: str, draw: list, limits: _PairLimits) -> int:
    limit = limits.table()
    return sum(1 for j, d in limits.near[i]
               if draw[j] not in (None, VACANCY) and d < limit[sp, draw[j]])


def _order_ewald(big: Structure, oxidation_states, element_counts, groups, counts,
                 limits: _PairLimits) -> tuple[Structure, float, list]:
    """The lowest-Ewald-energy arrangement that keeps ``limits``, by pymatgen's
    ``EwaldMinimizer`` on ionmd's own site groups and counts. (pymatgen's
    ``OrderDisorderedStructureTransformation`` merges groups whose occupancies agree within
    10 %: LGPS's Li 0.691 and 0.643 sites got 8 + 8 Li instead of 11 + 5.)"""
    from pymatgen.analysis.ewald import EwaldMinimizer, EwaldSummation
    from pymatgen.core import Species

    charged = _with_oxidation_states(big, oxidation_states, element_counts)
    oxi = {sp.symbol: sp.oxi_state for site in charged for sp in site.species}
    struct = Structure.from_sites(charged)
    manipulations = []      # [charge ratio, how many, sites, species (None: vacancy)]
    for key, (fractions, idx) in groups.items():
        atoms = {sp: counts[key][sp] for sp in fractions if sp != VACANCY}
        first = max(atoms, key=lambda sp: abs(oxi[sp]))     # fills every site to start with
        for i in idx:
            struct[i] = Species(first, oxi[first])
        for sp, n in atoms.items():
            if sp != first and n:
                ratio = oxi[sp] / oxi[first] if oxi[first] else 0.0
                manipulations.append([ratio, n, list(idx), Species(sp, oxi[sp])])
        empty = counts[key]["sites"] - sum(atoms.values())
        if empty:
            manipulations.append([0, empty, list(idx), None])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not manipulations:       # occupancies rounded to full sites: one arrangement
            found = [(EwaldSummation(struct).total_energy, [])]
        else:                       # (EwaldMinimizer fails on an empty list)
            matrix = EwaldSummation(struct).total_energy_matrix
            found = EwaldMinimizer(matrix, manipulations, EWALD_CANDIDATES,
                                   EwaldMinimizer.ALGO_FAST).output_lists
    first_hit = None
    draws = []
    for energy, changes in found:       # lowest energy first
        draw = [site.specie.symbol for site in struct]
        for i, sp in changes:
            draw[i] = VACANCY if sp is None else sp.symbol
        draws.append((float(energy), draw))
    # the default rule, else (occupancies forcing close pairs) its ionic floor
    for rule in (limits, limits.relax()):
        for energy, draw in draws if rule else ():
            hit = rule.first_clash(draw)
            if hit is None:
                keep = [i for i, sp in enumerate(draw) if sp != VACANCY]
                return (Structure(big.lattice, [draw[i] for i in keep], big.frac_coords[keep],
                                  labels=[big[i].label for i in keep]), energy, draw)
            first_hit = first_hit or hit
    raise limits.error(big, "ewald", f"the {len(found)} lowest-energy arrangements", first_hit)
