"""Charges for a Nernst-Einstein conductivity and what they assume where the solid is not an
ordinary ionic one (an intermetallic, a Zintl phase, a carbon host, a metallic carbide)."""

from __future__ import annotations

from ionmd.structures.charges_guess import oxidation_guess
from ionmd.structures.charges_metallic import (_carbon_host, _ionic_metal_anion,
                                               _metallic_carbide_nitride, _subvalent, _zintl_anion)
from ionmd.structures.charges_states import _cations_first
from ionmd.structures.charges_words import _formula, _ions


def transport_charges(composition) -> dict[str, float]:
    """Charges for a Nernst-Einstein conductivity: the oxidation-state guess; beside cluster
    anions (a closo-borate's B12H12 2-: ``OxidationGuess.clusters``) its cations alone;
    else, where no formal states fit, the alkali and alkaline-earth ions at their one usual
    state (Li+, Na+, Mg2+), which is all such a sigma of those ions needs. A cluster's atoms
    get none, nor does an element alone (Li, Cu metal: ``one_element_reason``): its
    oxidation state 0 gave a sigma of 0 mS/cm, where electrons carry the current."""
    from pymatgen.core import Element

    from ionmd.structures.charges_states import as_composition

    composition = as_composition(composition)       # a Structure or Atoms as well
    if len(composition.elements) == 1:
        return {}
    guess = oxidation_guess(composition)
    if guess.states or guess.ions:
        return dict(guess.states or guess.ions)
    out = {}
    for el in composition.get_el_amt_dict():
        e = Element(el)
        if (e.is_alkali or e.is_alkaline) and len(e.common_oxidation_states) == 1:
            out[el] = float(e.common_oxidation_states[0])
    return out


def one_element_reason(composition) -> str | None:
    """Why a composition of one element has no Nernst-Einstein sigma (a metal's current is
    electronic: its atoms' formal charge is 0, and D is what its run gives); None for two
    elements or more."""
    from pymatgen.core import Composition

    elements = Composition(composition).elements
    if len(elements) != 1:
        return None
    el = elements[0]
    what, current = (("a metal", "; electrons carry its current") if el.is_metal
                     else ("an element", ""))
    return (f"{el.symbol} is {what}: no ionic conductivity from formal charges (its atoms' "
            f"oxidation state is 0{current}), D alone")


def _one_element_note(composition, charges: dict[str, float]) -> str:
    """``one_element_reason``, where its charge is 0 or none (an old run.json's Li 0);
    where a user gave it one (``--charges Li=1`` on Li metal) the sigma reported is that
    charge's formal one, so said, not 'D alone' beside it."""
    reason = one_element_reason(composition) or ""
    if not any(charges.values()):
        return reason
    return (f"{reason.split(':')[0]}: the charges ({_ions(charges)}) are formal, and sigma is "
            f"the formal ionic Nernst-Einstein one, not the element's own (its atoms' "
            f"oxidation state is 0)")


def transport_note(composition, charges: dict[str, float] | None = None, *,
                   given: bool = False) -> str:
    """What the charges of ``transport_charges`` (or ``charges``) assume where it is not an
    ordinary ionic solid, else ``""``: an intermetallic (no element of the composition can
    be an anion: LiAl, Li22Sn5, LiMg) or one whose guess needs a metal or a group 13-15
    metalloid as the anion (Zintl phases: LiSi's Si-, Li15Si4's Si4-, Li3Sb's Sb3-), or a
    graphite or fullerene host of intercalated cations (LiC6, KC8: ``INTERCALATED_CARBON``),
    a metallic carbide or nitride (TiC, Fe3C, TiN, LaC2) or a subvalent compound (Ag2F).
    Its Li+ is a formal charge: the sigma is the formal ionic Nernst-Einstein one, not
    what a user of an alloy anode measures (electrons carry its current). A metal that takes
    the others' electrons cheaply (``CHARGE_TRANSFER_COST``: CsAu's Au-, Cs2Pt's Pt2-) is an
    ordinary anion. ``given``: ``charges`` are the user's own (``ionmd analyze --charges``, a
    run.json's), so the note keeps the caveat but neither calls them the guess nor tells
    how to give them."""
    from pymatgen.core import Composition

    # a run's cell (Li16Si8) is named as its formula unit (Li2Si)
    amounts = Composition(composition).reduced_composition.get_el_amt_dict()
    if len(amounts) < 2:        # an old run.json's recorded Li 0, or a user's Li=1
        return _one_element_note(composition, charges or {})
    charges = transport_charges(composition) if charges is None else charges
    reason = _not_ionic(amounts, charges, given)
    if reason is None:
        return ""
    why, host = reason
    if not charges:     # Fe3C, Ag2F: nothing to call formal, nor a command to repeat
        return (f"{why}: no formal charges fit, and a formal ionic Nernst-Einstein sigma "
                f"(not {host}) needs them: give them as a campaign's [analysis] charges or "
                f"`ionmd analyze --charges {','.join(f'{el}=Q' for el in amounts)}`")
    caveat = (f"{why}: the charges ({_ions(charges)}) are formal, and sigma is the "
              f"formal ionic Nernst-Einstein one, not {host}")
    if given:           # the user's own: the hint would repeat the command they ran
        return caveat
    table = ", ".join(f"{el} = {q:g}" for el, q in charges.items())
    cli = ",".join(f"{el}={q:g}" for el, q in charges.items())
    return (f"{caveat}; to use others, give them: a campaign's [analysis] charges = "
            f"{{{table}}}, `ionmd analyze --charges {cli}`")


def _not_ionic(amounts, charges: dict[str, float], given: bool) -> tuple[str, str] | None:
    """Why ``amounts`` under ``charges`` is no ordinary ionic solid, and whose sigma its
    formal one is not (an alloy's, the compound's); None where it is one."""
    from pymatgen.core import Element

    anions = sorted(el for el, q in charges.items() if q < 0)
    metals = [el for el in _cations_first(amounts) if Element(el).is_metal]
    formula = _formula(amounts)
    ionic = [el for el in anions if _ionic_metal_anion(el, amounts)]   # CsAu's Au-
    carbon = _carbon_host(amounts, charges)
    conducting = "the compound's, whose electrons conduct"
    if len(metals) == len(amounts) and not ionic:
        return f"{formula} is an intermetallic: none of its elements can be an anion", "an alloy's"
    if carbon is not None:                                              # LiC6 is no alloy
        return (f"{formula} is an intercalation compound: its carbon holds {carbon:.2g} e per "
                "atom from the cations, a graphite or fullerene host whose own electrons "
                "conduct (C2 2- acetylides hold 1 e per atom)",
                "the compound's, whose carbon conducts electrons")
    if (metallic := _metallic_carbide_nitride(amounts, charges)):
        return f"{formula} is {metallic}", conducting
    if (subvalent := _subvalent(amounts)):
        return f"{formula} is {subvalent}", conducting
    if not anions and all(_zintl_anion(Element(el)) for el in amounts):
        others = [el for el in _cations_first(amounts) if el not in metals]
        return (f"{formula} is an intermetallic or Zintl phase: its only anion candidates are "
                f"the metalloid{'s' if len(others) > 1 else ''} {', '.join(others)}",
                "an alloy's")
    unusual = [el for el in anions if _zintl_anion(Element(el)) and el not in ionic]
    if unusual:
        whose = "these charges make" if given else "the guess makes"
        return (f"{formula} is a Zintl phase: {whose} the metal or metalloid "
                f"{', '.join(unusual)} its anion", "an alloy's")
    return None
