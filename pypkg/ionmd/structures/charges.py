"""Oxidation states when the user gives none: one rule that run directories
(Nernst-Einstein charges), campaigns and Ewald ordering share.

The states are chosen among those pymatgen's ICSD statistics know for each element and
scored by each element's own frequency of that state summed over atoms (pymatgen sums raw
occurrences, which weigh an element by how many compounds hold it: Li2NiMnO4 came out
Ni4+ Mn2+, chemically Ni2+ Mn4+), with two rules of formal oxidation states that
pymatgen's ``oxi_state_guesses`` does not apply, and a note where cations can trade
electrons:

* every element with a negative state is more electronegative (Pauling) than every element
  with a positive one: electrons go to the more electronegative partner, so no I2+ beside S2-;
* a composition is never rounded or scaled to make it neutral. pymatgen's guess fits whole
  numbers of atoms only, and a refined composition scaled to a few atoms for it came back
  with strange states that absorb the rounding: OBELiX's Li4PS4I (Li8.234 P2 S8 I2 as
  refined, +0.23 e) got P3+ and I2+ (no ionic radius for I2+, ordering lines saying the
  cell held +87 e instead of +9 e);
* where transition metals can trade electrons (Ni2+ Mn4+ or Ni4+ Mn2+), the guess's note
  names the other neutral assignments that score at least ``ALTERNATIVE_SCORE`` of it;
  in oxides of Ni with Mn or Co, Mn4+ and Co3+ are settled and Ni takes the rest
  (``SETTLED_IN_OXIDES``: NMC811 Ni 2.875, not Ni3+ Co2+);
* a metal ``IONIC_DIFFERENCE`` more electronegative than the others, to which the cations
  give an electron cheaply (``CHARGE_TRANSFER_COST``), is an anion (CsAu: Cs+ Au-), which
  ICSD statistics, holding no Au-, could not guess; K-Au, as electronegative a pair as
  Rb-Au, forms intermetallics only (KAu2, KAu5);
* a salt of electropositive metals whose one anion element holds at most half the
  electrons of its usual state has bonds between its anions (a polyanion: CaC2's C2 2-, Na2S4's S4 2-,
  KO2's O2 -): the anion takes the average that makes it neutral (``_polyanion``), the
  cations keep their states, as pymatgen's formal states have them (Ca2+ C-, Na+ S-0.5);
  nearer the isolated ion's (Li7S4, S-1.75) it is a cell short of cations, no guess;
* transition-metal carbides and nitrides (TiC, WC, Fe3C, TiN) and subvalent compounds
  (Ag2F: Ag 0.5+) conduct electrons: their notes say so, and where no formal states fit,
  that they are to be given, not that the file is wrong.

In order: one state per element that makes the composition neutral; else within
``NEARLY_NEUTRAL``, then ``CHARGED_REFINEMENT`` of its positive charge (occupancies as
refined, a little off neutral: the ions keep their usual states); else one cation's state
averaged between two of its states (mixed valence: Fe3O4 Fe 8/3, LiMn2O4 Mn 3.5); else the
anion of a polyanion salt averaged (Li2S6 S-1/3); else no guess, with the reason
(``oxidation_guess(...).note`` and ``.advice``): an intermetallic, a metallic carbide or
nitride or a subvalent compound has states to be given; any other composition that far off
neutral under its elements' usual states is a file to check, not a chemistry to guess.
"""

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
    """

    states: dict[str, float] = field(default_factory=dict)
    net_charge: float = 0.0
    note: str = ""
    advice: str = ""


def guess_oxidation_states(composition) -> dict[str, float]:
    """Element -> oxidation state for ``composition`` (a pymatgen ``Composition``, a
    formula or an element -> count mapping), ``{}`` when there is no sound guess
    (``oxidation_guess`` says why)."""
    return oxidation_guess(composition).states


def transport_charges(composition) -> dict[str, float]:
    """Charges for a Nernst-Einstein conductivity: the oxidation-state guess, else, where no
    formal states fit (a closo-borate's B12H12, a polysulfide's S6: cluster anions), the
    alkali and alkaline-earth ions at their one usual state (Li+, Na+, Mg2+), which is all
    such a sigma of those ions needs; the cluster's atoms get none."""
    from pymatgen.core import Composition, Element

    states = guess_oxidation_states(composition)
    if states:
        return states
    out = {}
    for el in Composition(composition).get_el_amt_dict():
        e = Element(el)
        if (e.is_alkali or e.is_alkaline) and len(e.common_oxidation_states) == 1:
            out[el] = float(e.common_oxidation_states[0])
    return out


