"""Metals as anions and compounds whose electrons conduct: aurides and platinides (CsAu,
Cs2Pt), carbon intercalation hosts (LiC6), metallic carbides and nitrides (TiC, TiN),
subvalent compounds (Ag2F) and the metals and metalloids of Zintl anions (LiSi)."""

from __future__ import annotations

from ionmd.structures.charges_states import (CHARGED_REFINEMENT, OxidationGuess,
                                             _electronegativity, element_states, _probabilities,
                                             _usual_state)
from ionmd.structures.charges_words import _average_of, _formula, _ions


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
    if _metal_anion_states(amounts):        # Cs3AuO: Cs+ Au- O2-, an ionic salt
        return None
    if not metals or not anions or not all(
            Element(el).block == "d" or el in SUBVALENT_METALS for el in metals):
        return None
    prob = _probabilities(amounts)
    usual = {}
    for el in anions:
        negative = [s for s in element_states(el) if s < 0]
        if not negative:
            return None
        usual[el] = max(negative, key=lambda s: prob[el, s])
    taken = -sum(amounts[el] * s for el, s in usual.items())
    lowest = {el: min((s for s in element_states(el) if s > 0), default=None) for el in metals}
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


def _metal_anion_states(amounts, cost_limit: float | None = None) -> dict[str, float]:
    """Where the most electronegative metal is an anion beside the other metals
    (``_ionic_metal_anion``: an auride, CsAu; a platinide, Cs2Pt), the other metals at their
    usual state, the nonmetals at their usual negative one, and that metal at the negative
    state that makes the composition neutral (Au-, Pt2-); ``{}`` otherwise (pymatgen's ICSD
    statistics hold no Au- nor Pt2-, so the guess had no states for CsAu and called Cs2Pt an
    intermetallic). Beside ordinary anions it is the same ion: the oxides Cs3AuO and Rb3AuO,
    Cs+ Au- O2- (Au L-edge XANES: J. Am. Chem. Soc. 117 (1995) 11749; Materials Project
    mp-505212, Cs3AuO: a 1.3 eV gap), and the red, transparent platinide hydride Cs9Pt4H =
    4 Cs2Pt.CsH, Cs+ Pt2- H- (Smetana and Mudring, Angew. Chem. Int. Ed. 2016,
    doi:10.1002/anie.201606682), were called subvalent metals. Where the neutral state is not
    negative the metal is a cation (RbAuCl4's Au3+, Cs2PtCl6's Pt4+). Between its negative
    state and the positive one of the same size, beside ordinary anions, it is both
    (``_disproportionated``: the auride-aurates M7Au5O2, Au -0.6 on average), which were
    called subvalent. ``cost_limit``: that of ``_beside_anions`` (``float("inf")``: what a
    metal anion would take, for the reason there is no guess)."""
    from pymatgen.core import Element

    metals = [el for el in amounts if Element(el).is_metal]
    if not metals:
        return {}
    anion = max(metals, key=_electronegativity)
    if not _ionic_metal_anion(anion, amounts, cost_limit):
        return {}
    prob = _probabilities(amounts)
    states = {el: float(_usual_state(el, prob)) for el in metals if el != anion}
    if any(s <= 0 for s in states.values()):
        return {}
    for el in amounts:
        if el not in metals:        # an ordinary anion beside the metal one (O2-, H-)
            negative = [s for s in element_states(el) if s < 0]
            if not negative:
                return {}
            states[el] = float(max(negative, key=lambda s: prob[el, s]))
    state = round(-sum(amounts[el] * s for el, s in states.items()) / amounts[anion], 9)
    if not state < 0 or not (state in Element(anion).oxidation_states
                             or _disproportionated(anion, state, amounts)):
        return {}
    return {**states, anion: float(state)}


def _disproportionated(anion: str, state: float, amounts) -> bool:
    """Whether a metal anion's average ``state`` lies between its negative state and the
    positive one of the same size (Au- and Au+) beside ordinary anions: the auride-aurates
    Cs7Au5O2 and Rb7Au5O2 = 4 MAu.M3AuO2, Au- beside Au+ in linear [O-Au-O]3- (Au -0.6 on
    average; Mudring and Jansen, Angew. Chem. Int. Ed. 39 (2000) 3066, "base-induced
    disproportionation of elemental gold"). They were called subvalent metals."""
    from pymatgen.core import Element

    negative = min(s for s in Element(anion).oxidation_states if s < 0)
    return (-negative in element_states(anion) and negative < state < -negative
            and any(not Element(el).is_metal for el in amounts))


