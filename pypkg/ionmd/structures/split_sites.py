"""One mixed site written as two: partially occupied sites of two labels a few hundredths
of an angstrom apart, pair by pair, are one crystallographic site whose species a writer
put on separate lines and something then moved apart (OBELiX's ~0.1 A positional noise on
each line of a CIF: Al-LLZO ``wa3``'s Li 0.36 and Al 0.012 on 96h, 0.10 A apart). Kept
apart, the ordering treats them as two sets of sites (twice the sites against the size
limit, an Li and an Al 0.1 A apart allowed by nothing); merged, they are the refinement's
one site. Genuine split positions of one refinement (garnet 48g/96h, 0.26 A; NASICON's 36f
pairs about 18e, 0.04-0.5 A, one label) are left alone: they are either one label's
symmetry images or further apart, and their labels do not pair site for site."""

from __future__ import annotations

import numpy as np
from pymatgen.core import PeriodicSite, Structure

MERGE_DISTANCE = 0.2
"""Sites of two labels closer than this (A) are one site when every site of each label has
exactly one such partner and their occupancies add up to at most 1. Twice OBELiX's noise;
below any split position a refinement resolves (thermal displacements are 0.1-0.2 A)."""


def _base_label(site) -> str:
    return (site.label or site.species_string).rsplit("_", 1)[0]


def merge_split_sites(structure: Structure, tol: float = MERGE_DISTANCE
                      ) -> tuple[Structure, str]:
    """``structure`` with each such pair of sites merged (species added, position their
    midpoint, as pymatgen's ``Structure.merge_sites(tol, mode="sum")``), and a note naming
    the merged labels (``""``: none merged)."""
    partial = [i for i, site in enumerate(structure) if not site.is_ordered]
    if len(partial) < 2:
        return structure, ""
    d = structure.lattice.get_all_distances(structure.frac_coords[partial],
                                            structure.frac_coords[partial])
    np.fill_diagonal(d, np.inf)
    labels = [_base_label(structure[i]) for i in partial]
    partners: dict[tuple[str, str], list[tuple[int, int, float]]] = {}
    for a in range(len(partial)):
        near = np.flatnonzero(d[a] < tol)
        if len(near) != 1 or labels[near[0]] == labels[a]:
            continue
        b = int(near[0])
        if a < b and len(np.flatnonzero(d[b] < tol)) == 1:
            key = tuple(sorted((labels[a], labels[b])))
            partners.setdefault(key, []).append((partial[a], partial[b], float(d[a, b])))
    count = {label: labels.count(label) for label in set(labels)}
    merge = []
    for (la, lb), pairs in partners.items():
        whole = len(pairs) == count[la] == count[lb]
        if whole and all(structure[i].species.num_atoms + structure[j].species.num_atoms
                         <= 1 + 1e-6 for i, j, _ in pairs):
            merge.append((la, lb, pairs))
    if not merge:
        return structure, ""
    gone: set[int] = set()
    sites = {}
    for la, lb, pairs in merge:
        for i, j, _ in pairs:
            a, b = structure[i], structure[j]
            offset = b.frac_coords - a.frac_coords
            coords = a.frac_coords + (offset - np.round(offset)) / 2
            sites[i] = PeriodicSite(a.species + b.species, coords, structure.lattice,
                                    label=f"{la}/{lb}")
            gone.add(j)
    out = Structure.from_sites([sites.get(i, site) for i, site in enumerate(structure)
                                if i not in gone])
    note = "; ".join(f"{la} and {lb} merged ({len(pairs)} pairs of sites "
                     f"{max(p[2] for p in pairs):.2f} A apart or closer: one mixed site)"
                     for la, lb, pairs in merge)
    return out, note
