"""Regenerate the shipped example CIF files from their Wyckoff data.

Run ``python -m ionmd.structures._build_examples`` after editing an entry below. Each
entry holds the space group, lattice, one representative per Wyckoff site with its
occupancy, and the citation written at the top of the file; pymatgen's
``Structure.from_spacegroup`` generates the full cell, which is written in P1 with
partial occupancies kept.

Only structures whose published data we could vouch for are here. Li3YCl6, Li3InCl6,
beta-Li3PS4 and Li7P3S11 are not shipped yet: no copy of their published Wyckoff
coordinates could be found (see README.md in the data folder for what was found and
the references to take them from).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter


@dataclass(frozen=True)
class Example:
    name: str
    space_group: str
    lattice: Lattice
    species: list
    coords: list
    labels: list
    citation: str
    published_density: float | None = None
    """g/cm^3 as published (or computed from the published cell), for the tests."""


EXAMPLES = [
    Example(
        name="Li10GeP2S12",
        space_group="P4_2/nmc",
        lattice=Lattice.tetragonal(8.69407, 12.5994),
        species=[{"Li": 0.691}, {"Li": 1.0}, {"Li": 0.643}, {"Ge": 0.515, "P": 0.485},
                 {"P": 1.0}, {"S": 1.0}, {"S": 1.0}, {"S": 1.0}],
        coords=[[0.7437, 0.7282, 0.8168], [0.0, 0.5, 0.0554], [0.7537, 0.7537, 0.0],
                [0.0, 0.5, 0.3093], [0.0, 0.0, 0.5], [0.0, 0.8157, 0.5897],
                [0.0, 0.7009, 0.9050], [0.0, 0.3010, 0.2086]],
        labels=["Li1", "Li2", "Li3", "GeP1", "P2", "S1", "S2", "S3"],
        citation="""\
Li10GeP2S12 (LGPS), tetragonal P4_2/nmc (No. 137), Z = 2, partial occupancies kept.
Structure type and site model (Li1 16h, Li2 4d, Li3 8f; Ge/P mixed on 4d; P 2b;
three S 8g): N. Kamaya, K. Homma, Y. Yamakawa, M. Hirayama, R. Kanno, M. Yonemura,
T. Kamiyama, Y. Kato, S. Hama, K. Kawamoto, A. Mitsui, "A lithium superionic
conductor", Nature Materials 10, 682-686 (2011), doi:10.1038/nmat3066.
Numbers used here (lattice, Wyckoff coordinates, occupancies) are those of the
experimental LGPS structure bundled with pymatgen as a test structure
(pymatgen/util/structures/Li10GeP2S12.json, pymatgen 2026.10), which does not record
its source; its occupancies (Ge 0.515 / P 0.485, Li 0.691 / 1 / 0.643) follow the
Kamaya et al. refinement, and its cell (a = 8.69407, c = 12.5994 A) is the one the
OBELiX dataset (Therrien et al., arXiv:2502.14234, CC BY 4.0, entry 1hh) records for
that paper. Composition Li10.1Ge1.03P1.97S12. The Wyckoff coordinates were not checked
against the paper's table; as a cross-check, the framework (Ge/P and S sites) lies within
0.05 A of the refinement OBELiX lists as entry mtn (doi:10.1021/acs.chemmater.8b00266;
OBELiX CIFs carry about 0.1 A of random noise; origin shifted by c/2), while Li site
models differ between refinements. Check against the original before quantitative use.""",
        published_density=2.04,
    ),
    Example(
        name="Li6PS5Cl",
        space_group="F-43m",
        lattice=Lattice.cubic(9.85),
        species=["P", "S", "S", "Cl", {"Li": 0.5}],
        coords=[[0.5, 0.5, 0.5], [0.619, 0.619, 0.619], [0.25, 0.25, 0.25],
                [0.0, 0.0, 0.0], [0.18, 0.18, 0.02]],
        labels=["P1", "S1", "S2", "Cl1", "Li1"],
        citation="""\
Li6PS5Cl argyrodite, cubic F-43m (No. 216), Z = 4, Li half-occupying 48h.
Source: H.-J. Deiseroth, S.-T. Kong, H. Eckert, J. Vannahme, C. Reiner, T. Zaiss,
M. Schlosser, "Li6PS5X: a class of crystalline Li-rich solids with an unusually high
Li+ mobility", Angew. Chem. Int. Ed. 47, 755-758 (2008), doi:10.1002/anie.200703900.
CAUTION: values recalled, not copied from the paper's tables, and rounded: a = 9.85 A;
P 4b (1/2,1/2,1/2); S1 16e x = 0.619 (PS4 tetrahedra, P-S 2.03 A); S2 4c
(1/4,1/4,1/4); Cl 4a (0,0,0); Li 48h (x,x,z) x = 0.18, z = 0.02, occupancy 0.5.
Anion sites are taken as fully ordered (Cl on 4a, S on 4c); refinements report partial
S/Cl exchange between these two sites (e.g. M. A. Kraft et al., J. Am. Chem. Soc. 139,
10909 (2017), doi:10.1021/jacs.7b06327), which can be added by editing the
occupancies. Ordering the 48h Li at random may put two Li on a close 48h-48h pair
(1.95 A); Ewald ordering avoids it.
Cross-check (not a substitute for the paper's table): against two refinements in the
OBELiX dataset (Therrien et al., arXiv:2502.14234, CC BY 4.0; its CIFs carry random
noise of 0.01 in fractional coordinates, about 0.1 A), inverted to this setting and
compared site by site in fractional coordinates: entry 122 (ICSD 259200, Kraft et al.
2017, a = 9.898 A) lies within 0.02 A (S) and 0.07 A (Li 48h) of every site here; entry
97p (ICSD 142473, Rao & Adams, Phys. Status Solidi A 208, 1804 (2011), a = 9.85 A, a
model with two Li sites) within 0.13 A (S) and 0.25 A (Li).""",
        published_density=1.86,
    ),
]


def build(example: Example) -> Structure:
    """The full cell of ``example`` generated from its Wyckoff representatives.

    Sites are labelled ``<Wyckoff label>_<n>`` (CIF wants unique labels), so the
    crystallographic site of each atom stays readable.
    """
    s = Structure.from_spacegroup(example.space_group, example.lattice, example.species,
                                  example.coords, labels=example.labels)
    seen: dict[str, int] = {}
    for site in s:
        seen[site.label] = seen.get(site.label, 0) + 1
        site.label = f"{site.label}_{seen[site.label]}"
    return s


def cif_text(example: Example) -> str:
    header = "".join(f"# {line}\n" if line else "#\n" for line in example.citation.splitlines())
    header += ("# Generated by ionmd.structures._build_examples with pymatgen "
               "Structure.from_spacegroup; written in P1.\n")
    with warnings.catch_warnings():
        # pymatgen writes a mixed Ge/P site as two rows with one label and warns about it
        warnings.filterwarnings("ignore", message="Site labels are not unique")
        return header + str(CifWriter(build(example)))


def main(folder: Path | None = None) -> None:
    folder = folder or Path(__file__).resolve().parents[1] / "data" / "structures"
    folder.mkdir(parents=True, exist_ok=True)
    for example in EXAMPLES:
        (folder / f"{example.name}.cif").write_text(cif_text(example))


if __name__ == "__main__":
    main()
