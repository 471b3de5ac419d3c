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

from ionmd.structures.errors import StructureError
from ionmd.structures.supercell import min_width_supercell, parse_supercell

VACANCY = "vacancy"
DEFAULT_MAX_ARRANGEMENTS = 10**8
"""Ewald ordering is refused above this many distinct arrangements (pymatgen's search
took ~10 s for LGPS's 1.5e6 and did not finish in minutes for Li6PS5Cl's 3e13)."""
DEFAULT_MAX_ATOMS = 2000
"""Largest supercell (counting every partially occupied site) searched for integral occupancies."""


@dataclass
class OrderedCell:
    """An ordered supercell and how it was made.

    Attributes
    ----------
    structure
        The ordered supercell (every site fully occupied by one element; vacancies removed).
    supercell
        Repetitions of the input cell along a, b, c.
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
    """

    structure: Structure
    supercell: tuple[int, int, int]
    site_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    method: str = "ordered"
    ewald_energy: float | None = None
    seed: int | None = None


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


def _multiplier_needed(fractions: dict[str, float], n_sites: int, occ_tol: float,
                       limit: int = 10000) -> int | None:
    """Smallest k with k * n_sites * fraction near-integral for all species; None past limit."""
    for k in range(1, limit + 1):
        if all(_integral(k * n_sites * f, occ_tol, k * n_sites) for f in fractions.values()):
            return k
    return None


