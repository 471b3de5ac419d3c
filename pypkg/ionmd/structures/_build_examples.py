"""Regenerate the shipped example CIF files from their Wyckoff data.

Run ``python -m ionmd.structures._build_examples`` after editing an entry below. Each
entry holds the space group, lattice, one representative per Wyckoff site with its
occupancy, and the citation written at the top of the file; pymatgen's
``Structure.from_spacegroup`` generates the full cell, which is written in P1 with
partial occupancies kept.

Li10GeP2S12 and Li6PS5Cl come from Wyckoff data recalled or copied as their citations
say. Li3YCl6, Li3InCl6, beta-Li3PS4 and Li7P3S11 come from the OBELiX dataset's CIFs
(CC BY 4.0), which carry deliberate coordinate noise of about 0.1 A: see ``OBELIX``.
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
Checked against the paper's own refinement, ICSD 418490 (the file in ionmd's
tests/fixtures/published_cifs/ICSD418490_Li6PS5Cl.cif, audit A25): inverted (x -> -x) to
this setting, every S site lies within 0.01 A and every Li 48h site within 0.08 A of it.
It differs in a = 9.859(2) A (0.09 % larger; density 1.89 there with its Li) and the Li
48h occupancy, 0.56(6) (Li6.72PS5Cl, +0.72 e per formula unit), where 0.5 here keeps the
cell neutral; its 48h pairs are 1.81 A apart.
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


OBELIX = """\
Coordinates, occupancies and cell: the OBELiX dataset (F. Therrien et al., "OBELiX: a
curated dataset of crystal structures and experimentally measured ionic conductivities
for lithium solid-state electrolytes", arXiv:2502.14234 (2025),
github.com/NRC-Mila/OBELiX, file data/downloads/all_cifs.tar.gz at commit 4eaac88,
licence CC BY 4.0), entry {eid} ({eid}.cif), used under that licence.
OBELiX adds random noise (normal, sigma 0.01 in fractional coordinates) to the
coordinates of its CIFs on purpose. Symmetrized here to {sg} (each site projected onto
its site symmetry; spglib finds {sg} in the OBELiX file at symprec 1e-4 to 0.1): this
removes the noise for special positions only. (OBELiX writes its noisy files through
pymatgen with symprec 2e-3, so they are already exact there: the projection moved no
site by more than 1e-8.) Free coordinates keep the noise, so sites may be off by ~0.1 A
(one sigma: 0.01 x the cell length, 0.06-0.13 A here; more for a few) from the published
refinement: fine for an MD starting structure (relaxed and thermalised first), not a
crystallographic reference."""


def _obelix(eid: str, sg: str) -> str:
    return OBELIX.format(eid=eid, sg=sg)


EXAMPLES += [
    Example(
        name="Li3YCl6",
        space_group="P-3m1",
        lattice=Lattice.hexagonal(11.209337, 6.046941),
        species=[{"Li": 0.87538}, {"Li": 0.62462}, {"Y": 0.56592}, {"Y": 0.43408}, "Y",
                 "Cl", "Cl", "Cl"],
        coords=[[0, 0.32562724, 0.5], [0, 0.32611712, 0],
                [1 / 3, 2 / 3, 0.48696610], [1 / 3, 2 / 3, 0.98118561], [0, 0, 0],
                [0.10836711, 0.21673423, 0.77651019], [0.12545527, 0.56272764, 0.75056223],
                [0.21024526, 0.42049052, 0.27835218]],
        labels=["Li1", "Li2", "Y1", "Y2", "Y3", "Cl1", "Cl2", "Cl3"],
        citation="""\
