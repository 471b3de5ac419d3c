"""How the guesses are written: formulas (no spaces, cations first), ions (Li+ P5+ S2-) and
the note of a guess that is not one plain neutral state per element."""

from __future__ import annotations

from fractions import Fraction

from ionmd.structures.charges_states import (OxidationGuess, _Assignment, _cations_first,
                                             element_states)


def _formula(amounts) -> str:
    """The formula as chemists write it, cations first (pymatgen's order), without spaces or
    ones: LiB6H6, TiO1.9 (pymatgen's ``reduced_formula`` writes Li(BH)6 and Ti1O1.9; notes
    wrote "Li3 P S4")."""
    return "".join(f"{el}{amounts[el]:g}" if amounts[el] != 1 else el
                    for el in _cations_first(amounts))


def _ions(states) -> str:
    def sign(s):
        mag = abs(s)
        text = "" if mag == 1 else (f"{mag:g}" if mag == round(mag) else f"{mag:.3g}")
        return f"{text}{'+' if s > 0 else '-'}"
    return " ".join(f"{el}{sign(states[el])}" for el in _cations_first(states))


def _described(a: _Assignment, amounts, averaged: str | None = None,
               alternatives: list[tuple[_Assignment, float]] = ()) -> OxidationGuess:
    if alternatives:
        others = "; ".join(f"{_ions(b.states)} (scoring {ratio:.0%} of it)"
                           for b, ratio in alternatives)
        note = (f"{_formula(amounts)}: {_ions(a.states)} is the likeliest by each element's "
                f"ICSD frequencies, but its transition metals can trade electrons: {others} "
                "also make it neutral; where the material's states are known, give them: in "
                "the file (type symbols such as Ni2+ on every site, or "
                "_atom_type_oxidation_number; Python: "
                "oxidation_states=...) for an Ewald ordering, a campaign's [analysis] charges "
                "for sigma")
        return OxidationGuess(a.states, 0.0, note)
    if averaged:
        value = a.states[averaged]
        if _shannon_state(averaged, value):          # Li7MnN4's Mn5+, no Mn4+/Mn7+ mixture
            note = (f"{_formula(amounts)}: {_ions(a.states)}, where {averaged}"
                    f"{value:g}+ (in Shannon's table of ionic radii, not among pymatgen's "
                    f"ICSD states of {averaged}) makes it neutral")
            return OxidationGuess(a.states, 0.0, note)
        lo = max(s for s in element_states(averaged) if s < value)
        hi = min(s for s in element_states(averaged) if s > value)
        note = (f"mixed valence: {averaged} {value:.3g} on average, "
                f"{_average_of(averaged, value, lo, hi)}, makes {_formula(amounts)} neutral "
                f"({_ions({el: s for el, s in a.states.items() if el != averaged})} beside it)")
        return OxidationGuess(a.states, 0.0, note)
    if abs(a.charge) <= 1e-6:
        return OxidationGuess(a.states)
    note = (f"{_formula(amounts)} holds {a.charge:+.3g} e under {_ions(a.states)} "
            f"({100 * abs(a.charge) / a.positive:.2g} % of its positive charge): occupancies "
            "as refined, a little off neutral; the ions keep their usual states")
    return OxidationGuess(a.states, a.charge, note)


def _average_of(el: str, value: float, lo: float, hi: float) -> str:
    """How a site-averaged state is made: "an average of +1 and +3 (Au+ and Au3+, 1:1)", not
    a state of its own (CsAuCl3 is Cs2[AuCl2][AuCl4], Au+ and Au3+: its Au 2 was shown as
    'Au2+', a state that salt does not hold)."""
    share = (hi - value) / (hi - lo)            # of the lower state
    ratio = Fraction(share).limit_denominator(32)
    if abs(float(ratio) - share) < 1e-6 and 0 < ratio < 1:
        counts = f"{ratio.numerator}:{ratio.denominator - ratio.numerator}"
    else:
        counts = f"{share:.3g}:{1 - share:.3g}"
    return (f"an average of {lo:+g} and {hi:+g} ({_ions({el: lo})} and {_ions({el: hi})}, "
            f"{counts})")


def _shannon_state(el: str, value: float) -> bool:
    """Whether ``value`` is a whole state of ``el`` with an ionic radius in Shannon's table
    (Mn5+, Li7MnN4's; not Au2+: CsAuCl3's Au 2 is Au+ and Au3+)."""
    from pymatgen.core import Element

    radii = Element(el).data.get("Shannon radii", {})
    return abs(value - round(value)) < 1e-9 and str(round(value)) in radii
