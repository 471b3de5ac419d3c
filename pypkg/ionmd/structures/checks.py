"""Checks every structure passes before a model sees it: one atom per site (partial
occupancies must be ordered first; a site within rounding of whole is whole) and no two
atoms on top of each other."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure

from ionmd.structures.errors import StructureError
from ionmd.structures.occupancy_tolerance import OCCUPANCY_TOLERANCE

OVERLAP_FRACTION = 0.5
"""Atoms closer than this fraction of their covalent radii sum are refused: bonds are
0.8-1.2x that sum, so only duplicated or mis-placed atoms come that close (0.3 A between
two Li is 0.12x; the shortest Li-Li pair argyrodite's 48h sites allow is 0.76x)."""

ORDER_ADVICE = ("order them first: `--order ewald` (lowest Ewald energy) or `--order random "
                "--order-seed N` on the command line, `order = \"random\"` in a campaign, "
                "ionmd.structures.order_structure in Python")
PYTHON_ORDER_ADVICE = (
    "order it first: ionmd.structures.load_structures(path, OrderOptions(method=\"random\", "
    "seed=0)) reads and orders a file (method=\"ewald\": lowest Ewald energy), "
    "ionmd.structures.order_structure(structure, \"random\", seed=0).structure orders a "
    "Structure")

_THIRDS_CAUSE = ("special positions written to two decimals: coordinates like 0.33/0.67 for "
                 "1/3, 2/3 put symmetry copies of one atom a little apart; write them to 4 "
                 "or more digits (0.3333) or as fractions (1/3)")


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


def rounded_sites(structure: Structure, tol: float = OCCUPANCY_TOLERANCE) -> list[int]:
    """Indices of the sites whose occupancies add up to less than 1 by at most ``tol``:
    published rounding (Li 0.999(3); S 0.389 + Cl 0.610), a deficit the ordering within its
    ``occ_tol`` of the same default would round away in any cell, so no vacancy. Not
    pymatgen's 1.01 above 1, where a sum over 1 can only be rounding: Li 0.99 below it is 1 %
    vacancies on purpose (a doped garnet), which ``--order random`` keeps (LiCl: Li83 Cl84)
    and a bound of 0.01 filled (Li4 Cl4). Read as vacancies, 0.999 was refused as
    disordered, or ordered in a cell of ~250 formula units to keep its 0.001."""
    # 1e-9: 1 - 0.998 is 0.0020000000000000018 in floats
    return [i for i, site in enumerate(structure)
            if 1 - tol - 1e-9 <= site.species.num_atoms < 1 - 1e-9]


def fill_rounded_sites(structure: Structure, tol: float = OCCUPANCY_TOLERANCE
                       ) -> tuple[Structure, str]:
    """``structure`` with each site within ``tol`` below whole (:func:`rounded_sites`)
    scaled to whole (Li 0.999 -> Li; S 0.389 + Cl 0.610 -> S 0.389/0.999 + Cl 0.610/0.999,
    as pymatgen scales a sum of 1.001), a copy, and a note naming them (``""``, and
    ``structure`` itself, where there is none)."""
    rounded = rounded_sites(structure, tol)
    if not rounded:
        return structure, ""
    sums = sorted({round(structure[i].species.num_atoms, 6) for i in rounded})
    named = partial_sites(Structure.from_sites([structure[i] for i in rounded]))
    # a copy to change (an IStructure's copy stays immutable)
    filled = Structure.from_sites(structure, charge=getattr(structure, "_charge", None),
                                  properties=structure.properties)
    for i in rounded:
        site = filled[i]
        total = site.species.num_atoms
        filled.replace(i, {sp: x / total for sp, x in site.species.items()},
                       coords=site.frac_coords, label=site.label, properties=site.properties)
    note = (f"occupancies adding up to {', '.join(f'{x:g}' for x in sums)} read as whole "
            f"sites ({'; '.join(named[:4])}{'; ...' if len(named) > 4 else ''}): published "
            f"rounding, up to {tol:g} below 1 (a vacancy ordering would round away); "
            f"scaled to 1 as pymatgen scales sums up to 1.01")
    return filled, note


def check_ordered(structure: Structure, label: str, advice: str = ORDER_ADVICE) -> None:
    """Refuse partially occupied sites, naming them and saying how to order them
    (``advice``: the command line's and campaign's ways, or :data:`PYTHON_ORDER_ADVICE`)."""
    partial = partial_sites(structure)
    if partial:
        shown = "; ".join(partial[:4]) + ("; ..." if len(partial) > 4 else "")
        raise StructureError(
            f"{label} has partially occupied sites ({shown}): read as it is, every such "
            f"site would get a whole atom. A simulation needs one atom per site; {advice}")


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
    cause = (_THIRDS_CAUSE if _rounded_thirds(structure, (i, j)) else
             "a duplicated atom, or a split/disordered site written out as whole atoms. Fix "
             "the file, or order a disordered file with --order")
    raise StructureError(
        f"{label}: {where} are {d:.3f} A apart, closer than the {fraction * radii:.2f} A "
        f"allowed ({fraction:g} x their covalent radii sum of {radii:.2f} A): overlapping "
        f"atoms, from {cause}")


def check_rounded_special_positions(structure: Structure, label: str,
                                    fraction: float = OVERLAP_FRACTION) -> None:
    """Refuse symmetry copies of one site a little apart because its special position was
    written to two decimals (0.33/0.67), partially occupied sites included: checked before
    ordering, where such copies otherwise read as split positions and the refusal said to
    round the occupancies (Li3YCl6's Y 0.566 at 0.33, 0.67: 0.11 A apart)."""
    thirds = _rounded_third_sites(structure)
    if not thirds.any():
        return
    radius = np.array([max(covalent_radius(el.symbol) for el in site.species.elements)
                       for site in structure])
    centers, neighbors, _, distances = structure.get_neighbor_list(
        fraction * 2.0 * float(radius.max()))
    close = (distances < fraction * (radius[centers] + radius[neighbors])) & (
        thirds[centers] | thirds[neighbors])
    if not close.any():
        return
    k = int(np.argmin(np.where(close, distances, np.inf)))
    i, j = int(centers[k]), int(neighbors[k])
    names = sorted({structure[i].label or structure[i].species_string,
                    structure[j].label or structure[j].species_string})
    raise StructureError(
        f"{label}: {'sites' if len(names) > 1 else 'site'} {' and '.join(names)} at {_frac_text(structure[i])} and "
        f"{_frac_text(structure[j])} are {distances[k]:.3f} A apart: symmetry copies of one "
        f"position, from {_THIRDS_CAUSE}")


def _frac_text(site) -> str:
    return "(" + ", ".join(f"{x:.4g}" for x in site.frac_coords) + ")"


def _rounded_third_sites(structure: Structure) -> np.ndarray:
    """Per site: whether a fractional coordinate is a third or sixth rounded to two
    decimals (0.33, 0.67, 0.17): written with two decimals (symmetry copies of such a
    coordinate, 1 - x or x + 1/2, have two too) and off by 1e-4 to 0.01 from 1/6, 1/3, 2/3
    or 5/6. A coordinate of more digits near a sixth is none: a garnet's Li 96h at 0.1744 is
    a split site, not a rounding (the 0.01 window alone refused published LLZTO cells)."""
    frac = np.mod(structure.frac_coords, 1.0)
    off = np.abs(frac * 6 - np.round(frac * 6)) / 6
    thirds = np.round(frac * 6) % 3 != 0
    two_decimals = np.abs(frac * 100 - np.round(frac * 100)) < 1e-6
    return np.any(thirds & two_decimals & (off > 1e-4) & (off < 0.01), axis=1)


def _rounded_thirds(structure: Structure, sites) -> bool:
    """Whether a fractional coordinate of ``sites`` is a third or sixth rounded to two
    decimals (0.33, 0.67, 0.17): off by 1e-4 to 0.01."""
    return bool(_rounded_third_sites(structure)[list(sites)].any())