Li3YCl6, trigonal P-3m1 (No. 164), Z = 3, partial occupancies kept: Li 6h x 0.87538,
Li 6g x 0.62462; Y 1a, and Y split over two 2d sites x 0.56592 / 0.43408. Li9Y3Cl18.
Paper: T. Asano et al., "Solid
halide electrolytes with high lithium-ion conductivity for application in 4 V class
bulk-type all-solid-state batteries", Adv. Mater. 30, 1803075 (2018),
doi:10.1002/adma.201803075. Structure: ICSD 29969, the CIF OBELiX gives for that paper.
Cell as in the OBELiX CIF (a = 11.209337, c = 6.046941 A); the OBELiX table lists
a = 11.2217, c = 6.05517 A for the paper (0.11 % and 0.14 % larger).
""" + _obelix("ei3", "P-3m1"),
        published_density=2.44,   # from the cell and formula
    ),
    Example(
        name="Li3InCl6",
        space_group="C2/m",
        lattice=Lattice.monoclinic(6.432, 11.093, 6.398, 109.8),
        species=["Li", "Li", {"In": 0.07}, {"In": 0.86}, "Cl", "Cl"],
        coords=[[0, 0.16808730, 0.5], [0, 0.5, 0.5], [0, 0.33248715, 0], [0, 0, 0],
                [0.23555313, 0.15998188, 0.23126920], [0.24471525, 0, 0.76115753]],
        labels=["Li1", "Li2", "In1", "In2", "Cl1", "Cl2"],
        citation="""\
Li3InCl6, monoclinic C2/m (No. 12), Z = 2, partial occupancies kept: Li 4h and 2d;
In 2a x 0.86 and In 4g x 0.07; Cl 8j and 4i. Li6In2Cl12.
Paper: X. Li et al., "Water-mediated synthesis of a superionic halide solid
electrolyte", Angew. Chem. Int. Ed. 58, 16427 (2019),
doi:10.1002/anie.201909805. Structure: ICSD 89617 (OBELiX notes ICSD 17638 as a second
reference and "partial occupancy corrected"), the CIF OBELiX gives for that paper;
cell a = 6.432, b = 11.093, c = 6.398 A, beta = 109.8 deg as OBELiX records it.
CHANGED: OBELiX's CIF has In 2a x 0.875 + 4g x 0.07 = In2.03 per cell (not charge
neutral); In 2a is lowered to 0.86 here so that the cell is Li6In2Cl12.
""" + _obelix("de5", "C2/m"),
        published_density=2.69,   # from the cell and formula
    ),
    Example(
        name="beta-Li3PS4",
        space_group="Pnma",
        lattice=Lattice.orthorhombic(12.819, 8.2195, 6.1236),
        species=["Li", {"Li": 0.7}, {"Li": 0.3}, "P", "S", "S", "S"],
        coords=[[0.15170452, 0.51362025, 0.93567161], [0, 0, 0.5],
                [0.01011298, 0.75, 0.11506327], [0.09439794, 0.25, 0.16163378],
                [0.15086564, 0.05444792, 0.28127300], [0.07414303, 0.75, 0.73673764],
                [0.10416372, 0.25, 0.83825452]],
        labels=["Li1", "Li2", "Li3", "P1", "S1", "S2", "S3"],
        citation="""\