def transport_note(composition, charges: dict[str, float] | None = None, *,
                   given: bool = False) -> str:
    """What the charges of ``transport_charges`` (or ``charges``) assume where it is not an
    ordinary ionic solid, else ``""``: an intermetallic (no element of the composition can
    be an anion: LiAl, Li22Sn5, LiMg) or one whose guess needs a metal or a group 13-15
    metalloid as the anion (Zintl phases: LiSi's Si-, Li15Si4's Si4-, Li3Sb's Sb3-), or a
    graphite or fullerene host of intercalated cations (LiC6, KC8: ``INTERCALATED_CARBON``),
    a metallic carbide or nitride (TiC, Fe3C, TiN, LaC2) or a subvalent compound (Ag2F).
    Its Li+ is a formal charge: the sigma is the formal ionic Nernst-Einstein one, not
    what a user of an alloy anode measures (electrons carry its current). A metal far more
    electronegative than the others (``IONIC_DIFFERENCE``: CsAu's Au-) is an ordinary
    anion. ``given``: ``charges`` are the user's own (``ionmd analyze --charges``, a
    run.json's), so the note keeps the caveat but neither calls them the guess nor tells
    how to give them."""
    from pymatgen.core import Composition, Element

    # a run's cell (Li16 Si8) is named as its formula unit (Li2 Si)
    amounts = Composition(composition).reduced_composition.get_el_amt_dict()
    if len(amounts) < 2:
        return ""
    charges = transport_charges(composition) if charges is None else charges
    anions = sorted(el for el, q in charges.items() if q < 0)
    metals = [el for el in _cations_first(amounts) if Element(el).is_metal]
    formula = _formula(amounts)
    ionic = [el for el in anions if _ionic_metal_anion(el, amounts)]   # CsAu's Au-
    carbon = _carbon_host(amounts, charges)
    host = "an alloy's"
    if len(metals) == len(amounts) and not ionic:
        why = f"{formula} is an intermetallic: none of its elements can be an anion"
    elif carbon is not None:
        why = (f"{formula} is an intercalation compound: its carbon holds {carbon:.2g} e per "
               "atom from the cations, a graphite or fullerene host whose own electrons "
               "conduct (C2 2- acetylides hold 1 e per atom)")
        host = "the compound's, whose carbon conducts electrons"     # LiC6 is no alloy
    elif (metallic := _metallic_carbide_nitride(amounts, charges)):
        why = f"{formula} is {metallic}"
        host = "the compound's, whose electrons conduct"
    elif (subvalent := _subvalent(amounts)):
        why = f"{formula} is {subvalent}"
        host = "the compound's, whose electrons conduct"
    elif not anions and all(_zintl_anion(Element(el)) for el in amounts):
        others = [el for el in _cations_first(amounts) if el not in metals]
        why = (f"{formula} is an intermetallic or Zintl phase: its only anion candidates are "
               f"the metalloid{'s' if len(others) > 1 else ''} {', '.join(others)}")
    elif any(_zintl_anion(Element(el)) and el not in ionic for el in anions):
        unusual = [el for el in anions if _zintl_anion(Element(el)) and el not in ionic]
        why = (f"{formula} is a Zintl phase: {'these charges make' if given else 'the guess makes'}"
               f" the metal or metalloid {', '.join(unusual)} its anion")
    else:
        return ""
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


INTERCALATED_CARBON = 0.5
"""Electrons per carbon atom (from the cations' charges) below which carbon, the only
other element, is an intercalation host: graphite (LiC6 1/6, CaC6 1/3, KC8 1/8) or a
fulleride (K3C60 0.05), electronic conductors; acetylides (Li2C2, CaC2: 1 e per C) and
methanides (Be2C: 4) are ionic."""


def _carbon_host(amounts, charges: dict[str, float]) -> float | None:
    """Electrons per C atom where carbon is the only element besides cations of
    ``charges`` and holds fewer than ``INTERCALATED_CARBON``; else None."""
    cations = [el for el in amounts if el != "C"]
    if "C" not in amounts or not cations or not all(charges.get(el, 0) > 0 for el in cations):
        return None
    per_atom = sum(amounts[el] * charges[el] for el in cations) / amounts["C"]
    return per_atom if per_atom < INTERCALATED_CARBON else None


