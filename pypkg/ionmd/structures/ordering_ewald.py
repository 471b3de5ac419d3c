"""``method="ewald"``: the lowest-Ewald-energy arrangement (pymatgen's ``EwaldMinimizer``)
that keeps the pair rule."""

from __future__ import annotations

import math

import numpy as np

from pymatgen.core import Structure

from ionmd.structures.charges import oxidation_guess
from ionmd.structures.errors import StructureError
from ionmd.structures.ordering_cells import VACANCY
from ionmd.structures.ordering_limits import _PairLimits
from ionmd.structures.ordering_pairs import PairClusters, pair_rule_draws
from ionmd.structures.ordering_proofs import _counts
from ionmd.structures.ordering_search import _Clashes, _ordered

EWALD_CANDIDATES = 100
"""Lowest-Ewald arrangements searched for one that keeps ``min_distance``."""


def _with_oxidation_states(structure: Structure, oxidation_states: dict[str, float] | None,
                           counts: dict[str, int]) -> Structure:
    """``structure`` decorated with oxidation states: the user's, or pymatgen's guess for
    the whole-number composition ``counts`` of the ordered cell."""
    s = structure.copy()
    if oxidation_states:
        missing = {str(e) for e in s.composition.elements} - set(oxidation_states)
        if missing:
            raise StructureError(f"oxidation_states lacks {sorted(missing)}; give one per element")
        s.add_oxidation_state_by_element(oxidation_states)
        return s
    guess = oxidation_guess(counts)
    if not guess.states:
        fix = ("use --order random (a campaign's order = \"random\", Python method='random'), "
               "or declare the states in the file (an _atom_type_oxidation_number loop, or "
               "type symbols such as Li1+, O2- on every site in _atom_site_type_symbol; "
               "Python: "
               "oxidation_states={'Li': 1, ...})")
        if guess.advice.startswith("check"):    # far off neutral: the file may be wrong
            fix = "check the file's occupancies (a missing or doubled site), " + fix
        raise StructureError(f"the Ewald ordering needs oxidation states: {guess.note}; {fix}")
    guess = guess.states
    s.add_oxidation_state_by_element(guess)
    return s


def _order_ewald(big: Structure, oxidation_states, element_counts, groups, counts,
                 limits: _PairLimits) -> tuple[Structure, float, list]:
    """The lowest-Ewald-energy arrangement that keeps ``limits``, by pymatgen's
    ``EwaldMinimizer`` on ionmd's own site groups and counts. (pymatgen's
    ``OrderDisorderedStructureTransformation`` merges groups whose occupancies agree within
    10 %: LGPS's Li 0.691 and 0.643 sites got 8 + 8 Li instead of 11 + 5.)"""
    draws = _ewald_draws(big, oxidation_states, element_counts, groups, counts)
    return _lowest_kept(big, draws, groups, counts, limits)


def _ewald_draws(big: Structure, oxidation_states, element_counts, groups, counts,
                 num: int = EWALD_CANDIDATES,
                 reduced: PairClusters | None = None) -> list[tuple[float, list]]:
    """The ``num`` lowest-Ewald-energy arrangements of ``big`` (pymatgen's
    ``EwaldMinimizer``), lowest first: (energy in eV, species per site of ``big``,
    ``VACANCY`` where empty). Arrangements equivalent by symmetry are all listed.
    ``reduced`` (``ordering_pairs.pair_clusters``): only the arrangements that keep the
    pair rule, all evaluated (``pair_rule_draws``), in place of the minimizer's search."""
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
        ewald = EwaldSummation(struct)
        if reduced is not None:
            background = _charged_cell_energy(ewald, struct.volume, sum(
                oxi[el] * n for el, n in element_counts.items()))
            return pair_rule_draws(big, ewald.total_energy_matrix,
                                   np.array([site.specie.oxi_state for site in struct]), oxi,
                                   reduced, num, background)
        if not manipulations:       # occupancies rounded to full sites: one arrangement
            found = [(ewald.total_energy, [])]
        else:                       # (EwaldMinimizer fails on an empty list)
            matrix = ewald.total_energy_matrix
            background = _charged_cell_energy(ewald, struct.volume, sum(
                oxi[el] * n for el, n in element_counts.items()))
            found = [(energy + background, changes) for energy, changes in EwaldMinimizer(
                matrix, manipulations, num, EwaldMinimizer.ALGO_FAST).output_lists]
    draws = []
    for energy, changes in found:       # lowest energy first
        draw = [site.specie.symbol for site in struct]
        for i, sp in changes:
            draw[i] = VACANCY if sp is None else sp.symbol
        draws.append((float(energy), draw))
    return draws