def integral_supercell(structure: Structure, base: tuple[int, int, int] = (1, 1, 1), *,
                       max_atoms: int = DEFAULT_MAX_ATOMS, occ_tol: float = 2e-3,
                       exact: bool = False) -> tuple[int, int, int]:
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

    Raises
    ------
    StructureError
        Naming the site whose occupancies cannot be made whole within ``max_atoms``.
    """
    groups = _groups(structure)
    n_max = max_atoms // max(len(structure), 1)

    def ok(total: int) -> bool:
        return all(all(_integral(total * len(idx) * f, occ_tol, total * len(idx))
                       for f in fr.values()) for fr, idx in groups.values())

    if exact:
        if ok(math.prod(base)):
            return base
        bad = next((fr, idx) for fr, idx in groups.values()
                   if not all(_integral(math.prod(base) * len(idx) * f, occ_tol, 1)
                              for f in fr.values()))
        raise StructureError(
            f"supercell {'x'.join(map(str, base))} gives non-integral occupancies on "
            f"{_site_names(structure, bad[1])} ({_fmt(bad[0])}, {len(bad[1])} sites per cell); "
            "choose a supercell whose number of cells makes every occupancy x sites a whole "
            "number, or give a minimum width instead and let ionmd enlarge it")
    best: tuple[float, tuple[int, int, int]] | None = None
    for total in range(math.prod(base), n_max + 1):
        if not ok(total):
            continue
        for r1 in range(base[0], total + 1):
            for r2 in range(base[1], total // r1 + 1):
                if total % (r1 * r2) == 0 and total // (r1 * r2) >= base[2]:
                    reps = (r1, r2, total // (r1 * r2))
                    m = structure.lattice.matrix * np.array(reps)[:, None]
                    w = min(abs(np.linalg.det(m)) / np.linalg.norm(np.cross(m[(i + 1) % 3], m[(i + 2) % 3]))
                            for i in range(3))
                    if best is None or w > best[0] + 1e-9:
                        best = (w, reps)
        if best is not None:
            return best[1]
    # name the group that needs the largest repetition
    worst = max(groups.values(), key=lambda g: _multiplier_needed(g[0], len(g[1]), occ_tol) or 10**9)
    k = _multiplier_needed(worst[0], len(worst[1]), occ_tol)
    need = f"needs {k} copies of the cell" if k else "cannot be made whole in any cell up to 10000 copies"
    raise StructureError(
        f"occupancies of {_site_names(structure, worst[1])} ({_fmt(worst[0])}, {len(worst[1])} "
        f"sites per cell) {need}; no supercell of at most max_atoms={max_atoms} sites has whole "
        "numbers on every site. Raise max_atoms, or round the occupancies in the input")


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
    composition = Composition(counts).reduced_composition
    try:
        guesses = composition.oxi_state_guesses()
    except ValueError:
        guesses = ()
    if not guesses:
        raise StructureError(
            f"cannot guess oxidation states for {composition.reduced_formula} (needed for the "
            "Ewald ordering); pass oxidation_states={'Li': 1, ...} or use method='random'")
    s.add_oxidation_state_by_element(guesses[0])
    return s


def order_structure(structure: Structure, method: Literal["ewald", "random"] = "random", *,
                    seed: int | None = None, supercell=None, min_width: float | None = None,
                    oxidation_states: dict[str, float] | None = None,
                    max_atoms: int = DEFAULT_MAX_ATOMS, occ_tol: float = 2e-3,
                    max_arrangements: int = DEFAULT_MAX_ARRANGEMENTS) -> OrderedCell:
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
        Element -> oxidation state for the Ewald energy; default pymatgen's guess.
    max_atoms, occ_tol
        See ``integral_supercell``. A larger ``occ_tol`` rounds occupancies to the
        nearest whole count in a small cell (e.g. 0.05 makes LGPS's refined
        occupancies Li20Ge2P4S24 in one cell).
    max_arrangements
        ``method="ewald"`` is refused when the cell has more distinct arrangements
        (product over site groups of multinomial coefficients) than this.
    """
    if method not in ("ewald", "random"):
        raise StructureError(f"unknown ordering method {method!r}; use 'ewald' or 'random'")
    if method == "random" and seed is None:
        raise StructureError("method='random' needs a seed (an integer) so the cell can be reproduced")
    if supercell is not None and min_width is not None:
        raise StructureError("give either an explicit supercell or a minimum width, not both")
    structure = structure.copy()
    structure.remove_oxidation_states()
    if supercell is not None:
        base = parse_supercell(supercell)
    elif min_width is not None:
        base = min_width_supercell(structure.lattice, min_width)
    else:
        base = (1, 1, 1)
    if structure.is_ordered:
        return OrderedCell(structure.make_supercell(base, in_place=False), base)
    reps = integral_supercell(structure, base, max_atoms=max_atoms, occ_tol=occ_tol,
                              exact=supercell is not None)
    big = structure.make_supercell(reps, in_place=False)
    groups = _groups(big)
    counts = {key: {"sites": len(idx), **{sp: int(round(len(idx) * f)) for sp, f in fr.items()}}
              for key, (fr, idx) in groups.items()}
    for key, c in counts.items():  # rounding within occ_tol must still fill every site once
        excess = sum(v for k, v in c.items() if k != "sites") - c["sites"]
        if excess:
            raise StructureError(f"occupancies {key} do not add up to whole sites; round them in the input")
    if method == "random":
        ordered = _order_random(big, groups, counts, seed)
        return OrderedCell(ordered, reps, counts, "random", seed=seed)
    arrangements = math.prod(
        math.factorial(c["sites"]) // math.prod(math.factorial(n) for k, n in c.items() if k != "sites")
        for c in counts.values())
    if arrangements > max_arrangements:
        raise StructureError(
            f"Ewald ordering of this {'x'.join(map(str, reps))} cell would search "
            f"{float(arrangements):.1e} arrangements (max_arrangements={max_arrangements:.0e}); "
            "use method='random' with a seed, a smaller cell, or raise max_arrangements")
    element_counts: dict[str, int] = {}
    for site in big:
        if site.is_ordered:
            element_counts[site.specie.symbol] = element_counts.get(site.specie.symbol, 0) + 1
    for c in counts.values():
        for sp, n in c.items():
            if sp not in ("sites", VACANCY):
                element_counts[sp] = element_counts.get(sp, 0) + n
    ordered, energy = _order_ewald(big, oxidation_states, element_counts)
    return OrderedCell(ordered, reps, counts, "ewald", ewald_energy=energy)


def _order_random(big: Structure, groups, counts, seed: int) -> Structure:
    rng = np.random.default_rng(seed)
    species: list[str | None] = [None] * len(big)
    for i, site in enumerate(big):
        if site.is_ordered:
            species[i] = str(next(iter(site.species)))
    for key, (fractions, idx) in groups.items():
        pool = [sp for sp in fractions for _ in range(counts[key][sp])]
        for i, sp in zip(idx, rng.permutation(np.array(pool, dtype=object))):
            species[i] = sp
    keep = [i for i, sp in enumerate(species) if sp != VACANCY]
    return Structure(big.lattice, [species[i] for i in keep], big.frac_coords[keep],
                     labels=[big[i].label for i in keep])


def _order_ewald(big: Structure, oxidation_states, element_counts) -> tuple[Structure, float]:
    import warnings
    from pymatgen.transformations.standard_transformations import (
        OrderDisorderedStructureTransformation)
    charged = _with_oxidation_states(big, oxidation_states, element_counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ranked = OrderDisorderedStructureTransformation(algo=0).apply_transformation(
            charged, return_ranked_list=1)
    best = ranked[0]
    s = best["structure"].copy()
    s.remove_oxidation_states()
    return s, float(best["energy"])
