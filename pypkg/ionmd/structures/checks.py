"""Checks every structure passes before a model sees it: one atom per site (partial
occupancies must be ordered first) and no two atoms on top of each other."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure

from ionmd.structures.errors import StructureError

OVERLAP_FRACTION = 0.5
"""Atoms closer than this fraction of their covalent radii sum are refused: bonds are
0.8-1.2x that sum, so only duplicated or mis-placed atoms come that close (0.3 A between
two Li is 0.12x; the shortest Li-Li pair argyrodite's 48h sites allow is 0.76x)."""

ORDER_ADVICE = ("order them first: `--order ewald` (lowest Ewald energy) or `--order random "
                "--order-seed N` on the command line, `order = \"random\"` in a campaign, "
                "ionmd.structures.order_structure in Python")


def covalent_radius(symbol: str) -> float:
    """ASE's covalent radius of an element, A."""
    from ase.data import atomic_numbers, covalent_radii

    return float(covalent_radii[atomic_numbers[symbol]])


def partial_sites(structure: Structure) -> list[str]:
    """Distinct occupancies of the sites that are not one whole atom, each with the labels
    of its sites when the file has them: ``"Li1: Li 0.5"``, ``"Br0/Br1/...: Br 0.5 Cl 0.5"``."""
    labels: dict[str, list[str]] = {}
    for site in structure:
        if site.is_ordered:
            continue
        occ = " ".join(f"{sp} {x:.3g}" for sp, x in sorted(
            (str(getattr(sp, "element", sp)), float(x)) for sp, x in site.species.items()))
        names = labels.setdefault(occ, [])
        label = (site.label or "").rsplit("_", 1)[0]
        if label and label != site.species_string and label not in names:
            names.append(label)
    return [(f"{'/'.join(n[:3])}{'/...' if len(n) > 3 else ''}: " if n else "") + occ
            for occ, n in labels.items()]


def check_ordered(structure: Structure, label: str) -> None:
    """Refuse partially occupied sites, naming them and saying how to order them."""
    partial = partial_sites(structure)
    if partial:
        shown = "; ".join(partial[:4]) + ("; ..." if len(partial) > 4 else "")
        raise StructureError(
            f"{label} has partially occupied sites ({shown}): read as it is, every such "
            f"site would get a whole atom. A simulation needs one atom per site; {ORDER_ADVICE}")


def closest_overlap(structure: Structure, fraction: float = OVERLAP_FRACTION
                    ) -> tuple[int, int, float, float] | None:
    """The pair (i, j, distance, covalent radii sum) of an ordered structure with the
    smallest distance / radii-sum ratio below ``fraction``, or None. Periodic images count
    (an atom closer than that to its own image too)."""
    symbols = [site.specie.symbol for site in structure]
    radii = np.array([covalent_radius(s) for s in symbols])
    reach = fraction * 2.0 * float(radii.max())
    centers, neighbors, _, distances = structure.get_neighbor_list(reach)
    if len(centers) == 0:
        return None
    sums = radii[centers] + radii[neighbors]
    ratio = distances / sums
    k = int(np.argmin(ratio))
    if ratio[k] >= fraction:
        return None
    return int(centers[k]), int(neighbors[k]), float(distances[k]), float(sums[k])


def check_overlaps(structure: Structure, label: str, fraction: float = OVERLAP_FRACTION) -> None:
    """Refuse atoms closer than ``fraction`` of their covalent radii sum, naming the pair."""
    pair = closest_overlap(structure, fraction)
    if pair is None:
        return
    i, j, d, radii = pair
    a, b = structure[i].specie.symbol, structure[j].specie.symbol
    where = (f"atom {i} ({a}) and its own periodic image" if i == j else
             f"atoms {i} ({a}) and {j} ({b})")
    raise StructureError(
        f"{label}: {where} are {d:.3f} A apart, less than {fraction:g} x their covalent radii "
        f"sum ({radii:.2f} A): overlapping atoms (a duplicated atom, or a split/disordered site "
        "written out as whole atoms). Fix the file, or order a disordered file with --order")