def _metal_anion_guess(amounts) -> OxidationGuess | None:
    """The guess where a metal is an anion (``_metal_anion_states``), with a note where it
    is not simply one (CsAu, Cs3AuO: none): an auride-aurate's average (Cs7Au5O2), or an
    auride beside ordinary anions whose cations give their electron dearer than Cs and Rb
    do (K3AuO, ``_beside_anions``)."""
    from pymatgen.core import Element

    states = _metal_anion_states(amounts)
    if not states:
        return None
    anion = next(el for el, s in states.items() if s < 0 and Element(el).is_metal)
    state = states[anion]
    others = _ions({el: s for el, s in states.items() if el != anion})
    formula = _formula(amounts)
    if _disproportionated(anion, state, amounts):
        size = -min(s for s in Element(anion).oxidation_states if s < 0)
        known = (anion == "Au" and "O" in amounts
                 and {el for el in amounts if el not in ("Au", "O")} <= set(AURIDE_AURATE_CATIONS))
        return OxidationGuess(states, 0.0, (
            f"{formula}: {anion} {state:.3g} on average, "
            f"{_average_of(anion, state, -size, size)}, beside {others}: its {anion} "
            f"disproportionated into {_ions({anion: -size})} and {_ions({anion: size})} bound "
            f"to its anions, as Au in the auride-aurates M7Au5O2 (M = "
            f"{', '.join(AURIDE_AURATE_CATIONS)}; Cs7Au5O2 = 4 CsAu.Cs3AuO2)"
            + ("" if known else "; no such compound of these elements is known: its states "
               "are formal")))
    dear = {el: _transfer_cost(el, anion) for el in amounts
            if Element(el).is_metal and el != anion}
    dear = {el: cost for el, cost in dear.items() if cost > CHARGE_TRANSFER_COST}
    if not dear:
        return OxidationGuess(states)
    known = anion == "Au" and set(dear) <= set(AURIDE_OXIDE_CATIONS) and "O" in amounts
    return OxidationGuess(states, 0.0, (
        f"{formula}: {_ions({anion: state})} is the one state that makes it neutral beside "
        f"{others}, a metal anion beside ordinary ones as Au- in the auride oxides M3AuO (M "
        f"= {', '.join(AURIDE_OXIDE_CATIONS)}), whose ionic lattice holds it though "
        + ", ".join(f"{el} gives {anion} an electron {cost:.2f} eV uphill" for el, cost
                    in dear.items())
        + f" (free atoms; CsAu {_transfer_cost('Cs', 'Au'):.2f} eV)"
        + ("" if known else "; no such compound of these elements is known: its states are "
           "formal")))


AURIDE_AURATE_CATIONS = ("Rb", "Cs")
"""The alkali metals of the known auride-aurates M7Au5O2, Au- beside [O-Au(I)-O]3- (Mudring
and Jansen, Angew. Chem. Int. Ed. 39 (2000) 3066); Li7Au5O2, Na7Au5O2, K7Au5O2 and Cs4Pt3O's
Pt2-/Pt2+ were noted as that family, none of them known."""

AURIDE_OXIDE_CATIONS = ("K", "Rb", "Cs")
"""The alkali metals of the known auride oxides M3AuO, Au- beside O2- (Jansen, "The
chemistry of gold as an anion", Chem. Soc. Rev. 37 (2008) 1826); no Li3AuO or Na3AuO is
known."""

METAL_ANION_AFFINITY = 2.0
"""eV: the electron affinity of a metal that alkali metals make an anion beside ordinary
anions at any cost of the transfer (``_beside_anions``): Au 2.31, Pt 2.13; Ir 1.56 and
Ag 1.30 form none."""


def _transfer_cost(cation: str, anion: str) -> float:
    """eV uphill from the free atoms to the ions: ``cation``'s first ionisation energy less
    ``anion``'s electron affinity (CsAu 1.59, KAu 2.03)."""
    from pymatgen.core import Element

    return Element(cation).ionization_energy - Element(anion).electron_affinity


CHARGE_TRANSFER_COST = 1.95
"""eV: a metal is an anion where every other metal gives it an electron at most this far
uphill between free atoms (the cation's first ionisation energy less the anion's electron
affinity), which the lattice energy of an ionic solid pays. Pauling's scale cannot tell
the ionic compounds from the intermetallics: K and Rb are both 0.82, 1.72 from Au, and
Cs2Pt, a platinide(-II) with complete charge separation (transparent red crystals of Cs+
and Pt2-: Karpov, Nuss, Wedig, Jansen, Angew. Chem. Int. Ed. 42 (2003) 4818), is 1.49
apart, less than the intermetallic LiAu's 1.56. The free atoms can tell: CsAu 1.59 eV,
Cs-Pt 1.77 eV and RbAu 1.87 eV are ionic, while K (2.03 eV) forms intermetallic KAu2 and
KAu5 with Au and no KAu (LiAu 3.08, NaAu2 2.83, Ba-Pt 3.09), and KAu in the CsCl
structure would be a metal (relativistic bands: Koenig, Christensen, Kollar, Phys. Rev. B
29 (1984) 6481; K(x)Rb(1-x)Au turns metallic at x = 0.45, Meloni and Baldereschi, Lect.
Notes Phys. 152 (1982))."""


