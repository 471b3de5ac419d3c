"""eSEN (AQVolt26's architecture, random weights) in `lmp -in` through an AOTInductor
package, against fairchem's own FAIRChemCalculator (float64), and the same energies and
forces on 1, 2 and 4 ranks.

One package is compiled per session (~3.5 minutes on 2 cores: the whole model, and the
forward and vector-Jacobian programs of its 2 stages): one interaction layer and a 4 A
cutoff keep both the compile and the multi-rank ghost shell ((1 + 1) x 4 A) small; the
export path is the one the full-size models go through. The stages are checked against
the serial run with the halo exchange on 2 and 4 ranks and recomputed (`memory low`)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from lammps_runner import assert_same_physics, single_point
from structures import licl_primitive_small, licl_supercell, triclinic_distorted
from tiny_esen import fairchem_float64_calculator

logging.getLogger().setLevel(logging.ERROR)   # fairchem's dataset_list warning


@pytest.fixture(scope="module")
def esen_checkpoint(tiny_esen_l1_f64):
    return tiny_esen_l1_f64[0]


@pytest.fixture(scope="module")
def esen_pt2(tiny_esen_l1_f64):
    return tiny_esen_l1_f64[1]


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


# (ranks, pair_style keywords): the halo exchange between eSEN's stages, the stages
# recomputed (whole, and in chunks of ~200 edges: the 64-atom cells have ~1000 per rank),
# and the redundant shell of (layers + 1) cutoffs
MODES = [(1, "memory low chunk 0"), (1, "memory low chunk 200"), (2, "ghost halo"),
         (2, "ghost halo memory low chunk 200"), (4, "ghost halo memory low chunk 0"),
         (2, "ghost redundant")]


@pytest.mark.mpi
@pytest.mark.parametrize("make", [licl_supercell, triclinic_distorted], ids=["ortho", "triclinic"])
def test_stages_halo_and_memory_modes_equal_serial(make, esen_pt2, tmp_path):
    """The package's per-layer stages (compiled forward and vector-Jacobian programs) give
    the serial whole-model run's energies, forces, pressure and per-atom energies and
    virials to 1e-12 in float64, with the halo exchange on 2 and 4 ranks and recomputed on
    one; the issue asked <= 1e-10 for the halo mode."""
    atoms = make()
    elements = elements_of(atoms)
    ref = single_point(atoms, esen_pt2, tmp_path / "serial", elements, pair_extra="memory fast")
    for nprocs, extra in MODES:
        run = single_point(atoms, esen_pt2, tmp_path / f"np{nprocs}_{extra.replace(' ', '_')}",
                           elements, nprocs=nprocs, pair_extra=extra,
                           processors="4 1 1" if nprocs == 4 else None)
        if "halo" in extra:
            assert "halo exchange between 2 stages" in run.log
        if "low" in extra:
            assert "memory low: the backward pass recomputes" in run.log
        assert_same_physics(run, ref, 1e-12)
