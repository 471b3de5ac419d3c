"""Anions of more than one atom: polyanions whose atoms share the charge (CaC2's C2 2-,
Na2S4's S4 2-) and cluster anions whose atoms have no formal states of their own (closo-borates'
B12H12 2-, CB11H12 -)."""

from __future__ import annotations

import math

from ionmd.structures.charges_metallic import _carbon_host, _zintl_anion
from ionmd.structures.charges_states import (CHARGED_REFINEMENT, OxidationGuess, element_states,
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
    negative = [s for s in element_states(x) if s < 0]
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
    mixed = not net and _mixed_cages(amounts, ions, size, boranes, carbons, borohydrides)
    counts = mixed or counts
    clusters = {name: q for name, (q, _) in counts.items()}
    note = _closo_note(amounts, ions, counts, waters, refined=bool(net), mixed=bool(mixed))
    if mixed:
        note += _mixed_note(size, boranes, carbons)
    if net:
        positive = sum(amounts[el] * q for el, q in ions.items())
        note += (f"; it holds {net:+.3g} e under these charges ({100 * -net / positive:.2g} % "
                 "of its cations'): occupancies as refined, a little off neutral")
    return OxidationGuess(net_charge=net, note=note, ions=ions, clusters=clusters,
                          advice=_give_each_atom(amounts))


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


COMMON_CAGES = {"B": (6, 10, 12), "CB": (10, 12)}
"""Vertices of the closo cages of the salts studied as electrolytes: [B6H6]2-, [B10H10]2-,
[B12H12]2-, [CB9H10]- and [CB11H12]- (Mohtadi and Orimo, Nat. Rev. Mater. 2 (2016) 16091).
A composition whose cages average another size between two of them, with whole cations,
mixes them (``_mixed_cages``): Na4(B12H12)(B10H10), i.e. Na2B11H11 (Duchene et al., Chem.
Commun. 53 (2017) 4195), Li(CB9H10)0.7(CB11H12)0.3 (Kim et al., Nat. Commun. 10 (2019)
1081), which the guess named as one cage of the average size, [CB9.6H10.6]-."""


def _mixed_cages(amounts, ions, size: float, boranes: float, carbons: float,
                 borohydrides: float) -> dict[str, tuple[float, float]] | None:
    """The cages of ``COMMON_CAGES`` that average ``size`` vertices, with their numbers per
    formula unit (and BH4-): where one family of cages (BnHn or CB(n-1)Hn) averages a size
    between two common ones and the cations are whole (a formula written as a mixture, not a
    refinement's occupancies: Li2.1B12H12 keeps its average); else None."""
    if (boranes > 1e-9) == (carbons > 1e-9) or not all(
            abs(amounts[el] - round(amounts[el])) < 1e-9 for el in ions):
        return None
    family, cages = ("B", boranes) if boranes > 1e-9 else ("CB", carbons)
    sizes = COMMON_CAGES[family]
    if any(abs(size - n) < 1e-9 for n in sizes) or not sizes[0] < size < sizes[-1]:
        return None
    lo = max(n for n in sizes if n < size)
    hi = min(n for n in sizes if n > size)
    share = (hi - size) / (hi - lo)                 # of the smaller cage
    charge = -2.0 if family == "B" else -1.0
    out = {_cage(family, lo): (charge, share * cages),
           _cage(family, hi): (charge, (1 - share) * cages)}
    if borohydrides > 1e-9:
        out["BH4"] = (-1.0, borohydrides)
    return out


def _cage(family: str, vertices: int) -> str:
    return f"B{vertices}H{vertices}" if family == "B" else f"CB{vertices - 1}H{vertices}"


def _mixed_note(size: float, boranes: float, carbons: float) -> str:
    """Where the average size is whole, the other reading: one cage of that size."""
    if abs(size - round(size)) > 1e-9:
        return ""
    name = _cage("B" if boranes > 1e-9 else "CB", round(size))
    charge = "2-" if boranes > 1e-9 else "-"
    return (f"; a cage of {round(size)} vertices, [{name}]{charge}, is the other reading "
            "of its composition, rarer in salts")


def _closo_counts(size: float, boranes: float, carbons: float,
                  borohydrides: float) -> dict[str, tuple[float, float]]:
    """Cluster formula -> (charge, clusters per formula unit) for cages of ``size`` vertices
    (an average where sizes mix: CB9.6H10.6) and BH4-."""
    n, m = f"{size:.3g}", f"{size - 1:.3g}"
    counts = {f"B{n}H{n}": (-2.0, boranes), f"CB{m}H{n}": (-1.0, carbons),
              "BH4": (-1.0, borohydrides)}
    return {name: qn for name, qn in counts.items() if qn[1] > 1e-9}


def _closo_note(amounts, ions: dict[str, float], counts, waters: float = 0.0,
                refined: bool = False, mixed: bool = False) -> str:
    """What the guess of a closo-borate assumed; ``refined``: its cations are a little short
    of the cages' charge (Li1.9B12H12); ``mixed``: cages of two sizes (``_mixed_cages``)."""
    anions = ", ".join(f"[{name}]{'' if q == -1 else f'{-q:g}'}-"
                       for name, (q, _) in counts.items())
    atoms = "B, C and H" if "C" in amounts else "B and H"
    water = (" (its O and 2 H per O: water of crystallisation, H2O)" if waters else "")
    formula = (_mixed_formula(amounts, ions, counts, waters) if mixed
               else _closo_formula(amounts, ions, counts, waters, refined))
    return (f"{formula} is a closo-borate: "
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


def _mixed_formula(amounts, ions, counts, waters: float = 0.0) -> str:
    """A mixture of cages as the literature writes it, cations as given and each cage with
    its share: Li2(B10H10)0.5(B12H12)0.5, Li(CB9H10)0.7(CB11H12)0.3."""
    water = {0: "", 1: "·H2O"}.get(round(waters, 6), f"·{waters:g}H2O")
    return (_formula({el: amounts[el] for el in ions})
            + "".join(name if name == "BH4" and abs(n - 1) < 1e-9 else f"({name}){n:.3g}"
                      for name, (_, n) in counts.items()) + water)


OPEN_BORANES = {"B3H8": -1.0, "B10H13": -1.0, "B11H14": -1.0}
"""Open-cage borane anions of salts studied as electrolytes, which are no closo cages (H
beyond one per vertex): arachno-[B3H8]- (NaB3H8, KB3H8, LiB3H8) and nido-[B11H14]-
(LiB11H14, NaB11H14: Payandeh et al., Chem. Mater. 32 (2020) 1101), and nido-[B10H13]-,
decaborane's conjugate base. Wade's rules count their skeletal electron pairs: n + 3 for
arachno B3H8- (3 BH, 5 more H and 1 e: 6 pairs over 3 vertices), n + 2 for nido B11H14-
and B10H13-."""


def _open_boranes(amounts) -> OxidationGuess | None:
    """A salt of ``_salt_cation`` metals at their usual states and one of the
    ``OPEN_BORANES``, as many as the cations' charge makes neutral, holding all its B and H
    (LiB3H8: Li+ [B3H8]-; LiB11H14: Li+ [B11H14]-). Its guess had no states: under Li+ B3+
    H+ it held +18 e. As for closo cages, the atoms get no states of their own; the guess
    names the cluster and gives the cations alone (``OxidationGuess.ions``); None where the
    composition is none such."""
    cations = [el for el in amounts if el not in ("B", "H")]
    if ("B" not in amounts or "H" not in amounts or len(amounts) != len(cations) + 2
            or not cations or not all(_salt_cation(el) for el in cations)):
        return None
    from pymatgen.core import Composition

    prob = _probabilities(amounts)
    ions = {el: float(_usual_state(el, prob)) for el in cations}
    positive = sum(amounts[el] * q for el, q in ions.items())
    for name, charge in OPEN_BORANES.items():
        cage = Composition(name)
        n = positive / -charge
        if all(abs(n * cage[el] - amounts[el]) < 1e-6 for el in ("B", "H")):
            kind = "an arachno" if cage["H"] - cage["B"] - charge == 6 else "a nido"
            formula = _formula({el: amounts[el] for el in cations}) + (
                name if abs(n - 1) < 1e-9 else f"({name}){n:g}")
            note = (f"{formula} is {kind}-borane salt: its B and H are the cluster anion "
                    f"[{name}]- (an open cage, H beyond one per vertex), whose atoms have no "
                    f"formal states of their own; a Nernst-Einstein sigma of its cations "
                    f"needs theirs alone ({_ions(ions)})")
            return OxidationGuess(note=note, ions=ions, clusters={name: charge},
                                  advice=_give_each_atom(amounts))
    return None


def _give_each_atom(amounts) -> str:
    return ("an Ewald ordering needs a charge on each atom: give them (oxidation_states={"
            + ", ".join(f"'{el}': ..." for el in amounts) + "}), or order at random")
