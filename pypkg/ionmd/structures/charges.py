"""Oxidation states when the user gives none: pymatgen's most likely guess, the one rule
that run directories (Nernst-Einstein charges), campaigns and Ewald ordering share."""

from __future__ import annotations

import itertools

MAX_GUESS_ATOMS = 25
"""pymatgen's guess is combinatorial in the number of atoms: compositions that do not reduce
below this many atoms (an ordered supercell of a disordered site model, e.g. Li9La17Ti30O90
from LLTO) are first given one oxidation state per element that makes the exact composition
neutral; only where none does (Li303 Ge31 P59 S360 from LGPS) are they scaled to about this
many atoms before pymatgen guesses."""


def guess_oxidation_states(composition) -> dict[str, float]:
    """Element -> oxidation state of pymatgen's most likely guess for ``composition`` (a
    pymatgen ``Composition``, a formula or an element -> count mapping), ``{}`` when pymatgen
    has none."""
    from pymatgen.core import Composition

    comp = Composition(composition).reduced_composition
    integral = all(abs(n - round(n)) < 1e-8 for n in comp.values())
    if integral:    # occupancies 0.385 + 0.615 add up to Cl 1.0000000000000002: no guess
        comp = Composition({el: round(n) for el, n in comp.items()})
    if comp.num_atoms > MAX_GUESS_ATOMS or not integral:
        # pymatgen guesses whole numbers of atoms only (Li0.3La0.567TiO3: none)
        # none exactly neutral: a refined composition a few % charged keeps its ions'
        # usual states (Li6.72PS5Cl, +0.72 e: Li+ P5+; scaled, pymatgen's guess gave P4+;
        # Li42.528 La24 Sm1.2 Ta14.8 O96, +0.13 e: Ta5+, not Ta4+), nearest neutral first
        for tolerance in (0.0, NEARLY_NEUTRAL, CHARGED_REFINEMENT):
            whole = _one_state_per_element(comp, tolerance)
            if whole:
                return whole
        # scaling rounds the counts: Li9La17Ti30O90 became Li2La3Ti6O18 (Ti 3.8, not 4)
        scale = MAX_GUESS_ATOMS / comp.num_atoms
        comp = Composition({el: max(1, round(n * scale)) for el, n in comp.items()})
    try:
        guesses = comp.oxi_state_guesses()
    except ValueError:
        guesses = ()
    return {str(el): float(v) for el, v in guesses[0].items()} if guesses else {}


NEARLY_NEUTRAL = 0.01
"""A refined composition whose net charge under one state per element is at most this
fraction of its positive charge is read as that assignment (``nearly_neutral_states``)."""


CHARGED_REFINEMENT = 0.1
"""``guess_oxidation_states`` gives a composition no single state per element makes neutral
the most likely such assignment within this fraction of its positive charge (refined
occupancies a few % off neutral) before it scales the composition for pymatgen's guess,
which moves one element's state to absorb the charge; mixed valence further off neutral
(Li9Mn16O32: Mn3+ -7 e, Mn4+ +9 e, 12 %) still gets pymatgen's guess."""


def nearly_neutral_states(composition) -> dict[str, float]:
    """One oxidation state per element for a refined composition a little off neutral
    (occupancies as published: Li6 In2.03 Cl12 +0.09 e, Al-LLZO's Li50.064 Al1.92 La24 Zr16
    O96 -0.18 e): the most likely assignment (as ``_one_state_per_element`` scores them)
    whose net charge is within ``NEARLY_NEUTRAL`` of its positive charge; ``{}`` where none
    is. pymatgen's guess fits such a composition with fractional states (In 2.67, Zr 3.5)
    or none at all, which then read as a charge the file does not have."""
    from pymatgen.core import Composition

    return _one_state_per_element(Composition(composition), NEARLY_NEUTRAL)


def _one_state_per_element(comp, tolerance: float = 0.0) -> dict[str, float]:
    """The charge-neutral assignment of one oxidation state per element (from the states
    pymatgen's guess considers) that pymatgen's ICSD occurrence statistics rate most likely,
    scored as pymatgen scores its guesses (sum over atoms); ``{}`` when none is neutral
    (within ``tolerance`` x the assignment's positive charge, besides 1e-6 e)."""
    from pymatgen.core import Composition, Element, Species

    if Composition.oxi_prob is None:            # pymatgen loads its statistics on first use
        Composition("NaCl").oxi_state_guesses()
    prob = Composition.oxi_prob or {}
    amounts = comp.get_el_amt_dict()
    options = [Element(el).icsd_oxidation_states or Element(el).common_oxidation_states
               for el in amounts]
    best, best_score = {}, -1.0
    for states in itertools.product(*options):
        charge = sum(n * s for n, s in zip(amounts.values(), states))
        positive = sum(n * s for n, s in zip(amounts.values(), states) if s > 0)
        if abs(charge) > 1e-6 + tolerance * positive:
            continue
        score = sum(n * prob.get(Species(el, s), 0.0) for (el, n), s in zip(amounts.items(), states))
        if score > best_score:
            best, best_score = dict(zip(amounts, map(float, states))), score
    return best


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
