"""Oxidation states from pymatgen's ICSD statistics: the result of a guess, each element's
states and their frequencies, and every electronegativity-consistent assignment of one state
per element with its score (the rules: ``ionmd.structures.charges``)."""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field

NEARLY_NEUTRAL = 0.01
"""A refined composition whose net charge under one state per element is at most this
fraction of its positive charge is read as that assignment (``nearly_neutral_states``)."""

CHARGED_REFINEMENT = 0.1
"""Failing a neutral one, the guess is the most likely assignment of one state per element
within this fraction of the composition's positive charge (refined occupancies a few % off
neutral, Li6.72PS5Cl +0.72 e: Li+ P5+, not P4+); mixed valence further off neutral
(Li9Mn16O32: Mn3+ -7 e, Mn4+ +9 e, 12 %) gets an averaged state."""


@dataclass(frozen=True)
class OxidationGuess:
    """An oxidation-state guess and how it was reached.

    Attributes
    ----------
    states
        Element -> oxidation state; empty when there is no sound guess.
    net_charge
        Charge of the composition as given under ``states`` (e per formula as given).
    note
        Empty for a neutral assignment of one state per element; else how the states were
        chosen (charged refinement, mixed valence) or why there are none.
    advice
        Where there are none: what to check or give instead.
    clusters
        Cluster anions whose atoms have no formal states of their own (a closo-borate's
        ``{"B12H12": -2.0}``): each cluster's formula -> its charge. ``states`` is then
        empty (it has a state for every element or none) and ``ions`` holds the others.
    ions
        Beside ``clusters``: element -> state of the single-atom ions (Li2B12H12's
        ``{"Li": 1.0}``), what a Nernst-Einstein sigma of them needs.
    """

    states: dict[str, float] = field(default_factory=dict)
    net_charge: float = 0.0
    note: str = ""
    advice: str = ""
    clusters: dict[str, float] = field(default_factory=dict)
    ions: dict[str, float] = field(default_factory=dict)


@dataclass
class _Assignment:
    states: dict[str, float]
    charge: float
    positive: float
    score: float
    averaged: str | None = None


def as_composition(source):
    """``source`` as a pymatgen ``Composition``: a formula, a ``Composition``, an element ->
    count mapping, or anything holding atoms (a pymatgen ``Structure``, whose composition
    is taken, or an ASE ``Atoms``, its formula); a Structure passed to ``Composition`` gave
    ``KeyError: 'Invalid key=0'``."""
    from pymatgen.core import Composition

    if isinstance(source, Composition):
        return source
    if hasattr(source, "composition"):                  # pymatgen Structure, Molecule
        source = source.composition
    elif hasattr(source, "get_chemical_formula"):       # ASE Atoms
        source = source.get_chemical_formula()
    try:
        return Composition(source)
    except (KeyError, TypeError) as exc:
        from ionmd.structures.errors import StructureError

        raise StructureError(
            f"cannot read a composition from {type(source).__name__} {source!r:.60} ({exc}); give a "
            "formula ('Li6PS5Cl'), a pymatgen Composition or Structure, an ASE Atoms or an "
            "element -> count mapping ({'Li': 6, 'P': 1, 'S': 5, 'Cl': 1})") from None


HAND_ASSIGNED_STATES = {"Au": {1: 0.5, 3: 0.5}}
"""States and frequencies of elements pymatgen's ICSD statistics leave out: Au has none, its
common states only Au3+, so Au(I) compounds (AuCl, CsAuO, KAu(CN)2, CsAuCl3's Au+/Au3+) were
called subvalent. Au+ and Au3+ are both ordinary formal states, weighted alike (Au- is
``charges_metallic``'s metal anion, CsAu)."""


def element_states(el: str) -> tuple[int, ...]:
    """The oxidation states of element ``el`` the guess chooses from: those of pymatgen's
    ICSD statistics (else its common ones; :data:`HAND_ASSIGNED_STATES` for elements they
    leave out)."""
    from pymatgen.core import Element

    if el in HAND_ASSIGNED_STATES:
        return tuple(HAND_ASSIGNED_STATES[el])
    return tuple(Element(el).icsd_oxidation_states or Element(el).common_oxidation_states)




def _probabilities(amounts) -> dict[tuple[str, float], float]:
    """(element, state) -> occurrences in pymatgen's ICSD statistics (0 if absent)."""
    return {(el, s): p for el in amounts for s, p in _element_probabilities(el).items()}