def _metallic_carbide_nitride(amounts, charges: dict[str, float]) -> str | None:
    """What makes ``amounts`` a metallic carbide or nitride, else None: C or N its only
    anions (a cyanide's C2+ or a carbodiimide's C4+ is none; without charges, C no more
    than N and more C and N atoms than metal ones: CN groups) beside metals (and metalloids)
    of which none is an alkali or alkaline-earth metal (Li2C2, CaC2, Li3N, Li7MnN4 are
    ionic). Carbides of d- and f-block metals up to group 10 conduct electrons (TiC, WC, UC,
    Fe3C; LaC2, YC2: Ln3+ C2 2- e-; Greenwood & Earnshaw ch. 8.2.2); Al4C3 and Be2C are
    salts. A nitride conducts where such a metal is left with d or f electrons (TiN Ti3+,
    UN, Fe4N); d0 nitrides are semiconductors (ScN, Zr3N4, Ta3N5), as are Cu3N, Zn3N2, GaN."""
    from pymatgen.core import Element

    light = [el for el in amounts if el in ("C", "N")]
    others = {el: Element(el) for el in amounts if el not in light}
    if (not light or not others or any(charges.get(el, -1) >= 0 for el in light)
            or not all(e.is_metal or e.is_metalloid for e in others.values())
            or any(e.is_alkali or e.is_alkaline for e in others.values())):
        return None
    if len(light) == 2 and amounts["C"] <= amounts["N"] and (
            amounts["C"] + amounts["N"] > sum(amounts[el] for el in others)):
        return None     # CN or NCN groups, not Ti(C,N): Prussian blue Fe7(CN)18 had no guess
    inner = [el for el, e in others.items()
             if e.block == "f" or (e.block == "d" and e.group <= 10)]
    if "C" in light and inner:
        kind = "carbonitride" if len(light) == 2 else "carbide"
        return (f"a metallic {kind} (C beside the d- or f-block metal"
                f"{'s' if len(inner) > 1 else ''} {', '.join(inner)}, as TiC, WC, Fe3C)")
    reduced = [el for el in inner if others[el].is_actinoid     # 5f electrons conduct (UN)
               or (others[el].block == "d" and others[el].group >= 4)]
    reduced = [el for el in reduced
               if el not in charges or charges[el] < max(others[el].oxidation_states)]
    if reduced:
        return (f"a metallic nitride (its {', '.join(reduced)} left with d or f electrons "
                "below its highest state, as TiN's Ti3+)")
    return None


SUBVALENT_METALS = ("Rb", "Cs", "Ca", "Sr", "Ba")
"""Besides the d-block metals (Ag2F, Hf2S, Ti2O), the metals known to form subvalent
(metal-rich, metallic) compounds: the suboxides Rb9O2, Cs11O3 and the subnitrides and
electrides Ca2N, Sr2N, Ba2N (Simon, Coord. Chem. Rev. 163 (1997) 253). Li, Na, K, Mg
form none: a file of theirs with too few anions is missing atoms."""


def _subvalent(amounts) -> str | None:
    """Where the metals of ``amounts`` hold more charge at their lowest positive states
    than its anions (the other elements, at their usual negative states) can take, and all
    of them form subvalent compounds (d-block, ``SUBVALENT_METALS``): what it is (Ag2F, Ag
    0.5+ beside F-: Ag-Ag bonds, a metal); else None. An excess within
    ``CHARGED_REFINEMENT`` of the positive charge is a refinement's (Ag2.2Se, Ag11Se5)."""
    from pymatgen.core import Element

    metals = [el for el in amounts if Element(el).is_metal]
    anions = [el for el in amounts if el not in metals]
    if not metals or not anions or not all(
            Element(el).block == "d" or el in SUBVALENT_METALS for el in metals):
        return None
    prob = _probabilities(amounts)
    usual = {}
    for el in anions:
        negative = [s for s in _options(el) if s < 0]
        if not negative:
            return None
        usual[el] = max(negative, key=lambda s: prob[el, s])
    taken = -sum(amounts[el] * s for el, s in usual.items())
    lowest = {el: min((s for s in _options(el) if s > 0), default=None) for el in metals}
    if None in lowest.values():
        return None
    positive = sum(amounts[el] * s for el, s in lowest.items())
    # within a refinement's excess (CHARGED_REFINEMENT) it is a file a little rich in
    # cations, as oxidation_guess reads it (Ag2.2Se: Ag+ Se2-), no metal
    if positive - taken <= CHARGED_REFINEMENT * positive:
        return None
    if len(metals) == 1:
        (el,) = metals
        held = f"its {el} {taken / amounts[el]:.3g}+ on average beside {_ions(usual)}"
    else:
        held = f"its metals {taken:.3g}+ in all beside {_ions(usual)}"
    return (f"a subvalent (metal-rich) compound: {held}, below "
            f"{'their lowest states' if len(metals) > 1 else 'its lowest state'} "
            f"({_ions(lowest)}): the electrons left over bond metal to metal (Ag2F, Cs11O3) "
            "or sit in its voids (the electride Ca2N), a metal")


