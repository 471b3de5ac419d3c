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

from ionmd.structures.charges import (OxidationGuess, declared_oxidation_states,
                                      guess_oxidation_states, nearly_neutral_states,
                                      oxidation_guess)
from ionmd.structures.charges_words import _formula, _ions
from ionmd.structures.errors import StructureError
from ionmd.structures.occupancy_tolerance import OCCUPANCY_TOLERANCE
from ionmd.structures.ordering_cells import (  # constants importable from here
    DEFAULT_MAX_ATOMS, ROUNDING_HINTS, VACANCY, _arrangements, _compact, _count_text,
    _ewald_rounding_hint, _fewer_cells, _groups, _site_counts, integral_supercell,
    supercell_text)
from ionmd.structures.ordering_candidates import (MAX_DRAWS, Candidate,
                                                  distinct_candidates, draws_to_ask,
                                                  kept_by_rule)
from ionmd.structures.ordering_ewald import (EWALD_CANDIDATES, _ewald_draws, _lowest_kept,
                                             _order_ewald)
from ionmd.structures.ordering_limits import (
    IONIC_FLOOR_FRACTION, MIN_DISTANCE_FRACTION, _PairLimits)
from ionmd.structures.ordering_pairs import PAIR_RULE_FACTOR, pair_clusters
from ionmd.structures.ordering_search import (
    RANDOM_RESTARTS, RESOLVE_CANDIDATES, RESOLVE_MOVES_PER_SITE, STALL_MOVES_PER_SITE,
    _order_random, _search)
from ionmd.structures.split_sites import merge_split_sites
from ionmd.structures.supercell import min_width_supercell, parse_supercell

__all__ = ["OrderedCell", "order_structure", "integral_supercell", "supercell_text",
           "net_charge_note", "VACANCY", "DEFAULT_MAX_ATOMS", "DEFAULT_MAX_ARRANGEMENTS",
           "ROUNDING_HINTS", "EWALD_CANDIDATES", "MIN_DISTANCE_FRACTION", "IONIC_FLOOR_FRACTION",
           "RANDOM_RESTARTS", "RESOLVE_MOVES_PER_SITE", "RESOLVE_CANDIDATES",
           "STALL_MOVES_PER_SITE"]

DEFAULT_MAX_ARRANGEMENTS = 10**8
"""Ewald ordering is refused above this many distinct arrangements (pymatgen's search
took ~10 s for LGPS's 1.5e6 and did not finish in minutes for Li6PS5Cl's 3e13), unless
the pair rule leaves at most ``ordering_pairs.PAIR_RULE_FACTOR`` times this many (one
site per cluster of split sites: the shipped Li6PS5Cl.cif's 2^24 = 1.7e7), all then
evaluated."""


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
    """Pairs below the default rule that the search could not avoid (none below
    ``IONIC_FLOOR_FRACTION``), e.g. ``"3 Li-Li pairs 1.73 A apart ..."``, saying that the
    occupancies force them only where a count proves it; ``""`` where the rule was kept."""
    guess_note: str = ""
    """The caveat of the oxidation-state guess an Ewald ordering used (``charges.
    oxidation_guess(...).note`` of a neutral guess for the file's own composition:
    transition metals that can trade electrons, mixed valence; where that has no guess, that
    the ordered cell's was used), ``""`` where the states were given or the guess needs
    none: the ordering line names it without guessing again."""
    candidates: list[Candidate] = field(default_factory=list)
    """With ``order_structure(..., candidates=N)`` (N > 1, Ewald): the N lowest-Ewald
    arrangements that keep the pair rule, one per symmetry class, lowest first (the first
    is ``structure``'s arrangement, unless a ``min_distance`` below the default rule chose
    one with fewer close pairs); fewer where the arrangements searched hold fewer."""
    candidates_searched: int = 0
    """How many arrangements (symmetry-equivalent ones included) the candidates were
    drawn from."""
    candidates_kept: int = 0
    """How many of those keep the pair rule (the candidates' classes are theirs: Li3YCl6's
    360 arrangements at occ_tol 0.1 hold 30 classes, the 180 that keep it 15)."""

    @property
    def matrix(self) -> np.ndarray:
        """The supercell's integer matrix (rows: its vectors in the input cell's)."""
        m = np.array(self.supercell, dtype=int)
        return np.diag(m) if m.ndim == 1 else m

    @property
    def cells(self) -> int:
        """How many input cells the ordered cell holds."""
        return round(abs(np.linalg.det(self.matrix.astype(float))))



