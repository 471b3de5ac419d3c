"""Rules of oxides that ICSD frequencies cannot settle: the transition metals of Ni's mixed
oxides (NMC: Mn4+, Co3+, Ni the rest), the reduced d-block metal of an oxide short of O
(TiO1.9: Ti3+/Ti4+) or oxidized one of an oxide with extra O (La2NiO4.1: Ni2+/Ni3+) and N
in an oxynitride (LiPON: N3-)."""

from __future__ import annotations

from ionmd.structures.charges_states import (CHARGED_REFINEMENT, OxidationGuess,
                                             _Assignment, _cations_first, element_states,
                                             _probabilities, _usual, _usual_state)
from ionmd.structures.charges_words import _average_of, _formula, _ions


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
    ``best``, the likeliest assignment by ICSD frequencies, may differ): those metals at
    their settled states and Ni (``TAKES_THE_REST``) at what makes the composition neutral
    (its average where that lies between two neighbouring states: mixed valence), whether
    ``best`` is neutral or not (delithiated NMC, Li0.9Ni0.33Mn0.33Co0.33O2: Ni 2.39, where
    mixed valence gave Mn5.39+ beside Co2+ and Ni2+), the other elements as in ``best``;
    None where the anions are not oxide
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
    positive = sorted(s for s in element_states(el) if s > 0)
    lo = max((s for s in positive if s <= average + 1e-9), default=None)
    if (lo is None or (abs(average - lo) > 1e-9 and lo + 1 not in positive)
            or average < _usual_state(el, _probabilities(amounts)) - 1e-9):
        return None     # below Ni2+ (NiCoO2 is rock-salt Ni2+ Co2+, not Ni+ Co3+)
    states[el] = float(lo) if abs(average - lo) <= 1e-9 else average
    if states == best.states:
        return None
    shown = states if states[el] == lo else {x: q for x, q in states.items() if x != el}
    note = (f"{_formula(amounts)}: {_ions(shown)}, the states of mixed transition-metal "
            f"oxides ({', '.join(f'{m}{SETTLED_IN_OXIDES[m]:g}+' for m in settled)} beside "
            f"{el}, which takes the rest"
            + (f": {el}{lo:g}+/{el}{lo + 1:g}+, {average:.4g} on average, "
               f"{_average_of(el, average, lo, lo + 1)}" if states[el] != lo
               else "")
            + f"); each element's ICSD frequencies alone gave {_ions(best.states)}"
            + (f" ({best.charge:+.3g} e)" if abs(best.charge) > 1e-6 else "") + "; where the "
            "material's states are known otherwise, give them: in the file (type symbols "
            "such as Ni2+ on every site, or _atom_type_oxidation_number; Python: "
            "oxidation_states=...) for "
            "an Ewald ordering, a campaign's [analysis] charges for sigma")
    return OxidationGuess(states, 0.0, note)


def _nitrogen_fits(states: dict[str, float]) -> bool:
    """Whether ``states`` keep N at N3- where O2- is beside another oxoanion's centre (B, C,
    Si, P, S, ...: ``_oxoanion_centre``) at a positive state: N then replaces O around that
    centre (LiPON's P-N=P and P=N bonds, Li2PO2N; Bates et al., Solid State Ionics 53-56
    (1992) 647), it is no cation. N is positive beside O only at the centre of its own
    oxoanion (LiNO3 N5+, NaNO2 N3+). Before, Li3PO4N was guessed N+ with P4+ (as pymatgen's
    ``oxi_state_guesses`` has it) and Li3PO3N N2-: states that absorb the -3 e and -1 e
    those compositions hold under N3-."""
    if states.get("N", -3.0) == -3.0 or states.get("O", 0.0) >= 0:
        return True
    return not any(s > 0 and _oxoanion_centre(el) for el, s in states.items())


def _oxoanion_centre(el: str) -> bool:
    """A nonmetal or metalloid of groups 13-16 other than N and O (B, C, Si, P, S, Ge, As,
    Se): the centre of an oxoanion (BO3 3-, SiO4 4-, PO4 3-, SO4 2-) in which N can stand
    for O."""
    from pymatgen.core import Element

    e = Element(el)
    return (el not in ("N", "O") and e.group in (13, 14, 15, 16)
            and (e.is_metalloid or not e.is_metal))