def _zintl_anion(element) -> bool:
    """A metal, or a metalloid of groups 13-15 (B, Si, Ge, As, Sb), as an anion: a Zintl
    formal charge. Chalcogens (Te2-, like Se2-) and nonmetals are ordinary anions."""
    return element.is_metal or (element.is_metalloid and element.group < 16)


def nearly_neutral_states(composition) -> dict[str, float]:
    """One oxidation state per element for a refined composition a little off neutral
    (occupancies as published: Li6 In2.03 Cl12 +0.09 e, Al-LLZO's Li50.064 Al1.92 La24 Zr16
    O96 -0.18 e): the most likely assignment whose net charge is within ``NEARLY_NEUTRAL``
    of its positive charge; ``{}`` where none is."""
    from pymatgen.core import Composition

    amounts = Composition(composition).get_el_amt_dict()
    best = _best_within(_assignments(amounts), NEARLY_NEUTRAL)
    return best.states if best else {}


def oxidation_guess(composition) -> OxidationGuess:
    """The guess of ``guess_oxidation_states`` with its net charge and how it was reached
    (module docstring)."""
    from pymatgen.core import Composition

    comp = Composition(composition).reduced_composition
    # occupancies 0.385 + 0.615 add up to Cl 1.0000000000000002
    amounts = {el: float(round(n)) if abs(n - round(n)) < 1e-8 else n
               for el, n in comp.get_el_amt_dict().items()}
    if len(amounts) == 1:
        return OxidationGuess({next(iter(amounts)): 0.0})
    metal_anion = _metal_anion_states(amounts)
    if metal_anion:
        return OxidationGuess(metal_anion)
    candidates = _assignments(amounts)
    for tolerance in (0.0, NEARLY_NEUTRAL, CHARGED_REFINEMENT):
        best = _best_within(candidates, tolerance)
        if best:
            if tolerance == 0.0:
                settled = _settled_oxide(best, amounts)
                if settled:
                    return settled
                return _described(best, amounts,
                                  alternatives=_alternatives(best, candidates, amounts))
            return _described(best, amounts)
    mixed = _mixed_valence(candidates, amounts)
    if mixed:
        return _described(mixed, amounts, averaged=mixed.averaged)
    polyanion = _polyanion(amounts)
    if polyanion:
        return polyanion
    return _why_none(candidates, amounts)


IONIC_DIFFERENCE = 1.7
"""Pauling electronegativity difference above which a bond is mostly ionic (Pauling's
50 % ionic character): a metal this much more electronegative than every other element
of the composition is its anion (CsAu, Cs+ Au-: 2.54 - 0.79 = 1.75, a transparent
semiconductor; RbAu 1.72), not a partner of an intermetallic (LiAu 1.56, LiAl 0.63)."""


def _metal_anion_states(amounts) -> dict[str, float]:
    """Where every element is a metal and the most electronegative one is an anion by
    ``IONIC_DIFFERENCE`` (an auride: CsAu), the others at their usual state and that one
    at the negative state that makes the composition neutral; ``{}`` otherwise (pymatgen's
    ICSD statistics hold no Au-, so the guess had no states for CsAu)."""
    from pymatgen.core import Element

    if not all(Element(el).is_metal for el in amounts):
        return {}
    anion = max(amounts, key=_electronegativity)
    if not _ionic_metal_anion(anion, amounts):
        return {}
    prob = _probabilities(amounts)
    states = {el: float(_usual_state(el, prob)) for el in amounts if el != anion}
    if any(s <= 0 for s in states.values()):
        return {}
    state = -sum(amounts[el] * s for el, s in states.items()) / amounts[anion]
    if state not in Element(anion).oxidation_states:
        return {}
    return {**states, anion: float(state)}


