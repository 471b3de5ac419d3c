"""Anions of more than one atom: polyanions whose atoms share the charge (CaC2's C2 2-,
Na2S4's S4 2-) and cluster anions whose atoms have no formal states of their own (closo-borates'
B12H12 2-, CB11H12 -)."""

from __future__ import annotations

from ionmd.structures.charges_metallic import _carbon_host, _zintl_anion
from ionmd.structures.charges_states import (OxidationGuess, _options, _probabilities,
                                             _usual_state)
from ionmd.structures.charges_words import _formula, _ions


def _salt_cation(el: str) -> bool:
    """Alkali, alkaline-earth, group 3 and lanthanide metals: the electropositive cations of
    salt-like carbides and polychalcogenides (Li2C2, CaC2, LaC2, Na2S4, KO2)."""
    from pymatgen.core import Element

    e = Element(el)
    return (e.is_alkali or e.is_alkaline or e.is_lanthanoid
            or (e.block == "d" and e.group == 3))


def _polyanion(amounts) -> OxidationGuess | None:
    """A salt of ``_salt_cation`` metals at their usual states and one nonmetal (or Te)
    whose average state, which makes it neutral, lies between its usual negative state and
    0: its anions bond to one another (C2 2-, C3 4-, S_n 2-, O2 2-, O2 -, I3 -, N3 -), and
    the formal state of each atom is their average (CaC2: Ca2+ C-; Na2S4: Na+ S-0.5; LaC2:
    La3+ C-1.5). Whole numbers of atoms only: a refined Li1.8S is Li2S missing Li, not a
    polysulfide; and at least halfway from the isolated ion's state to 0, as where every
    anion atom bonds to another (Li2S2's S-, Li2O2's O-, CaC2's C-): Li7S4's S-1.75 is a
    Li2S cell with a Li vacancy, whose S atoms sit 4 A apart; and not beside a transition metal or a p-block cation, where a
    composition short of cations (Li5La3Zr2O12, O-1.83) is a file missing atoms."""
    from pymatgen.core import Element

    anions = [el for el in amounts if not Element(el).is_metal]
    if len(anions) != 1 or any(n != round(n) for n in amounts.values()):
        return None
    (x,) = anions
    cations = [el for el in amounts if el != x]
    if (not cations or not all(_salt_cation(el) for el in cations)
            or _zintl_anion(Element(x))):      # Li2Si's Si2-: Zintl phases keep their notes
        return None
    prob = _probabilities(amounts)
    states = {el: float(_usual_state(el, prob)) for el in cations}
    negative = [s for s in _options(x) if s < 0]
    if not negative or min(states.values()) <= 0 or _carbon_host(amounts, states) is not None:
        return None                                     # LiC6's graphite is no polyanion
    usual = max(negative, key=lambda s: prob[x, s])
    average = -sum(amounts[el] * s for el, s in states.items()) / amounts[x]
    if not usual / 2 <= average < 0:        # Li7S4 (S-1.75): Li2S short of a Li
        return None
    note = (f"{_formula(amounts)}: {x} {average:.3g} on average beside {_ions(states)} makes "
            f"it neutral: its {x} atoms bond to one another (a polyanion, as C2 2- in CaC2, "
            f"S4 2- in Na2S4), where {x}{-usual:g}- is an isolated ion's; {x}'s state is "
            "formal, the cations keep their usual ones")
    return OxidationGuess({**states, x: average}, 0.0, note)
