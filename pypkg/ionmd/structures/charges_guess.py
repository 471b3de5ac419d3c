"""The oxidation-state guess: the rules of ``ionmd.structures.charges`` in their order, from a
neutral assignment of one state per element to the reason there is none."""

from __future__ import annotations

from ionmd.structures.charges_anions import _cluster_anions, _open_boranes, _polyanion
from ionmd.structures.charges_hydrides import _complex_hydride
from ionmd.structures.charges_metallic import (_carbon_host, _dear_metal_anion,
                                               _metal_anion_guess, _metallic_carbide_nitride,
                                               _subvalent)
from ionmd.structures.charges_oxides import (_nitrogen_fits, _oxidized_oxide, _reduced_oxide,
                                             _settled_oxide)
from ionmd.structures.charges_states import (CHARGED_REFINEMENT, NEARLY_NEUTRAL, OxidationGuess,
                                             _Assignment, _assignments, _cations_first,
                                             as_composition, element_states, _probabilities,
                                             _usual, _usual_state)
from ionmd.structures.charges_words import _described, _formula, _ions


def guess_oxidation_states(composition) -> dict[str, float]:
    """Element -> oxidation state for ``composition`` (a pymatgen ``Composition`` or
    ``Structure``, an ASE ``Atoms``, a formula or an element -> count mapping), ``{}`` when there is no sound guess
    (``oxidation_guess`` says why)."""
    return oxidation_guess(composition).states


def nearly_neutral_states(composition) -> dict[str, float]:
    """One oxidation state per element for a refined composition a little off neutral
    (occupancies as published: Li6 In2.03 Cl12 +0.09 e, Al-LLZO's Li50.064 Al1.92 La24 Zr16
    O96 -0.18 e): the most likely assignment whose net charge is within ``NEARLY_NEUTRAL``
    of its positive charge; ``{}`` where none is."""
    amounts = as_composition(composition).get_el_amt_dict()
    best = _best_within(_candidates(amounts), NEARLY_NEUTRAL)
    return best.states if best else {}


def whole_cell_charge_note(composition) -> str | None:
    """A note for a cell of whole atoms (a screened or MD cell: every count a whole number)
    that its guessed states leave charged, ``None`` otherwise (refined occupancies, a
    neutral cell, no guess: :func:`oxidation_guess`'s note says why). The guess reads a
    composition within ``CHARGED_REFINEMENT`` (10 %) of neutral as occupancies refined a
    little off neutral; a cell of whole atoms has no occupancies to blame, and one vacancy
    in a large cell (32 LiCl less one Li: -1 e, 3 %) charges it by a whole ion."""
    amounts = as_composition(composition).get_el_amt_dict()
    if any(abs(n - round(n)) > 1e-8 for n in amounts.values()):
        return None
    guess = oxidation_guess(amounts)
    if not guess.states:
        return None
    net = sum(guess.states[el] * n for el, n in amounts.items())
    if abs(net) < 0.5:          # whole atoms in whole states: 0 or at least 1 e
        return None
    return (f"{_formula(amounts)} holds {net:+.3g} e under {_ions(guess.states)}: a cell of "
            "whole atoms has no refined occupancies to carry a charge, so it has an ion too "
            "few or too many (a vacancy, a site the file left out or doubled)")


def _candidates(amounts) -> list[_Assignment]:
    """The assignments the guess chooses among: electronegativity-consistent ones
    (``_assignments``) that keep an oxynitride's N at N3- (``_nitrogen_fits``)."""
    return [a for a in _assignments(amounts) if _nitrogen_fits(a.states)]


