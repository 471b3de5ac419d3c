"""Oxidation states a structure file declares (a CIF's ``_atom_type_oxidation_number``, or
type symbols such as ``Fe2+`` on every site: ``Li1+`` beside a bare ``O`` declares none) and
their transfer onto an ordered supercell's atoms."""

from __future__ import annotations


def declared_oxidation_states(structure) -> dict[str, float] | None:
    """Element -> oxidation state a pymatgen ``Structure`` carries (a CIF's
    ``_atom_type_oxidation_number``, or type symbols such as ``Ni2+`` on every site), when
    it gives one nonzero state per element; None otherwise (no states, a mixed-valence
    element such as Fe2+/Fe3+, or an element the file left at 0)."""
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
    with ``_atom_type_oxidation_number``, or type symbols such as ``Fe2+`` on every site)."""
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
