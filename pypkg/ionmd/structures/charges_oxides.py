"""Rules of oxides that ICSD frequencies cannot settle: the transition metals of Ni's mixed
oxides (NMC: Mn4+, Co3+, Ni the rest)."""

from __future__ import annotations

from ionmd.structures.charges_states import (OxidationGuess, _Assignment, _cations_first,
                                             _options, _probabilities, _usual_state)
from ionmd.structures.charges_words import _formula, _ions


SETTLED_IN_OXIDES = {"Mn": 4.0, "Co": 3.0}
"""Transition-metal states that do not trade electrons with Ni in its mixed oxides: in
layered and spinel cathodes Mn is 4+ and Co 3+, and Ni takes the rest (NMC111 Ni2+,
NMC811 Ni 2.875: Ni2+/Ni3+, LiNi0.5Mn1.5O4 Ni2+, NCA Ni3+; Whittingham, Chem. Rev. 104
(2004) 4271; Manthiram, Nat. Commun. 11 (2020) 1550). ICSD frequencies cannot tell: Co2+
(CoO, salts) is Co's likeliest state, and NMC811 came out Ni3+ Mn4+ Co2+. Beside Fe the
rule is not known to hold (LiFe0.5Mn0.5O2 is Fe3+ Mn3+), so it is Ni's alone."""
TAKES_THE_REST = "Ni"


def _settled_oxide(best: _Assignment, amounts) -> OxidationGuess | None:
    """For an oxide of Ni and ``SETTLED_IN_OXIDES`` metals (they can trade electrons:
    ``best``, the likeliest neutral assignment by ICSD frequencies, may differ): those
    metals at their settled states and Ni (``TAKES_THE_REST``) at what makes the
    composition neutral (its average where that lies between two neighbouring states:
    mixed valence), the other elements as in ``best``; None where the anions are not oxide
    alone, the one metal left to take the rest is not Ni, or its state would be below
    its usual one (Ni2+) or neither one of its states nor between two neighbouring ones."""
    from pymatgen.core import Element

    if [el for el, s in best.states.items() if s < 0] != ["O"]:
        return None
    metals = [el for el in amounts if Element(el).is_transition_metal]
    settled = [el for el in _cations_first(metals) if el in SETTLED_IN_OXIDES]
    rest = [el for el in metals if el not in SETTLED_IN_OXIDES]
    if not settled or len(rest) != 1:
        return None
    (el,) = rest
    if el != TAKES_THE_REST:
        return None
    states = {**best.states, **{m: SETTLED_IN_OXIDES[m] for m in settled}}
    others = sum(amounts[x] * s for x, s in states.items() if x != el)
    average = round(-others / amounts[el], 9)      # 2.875, not 2.8749999999999996
    positive = sorted(s for s in _options(el) if s > 0)
    lo = max((s for s in positive if s <= average + 1e-9), default=None)
    if (lo is None or (abs(average - lo) > 1e-9 and lo + 1 not in positive)
            or average < _usual_state(el, _probabilities(amounts)) - 1e-9):
        return None     # below Ni2+ (NiCoO2 is rock-salt Ni2+ Co2+, not Ni+ Co3+)
    states[el] = float(lo) if abs(average - lo) <= 1e-9 else average
    if states == best.states:
        return None
    note = (f"{_formula(amounts)}: {_ions(states)}, the states of mixed transition-metal "
            f"oxides ({', '.join(f'{m}{SETTLED_IN_OXIDES[m]:g}+' for m in settled)} beside "
            f"{el}, which takes the rest"
            + (f": {el}{lo:g}+/{el}{lo + 1:g}+, {average:.4g} on average" if states[el] != lo
               else "")
            + f"); each element's ICSD frequencies alone gave {_ions(best.states)}; where the "
            "material's states are known otherwise, give them: in the file (type symbols "
            "such as Ni2+, or _atom_type_oxidation_number; Python: oxidation_states=...) for "
            "an Ewald ordering, a campaign's [analysis] charges for sigma")
    return OxidationGuess(states, 0.0, note)