def _reduced_oxide(candidates, amounts, beyond_refinement: bool = False
                   ) -> OxidationGuess | None:
    """An oxide (O its only anion) that holds positive charge under its elements' usual
    states, however little (Li4Ti5O11.9, +0.2 e, 0.83 %, was Ti4+ as refined occupancies
    below ``NEARLY_NEUTRAL``: its cations are whole, so its O is short) and within
    ``CHARGED_REFINEMENT`` (``beyond_refinement``: as far as the next state reaches), with
    a d-block metal that takes the electrons: that metal at
    the average of its usual state and the next lower one (``_next_state``) that makes it
    neutral (TiO1.9: Ti 3.8, Ti3+/Ti4+; Li4Ti5O11.8: Ti 3.92; WO2.9: W 5.8), whichever
    metal scores best. O vacancies and inserted cations alike give their electrons to the
    metal's d states (TiO2-x, blue O-deficient or lithiated Li4Ti5O12); as a refinement a
    little off neutral, the ions at their usual states (Ti4+: +0.2 e, 5 %), the guess
    denied the reduction. (Further off, ``_mixed_valence`` reads them already: Fe3O4,
    TiO1.6.) None where no such metal is (ZrO1.9: no Zr3+ in oxides) or it would fall
    below its next lower state (LiFePO3.9: Fe 1.8 from Fe3+), or where the cations'
    amounts are not in small whole ratios (``_whole_cations``): a refinement's fractional
    cation occupancies (OBELiX lud, Al-doped LLTO Li0.358La0.642Ti0.87Al0.129O3, +0.151 e:
    white, insulating Ti4+, not Ti 3.83)."""
    return _redox_oxide(candidates, amounts, -1, beyond_refinement)


def _oxidized_oxide(candidates, amounts, beyond_refinement: bool = False
                    ) -> OxidationGuess | None:
    """The mirror of ``_reduced_oxide``: an oxide that holds negative charge under its
    elements' usual states, within ``CHARGED_REFINEMENT`` of its positive charge (or
    ``beyond_refinement``), has a d-block metal oxidized towards its next higher state with
    a Shannon radius (La2NiO4.1: Ni 2.2, Ni2+/Ni3+; Li0.9CoO2: Co 3.1; SrFeO2.9, Fe 3.8:
    SrFeO3-d between brownmillerite SrFeO2.5's Fe3+ and SrFeO3's Fe4+). Interstitial O and
    removed cations alike take electrons from the metal's d states (La2NiO4+d, Li1-xCoO2);
    as a refinement a little off neutral, La2NiO4.1 was Ni2+ with -0.2 e. None where no
    metal has a higher state (Li6.9La3Zr2O12: Zr4+ is Zr's highest) or the cations are not
    in small whole ratios (``_whole_cations``)."""
    return _redox_oxide(candidates, amounts, +1, beyond_refinement)


