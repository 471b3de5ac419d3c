"""eSEN per-atom energies (`compute pe/atom`) and per-atom virials (`compute stress/atom
NULL`) against fairchem's own calculator (tests/reference_esen_per_atom.py): its energy
head's per-node outputs, denormalised with the element references, and the gradient its
force/stress backward sends through each edge vector, split half and half between the
edge's atoms (the convention of docs/model-contract.md, common to every family since
pair_style ionmd assembles it from the edge gradients).

The exported node-energy module is checked on every checkpoint layout tiny_esen.py writes
(fast, no compilation); `lmp` runs one float64 package (1 interaction layer, 4 A) serial,
on 2 ranks with the halo exchange between its stages and with the redundant ghost shell,
recomputed in edge chunks (`memory low`), orthogonal and triclinic."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from ase.build import bulk

from lammps_runner import EV_PER_A3_TO_BAR, single_point, to_lammps_frame
from reference_esen_per_atom import fairchem_per_atom, voigt_virial_of
from structures import STRUCTURES, licl_supercell, triclinic_distorted
from test_export_esen import contract_inputs
from tiny_esen import fairchem_float64_calculator, write_tiny_esen_checkpoint

from ionmd.export.esen import build_esen_node_energy_model

logging.getLogger().setLevel(logging.ERROR)   # fairchem's dataset_list warning

RTOL = 1e-10    # relative to the largest per-atom value; float64 gives ~1e-14


def assert_reference_is_consistent(ref, atoms):
    """The observed per-node energies and edge gradients are the calculator's whole
    answer: they add up to its energy, forces and stress."""
    assert ref.atom_energy.sum() == pytest.approx(ref.energy, rel=1e-12, abs=1e-12)
    # (eV/A; a lone atom's forces are zero)
    assert np.abs(ref.edge_forces - ref.forces).max() <= 1e-12 * max(np.abs(ref.forces).max(), 1)
    virial = voigt_virial_of(ref.stress, atoms.get_volume())
    assert np.abs(ref.atom_virial.sum(axis=0) - virial).max() <= 1e-12 * np.abs(virial).max()
    # per-atom values that differ from atom to atom: a uniform split would not pass
    assert np.abs(ref.atom_virial).max() > 0.3
    assert len(atoms) == 1 or np.ptp(ref.atom_energy) > 1.0


def assert_close(got, ref, what):
    scale = np.abs(ref).max()
    err = np.abs(got - ref).max() / scale
    assert err <= RTOL, f"{what}: max relative difference {err:.1e}"


def module_per_atom(module, meta, atoms):
    """The contract module's node energies and its edge-split per-atom virial, on the
    periodic graph of ASE's neighbour list (edge_vec = x_j - x_i + shift)."""
    vec, edge_index, species = contract_inputs(atoms, meta)
    v = vec.clone().requires_grad_(True)
    node_energy = module(v, edge_index, species)
    (g,) = torch.autograd.grad(node_energy.sum(), v)
    w = -vec.numpy()[:, :, None] * g.numpy()[:, None, :]
    w6 = np.stack([w[:, 0, 0], w[:, 1, 1], w[:, 2, 2], w[:, 0, 1], w[:, 0, 2], w[:, 1, 2]], 1)
    atom_virial = np.zeros((len(atoms), 6))
    i, j = edge_index.numpy()
    np.add.at(atom_virial, i, 0.5 * w6)
    np.add.at(atom_virial, j, 0.5 * w6)
    return node_energy.detach().numpy(), atom_virial