def oxidation_guess(composition) -> OxidationGuess:
    """The guess of ``guess_oxidation_states`` with its net charge and how it was reached
    (the rules and their order: ``ionmd.structures.charges``)."""
    comp = as_composition(composition).reduced_composition
    # occupancies 0.385 + 0.615 add up to Cl 1.0000000000000002
    amounts = {el: float(round(n)) if abs(n - round(n)) < 1e-8 else n
               for el, n in comp.get_el_amt_dict().items()}
    if len(amounts) == 1:
        return OxidationGuess({next(iter(amounts)): 0.0})
    metal_anion = _metal_anion_guess(amounts)
    if metal_anion:
        return metal_anion
    clusters = _cluster_anions(amounts) or _open_boranes(amounts)
    if clusters:
        return clusters
    candidates = _candidates(amounts)
    best = _best_within(candidates, 0.0)
    if best:
        return _settled_oxide(best, amounts) or _described(
            best, amounts, alternatives=_alternatives(best, candidates, amounts))
    # Ni's mixed oxides off neutral under one state per element (delithiated NMC,
    # Li0.9Ni0.33Mn0.33Co0.33O2, was Mn5.39+ beside Co2+ Ni2+): Mn4+ Co3+, Ni the rest
    settled = candidates and _settled_oxide(max(candidates, key=lambda a: a.score), amounts)
    if settled:
        return settled
    redox = _reduced_oxide(candidates, amounts) or _oxidized_oxide(candidates, amounts)
    if redox:
        return redox
    best = _best_within(candidates, NEARLY_NEUTRAL)
    if best:
        return _described(best, amounts)
    best = _best_within(candidates, CHARGED_REFINEMENT)
    if best:
        return _described(best, amounts)
    mixed = _mixed_valence(candidates, amounts)
    if mixed:
        return _described(mixed, amounts, averaged=mixed.averaged)
    redox = (_reduced_oxide(candidates, amounts, beyond_refinement=True)
             or _oxidized_oxide(candidates, amounts, beyond_refinement=True))
    if redox:                               # SrFeO2.9: Fe 3.8, Fe3+/Fe4+ (-0.8 e, 16 %)
        return redox
    best = _best_within(candidates, CHARGED_REFINEMENT, usual=_usual_or_common_metal)
    if best:                                # LiFePO3.9: Fe2+, not Fe3+ (+1.2 e, 13 %)
        return _described(best, amounts)
    return _polyanion(amounts) or _complex_hydride(amounts) or _why_none(candidates, amounts)


def _best_within(candidates, tolerance: float, usual=_usual) -> _Assignment | None:
    """The most likely assignment whose net charge is within ``tolerance`` x its positive
    charge (besides 1e-6 e). Beyond ``NEARLY_NEUTRAL``, it must give every element its
    usual state (``usual``: ``_usual``): refined occupancies a little off neutral keep their
    ions' states, no other state absorbs the charge (OBELiX 9yt, Li45.888 P4 S20 Br3 Cl,
    +21.9 e under Li+ P5+ S2-: P- made it -2.1 e)."""
    fits = [a for a in candidates if abs(a.charge) <= 1e-6 + tolerance * a.positive
            and (tolerance <= NEARLY_NEUTRAL or usual(a.states))]
    return max(fits, key=lambda a: a.score, default=None)


def _usual_or_common_metal(states: dict[str, float]) -> bool:
    """Whether each element has its usual state (``_usual``) or, for a metal, one of its
    common states (pymatgen's ``common_oxidation_states``: Fe2+ and Fe3+). The last
    reading of a refinement a little off neutral, after mixed valence: LiFePO3.9 is
    LiFePO4's Li+ Fe2+ P5+ O2- with +0.2 e (2.5 %), where Fe's usual Fe3+ leaves +1.2 e
    that no mixed valence of Fe (Fe 1.8) absorbs."""
    from pymatgen.core import Element

    return all(_usual({el: s}) or (Element(el).is_metal
                                   and s in Element(el).common_oxidation_states)
               for el, s in states.items())


def _mixed_valence(candidates, amounts) -> _Assignment | None:
    """The most likely neutral assignment in which one cation (a metal or metalloid whose
    likeliest state is positive: Fe3O4's Fe, Sb2O4's Sb) takes the average of two of its
    positive states, the others one state each; None where none is. Anions are not
    averaged: a composition a state of O or S would have to absorb is a refinement missing
    atoms far more often than a peroxide; nor are nonmetal cations, an oxoanion's centre
    (P5+, S6+): LiFePO3.9 was guessed P3.8+ (P3+/P5+) beside Fe3+."""
    prob = _probabilities(amounts)
    best = None
    for a in candidates:
        if not _usual(a.states):        # the other elements keep their usual states
            continue
        for el, state in a.states.items():
            positive = sorted(s for s in element_states(el) if s > 0)
            if (state <= 0 or len(positive) < 2 or _usual_state(el, prob) < 0
                    or not _metal_or_metalloid(el)):
                continue
            n = amounts[el]
            average = state - a.charge / n
            if not positive[0] < average < positive[-1]:
                continue
            lo = max(s for s in positive if s <= average)
            hi = min(s for s in positive if s > average)
            f = (average - lo) / (hi - lo)
            score = a.score + n * ((1 - f) * prob[el, lo] + f * prob[el, hi] - prob[el, state])
            if best is None or score > best.score:
                states = {**a.states, el: average}
                best = _Assignment(states, 0.0, a.positive + n * (average - state), score, el)
    return best


def _metal_or_metalloid(el: str) -> bool:
    from pymatgen.core import Element

    return Element(el).is_metal or Element(el).is_metalloid


