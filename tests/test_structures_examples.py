"""Shipped example structures: loadable as package data, in sync with their Wyckoff
data, cited, and chemically sensible (composition from Wyckoff multiplicities,
density against the published value, bond lengths)."""

import subprocess
import tomllib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from ionmd.structures import example_names, read_structure
from ionmd.structures._build_examples import EXAMPLES, cif_text

ROOT = Path(__file__).resolve().parents[1]

# Expected cell contents from the Wyckoff multiplicities of the space group tables,
# written out by hand (not from pymatgen): sum of multiplicity x occupancy.
EXPECTED = {
    # P4_2/nmc: Li 16h x 0.691 + 4d + 8f x 0.643; Ge/P 4d x 0.515/0.485; P 2b; S 3 x 8g
    "Li10GeP2S12": {"Li": 16 * 0.691 + 4 + 8 * 0.643, "Ge": 4 * 0.515, "P": 4 * 0.485 + 2, "S": 24},
    # F-43m: P 4b, S 16e + 4c, Cl 4a, Li 48h x 0.5
    "Li6PS5Cl": {"Li": 24, "P": 4, "S": 20, "Cl": 4},
}
ANIONS = {"S", "Cl", "Br", "I"}


def test_every_example_is_package_data():
    folder = resources.files("ionmd") / "data" / "structures"
    shipped = sorted(p.name for p in folder.iterdir() if p.name.endswith(".cif"))
    assert shipped == sorted(f"{e.name}.cif" for e in EXAMPLES)
    assert example_names() == sorted(e.name for e in EXAMPLES)
    assert set(EXPECTED) == set(example_names())


def test_wheel_ships_the_data_folder():
    # scikit-build-core copies every file of wheel.packages that git does not ignore
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["scikit-build"]
    assert "pypkg/ionmd" in config["wheel"]["packages"]
    assert not any("cif" in pattern or "data" in pattern for pattern in config["wheel"].get("exclude", []))
    if (ROOT / ".git").exists():
        files = [str(p) for p in (ROOT / "pypkg/ionmd/data/structures").glob("*.cif")]
        ignored = subprocess.run(["git", "check-ignore", *files], cwd=ROOT, capture_output=True, text=True)
        assert ignored.stdout == ""


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_file_matches_its_wyckoff_data_and_cites_source(example):
    text = (resources.files("ionmd") / "data" / "structures" / f"{example.name}.cif").read_text()
    assert text == cif_text(example), "regenerate: python -m ionmd.structures._build_examples"
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("doi:10." in line for line in header)
    assert any(example.space_group in line for line in header)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_composition_density_and_distances(example):
    s = read_structure(example.name)
    amounts = {el.symbol: amt for el, amt in s.composition.element_composition.items()}
    assert amounts == pytest.approx(EXPECTED[example.name], abs=1e-6)
    assert s.density == pytest.approx(example.published_density, rel=0.10)
    symbols = [[el.symbol for el in site.species.elements] for site in s]
    d = s.distance_matrix + np.eye(len(s)) * 99
    li = [i for i, sy in enumerate(symbols) if "Li" in sy]
    anion = [i for i, sy in enumerate(symbols) if set(sy) & ANIONS]
    framework = [i for i, sy in enumerate(symbols) if set(sy) & {"P", "Ge"}]
    assert d[np.ix_(li, anion)].min() >= 1.9
    # PS4 / GeS4 tetrahedra: four S neighbours each at 1.9-2.4 A
    near = np.sort(d[np.ix_(framework, anion)], axis=1)
    assert near[:, :4].min() >= 1.9 and near[:, :4].max() <= 2.4
    assert near[:, 4].min() > 3.0
    assert d[np.ix_(anion, anion)].min() >= 3.0
    assert s.lattice.abc == pytest.approx(example.lattice.abc)


# Published cells and symmetry, independent of the Wyckoff data in _build_examples:
# (space group number, a, c, Z, source). LGPS: Kamaya et al., Nat. Mater. 10, 682 (2011),
# a = 8.69407(5), c = 12.5994(1) A (also the cell the OBELiX dataset lists for that paper,
# entry 1hh). Li6PS5Cl: a = 9.85 A as for ICSD 142473 (Rao & Adams, Phys. Status Solidi A
# 208, 1804 (2011), OBELiX entry 97p); Kraft et al. (JACS 2017, ICSD 259200) report 9.898 A.
PUBLISHED = {
    "Li10GeP2S12": (137, 8.69407, 12.5994, 2, "Li10GeP2S12"),
    "Li6PS5Cl": (216, 9.85, 9.85, 4, "Li6PS5Cl"),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_cell_symmetry_and_z(name):
    from pymatgen.core import Composition
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    number, a, c, z, formula = PUBLISHED[name]
    s = read_structure(name)                 # the shipped file is in P1
    assert SpacegroupAnalyzer(s, symprec=1e-3).get_space_group_number() == number
    assert s.lattice.a == pytest.approx(a, rel=2e-3) and s.lattice.c == pytest.approx(c, rel=2e-3)
    fu = Composition(formula)
    assert s.composition["S"] / fu["S"] == pytest.approx(z)     # S sites are fully occupied


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_orders_to_an_integral_cell_without_overlaps(name):
    from ionmd.structures import order_structure

    s = read_structure(name)
    cell = order_structure(s, "random", seed=0)
    o = cell.structure
    assert o.is_ordered
    reps = np.prod(cell.supercell)
    for el, amt in s.composition.element_composition.items():
        # each element's count is its site-occupancy sum times the repeats, to a whole atom
        assert abs(o.composition[el] - amt * reps) < 1.0
    sym = np.array([site.specie.symbol for site in o])
    d = o.distance_matrix + np.eye(len(o)) * 99
    assert d.min() > 1.5                      # no overlapping or duplicated sites
    anion, cation = np.isin(sym, list(ANIONS)), ~np.isin(sym, list(ANIONS))
    assert d[np.ix_(cation, anion)].min() >= 1.9
    assert d[np.ix_(anion, anion)].min() >= 3.0
    # Li-Li is the shortest contact: the site models put partially occupied Li sites
    # 1.73 A (LGPS 16h chain) and 1.95 A (argyrodite 48h pair) apart, and a random
    # ordering occupies some such pairs; the first MD steps push them apart
    li = sym == "Li"
    others = d.copy()
    others[np.ix_(li, li)] = 99
    assert others.min() >= 1.9
