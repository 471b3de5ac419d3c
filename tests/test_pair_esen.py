"""eSEN (AQVolt26's architecture, random weights) in `lmp -in` through an AOTInductor
package, against fairchem's own FAIRChemCalculator (float64), and the same energies and
forces on 1, 2 and 4 ranks.

One package is compiled per session (minutes on 2 cores): one interaction layer and a
4 A cutoff keep both the compile and the multi-rank ghost shell ((1 + 1) x 4 A) small;
the export path is the one the full-size models go through."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from lammps_runner import single_point
from structures import licl_primitive_small, licl_supercell, triclinic_distorted
from tiny_esen import fairchem_float64_calculator, write_tiny_esen_checkpoint

logging.getLogger().setLevel(logging.ERROR)   # fairchem's dataset_list warning


@pytest.fixture(scope="module")
def esen_checkpoint(model_dir):
    return write_tiny_esen_checkpoint(model_dir / "tiny_esen_l1.pt", layers=1, cutoff=4.0)


@pytest.fixture(scope="module")
def esen_pt2(esen_checkpoint, model_dir):
    from ionmd.export.esen import export_esen

    return export_esen(esen_checkpoint, model_dir / "tiny_esen_l1_f64.pt2", dtype="float64")


@pytest.fixture(scope="module")
def fairchem_calc(esen_checkpoint):
    return fairchem_float64_calculator(esen_checkpoint)


def elements_of(atoms):
    return sorted(set(atoms.get_chemical_symbols()))


@pytest.mark.parametrize("make", [licl_supercell, triclinic_distorted, licl_primitive_small],
                         ids=["licl", "triclinic", "small_cell"])
def test_lammps_matches_fairchem_calculator(make, esen_pt2, fairchem_calc, tmp_path):
    atoms = make()
    lmp = single_point(atoms, esen_pt2, tmp_path, elements_of(atoms))
    ref = atoms.copy()
    ref.calc = fairchem_calc
    assert abs(lmp.energy - ref.get_potential_energy()) / len(atoms) <= 1e-8
    ref_forces = ref.get_forces()
    assert np.abs(ref_forces).max() > 0.05       # not a comparison of zeros
    assert np.abs(lmp.forces - ref_forces).max() <= 1e-6
    assert np.abs(lmp.stress_ase() - ref.get_stress()).max() <= 1e-6


@pytest.mark.mpi
def test_ranks_agree(esen_pt2, tmp_path):
    atoms = triclinic_distorted()
    runs = {n: single_point(atoms, esen_pt2, tmp_path / f"np{n}", elements_of(atoms), nprocs=n,
                            processors="4 1 1" if n == 4 else None)
            for n in (1, 2, 4)}
    for n in (2, 4):
        assert runs[n].energy == pytest.approx(runs[1].energy, rel=1e-10)
        np.testing.assert_allclose(runs[n].forces, runs[1].forces, rtol=0, atol=1e-9)
        np.testing.assert_allclose(runs[n].pressure, runs[1].pressure, rtol=1e-9, atol=1e-6)