def _redox_oxide(candidates, amounts, step: int,
                 beyond_refinement: bool = False) -> OxidationGuess | None:
    """``_reduced_oxide`` (``step`` -1) or ``_oxidized_oxide`` (+1); ``beyond_refinement``:
    further off neutral than ``CHARGED_REFINEMENT``, as far as the next state reaches (the
    last reading, after ``_mixed_valence``, which averages ICSD states only: SrFeO2.9 needs
    Fe4+, SrFeO3's, which ICSD's statistics lack; SrFeO3 itself, BaFeO3 and Sr3Fe2O7 are
    Fe4+ alone)."""
    if not _whole_cations(amounts):
        return None
    prob = _probabilities(amounts)
    ceiling = float("inf") if beyond_refinement else CHARGED_REFINEMENT
    best = None
    for a in candidates:
        # any charge off neutral: the cations are whole (Li4Ti5O11.9, +0.2 e, 0.83 %, was
        # a refinement's, Ti4+, where O vacancies reduce Ti as in Li4Ti5O11.8)
        if (not 1e-6 < -step * a.charge <= ceiling * a.positive
                or not _usual(a.states)
                or [el for el, s in a.states.items() if s < 0] != ["O"]):
            continue
        for el, state in a.states.items():
            other = _next_state(el, state, step)
            average = round(state - a.charge / amounts[el], 9)     # 3.92, not 3.9200000000000004
            reaches = beyond_refinement and average == other    # SrFeO3: Fe4+ itself
            if other is None or not (min(state, other) < average < max(state, other)
                                     or reaches):
                continue
            weight = (average - state) / (other - state)       # of the other state
            score = a.score + amounts[el] * weight * (prob.get((el, other), 0.0)
                                                      - prob[el, state])
            if best is None or score > best[0]:
                best = (score, a, el, other, average)
    if best is None:
        return None
    _, a, el, other, average = best
    states = {**a.states, el: average}
    how = ("reduced by O vacancies or inserted cations, as in TiO2-x or blue Li4Ti5O12-x, "
           "not a refinement's excess charge nor a metal" if step < 0 else
           "oxidized by interstitial O, removed cations or fewer O vacancies than its usual "
           "state needs, as in La2NiO4+d, Li1-xCoO2 or SrFeO3-d, not a refinement's missing "
           "charge")
    if average == other:                    # SrFeO3, BaFeO3: Fe4+, no mixture
        note = (f"{_formula(amounts)}: {_ions(states)}, where {el}{other:g}+ (in Shannon's "
                f"table of ionic radii, not among pymatgen's ICSD states of {el}) makes it "
                f"neutral; it holds {a.charge:+.3g} e under {_ions(a.states)}")
        return OxidationGuess(states, 0.0, note)
    pair = "/".join(f"{el}{s:g}+" for s in sorted((other, a.states[el])))
    lo, hi = sorted((other, a.states[el]))
    note = (f"mixed valence: {el} {average:.4g} on average ({pair}), "
            f"{_average_of(el, average, lo, hi)}, makes "
            f"{_formula(amounts)} neutral ({_ions({x: q for x, q in states.items() if x != el})}"
            f" beside it), which holds {a.charge:+.3g} e "
            f"under {_ions(a.states)}: its {el} is {how}")
    return OxidationGuess(states, 0.0, note)


WHOLE_CATIONS_SCALE = 12
"""The largest factor that makes a reduced oxide's cation amounts whole (Li4.5Ti5O12 x 2):
beyond, they are a refinement's fractional occupancies (Li0.358La0.642Ti0.87Al0.129O3),
and the excess charge is theirs, not O vacancies'."""


def _whole_cations(amounts) -> bool:
    """Whether the amounts of the elements other than O are whole numbers times one factor
    of at most ``WHOLE_CATIONS_SCALE`` (TiO1.9, Li4Ti5O11.8, Ti16O31: O short of whole
    cations, a cell with O vacancies)."""
    cations = [n for el, n in amounts.items() if el != "O"]
    return any(all(abs(k * n - round(k * n)) < 1e-6 for n in cations)
               for k in range(1, WHOLE_CATIONS_SCALE + 1))


def _next_state(el: str, state: float, step: int) -> float | None:
    """For a d-block metal, its next positive state below (``step`` -1) or above (+1)
    ``state`` among its ICSD states and known ones (pymatgen's ``oxidation_states``) that
    has an ionic radius in Shannon's table (from oxides and fluorides: Ti3+, Nb4+, W5+, V4+,
    Ni3+, Fe4+ of SrFeO3, which ICSD's statistics lack; no Zr3+, Sc2+, Hf3+, Ti5+); else
    None."""
    from pymatgen.core import Element

    e = Element(el)
    if e.block != "d" or state <= 0:
        return None
    shannon = {float(k) for k in e.data.get("Shannon radii", {})}
    known = set(element_states(el)) | set(e.oxidation_states)
    beyond = [s for s in known if s > 0 and (s - state) * step > 0 and s in shannon]
    return float(min(beyond, key=lambda s: abs(s - state))) if beyond else None