ALTERNATIVE_SCORE = 0.5
"""A neutral assignment in which transition-metal cations trade electrons (Ni2+ Mn4+ or
Ni4+ Mn2+ in Li2NiMnO4) and that scores at least this fraction of the guess's is named in
the guess's note: one state per element cannot tell them apart with certainty."""


def _alternatives(best: _Assignment, candidates, amounts) -> list[tuple[_Assignment, float]]:
    """Other neutral assignments that differ from ``best`` only in the states of two or more
    transition metals, with their score over ``best``'s on those elements (their atoms'
    summed state frequencies) where at least ``ALTERNATIVE_SCORE``; best first."""
    from pymatgen.core import Element

    prob = _probabilities(amounts)
    out = []
    for a in candidates:
        changed = [el for el in a.states if a.states[el] != best.states[el]]
        if not (abs(a.charge) <= 1e-6 and len(changed) >= 2
                and all(Element(el).is_transition_metal for el in changed)
                and not any(_below_common(el, a.states[el]) for el in changed)):
            continue
        mine, theirs = (sum(amounts[el] * prob[el, x.states[el]] for el in changed)
                        for x in (best, a))
        if theirs >= ALTERNATIVE_SCORE * mine:
            out.append((a, theirs / mine))
    return sorted(out, key=lambda ar: -ar[1])


def _below_common(el: str, state: float) -> bool:
    """Whether positive ``state`` is below ``el``'s lowest common positive state (pymatgen's
    ``common_oxidation_states``): Co+ and Ni+ beside O or a phosphate (Co+ is known in
    carbonyls and phosphines, not in oxides), so LiCo0.5Fe0.5PO4's note named Fe3+ Co+."""
    from pymatgen.core import Element

    common = [s for s in Element(el).common_oxidation_states if s > 0]
    return 0 < state < min(common, default=0)


def _why_none(candidates, amounts) -> OxidationGuess:
    """No guess, and why: the net charge under the likeliest assignment; for a carbon
    intercalation host (LiC6), that no formal states apply (it said to check the file's
    occupancies)."""
    formula = _formula(amounts)
    # the composition's own elements (Fe3C was told oxidation_states={'Li': 1, ...})
    give = ("give the states (oxidation_states={"
            + ", ".join(f"'{el}': ..." for el in _cations_first(amounts)) + "})")
    stateless = [el for el in amounts if not element_states(el)]
    if stateless:                                           # LiAr, a Ne/Ar liquid
        return OxidationGuess(
            note=f"{', '.join(stateless)} in {formula} {'has' if len(stateless) == 1 else 'have'}"
                 " no oxidation states (a noble gas forms no ions), so no formal states fit",
            advice=give)
    prob = _probabilities(amounts)
    cations = {el: float(_usual_state(el, prob)) for el in amounts if el != "C"}
    carbon = _carbon_host(amounts, cations)
    if carbon is not None:
        return OxidationGuess(
            note=f"{formula} is an intercalation compound: its carbon holds {carbon:.2g} e "
                 f"per atom from {_ions(cations)}, no formal state of C",
            advice=give)
    from pymatgen.core import Element

    if all(Element(el).is_metal for el in amounts):         # LiAl, KAu
        return OxidationGuess(
            note=f"{formula} is an intermetallic: none of its elements can be an anion, so "
                 "no formal states fit", advice=give)
    metallic = _metallic_carbide_nitride(amounts, {}) or _subvalent(amounts)
    if metallic:                                            # Fe3C, Fe4N, Ag2F
        return OxidationGuess(note=f"{formula} is {metallic}; no formal states fit",
                              advice=give)
    dear = _dear_metal_anion(amounts)
    if dear:                                                # Na3AuO, Li8PtO3
        return OxidationGuess(note=f"no sound oxidation states for {formula}: {dear}",
                              advice=f"check the file's occupancies (a missing or doubled "
                                     f"site), or {give}")
    if not candidates:
        return OxidationGuess(note=f"no oxidation states are known for an element of {formula}",
                              advice=give)
    usual = max(candidates, key=lambda a: a.score)
    short = (" or, if its anions bond to one another (a polysulfide, a peroxide), "
             if usual.charge < 0 else " or ")
    return OxidationGuess(
        note=f"no sound oxidation states for {formula}: under its elements' usual states "
             f"({_ions(usual.states)}) it holds {usual.charge:+.3g} e "
             f"({abs(usual.charge) / max(usual.positive, 1e-9):.0%} of its positive charge, "
             f"more than a refinement's {CHARGED_REFINEMENT:.0%}), and no single cation's "
             "mixed valence makes it neutral",
        advice=f"check the file's occupancies (a missing or doubled site),{short}{give}")