CHARGE_TRANSFER_COST = 1.95
"""eV: a metal anion also needs every other element to give it an electron at most this
far uphill between free atoms (the cation's first ionisation energy less the anion's
electron affinity), which the lattice energy of an ionic solid pays. Pauling's scale
cannot tell the known ionic aurides from K-Au (K and Rb are both 0.82: KAu and RbAu 1.72
apart); the free atoms can: CsAu 1.59 eV and RbAu 1.87 eV are ionic semiconductors, while
K (2.03 eV) forms intermetallic KAu2 and KAu5 with Au and no KAu (LiAu 3.08, NaAu2 2.83),
and KAu in the CsCl structure would be a metal (relativistic bands: Koenig, Christensen,
Kollar, Phys. Rev. B 29 (1984) 6481; K(x)Rb(1-x)Au turns metallic at x = 0.45, Meloni and
Baldereschi, Lect. Notes Phys. 152 (1982))."""


def _ionic_metal_anion(el: str, amounts) -> bool:
    """Whether metal ``el`` is at least ``IONIC_DIFFERENCE`` more electronegative than
    every other element of ``amounts`` and takes their electrons at most
    ``CHARGE_TRANSFER_COST`` uphill: an ordinary (ionic) anion, as Au- in CsAu and RbAu."""
    from pymatgen.core import Element

    x = _electronegativity(el)
    others = [other for other in amounts if other != el]
    affinity = Element(el).electron_affinity
    return bool(others) and all(
        x - _electronegativity(other) >= IONIC_DIFFERENCE
        and Element(other).ionization_energy - affinity <= CHARGE_TRANSFER_COST
        for other in others)


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


@dataclass
class _Assignment:
    states: dict[str, float]
    charge: float
    positive: float
    score: float
    averaged: str | None = None


def _options(el: str) -> tuple[int, ...]:
    from pymatgen.core import Element

    return tuple(Element(el).icsd_oxidation_states or Element(el).common_oxidation_states)


def _probabilities(amounts) -> dict[tuple[str, float], float]:
    """(element, state) -> occurrences in pymatgen's ICSD statistics (0 if absent)."""
    return {(el, s): p for el in amounts for s, p in _element_probabilities(el).items()}


