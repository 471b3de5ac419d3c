"""Supercells whose site groups hold whole numbers of atoms: partially occupied sites
grouped by occupancy, the smallest (or most compact) repetition with whole counts that
keeps the cell neutral, and the errors and rounding hints where there is none."""

from __future__ import annotations

import math
import re

import numpy as np
from pymatgen.core import Structure

from ionmd.structures.errors import StructureError
from ionmd.structures.geometry import perpendicular_widths
from ionmd.structures.occupancy_tolerance import OCCUPANCY_TOLERANCE

VACANCY = "vacancy"
DEFAULT_MAX_ATOMS = 2000
"""Largest supercell (counting every partially occupied site) searched for integral occupancies."""
ROUNDING_HINTS = (5e-3, 0.01, 0.02, 0.05, 0.1, 0.15)
"""Rounding tolerances (``occ_tol``) an error about too large a cell offers, the smallest
that fits; Al-LLZO's Li 0.69 / Al 0.08 on 24d needs 9 cells (2304 sites) at 2e-3, 2 at 5e-3;
LATP's Ewald ordering 5 cells (6.6e24 arrangements) at 2e-3, 1 (4.2e4) at 0.02."""


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
    # "Li1_7" (shipped examples: Wyckoff label _ running number) names site Li1, and so
    # does "Li1_7_2", its copy in a supercell (pymatgen's make_supercell appends "_2"; the
    # LGPS line named Li1_1/Li1_10/.../Li1_9, 16 labels)
    labels = sorted({re.sub(r"(_\d+)+$", "", structure[i].label)
                     for i in indices if structure[i].label})
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
                       max_atoms: int = DEFAULT_MAX_ATOMS,
                       occ_tol: float = OCCUPANCY_TOLERANCE,
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
        Tolerated occupancy error per site, inclusive (CIF occupancies such as 0.333 are
        rounded; default :data:`~ionmd.structures.occupancy_tolerance.OCCUPANCY_TOLERANCE`).
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
        ways = _ways_for_exact(structure, base, ok, max_atoms, occ_tol, charges)
        if whole(math.prod(base)):
            raise _charged_rounding_error(structure, groups, math.prod(base), charges,
                                          f"supercell {'x'.join(map(str, base))}",
                                          advice=ways or "allow less rounding (--order-tol, "
                                          "occ_tol) or a larger supercell")
        # the groups ``whole`` refused, by its own tolerance (one site's, 2e-3, named the
        # garnet's Li 96h: 0.293 x 96 x 8 = 225.02 is whole within 8 x 96 x 2e-3)
        total = math.prod(base)
        bad = [(fr, idx) for fr, idx in groups.values()
               if not _group_integral(fr, len(idx), total, occ_tol)]
        named = "; ".join(f"{_site_names(structure, idx)} ({_fmt(fr)}, {len(idx)} sites per "
                          f"cell: {_counts_text(fr, total * len(idx))})" for fr, idx in bad)
        raise StructureError(
            f"supercell {'x'.join(map(str, base))} gives non-integral occupancies on "
            f"{named}; " + (ways or "choose a supercell whose number of cells makes every "
                            "occupancy x sites a whole number, or give a minimum width "
                            "instead and let ionmd enlarge it"))
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


def _ways_for_exact(structure: Structure, base, ok, max_atoms: int, occ_tol: float,
                    charges) -> str:
    """The choices that order ``structure`` where the explicit supercell ``base`` cannot:
    the smallest ``ROUNDING_HINTS`` tolerance that makes ``base`` itself whole and neutral,
    and the smallest supercell at least as large along each axis that does so at
    ``occ_tol`` (each checked by the rule that refused ``base``); "" where neither does.
    (Argyrodite's S/Cl 0.385 in 2x2x2 at 2e-3 was refused with a generic hint although
    `--order-tol 0.01` orders it there, neutral.)"""
    total = math.prod(base)
    text = "x".join(map(str, base))
    ways = []
    tol = next((t for t in ROUNDING_HINTS if t > occ_tol and ok(total, t)), None)
    if tol is not None:
        ways.append(f"allow more rounding: occ_tol={tol:g} (`--order-tol {tol:g}`, "
                    f"`order_tol = {tol:g}` in a campaign) orders it in {text}")
    try:
        reps = integral_supercell(structure, base, max_atoms=max_atoms, occ_tol=occ_tol,
                                  charges=charges)
    except StructureError:
        reps = None
    if reps is not None:
        n = math.prod(reps)
        ways.append(f"choose supercell {'x'.join(map(str, reps))} ({n} cells; `--supercell "
                    f"{'x'.join(map(str, reps))}`, `supercell = \"{'x'.join(map(str, reps))}\"` "
                    "in a campaign), or give a minimum width (e.g. `--supercell 15A`) and let ionmd "
                    "enlarge the cell")
    return "; or ".join(ways)


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


def _arrangements(counts: dict) -> int:
    """Distinct arrangements of ``counts`` (per group: sites and atoms of each species)."""
    return math.prod(
        math.factorial(c["sites"]) // math.prod(math.factorial(n) for k, n in c.items() if k != "sites")
        for c in counts.values())


def _count_text(n: int) -> str:
    """A whole count as ``"8.7e+15"``; one past a float's range in the same form (OBELiX
    3zo's cell has 1.4e+394 arrangements: ``float(n)`` raised OverflowError in place of the
    refusal)."""
    try:
        return f"{float(n):.1e}"
    except OverflowError:
        from decimal import Decimal
        return f"{Decimal(n):.1e}"


def _ewald_rounding_hint(structure: Structure, base, max_atoms: int, occ_tol: float,
                         charges, searched) -> str:
    """``", or allow more rounding: ..."`` naming the smallest ``ROUNDING_HINTS`` tolerance
    whose cell the Ewald ordering searches; ``""`` where none has. ``searched(big)``: how
    many arrangements of the cell ``big`` the ordering would search, worded
    (``"1.7e+07 arrangements keeping the pair rule"``), None where too many."""
    for tol in (t for t in ROUNDING_HINTS if t > occ_tol):
        try:
            reps = integral_supercell(structure, base, max_atoms=max_atoms, occ_tol=tol,
                                      charges=charges)
        except StructureError:
            continue
        found = searched(structure.make_supercell(reps, in_place=False))
        if found is not None:
            cells = math.prod(reps)
            return (f", or allow more rounding: occ_tol={tol:g} (`--order-tol {tol:g}`, "
                    f"`order_tol = {tol:g}` in a campaign) gives {cells} cell"
                    f"{'s' if cells > 1 else ''} with {found}")
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
