"""Oxidation states when the user gives none: pymatgen's most likely guess, the one rule
that run directories (Nernst-Einstein charges), campaigns and Ewald ordering share."""

from __future__ import annotations

MAX_GUESS_ATOMS = 25
"""Compositions that do not reduce below this many atoms (an ordered supercell of a
disordered site model, e.g. Li303 Ge31 P59 S360 from LGPS) are scaled to about this many
atoms before guessing: pymatgen's guess is combinatorial in the number of sites."""


def guess_oxidation_states(composition) -> dict[str, float]:
    """Element -> oxidation state of pymatgen's most likely guess for ``composition`` (a
    pymatgen ``Composition``, a formula or an element -> count mapping), ``{}`` when pymatgen
    has none."""
    from pymatgen.core import Composition

    comp = Composition(composition).reduced_composition
    if comp.num_atoms > MAX_GUESS_ATOMS:
        scale = MAX_GUESS_ATOMS / comp.num_atoms
        comp = Composition({el: max(1, round(n * scale)) for el, n in comp.items()})
    try:
        guesses = comp.oxi_state_guesses()
    except ValueError:
        guesses = ()
    return {str(el): float(v) for el, v in guesses[0].items()} if guesses else {}