def _ionic_metal_anion(el: str, amounts, cost_limit: float | None = None) -> bool:
    """Whether metal ``el`` is more electronegative (Pauling) than every other metal of
    ``amounts`` and takes their electrons at most ``CHARGE_TRANSFER_COST`` uphill: an
    ordinary (ionic) anion, as Au- in CsAu and RbAu, Pt2- in Cs2Pt; nonmetals beside it are
    anions too (Cs3AuO's O2-, Cs9Pt4H's H-), not donors. Among metals only Au and Pt hold an
    electron that firmly (electron affinities 2.31 and 2.13 eV; Ir 1.56), and only Cs and
    Rb give one that cheaply (3.89 and 4.18 eV); beside ordinary anions K too, as in K3AuO
    (``_beside_anions``, up to ``cost_limit``)."""
    from pymatgen.core import Element

    x = _electronegativity(el)
    others = [other for other in amounts if other != el and Element(other).is_metal]
    if not others or not all(x > _electronegativity(other) for other in others):
        return False
    return (all(_transfer_cost(other, el) <= CHARGE_TRANSFER_COST for other in others)
            or _beside_anions(el, amounts, others, cost_limit))


def _beside_anions(el: str, amounts, others, cost_limit: float | None = None) -> bool:
    """Whether metal ``el`` holds an electron as firmly as Au and Pt do
    (``METAL_ANION_AFFINITY``) beside ordinary (nonmetal) anions and alkali metals alone,
    each of which gives it that electron at most ``cost_limit`` uphill (by default
    ``BESIDE_ANIONS_COST``: K's to Au in K3AuO, the dearest such salt known): their lattice
    (the Madelung energy of O2-) pays what the free atoms cost. K3AuO is an auride oxide
    (``AURIDE_OXIDE_CATIONS``) though K (2.03 eV) forms intermetallic KAu2 and KAu5 with Au
    alone; it got no states (K+ Au+ O2-: +2 e). Na (2.83 eV) and Li (3.08) give Au no
    electron in any compound known (NaAu2 and LiAu are metals; no Na3AuO, Li3AuO): Li8PtO3,
    Li8PtO6 short of half its O, was guessed Pt2- beside O2-."""
    from pymatgen.core import Element

    limit = BESIDE_ANIONS_COST if cost_limit is None else cost_limit
    return (Element(el).electron_affinity >= METAL_ANION_AFFINITY
            and any(not Element(x).is_metal for x in amounts)
            and all(Element(other).is_alkali and _transfer_cost(other, el) <= limit
                    for other in others))


BESIDE_ANIONS_COST = 2.1
"""eV: beside ordinary anions, how far uphill (between free atoms) an alkali metal may give
a metal anion its electron: K to Au, 2.03 eV, in the known auride oxide K3AuO
(``AURIDE_OXIDE_CATIONS``); Rb to Pt, 2.05 eV, as Cs to Pt in Cs9Pt4H (formal: no such
salt of Rb is known). K to Pt (2.22 eV), Na (2.83) and Li (3.08) to Au, Li to Pt (3.27)
are far dearer, and no such salt is known: a composition that only Au- or Pt2- makes
neutral beside them is no guess (a file to check, or states to give), not a formal
auride."""


def _dear_metal_anion(amounts) -> str | None:
    """Where a metal anion beside ordinary anions would make ``amounts`` neutral but its
    cations give it an electron dearer than ``BESIDE_ANIONS_COST`` (Na3AuO, Li8PtO3): what
    it would take, for the reason there is no guess; else None."""
    from pymatgen.core import Element

    if _metal_anion_states(amounts):
        return None
    states = _metal_anion_states(amounts, cost_limit=float("inf"))
    if not states:
        return None
    anion = next(el for el, s in states.items() if s < 0 and Element(el).is_metal)
    state = states[anion]
    named = (_ions({anion: state}) if state == round(state)
             else f"{anion} {state:.3g} on average")
    others = _ions({el: s for el, s in states.items() if el != anion})
    donors = [el for el in amounts if Element(el).is_metal and el != anion]
    costs = " and ".join(f"{_transfer_cost(el, anion):.2f}" for el in donors)
    return (f"only {named} beside {others} would make it neutral, a metal anion as Au- in "
            f"the auride oxides M3AuO (M = {', '.join(AURIDE_OXIDE_CATIONS)}), but "
            f"{' and '.join(donors)} give{'s' if len(donors) == 1 else ''} {anion} an "
            f"electron {costs} eV uphill between free atoms, dearer than in any such salt known "
            f"(K to Au in K3AuO, {_transfer_cost('K', 'Au'):.2f} eV)")