def _lowest_kept(big: Structure, draws: list, groups, counts,
                 limits: _PairLimits) -> tuple[Structure, float, list]:
    """Of ``draws`` (``_ewald_draws``), the lowest-energy one that keeps ``limits`` (the
    default rule, else its ionic floor; below the default rule, the fewest close pairs)."""
    first_hit = None
    if limits.below_default():
        kept = [(energy, draw) for energy, draw in draws if limits.first_clash(draw) is None]
        if kept:
            return _fewest_close_pairs(big, kept, groups, limits)
    # the default rule, else (occupancies forcing close pairs) its ionic floor
    for rule in (limits, limits.relax()):
        for energy, draw in draws if rule else ():
            hit = rule.first_clash(draw)
            if hit is None:
                return _ordered(big, draw), energy, draw
            first_hit = first_hit or hit
    forced, unphysical = _counts(big, groups, counts, limits)
    raise limits.error(big, "ewald", f"the {len(draws)} lowest-energy arrangements", first_hit,
                       None if unphysical else _ewald_workable(draws, limits), forced, unphysical)


def _charged_cell_energy(ewald, volume: float, charge: float) -> float:
    """The background term of a cell of net ``charge`` (e) that pymatgen's ``total_energy``
    holds and its pair matrix leaves out: the same for every arrangement of one cell (their
    charge is the same), so added to the minimizer's energies they are the cells' Ewald
    energies (a +1 e Li3La5Ti7AlO24 cell's were 0.31 eV above pymatgen's)."""
    return -ewald.CONV_FACT / 2 * math.pi / volume / ewald.eta * charge**2


def _fewest_close_pairs(big: Structure, kept: list, groups, limits: _PairLimits):
    """Under a user's ``min_distance`` below the default rule (the floor the rule gives way
    to, as in the random ordering): of the arrangements ``kept`` ((energy, draw), all
    keeping that floor), the one with the fewest pairs closer than the default rule, then
    the lowest energy. (The lowest energy alone filled pairs the occupancies do not
    force, and the ordering line only named them.)"""
    members = {key: idx for key, (_, idx) in groups.items()}
    rule = limits.default_rule()
    energy, draw = min(kept, key=lambda ed: (_Clashes(ed[1], members, rule).pairs(), ed[0]))
    return _ordered(big, draw), energy, draw


def _ewald_workable(draws, limits: _PairLimits):
    """The largest ``min_distance`` (two decimals, one of ``limits.candidates``: no
    overlapping pair allowed) that one of the lowest-energy ``draws`` keeps, and its closest
    pair, and the draw: with it, the Ewald ordering takes that draw or a lower one. None
    where every draw has a closer pair."""
    closest = [(limits.closest_pair(draw), draw) for _, draw in draws]
    pairs = [(p, draw) for p, draw in closest if p is not None]
    if not pairs:
        return None
    pair, draw = max(pairs, key=lambda p: p[0][2])
    x = math.floor(pair[2] * 100 + 1e-9) / 100
    values = limits.candidates()
    return (x, pair, draw) if len(values) and x >= values[0] else None