def order_structure(structure: Structure, method: Literal["ewald", "random"] = "random", *,
                    seed: int | None = None, supercell=None, min_width: float | None = None,
                    oxidation_states: dict[str, float] | None = None,
                    max_atoms: int = DEFAULT_MAX_ATOMS,
                    occ_tol: float = OCCUPANCY_TOLERANCE,
                    max_arrangements: int = DEFAULT_MAX_ARRANGEMENTS,
                    min_distance: float | None = None, candidates: int = 1) -> OrderedCell:
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
        ``charges.declared_oxidation_states``), else the guess for the file's own
        composition (``charges.oxidation_guess``; LiNi0.5Mn0.5O2: Ni 2, Mn 4, its note naming
        Ni 4, Mn 2; a refinement's Li0.358La0.642Ti0.87Al0.129O3: Ti4+; where it is
        fractional, whole states a little off neutral if any: ``OrderedCell.charges``),
        applied to the rounded cell's species; only where it has none, the guess for the
        rounded cell.
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
        ``OrderedCell.close_pairs``); 0 turns the rule off. A distance below the default
        rule is the floor it gives way to instead of the ionic one: the pairs between the
        two are the fewest found, and named. ``"random"`` keeps the
        plain seeded draw when it already obeys the rule, else moves clashing atoms to
        other sites of their group (seeded min-conflicts search); ``"ewald"`` takes the lowest-energy
        arrangement that obeys it. When no arrangement is found, a ``StructureError``
        names the ``min_distance`` with which the same ordering (same seed) does order
        the cell, and the closest pair it then fills; or, where the occupancies put two
        atoms on split positions of one (sites closer than the overlap check allows) in
        every arrangement, says so with the count.
    candidates
        ``method="ewald"`` only: also keep this many lowest-Ewald arrangements, one per
        symmetry class (``OrderedCell.candidates``), for a model to re-rank
        (``ionmd.screen.ordering_rank``); 1: none kept.

    Raises
    ------
    StructureError
        On an unknown method, a missing seed, occupancies that cannot be made whole, too
        many arrangements for Ewald ordering, or a ``min_distance`` no arrangement keeps.
    """
    if method not in ("ewald", "random"):
        raise StructureError(f"unknown ordering method {method!r}; use 'ewald' or 'random'")
    if candidates > 1 and method != "ewald":
        raise StructureError(f"{candidates} candidates to re-rank are the lowest-Ewald "
                             "arrangements: they need method='ewald' (--order ewald)")
    if method == "random" and seed is None:
        raise StructureError("method='random' needs a seed (an integer) so the cell can be reproduced")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or seed < 0):
        # numpy's ValueError/TypeError before ("expected non-negative integer"), True seed 1
        raise StructureError(f"the ordering seed must be a whole number >= 0 (as "
                             f"--order-seed), got {seed!r}")
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
    # the file's own composition guessed once: the rounding's charges, the Ewald energy's
    file_guess = None if oxidation_states else oxidation_guess(structure.composition)
    charges = _charges_of(structure, oxidation_states, file_guess)
    diagonal = None     # the smallest diagonal repetition with whole occupancies
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
        diagonal = reps
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
    element_counts = _element_counts(big, counts)
    # the ionic floor's radii: the known states, else the guess for the whole-number cell
    # (a refined Li55.968 La24 Zr16 O96 has no neutral guess; its Li56 cell has)
    limits = _PairLimits(big, min_distance, charges or guess_oxidation_states(element_counts))
    if method == "random":
        try:
            ordered, draw = _order_random(big, groups, counts, seed, limits)
        except StructureError as err:
            if getattr(err, "unphysical", False) and supercell is None:
                advice = _larger_cell_advice(structure, diagonal, charges, min_distance, seed,
                                             max_atoms)
                raise StructureError(f"{err}. {advice}") from None
            raise
        return OrderedCell(ordered, reps, counts, "random", seed=seed,
                           min_distance=limits.describe(), charges=charges, merged=merged,
                           close_pairs=limits.close_pairs_note(
                               draw, (big, groups, counts), _random_searched(limits),
                               "another seed (--order-seed) or supercell (--supercell)"))
    arrangements, reduced, searchable = _ewald_search(big, groups, counts, limits,
                                                      max_arrangements)
    pair_rule_limit = max_arrangements * PAIR_RULE_FACTOR
    if not searchable:
        # the cell is the smallest with whole occupancies unless the user chose it: only
        # more rounding makes it smaller (LATP: 5 cells, 6.6e24; occ_tol 0.02: 1, 4.2e4)
        # (the file's own cell, given as 1x1x1 or reached by a width: none is smaller)
        smaller = (" or use a smaller supercell" if supercell is not None and _cells(reps) > 1
                   else "" if supercell is not None else
                   _ewald_rounding_hint(structure, base, max_atoms, occ_tol, charges,
                                        lambda cell: _searched(
                                            cell, min_distance, charges, max_arrangements)))
        raise StructureError(
            f"Ewald ordering of this {supercell_text(reps)} cell would search "
            f"{_count_text(arrangements)} arrangements (at most {max_arrangements:.0e}"
            + (f"; {_count_text(reduced.count)} keep the pair rule, one atom per set of "
               "sites too close to hold two: " + (
                   f"at most {pair_rule_limit:.0e} such" if reduced.count > pair_rule_limit
                   else "too many of one group's to list") if reduced is not None else "")
            + "); order "
            "it at random with a seed instead (`--order random --order-seed N`; in a campaign "
            f"`order = \"random\"`; in Python method='random'){smaller}")
    guess_note = ""
    if not oxidation_states:
        oxidation_states, guess_note = _ewald_states(file_guess, charges, element_counts)
    try:
        # all arrangements under the rule are evaluated anyway: list the most the
        # candidates are drawn from (argyrodite's 125 lowest held 4 symmetry classes)
        asked = (MAX_DRAWS if reduced is not None and candidates > 1
                 else draws_to_ask(candidates, EWALD_CANDIDATES))
        draws = _ewald_draws(big, oxidation_states, element_counts, groups, counts, asked,
                             reduced)
        ordered, energy, draw = _lowest_kept(big, draws, groups, counts, limits)
    except StructureError as err:
        if getattr(err, "unphysical", False) and supercell is None:
            advice = _larger_cell_advice(structure, diagonal, charges, min_distance, 0,
                                         max_atoms, ewald=(oxidation_states, max_arrangements))
            raise StructureError(f"{err}. {advice}") from None
        raise

    def close_pairs(arrangement: list) -> str:
        return limits.close_pairs_note(arrangement, (big, groups, counts),
                                       f"the {len(draws)} lowest-energy arrangements",
                                       "the random ordering (--order random)")

    kept = kept_by_rule(draws, limits) if candidates > 1 else []
    return OrderedCell(ordered, reps, counts, "ewald", ewald_energy=energy,
                       min_distance=limits.describe(), charges=charges, merged=merged,
                       close_pairs=close_pairs(draw), guess_note=guess_note,
                       candidates=(distinct_candidates(big, kept, candidates, close_pairs)
                                   if candidates > 1 else []),
                       candidates_searched=len(draws) if candidates > 1 else 0,
                       candidates_kept=len(kept))




def _searched(big: Structure, min_distance, charges, max_arrangements: int) -> str | None:
    """How many arrangements of ``big`` (a rounded cell the rounding hint offers) the Ewald
    ordering would search, worded; None where it would refuse: the minimizer's count, else
    the count keeping the pair rule where that search takes the cell (a rounded split-site
    argyrodite: 3.2e13 arrangements, 1.7e7 keeping the rule)."""
    groups = _groups(big)
    counts = _site_counts(groups)
    arrangements = _arrangements(counts)
    if arrangements <= max_arrangements:    # before the charges' guess, which it needs not
        return f"{float(arrangements):.1e} arrangements"
    limits = _PairLimits(big, min_distance,
                         charges or guess_oxidation_states(_element_counts(big, counts)))
    _, reduced, searchable = _ewald_search(big, groups, counts, limits, max_arrangements)
    if not searchable:
        return None
    return (f"{_count_text(arrangements)} arrangements, {float(reduced.count):.1e} of them "
            "keeping the pair rule (searched)")


def _ewald_search(big: Structure, groups, counts, limits, max_arrangements: int):
    """``(arrangements, reduced, searchable)`` of the cell ``big``: its arrangements, the
    pair rule's reduced problem (:func:`pair_clusters`) where they are more than
    ``max_arrangements`` (None otherwise, or where the rule does not reduce it), and whether
    the Ewald ordering searches it: past the minimizer's limit, a split-site cell
    (argyrodite's 48h pairs) whose arrangements that keep the pair rule are one site per
    cluster is searched exactly, up to ``PAIR_RULE_FACTOR`` times the limit."""
    arrangements = _arrangements(counts)
    if arrangements <= max_arrangements:
        return arrangements, None, True
    reduced = pair_clusters(big, groups, counts, limits)
    return arrangements, reduced, (reduced is not None and
                                   reduced.count <= max_arrangements * PAIR_RULE_FACTOR
                                   and reduced.searchable())


def _cells(reps) -> int:
    """How many cells of the file the supercell ``reps`` (repetitions or a matrix) holds."""
    matrix = np.diag(reps) if np.ndim(reps) == 1 else np.array(reps, dtype=float)
    return round(abs(np.linalg.det(matrix)))


def _random_searched(limits: _PairLimits) -> str:
    """What the random ordering's search for an arrangement without close pairs tried."""
    draws = 2 * RANDOM_RESTARTS         # trying LEGACY_CANDIDATES, then RESOLVE_CANDIDATES
    moves = draws * RESOLVE_MOVES_PER_SITE * len(limits.partial)
    return (f"up to {moves} moves ({draws} seeded draws) and a smaller cell "
            "repeated where the counts allow")


LARGER_CELLS_TRIED = 3
"""Where no physical arrangement was found in the smallest cell, this many larger ones
(the cell doubled along a, b or c) are searched before the refusal advises one."""


ADVICE_EWALD_ARRANGEMENTS = 10**6
"""A larger cell's Ewald ordering is run for the advice up to this many arrangements (a few
seconds: 8.5e5 took 3 s, LGPS's 1.5e6 ~10 s); beyond, the seeded random search checks the
cell and the advice is a random ordering in it."""


def _larger_cell_advice(structure: Structure, diagonal, charges, min_distance, seed: int,
                        max_atoms: int, ewald=None) -> str:
    """Which larger supercell (the smallest diagonal repetition with whole occupancies,
    ``diagonal``, doubled along a, b or c) the same ordering orders with every pair above
    its physical floor, checked by running it: the advice where one does, else the ones
    tried. ``ewald``: (oxidation_states, max_arrangements) of an Ewald ordering, checked
    by Ewald ordering the larger cell (up to ``ADVICE_EWALD_ARRANGEMENTS``); beyond, the
    seeded random search checks it and the advice is a random ordering in it (the Ewald
    path gave no advice at all). Where no larger cell's Ewald ordering has a physical
    arrangement, the same search checks those cells too (its advice had said none did,
    though a random ordering of one had every pair above its floor)."""
    if diagonal is None:
        return "No diagonal supercell with whole occupancies fits in max_atoms; none was tried"
    tried, not_ewald = [], []
    for axis in range(LARGER_CELLS_TRIED):
        larger = tuple(n * (2 if k == axis else 1) for k, n in enumerate(diagonal))
        if math.prod(larger) * len(structure) > max_atoms:
            continue
        text = supercell_text(larger)
        tried.append(text)
        big = structure.make_supercell(larger, in_place=False)
        groups = _groups(big)
        counts = _site_counts(groups)
        limits = _PairLimits(big, min_distance, charges)
        arrangements = _arrangements(counts)
        if ewald is not None and arrangements <= ADVICE_EWALD_ARRANGEMENTS:
            if _ewald_orders(big, ewald[0], groups, counts, limits):
                return (f"The {text} supercell orders it with every pair above its physical "
                        f"floor (checked, Ewald ordering): `--supercell {text}` (`supercell` "
                        "in a campaign)")
            not_ewald.append((text, big, groups, counts, limits))     # searched below
            continue
        why = None
        if ewald is not None:
            limit = (f"{ADVICE_EWALD_ARRANGEMENTS:.0e} for this advice"
                     if arrangements <= ewald[1] else
                     f"{ewald[1]:.0e}, what the Ewald ordering takes")
            why = (f"its {_count_text(arrangements)} arrangements were not Ewald-ordered (more "
                   f"than {limit})")
        advice = _random_advice(text, big, groups, counts, seed, limits, why)
        if advice:
            return advice
    for text, big, groups, counts, limits in not_ewald:
        advice = _random_advice(text, big, groups, counts, seed, limits,
                                "its Ewald ordering has none")
        if advice:
            return advice
    if not tried:
        return f"No larger supercell fits in max_atoms={max_atoms}"
    how = (f"Ewald ordering, then random, seed {seed}" if ewald is not None
           else f"seed {seed}")
    return f"Nor did the larger supercells {', '.join(tried)} (tried, {how})"


def _random_advice(text: str, big: Structure, groups, counts, seed: int, limits,
                   why: str | None) -> str:
    """The advice to order the larger cell ``text`` at random where the seeded search
    finds every pair above its physical floor there, else ``""``; ``why``: why an Ewald
    ordering is not advised instead (None: the ordering asked for was random)."""
    draw, _ = _search(big, groups, counts, seed, limits)
    if draw is None or limits.unphysical_pairs(draw):
        return ""
    if why is None:
        return (f"The {text} supercell orders it with every pair above its physical floor "
                f"(checked, seed {seed}): `--supercell {text}` (`supercell` in a campaign)")
    return (f"The {text} supercell has a physical arrangement (found by the random "
            f"ordering, seed {seed}); {why}: `--order random --order-seed {seed} "
            f"--supercell {text}` (`order = \"random\"`, `supercell` in a campaign)")


def _ewald_orders(big: Structure, oxidation_states, groups, counts, limits) -> bool:
    """Whether the Ewald ordering of ``big`` finds an arrangement (every pair above its
    physical floor: the default rule, else its ionic floor)."""
    try:
        _, _, draw = _order_ewald(big, oxidation_states, _element_counts(big, counts),
                                  groups, counts, limits)
    except StructureError:
        return False
    return not limits.unphysical_pairs(draw)


def _element_counts(big: Structure, counts) -> dict[str, int]:
    """Atoms of each element in the ordered cell of ``big``: its ordered sites and the
    counts placed on its partially occupied ones."""
    out: dict[str, int] = {}
    for site in big:
        if site.is_ordered:
            out[site.specie.symbol] = out.get(site.specie.symbol, 0) + 1
    for c in counts.values():
        for sp, n in c.items():
            if sp not in ("sites", VACANCY):
                out[sp] = out.get(sp, 0) + n
    return out


def _charges_of(structure: Structure, oxidation_states,
                file_guess: OxidationGuess | None = None) -> dict[str, float] | None:
    """Oxidation states to keep rounded cells neutral with: the given ones, else the guess
    for the file's composition (``file_guess`` where already made); None when an element
    has none."""
    states = oxidation_states
    if not states:
        guess = (file_guess or oxidation_guess(structure.composition)).states
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


def _ewald_states(file_guess: OxidationGuess, charges, element_counts) -> tuple[dict | None, str]:
    """The Ewald energy's oxidation states and their caveat where the file declares none:
    ``charges``, the file's states the rounding kept its charge with (``_charges_of``: the
    guess for the file's own composition, or whole states a little off neutral where that
    guess is fractional), the note of a neutral guess kept where they are its states
    (transition metals that can trade electrons, mixed valence); only where there are none,
    the guess for the ordered cell's whole-number composition ``element_counts``, the note
    saying so (None: neither has any, ``_order_ewald`` says why). The cell's own guess read
    a rounded refinement as another compound: OBELiX lud's Al-doped LLTO (refined
    Li0.358La0.642Ti0.87Al0.129O3, +0.151 e under Ti4+) rounded to Li3La5Ti7AlO24 was Ti
    3.86, 'reduced by O vacancies', fractional charges in the Ewald energy. The file's
    fractional guess beside whole ``charges`` charged the cell the rounding kept neutral
    (Li0.97Ni0.8Co0.2O2 rounded to Li6Ni5CoO12: Ni 3.0375, +0.19 e, while the cell's
    charges and ionic radii were Ni3+)."""
    if charges:             # a charged refinement's note: the line's net charge says it
        neutral_guess = charges == file_guess.states and abs(file_guess.net_charge) < 1e-6
        return charges, file_guess.note if neutral_guess else ""
    cell = oxidation_guess(element_counts)
    if not cell.states:
        return None, ""
    note = (f"the file's own composition has none ({file_guess.note}), so those of the "
            f"ordered cell, {_formula(element_counts)}, are used: {_ions(cell.states)}")
    return cell.states, note + (f"; {cell.note}" if cell.note else "")


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
