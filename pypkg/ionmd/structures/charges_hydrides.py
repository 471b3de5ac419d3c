"""Complex transition-metal hydrides whose metal is more electronegative than H on Pauling's
scale (Pt 2.28, H 2.20): the hexahydroplatinates(IV) A2PtH6, [PtH6]2- (Pt4+ H-), which the
electronegativity rule of formal states read as Pt- beside H+ and left without a guess."""

from __future__ import annotations

from ionmd.structures.charges_states import (OxidationGuess, _cations_first,
                                             _electronegativity, element_states, _probabilities,
                                             _usual_state)
from ionmd.structures.charges_words import _formula, _ions


def _complex_hydride(amounts) -> OxidationGuess | None:
    """A hydride of metals (H the only nonmetal) in which one d-block metal is at least as
    electronegative as H: H- as a ligand of that metal, the other metals at their usual
    states and the metal at the positive state (one of its ICSD or common states) that makes
    the composition neutral: Cs2PtH6 and K2PtH6, Cs+ Pt4+ H- (the series A2PtH6, A = Li to
    Cs, K2PtCl6-type with octahedral [PtH6]2-: Puhakainen, Stoyanov, Evans, Leinenweber,
    Haeussermann, J. Solid State Chem. 183 (2010) 1785), Na2PtH4's Pt2+ ([PtH4]2-). Hydride
    ligands are counted H- whatever the metal's Pauling value (IUPAC's formal states of
    coordination compounds); pymatgen's ``oxi_state_guesses`` ranks Cs2PtH6 Pt2+ H-0.67
    first. None where no such state fits (Mg4Pt3H6, a metal), or more than one metal is that
    electronegative."""
    from pymatgen.core import Element

    metals = [el for el in amounts if el != "H"]
    if "H" not in amounts or not metals or not all(Element(el).is_metal for el in metals):
        return None
    centres = [el for el in metals if Element(el).block == "d"
               and _electronegativity(el) >= _electronegativity("H")]
    if len(centres) != 1:
        return None
    (centre,) = centres
    prob = _probabilities(amounts)
    states = {el: float(_usual_state(el, prob)) for el in metals if el != centre}
    if any(s <= 0 for s in states.values()):
        return None
    states["H"] = -1.0
    state = round(-sum(amounts[el] * s for el, s in states.items()) / amounts[centre], 9)
    if state <= 0 or state not in element_states(centre):
        return None
    states[centre] = float(state)
    return OxidationGuess(states, 0.0, _hydride_note(amounts, states, centre))


def _hydride_note(amounts, states: dict[str, float], centre: str) -> str:
    """As chemists write it, H last (Cs2PtH6: Cs+ Pt4+ H-, [PtH6]2-)."""
    metals = [el for el in _cations_first(amounts) if el != "H"]
    formula = _formula({el: amounts[el] for el in metals}) + _formula({"H": amounts["H"]})
    ions = " ".join(_ions({el: states[el]}) for el in [*metals, "H"])
    ligands = amounts["H"] / amounts[centre]
    charge = states[centre] - ligands
    bound = (f"[{centre}H{ligands:g}]{abs(charge):g}{'-' if charge < 0 else '+'}"
             if ligands == round(ligands) and charge else "as [PtH6]2- in K2PtH6")
    return (f"{formula}: {ions}, a complex hydride (H- bound to {centre}, {bound}): hydride "
            f"ligands are counted H- though {centre} ({_electronegativity(centre):.2f}) is "
            f"more electronegative than H ({_electronegativity('H'):.2f}) on Pauling's scale")