# (checkpoint options, task, export options): tiny_esen.py's layouts and the fast backend
LAYOUTS = {
    "single_head_l2": (dict(layers=2), "omat", {}),
    "moe_heads_omat": (dict(datasets=("omat", "omol"), head="moe", layers=1), "omat", {}),
    "moe_heads_omol": (dict(datasets=("omat", "omol"), head="moe", layers=1), "omol", {}),
    "single_head_two_datasets": (dict(datasets=("omat", "omol"), layers=1), "omol", {}),
    "omol_spin": (dict(datasets=("omol",), layers=1), "omol", {}),
    "no_ema": (dict(ema="none", layers=1), "omat", {}),
    "plain_head": (dict(head="plain", layers=1), "omat", {}),
    "fast_backend": (dict(layers=1), "omat", dict(execution_mode="umas_fast_pytorch")),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_node_energies_and_edge_virials_match_fairchem(layout, model_dir):
    options, task, export = LAYOUTS[layout]
    path = model_dir / f"esen_per_atom_{layout}.pt"
    write_tiny_esen_checkpoint(path, **options)
    module, meta = build_esen_node_energy_model(path, "float64", task=task,
                                                measure_receptive_field=False, **export)
    if options.get("ema") == "none":
        # fairchem's calculator reads EMA weights only: the same weights saved with them
        path = write_tiny_esen_checkpoint(model_dir / "esen_per_atom_ema.pt",
                                          **dict(options, ema="same"))
    atoms = STRUCTURES["li3ps4_like_32"]()
    ref = fairchem_per_atom(fairchem_float64_calculator(path, task_name=task), atoms)
    assert_reference_is_consistent(ref, atoms)
    energy, virial = module_per_atom(module, meta, atoms)
    assert_close(energy, ref.atom_energy, f"{layout}: node energies")
    assert_close(virial, ref.atom_virial, f"{layout}: per-atom virials")


@pytest.fixture(scope="module")
def esen_l1(tiny_esen_l1_f64):
    return tiny_esen_l1_f64


def one_atom_cell():
    """bcc Li primitive cell, sheared: one atom, all of its neighbours its own images (the
    runtime pads such graphs with a dummy pair)."""
    atoms = bulk("Li", "bcc", a=3.45)
    atoms.set_cell(atoms.cell.array @ np.array([[1.0, 0.05, 0], [0, 1, 0.03], [0.02, 0, 1]]),
                   scale_atoms=True)
    return to_lammps_frame(atoms)


# (ranks, pair_style keywords): serial, the halo exchange between the stages (also
# recomputed in edge chunks), the redundant ghost shell
RUNS = [(1, ""), (2, "ghost halo"), (2, "ghost halo memory low chunk 200"),
        (2, "ghost redundant")]
# the serial run on 2 OpenMP threads (run_lmp's default is 1): the package's compiled
# kernels split their loops over threads, which must not change the per-atom values
SERIAL_THREADS = {"OMP_NUM_THREADS": "2"}


@pytest.mark.mpi
@pytest.mark.parametrize("make", [licl_supercell, triclinic_distorted, one_atom_cell],
                         ids=["ortho", "triclinic", "one_atom"])
def test_lammps_per_atom_matches_fairchem(make, esen_l1, tmp_path):
    checkpoint, package = esen_l1
    atoms = make()
    ref = fairchem_per_atom(fairchem_float64_calculator(checkpoint), atoms)
    assert_reference_is_consistent(ref, atoms)
    elements = sorted(set(atoms.get_chemical_symbols()))
    for nprocs, extra in RUNS[:1] if len(atoms) == 1 else RUNS:
        run = single_point(atoms, package, tmp_path / f"np{nprocs}_{extra.replace(' ', '_')}",
                           elements, nprocs=nprocs, pair_extra=extra,
                           env=SERIAL_THREADS if nprocs == 1 else None)
        what = f"{nprocs} rank(s) {extra}"
        assert_close(run.atom_energy, ref.atom_energy, f"pe/atom, {what}")
        assert_close(run.atom_virial, ref.atom_virial, f"stress/atom, {what}")
        # the per-atom virials add up to the global one (pressure x volume)
        virial = run.pressure / EV_PER_A3_TO_BAR * run.volume
        assert_close(run.atom_virial.sum(axis=0), virial, f"sum of stress/atom, {what}")
