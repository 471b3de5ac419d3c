"""How the guesses are written: formulas (no spaces, cations first), ions (Li+ P5+ S2-) and
the note of a guess that is not one plain neutral state per element."""

from __future__ import annotations

from ionmd.structures.charges_states import OxidationGuess, _Assignment, _cations_first


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
                "the file (type symbols such as Ni2+, or _atom_type_oxidation_number; Python: "
                "oxidation_states=...) for an Ewald ordering, a campaign's [analysis] charges "
                "for sigma")
        return OxidationGuess(a.states, 0.0, note)
    if averaged:
        note = (f"mixed valence: {averaged} {a.states[averaged]:.3g} on average makes "
                f"{_formula(amounts)} neutral ({_ions(a.states)})")
        return OxidationGuess(a.states, 0.0, note)
    if abs(a.charge) <= 1e-6:
        return OxidationGuess(a.states)
    note = (f"{_formula(amounts)} holds {a.charge:+.3g} e under {_ions(a.states)} "
            f"({100 * abs(a.charge) / a.positive:.2g} % of its positive charge): occupancies "
            "as refined, a little off neutral; the ions keep their usual states")
    return OxidationGuess(a.states, a.charge, note)