@functools.lru_cache(maxsize=None)
def _element_probabilities(el: str) -> dict[int, float]:
    from pymatgen.core import Composition, Species

    if Composition.oxi_prob is None:            # pymatgen loads its statistics on first use
        Composition("NaCl").oxi_state_guesses()
    if el in HAND_ASSIGNED_STATES:
        return dict(HAND_ASSIGNED_STATES[el])
    prob = Composition.oxi_prob or {}
    counts = {s: float(prob.get(Species(el, s), 0.0)) for s in element_states(el)}
    # each element's own frequencies: raw counts weigh an element by how many ICSD
    # compounds hold it (Mn 973, Ni 500), so Mn's liking for 2+ outvoted Ni's for 2+ and
    # Li2NiMnO4 came out Ni4+ Mn2+ (14 + 577 > 407 + 127); as fractions 0.03 + 0.59 < 0.81 + 0.13
    total = sum(counts.values())
    return {s: c / total for s, c in counts.items()} if total else counts


def _electronegativity(el: str) -> float:
    from pymatgen.core import Element

    x = Element(el).X
    return float(x) if math.isfinite(x) else math.nan


def _sign_patterns(amounts) -> list[dict[str, tuple[int, ...]]]:
    """Per element, the states it may take in each electronegativity-consistent sign
    pattern: elements less electronegative than a cut positive, more electronegative
    negative, at the cut either (ties, elements without a Pauling value)."""
    x = {el: _electronegativity(el) for el in amounts}
    patterns = []
    for cut in sorted({v for v in x.values() if not math.isnan(v)}):
        patterns.append({el: tuple(s for s in element_states(el)
                                   if math.isnan(x[el]) or x[el] == cut
                                   or (s > 0 if x[el] < cut else s < 0))
                         for el in amounts})
    return patterns


def _assignments(amounts) -> list[_Assignment]:
    """Every electronegativity-consistent assignment of one state per element."""
    prob = _probabilities(amounts)
    seen, out = set(), []
    for pattern in _sign_patterns(amounts):
        for states in itertools.product(*_trimmed(pattern, prob).values()):
            if states in seen:
                continue
            seen.add(states)
            charges = [n * s for n, s in zip(amounts.values(), states)]
            out.append(_Assignment(
                dict(zip(amounts, map(float, states))), sum(charges),
                sum(c for c in charges if c > 0),
                sum(n * prob[el, s] for (el, n), s in zip(amounts.items(), states))))
    return out


MAX_ASSIGNMENTS = 20_000
"""Assignments enumerated per sign pattern at most: beyond, elements lose their least
likely states (a 25-element high-entropy oxide took 4 minutes; a quinary oxide of five
transition metals enumerates ~400)."""


def _trimmed(pattern: dict[str, tuple], prob) -> dict[str, tuple]:
    """``pattern`` with the least likely state of the element with the most states dropped
    until the product of choices is at most ``MAX_ASSIGNMENTS``."""
    pattern = {el: tuple(sorted(states, key=lambda s: -prob[el, s]))
               for el, states in pattern.items()}
    while math.prod(len(v) for v in pattern.values()) > MAX_ASSIGNMENTS:
        widest = max(pattern, key=lambda el: len(pattern[el]))
        pattern[widest] = pattern[widest][:-1]
    return pattern


def _usual(states: dict[str, float]) -> bool:
    """Whether each element has the state pymatgen's ICSD statistics find most often among
    its states of that sign (P5+ or P3-, not P3+ or P-; I-, not I+); where states tie
    (``HAND_ASSIGNED_STATES``' Au+ and Au3+), each of them."""
    prob = _probabilities(states)
    for el, s in states.items():
        same_sign = [t for t in element_states(el) if t * s > 0]
        if same_sign and (s not in same_sign       # an averaged state (Fe 8/3) is none
                          or prob[el, s] < max(prob[el, t] for t in same_sign)):
            return False
    return True


def _usual_state(el: str, prob) -> float:
    """The element's likeliest state in pymatgen's ICSD statistics; 0 for an element with
    none (He, Ne, Ar: ``max()`` of no states crashed the guess for LiAr)."""
    return max(element_states(el), key=lambda s: prob.get((el, s), 0.0), default=0)


def _cations_first(elements) -> list[str]:
    """By electronegativity, as pymatgen writes formulas (Li2 Cl, Li+ Cl-)."""
    return sorted(elements, key=lambda el: (math.isnan(x := _electronegativity(el)), x))
