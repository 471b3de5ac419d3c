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