@functools.lru_cache(maxsize=None)
def _element_probabilities(el: str) -> dict[int, float]:
    from pymatgen.core import Composition, Species

    if Composition.oxi_prob is None:            # pymatgen loads its statistics on first use
        Composition("NaCl").oxi_state_guesses()
    prob = Composition.oxi_prob or {}
    counts = {s: float(prob.get(Species(el, s), 0.0)) for s in _options(el)}
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
        patterns.append({el: tuple(s for s in _options(el)
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


def _best_within(candidates, tolerance: float) -> _Assignment | None:
    """The most likely assignment whose net charge is within ``tolerance`` x its positive
    charge (besides 1e-6 e). Beyond ``NEARLY_NEUTRAL``, it must give every element its
    usual state (``_usual``): refined occupancies a little off neutral keep their ions'
    states, no other state absorbs the charge (OBELiX 9yt, Li45.888 P4 S20 Br3 Cl, +21.9 e
    under Li+ P5+ S2-: P- made it -2.1 e)."""
    fits = [a for a in candidates if abs(a.charge) <= 1e-6 + tolerance * a.positive
            and (tolerance <= NEARLY_NEUTRAL or _usual(a.states))]
    return max(fits, key=lambda a: a.score, default=None)


def _usual(states: dict[str, float]) -> bool:
    """Whether each element has the state pymatgen's ICSD statistics find most often among
    its states of that sign (P5+ or P3-, not P3+ or P-; I-, not I+)."""
    prob = _probabilities(states)
    for el, s in states.items():
        same_sign = [t for t in _options(el) if t * s > 0]
        if s != max(same_sign, key=lambda t: prob[el, t], default=s):
            return False
    return True


def _mixed_valence(candidates, amounts) -> _Assignment | None:
    """The most likely neutral assignment in which one cation (an element whose likeliest
    state is positive) takes the average of two of its positive states, the others one
    state each; None where none is. Anions are not averaged: a composition a state of O or
    S would have to absorb is a refinement missing atoms far more often than a peroxide."""
    prob = _probabilities(amounts)
    best = None
    for a in candidates:
        if not _usual(a.states):        # the other elements keep their usual states
            continue
        for el, state in a.states.items():
            positive = sorted(s for s in _options(el) if s > 0)
            if state <= 0 or len(positive) < 2 or _usual_state(el, prob) < 0:
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


def _usual_state(el: str, prob) -> float:
    """The element's likeliest state in pymatgen's ICSD statistics."""
    return max(_options(el), key=lambda s: prob.get((el, s), 0.0))


def _cations_first(elements) -> list[str]:
    """By electronegativity, as pymatgen writes formulas (Li2 Cl, Li+ Cl-)."""
    return sorted(elements, key=lambda el: (math.isnan(x := _electronegativity(el)), x))


def _formula(amounts) -> str:
    return " ".join(f"{el}{amounts[el]:g}" if amounts[el] != 1 else el
                    for el in _cations_first(amounts))


def _ions(states) -> str:
    def sign(s):
        mag = abs(s)
        text = "" if mag == 1 else (f"{mag:g}" if mag == round(mag) else f"{mag:.3g}")
        return f"{text}{'+' if s > 0 else '-'}"
    return " ".join(f"{el}{sign(states[el])}" for el in _cations_first(states))


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


def _why_none(candidates, amounts) -> OxidationGuess:
    """No guess, and why: the net charge under the likeliest assignment; for a carbon
    intercalation host (LiC6), that no formal states apply (it said to check the file's
    occupancies)."""
    formula = _formula(amounts)
    # the composition's own elements (Fe3C was told oxidation_states={'Li': 1, ...})
    give = ("give the states (oxidation_states={"
            + ", ".join(f"'{el}': ..." for el in _cations_first(amounts)) + "})")
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


def declared_oxidation_states(structure) -> dict[str, float] | None:
    """Element -> oxidation state a pymatgen ``Structure`` carries (a CIF's
    ``_atom_type_oxidation_number``, type symbols such as ``Ni2+``), when it gives one
    nonzero state per element; None otherwise (no states, a mixed-valence element such as
    Fe2+/Fe3+, or an element the file left at 0)."""
    states: dict[str, set] = {}
    for site in structure:
        for sp in site.species:
            oxi = getattr(sp, "oxi_state", None)
            if not oxi:
                return None
            states.setdefault(sp.symbol, set()).add(float(oxi))
    if not states or any(len(v) > 1 for v in states.values()):
        return None
    return {el: v.pop() for el, v in states.items()}


def declares_site_states(structure) -> bool:
    """Whether every species of ``structure`` carries a nonzero oxidation state (a CIF
    with ``_atom_type_oxidation_number``, type symbols such as ``Fe2+``)."""
    return all(getattr(sp, "oxi_state", None) for site in structure for sp in site.species)


def with_site_states(parent, ordered, seed: int = 0):
    """``ordered`` (an ordered supercell of ``parent``, atoms on ``parent``'s sites) with
    each atom's oxidation state from the site of ``parent`` it sits on: one state where
    that site gives its element one (Fe3+ on a tetrahedral site), else the site's states
    spread over its atoms in their proportions by a seeded draw (a Fe2+ 0.5 / Fe3+ 0.5
    site: half Fe2+, half Fe3+), so that mixed-valence files keep their states per site,
    not one guessed per element. Counts round to whole atoms per group of sites with the
    same occupancy."""
    import numpy as np
    from pymatgen.core import Species, Structure

    cart = ordered.cart_coords
    frac = parent.lattice.get_fractional_coords(cart) % 1.0
    dist = parent.lattice.get_all_distances(frac, parent.frac_coords)
    home = dist.argmin(axis=1)
    rng = np.random.default_rng(seed)
    states = [None] * len(ordered)
    # atoms grouped by the states their parent site offers their element (sites with the
    # same occupancy together, as ordering groups them)
    members: dict[tuple, list[int]] = {}
    for i, (site, j) in enumerate(zip(ordered, home)):
        el = site.specie.symbol
        options = tuple(sorted((float(sp.oxi_state), round(float(x), 6))
                               for sp, x in parent[int(j)].species.items() if sp.symbol == el))
        members.setdefault(options, []).append(i)
    for options, atoms in members.items():
        total = sum(x for _, x in options)
        counts = [round(len(atoms) * x / total) for _, x in options]
        counts[-1] = len(atoms) - sum(counts[:-1])     # rounding: every atom gets one
        pool = [s for (s, _), n in zip(options, counts) for _ in range(max(n, 0))]
        for i, s in zip(atoms, rng.permutation(pool)):
            states[i] = s
    species = [Species(site.specie.symbol, s) for site, s in zip(ordered, states)]
    return Structure(ordered.lattice, species, ordered.frac_coords,
                     labels=[site.label for site in ordered])
