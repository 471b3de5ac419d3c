"""Anions of more than one atom: polyanions whose atoms share the charge (CaC2's C2 2-,
Na2S4's S4 2-) and cluster anions whose atoms have no formal states of their own (closo-borates'
B12H12 2-, CB11H12 -)."""

from __future__ import annotations

import math

from ionmd.structures.charges_metallic import _carbon_host, _zintl_anion
from ionmd.structures.charges_states import (CHARGED_REFINEMENT, OxidationGuess, _options,
                                             _probabilities, _usual_state)
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
    Li2S cell with a Li vacancy, whose S atoms sit 4 A apart; and not beside a transition
    metal or a p-block cation, where a composition short of cations (Li5La3Zr2O12, O-1.83)
    is a file missing atoms."""
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


CLOSO_VERTICES = (6, 12)
"""Vertices of the closo-borate cages known as salts: B6H6 2- to B12H12 2- and the
monocarba CB5H6 - to CB11H12 - (Li2B12H12, Na2B10H10, LiCB11H12, NaCB9H10: the
superionic closo-borates, Mohtadi and Orimo, Nat. Rev. Mater. 2 (2016) 16091)."""


def _cluster_anions(amounts) -> OxidationGuess | None:
    """A closo-borate: ``_salt_cation`` metals at their usual states beside B, H and at most
    one C per cage, as closo cages (one H on each vertex: [BnHn]2-, [CB(n-1)Hn]-) of
    ``CLOSO_VERTICES`` and BH4- (H beyond one per vertex, 3 per BH4: Na3BH4B12H12). The
    cations' charge fixes the number of cages (2 e per BnHn, 1 per CB(n-1)Hn) and so their
    size. Its B and H share the cage's charge through delocalised bonds (no formal state
    per atom: pymatgen's guess, B-1 H+0.83 for Li2B12H12, puts the negative state on the
    less electronegative B): the guess names the clusters and their charges and gives the
    cations alone (``OxidationGuess.ions``); None where the composition is none such. O is
    water of crystallisation, 2 H each (Li2B12H12·7H2O, Na2B12H12·4H2O: it was 'no sound
    oxidation states ... +22 e' under B3+ H+); where fewer H are left than one per cage
    vertex, it is none (a borate, LiB(OH)4)."""
    cations = [el for el in amounts if el not in ("B", "H", "C", "O")]
    if ("B" not in amounts or "H" not in amounts or not cations
            or not all(_salt_cation(el) for el in cations)):
        return None
    prob = _probabilities(amounts)
    ions = {el: float(_usual_state(el, prob)) for el in cations}
    carbons = amounts.get("C", 0.0)
    waters = amounts.get("O", 0.0)
    borohydrides = (amounts["H"] - 2 * waters - amounts["B"] - carbons) / 3
    boranes = (sum(amounts[el] * q for el, q in ions.items()) - carbons - borohydrides) / 2
    cages = boranes + carbons
    size = (amounts["B"] - borohydrides + carbons) / cages if cages > 1e-9 else math.inf
    net = 0.0
    if boranes < -1e-9 or size > CLOSO_VERTICES[1] + 1e-9:      # Li1.9B12H12, Li0.95CB11H12
        size, boranes, net = _short_of_cations(amounts, ions, carbons, borohydrides)
    if (min(borohydrides, boranes) < -1e-9 or boranes + carbons < 1e-9
            or not CLOSO_VERTICES[0] - 1e-9 <= size <= CLOSO_VERTICES[1] + 1e-9):
        return None                     # LiBH4: BH4- alone, B3+ H- by the usual rules
    counts = _closo_counts(size, boranes, carbons, borohydrides)
    clusters = {name: q for name, (q, _) in counts.items()}
    note = _closo_note(amounts, ions, counts, waters, refined=bool(net))
    if net:
        positive = sum(amounts[el] * q for el, q in ions.items())
        note += (f"; it holds {net:+.3g} e under these charges ({100 * -net / positive:.2g} % "
                 "of its cations'): occupancies as refined, a little off neutral")
    return OxidationGuess(net_charge=net, note=note, ions=ions, clusters=clusters,
                          advice="an Ewald ordering needs a charge on each atom: give them "
                                 "(oxidation_states={" + ", ".join(
                                     f"'{el}': ..." for el in amounts) + "}), or order at "
                                 "random")


def _short_of_cations(amounts, ions, carbons: float,
                      borohydrides: float) -> tuple[float, float, float]:
    """Cage size, [BnHn]2- per formula unit and net charge where the cations are too few
    for the largest cages (Li1.9B12H12: cages of 12.6 vertices; Li0.95CB11H12: fewer than
    one monocarba cage's charge): the largest cages with
    the cations' shortfall as a refinement's, within ``CHARGED_REFINEMENT`` of their
    charge (Li1.9B12H12: [B12H12]2-, -0.1 e); else a size past the largest (LiB12H12: -1 e,
    a cage short of its cations)."""
    largest = float(CLOSO_VERTICES[1])
    cages = (amounts["B"] - borohydrides + carbons) / largest
    boranes = cages - carbons
    positive = sum(amounts[el] * q for el, q in ions.items())
    net = positive - 2 * boranes - carbons - borohydrides
    if boranes < -1e-9 or -net > CHARGED_REFINEMENT * positive:
        return largest + 1, boranes, net
    return largest, boranes, net


def _closo_counts(size: float, boranes: float, carbons: float,
                  borohydrides: float) -> dict[str, tuple[float, float]]:
    """Cluster formula -> (charge, clusters per formula unit) for cages of ``size`` vertices
    (an average where sizes mix: CB9.6H10.6) and BH4-."""
    n, m = f"{size:.3g}", f"{size - 1:.3g}"
    counts = {f"B{n}H{n}": (-2.0, boranes), f"CB{m}H{n}": (-1.0, carbons),
              "BH4": (-1.0, borohydrides)}
    return {name: qn for name, qn in counts.items() if qn[1] > 1e-9}


def _closo_note(amounts, ions: dict[str, float], counts, waters: float = 0.0,
                refined: bool = False) -> str:
    """What the guess of a closo-borate assumed; ``refined``: its cations are a little short
    of the cages' charge (Li1.9B12H12)."""
    anions = ", ".join(f"[{name}]{'' if q == -1 else f'{-q:g}'}-"
                       for name, (q, _) in counts.items())
    atoms = "B, C and H" if "C" in amounts else "B and H"
    water = (" (its O and 2 H per O: water of crystallisation, H2O)" if waters else "")
    return (f"{_closo_formula(amounts, ions, counts, waters, refined)} is a closo-borate: "
            f"its {atoms}"
            f"{' besides its water' if waters else ''} are the cluster anions {anions} (one H "
            f"on each cage vertex; the {_ions(ions)} charge sets the cages' size, an average "
            f"where sizes mix), whose atoms have no formal states of their own{water}; a "
            f"Nernst-Einstein sigma of its cations needs theirs alone ({_ions(ions)})")


def _closo_formula(amounts, ions, counts, waters: float = 0.0, refined: bool = False) -> str:
    """As the literature writes them: Li2B12H12, LiCB11H12, Na3BH4B12H12, Y2(B12H12)3,
    Li2B12H12·7H2O, with a refinement's cation amounts as given (Li1.9B12H12, not
    Li19(B12H12)10); the plain formula where the cages' size is an average or no small
    multiple is whole."""
    for scale in range(1, 13):
        per = ([n * scale for _, n in counts.values()] + [waters * scale]
               + ([] if refined else [amounts[el] * scale for el in ions]))
        if all(abs(x - round(x)) < 1e-6 for x in per):
            break
    else:
        return _formula(amounts)
    if any("." in name for name in counts):
        return _formula(amounts)
    cations = _formula({el: round(amounts[el] * scale, 6 if refined else 0) for el in ions})
    hydrate = {0: "", 1: "·H2O"}.get(round(waters * scale), f"·{round(waters * scale)}H2O")
    return cations + "".join(
        name if round(n * scale) == 1 else f"({name}){round(n * scale)}"
        for name, (_, n) in sorted(counts.items(), key=lambda c: len(c[0]))) + hydrate
