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
* the most electronegative metal, to which the cations give an electron cheaply
  (``CHARGE_TRANSFER_COST``), is an anion (CsAu: Cs+ Au-; Cs2Pt: Cs+ Pt2-), also beside
  ordinary anions (Cs3AuO, Rb3AuO: Au- O2-; Cs9Pt4H: Pt2- H-), which ICSD statistics,
  holding no Au- nor Pt2-, could not guess; K-Au, as electronegative a pair as Rb-Au, forms
  intermetallics only (KAu2, KAu5), but beside ordinary anions K gives Au its electron
  (K3AuO: Au-; ``BESIDE_ANIONS_COST``); Na and Li, far dearer donors, form no such salt
  (Na3AuO, Li8PtO3: no guess, the reason naming the metal anion and its cost); between Au-
  and Au+ beside O it is both, averaged (the auride-aurates Cs7Au5O2, Rb7Au5O2: Au -0.6, 4
  Au- and 1 Au+), noted as formal for other elements (K7Au5O2);
* H bound to a metal more electronegative than H on Pauling's scale is a hydride ligand
  (Cs2PtH6, K2PtH6: [PtH6]2-, Pt4+ H-), not H+ beside Pt-;
* a salt of electropositive metals whose one anion element holds at most half the
  electrons of its usual state has bonds between its anions (a polyanion: CaC2's C2 2-,
  Na2S4's S4 2-, KO2's O2 -): the anion takes the average that makes it neutral
  (``_polyanion``), the cations keep their states, as pymatgen's formal states have them
  (Ca2+ C-, Na+ S-0.5); nearer the isolated ion's (Li7S4, S-1.75) it is a cell short of
  cations, no guess;
* a closo-borate's B and H (and C) form cage anions ([B12H12]2-, [CB11H12]-), whose atoms
  have no formal states of their own: the guess names them (``OxidationGuess.clusters``)
  and gives the cations alone (``.ions``: Li+, what a sigma of Li needs), no ``states``;
  O beside them is water of crystallisation (Li2B12H12·7H2O); cages averaging a size
  between the common ones are a mixture, both named (Li2(B10H10)0.5(B12H12)0.5); so are
  the open borane cages arachno-[B3H8]- and nido-[B11H14]- (LiB3H8, LiB11H14);
* in an oxynitride whose oxoanion has another centre (LiPON's phosphate), N is N3-: it
  stands for O around P, no state of N absorbs a composition's charge (Li3PO4N was N+);
* an oxide up to 10 % short of O for its elements' usual states has its d-block metal
  reduced (TiO1.9: Ti3+/Ti4+, 3.8 on average; Li4Ti5O11.9, 0.83 %: Ti 3.96), one with extra
  O oxidized (La2NiO4.1: Ni 2.2), not a refinement's excess charge, where its cations are
  in small whole ratios (a refinement's fractional cation occupancies keep their states:
  Li0.358La0.642Ti0.87Al0.129O3, Ti4+); further off, towards a state ICSD's statistics
  lack, after mixed valence (SrFeO2.9: Fe 3.8, Fe3+/Fe4+);
* an averaged state's note says which two states it averages and their ratio ("an average
  of +1 and +3 (Au+ and Au3+, 1:1)": CsAuCl3's Au 2 is Au+ and Au3+, no Au2+; SrFeO2.9's
  Fe 3.8, Fe3+ and Fe4+ 1:4), not the average among the ions as if it were a state;
* transition-metal carbides and nitrides (TiC, WC, Fe3C, TiN) and subvalent compounds
  (Ag2F: Ag 0.5+) conduct electrons: their notes say so, and where no formal states fit,
  that they are to be given, not that the file is wrong.

In order: a metal anion (CsAu) or cluster anions (Li2B12H12, LiB3H8); one state per element
that makes the composition neutral (in Ni's mixed oxides, Mn4+ Co3+ and Ni the rest); else
Ni's mixed oxides so, off neutral as well (Li0.9NMC111); else a reduced or oxidized d-block
oxide; else within ``NEARLY_NEUTRAL`` of its positive charge (occupancies as refined); else
within ``CHARGED_REFINEMENT`` (a little off neutral: the ions keep their usual states);
else one metal's (or metalloid's) state averaged between two of its states (mixed valence:
Fe3O4 Fe 8/3, LiMn2O4 Mn 3.5; never a nonmetal's: LiFePO3.9 was P3.8+); else a reduced or
oxidized d-block oxide beyond a refinement's reach (SrFeO2.9); else within
``CHARGED_REFINEMENT`` with a metal at another common state (LiFePO3.9: Fe2+, +0.2 e); else
the anion of a polyanion salt averaged (Li2S6 S-1/3); else a complex hydride (Cs2PtH6);
else no guess, with the reason
(``oxidation_guess(...).note`` and ``.advice``): an intermetallic, a metallic carbide or
nitride or a subvalent compound has states to be given; any other composition that far off
neutral under its elements' usual states is a file to check, not a chemistry to guess.
Notes write formulas without spaces, cations first (Li6.72PS5Cl).

Modules: ``charges_states`` (ICSD states, their scores, the assignments), ``charges_guess``
(the guess: the rules above in their order), ``charges_metallic`` (metal anions and compounds
whose electrons conduct), ``charges_anions`` (polyanions, cluster anions), ``charges_oxides``
(Ni's mixed oxides, reduced and oxidized oxides, oxynitrides), ``charges_hydrides``
(complex hydrides of metals more electronegative than H), ``charges_words`` (formulas
and notes), ``charges_transport`` (charges for sigma and their note), ``charges_sites``
(states a file declares).
"""

from ionmd.structures.charges_guess import (ALTERNATIVE_SCORE, guess_oxidation_states,
                                            nearly_neutral_states, oxidation_guess)
from ionmd.structures.charges_metallic import (BESIDE_ANIONS_COST, CHARGE_TRANSFER_COST,
                                               INTERCALATED_CARBON, SUBVALENT_METALS)
from ionmd.structures.charges_oxides import SETTLED_IN_OXIDES, TAKES_THE_REST
from ionmd.structures.charges_sites import (declared_oxidation_states, declares_site_states,
                                            with_site_states)
from ionmd.structures.charges_states import (CHARGED_REFINEMENT, HAND_ASSIGNED_STATES,
                                             MAX_ASSIGNMENTS, NEARLY_NEUTRAL, OxidationGuess)
from ionmd.structures.charges_transport import (one_element_reason, transport_charges,
                                                transport_note)

__all__ = [
    "ALTERNATIVE_SCORE", "BESIDE_ANIONS_COST", "CHARGED_REFINEMENT", "CHARGE_TRANSFER_COST",
    "HAND_ASSIGNED_STATES",
    "INTERCALATED_CARBON",
    "MAX_ASSIGNMENTS", "NEARLY_NEUTRAL", "SETTLED_IN_OXIDES",
    "SUBVALENT_METALS", "TAKES_THE_REST", "OxidationGuess", "declared_oxidation_states",
    "declares_site_states", "guess_oxidation_states", "nearly_neutral_states", "oxidation_guess",
    "one_element_reason", "transport_charges", "transport_note", "with_site_states",
]
