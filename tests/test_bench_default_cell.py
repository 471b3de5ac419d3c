"""`ionmd bench MODEL` without --structure times a cell of the model's own elements: before,
it always replicated rocksalt LiCl and refused every model without Li or Cl (a Na-P-S
model: "does not know Cl, Li"). The cell is checked against independent references: the
covalent radii of ASE for its nearest-neighbour distances (ASE's neighbour list) and the
atom densities of real electrolytes of the same elements, from their published cells."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from ase.build import bulk
from ase.data import atomic_numbers, covalent_radii
from ase.io import read
from ase.neighborlist import neighbor_list

from contract_models import ALPHA, D0, R0, RC, MorseEdgeModel, save_contract_model
from ionmd.bench import default_cell
from ionmd.cli import main

# atoms per A^3 of real electrolytes: atoms in the published cell / its volume
REAL_DENSITIES = {
    ("Na", "P", "S"): 16 / 6.9965 ** 3,           # cubic Na3PS4, I-43m, Z = 2
    ("Li", "La", "Zr", "O"): 192 / 12.968 ** 3,   # cubic Li7La3Zr2O12, Ia-3d, Z = 8
    ("Li", "Ge", "P", "S"): 50 / (8.72 ** 2 * 12.63),   # Li10GeP2S12, P4_2/nmc, Z = 2
    ("Li", "O"): 12 / 4.61 ** 3,                   # Li2O, antifluorite
    ("Na",): 2 / 4.2906 ** 3,                      # bcc sodium
}


def nearest_neighbour_ratios(atoms) -> np.ndarray:
    """Per atom: its nearest neighbour's distance / the sum of the two covalent radii."""
    i, j, d = neighbor_list("ijd", atoms, 4.5)
    radii = covalent_radii[atoms.numbers]
    ratios = d / (radii[i] + radii[j])
    return np.array([ratios[i == k][np.argmin(d[i == k])] for k in range(len(atoms))])


@pytest.fixture(scope="module")
def na_p_s_model(tmp_path_factory):
    return save_contract_model(MorseEdgeModel(D0, ALPHA, R0, RC),
                               tmp_path_factory.mktemp("na_p_s") / "naps.pt", cutoff=RC,
                               elements=["Na", "P", "S"])


def test_bench_times_a_model_without_li_and_cl(na_p_s_model, tmp_path, capsys):
    out = tmp_path / "b"
    assert main(["bench", str(na_p_s_model), "--atoms", "64", "--np", "1", "--steps", "2",
                 "-o", str(out), "--no-progress"]) == 0
    result = json.loads((out / "bench.json").read_text())
    assert result["status"] == "finished" and result["points"][0]["failed"] is None
    assert "of the model's elements" in result["structure"]
    said = capsys.readouterr().err                      # which cell, and why not LiCl
    assert result["structure"] in said and "does not know both Li and Cl" in said

    types = re.search(r"pair_coeff \* \* (.+)", (out / "n64-np1" / "in.bench").read_text())
    names = types.group(1).split()
    cell = read(out / "n64-np1" / "bench.data", format="lammps-data", atom_style="atomic")
    cell.numbers = [atomic_numbers[names[t - 1]] for t in cell.arrays["type"]]
    assert len(cell) == 64 and set(cell.get_chemical_symbols()) <= {"Na", "P", "S"}
    density = len(cell) / cell.get_volume()
    assert 0.04 < density < 0.1
    assert 0.8 < density / REAL_DENSITIES[("Na", "P", "S")] < 1.25
    ratios = nearest_neighbour_ratios(cell)             # the run's cell, rattled by 0.03 A
    assert ratios.min() > 0.9 and ratios.max() < 1.1


@pytest.mark.parametrize("elements", list(REAL_DENSITIES))
def test_default_cells_are_as_dense_as_real_electrolytes(elements):
    cell = default_cell(list(elements))
    assert set(cell.get_chemical_symbols()) == set(elements)
    density = len(cell) / cell.get_volume()
    # six-fold rocksalt against four-fold thiophosphates: up to 1.5 x the atoms per volume
    assert 0.8 < density / REAL_DENSITIES[elements] < 1.5, cell.info["name"]
    if len(elements) > 1:     # cations of one sublattice share one lattice constant: in
        ratios = nearest_neighbour_ratios(cell)   # Li-La-Zr-O, La-O is 0.83 and Li-O 1.16
        assert ratios.min() > 0.8 and ratios.max() < 1.2    # of the covalent radii's sum


def test_a_model_knowing_li_and_cl_keeps_the_licl_of_earlier_benchmarks():
    cell = default_cell(["S", "Cl", "P", "Li"])
    licl = bulk("LiCl", "rocksalt", a=5.14, cubic=True)      # docs/benchmarks.md's cell
    assert cell.get_chemical_symbols() == licl.get_chemical_symbols()
    assert np.allclose(cell.cell, licl.cell) and np.allclose(cell.positions, licl.positions)
    assert cell.info["name"] == "LiCl rocksalt"