beta-Li3PS4, orthorhombic Pnma (No. 62), Z = 4, partial occupancies kept: Li 8d,
Li 4b x 0.7, Li 4c x 0.3; P 4c; S 8d, 4c, 4c. Li12P4S16.
Paper: K. Homma et al., "Crystal structure and phase transitions of the lithium ionic
conductor Li3PS4", Solid State Ionics 182, 53-58 (2011), doi:10.1016/j.ssi.2010.10.001
(high-temperature beta phase). Structure: ICSD 180319, the CIF of OBELiX entry nhq;
cell a = 12.819, b = 8.2195, c = 6.1236 A as in that CIF. (OBELiX's table row nhq is
for the conductivity of nanoporous beta-Li3PS4, Z. Liu et al., J. Am. Chem. Soc. 135,
975 (2013), doi:10.1021/ja3110895, with its room-temperature cell a = 13.066,
b = 8.015, c = 6.101 A; OBELiX notes the cell does not match the CIF.)
CAUTION: in this file the Li3 4c site (occupancy 0.3) is too close to a PS4 tetrahedron:
Li-S 1.49 A (Li3-S3, 4c) and Li-P 2.16 A, where Li-S bonds are 2.4-2.6 A; more than the
noise explains; not checked against the paper's table. The fully occupied Li1 (8d) is
also 2.19 A (Li1-S1) from an S1, below 0.85 x pymatgen's Li+ + S2- ionic radii (2.21 A),
likely the noise. A random ordering puts Li on ~30 % of the Li3 sites (SevenNet-0 on a 32-atom ordering: forces up to 18 eV/A, 8.8 GPa;
audit A25): relax before MD, and check the Li site model against the paper before
relying on it.
""" + _obelix("nhq", "Pnma"),
        published_density=1.85,   # from the cell and formula
    ),
    Example(
        name="Li7P3S11",
        space_group="P-1",
        lattice=Lattice.from_parameters(12.5009, 6.0316, 12.5303, 102.845, 113.2024, 74.467),
        species=["Li"] * 7 + ["P"] * 3 + ["S"] * 11,
        coords=[[0.34679942, 0.61461278, 0.14984632], [0.35036878, 0.60206040, 0.33697497],
                [0.66736410, 0.13576037, 0.09552533], [0.21657670, 0.52148191, 0.75731016],
                [0.93166811, 0.78901817, 0.27588404], [0.34140356, 0.29834486, 0.50994995],
                [0.88511076, 0.69250323, 0.85886056],
                [0.17394062, 0.71085659, 0.93794510], [0.82767276, 0.99435773, 0.46937760],
                [0.49548307, 0.04821444, 0.27961003],
                [0.82001811, 0.11182486, 0.33625250], [0.11824762, 0.79382378, 0.38115518],
                [0.17001765, 0.67704713, 0.09320967], [0.32750596, 0.50403153, 0.92208238],
                [0.49352233, 0.29993291, 0.69719016], [0.63342810, 0.15061789, 0.45796877],
                [0.83150577, 0.92242601, 0.03790201], [0.03529728, 0.62478509, 0.80733595],
                [0.52772843, 0.05185376, 0.14667921], [0.34700282, 0.21948256, 0.29126659],
                [0.81939181, 0.68296140, 0.44914185]],
        labels=[f"Li{i}" for i in range(1, 8)] + [f"P{i}" for i in range(1, 4)]
        + [f"S{i}" for i in range(1, 12)],
        citation="""\
Li7P3S11, triclinic P-1 (No. 2), Z = 2, fully ordered (7 Li, 3 P, 11 S on 2i sites;
P2S7 and PS4 units). Li14P6S22.
Paper: H. Yamane et al., "Crystal structure of a superionic conductor, Li7P3S11",
Solid State Ionics 178, 1163-1167 (2007), doi:10.1016/j.ssi.2007.05.020.
Structure: ICSD 157654, the CIF of OBELiX entry mdp. Cell a = 12.5009, b = 6.0316,
c = 12.5303 A, alpha = 102.845, beta = 113.2024, gamma = 74.467 deg as the OBELiX table
records it; OBELiX's CIF is in a reduced setting of the same cell (a' = 6.0316,
b' = 12.33974, c' = 12.5303 A); its fractional coordinates were transformed to the
published setting (rows a = -a'-b', b = -a', c = -c'; volumes agree to 1e-9).
In P-1 every site is a general position: symmetrization removes none of the noise;
P-S bonds here range 1.86-2.14 A (refinements give ~2.0-2.1 A), and four Li-S contacts
are far too short: Li-S 1.99 A (Li4-S4 and Li1-S3), 2.13 A (Li7-S8) and 2.19 A (Li5-S2),
where Li-S bonds in thiophosphates are 2.4-2.6 A (0.85 x pymatgen's Li+ + S2- ionic
radii: 2.21 A).
SevenNet-0 puts this cell at 6.7 GPa with forces up to 4.5 eV/A (audit A25): relax cell
and positions before MD.
""" + _obelix("mdp", "P-1"),
        published_density=1.98,   # from the cell and formula
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
