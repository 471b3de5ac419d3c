"""eSEN checkpoint layouts and config variants against fairchem's own calculator
(float64): per-dataset expert heads, the 'omol' task's default spin, checkpoints
without EMA weights; and clear refusals (a neighbour cap that binds at solid
densities, config keys of another fairchem version)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from structures import STRUCTURES
from test_export_esen import contract_inputs, energy_forces_virial
from tiny_esen import fairchem_float64_calculator, write_tiny_esen_checkpoint

from ionmd.errors import ExportError
from ionmd.export.esen import build_esen_node_energy_model

logging.getLogger().setLevel(logging.ERROR)


def assert_matches(module, meta, calc, name="li3ps4_like_32"):
    atoms = STRUCTURES[name]()
    energy, forces, _ = energy_forces_virial(module, *contract_inputs(atoms, meta), len(atoms))
    ref = atoms.copy()
    ref.calc = calc
    ref_forces = ref.get_forces()
    assert np.abs(ref_forces).max() > 0.1
    assert abs(energy - ref.get_potential_energy()) / len(atoms) <= 1e-8
    assert np.abs(forces - ref_forces).max() <= 1e-6


@pytest.mark.parametrize("task", ["omat", "omol"])
def test_per_dataset_expert_heads(task, model_dir):
    """DatasetSpecificMoEWrapper heads (one expert per dataset) in float64: the merged
    head was built in float32 (crash), now in the model's dtype; 'omol' also checks the
    spin fairchem's calculator defaults to (1, not 0)."""
    path = model_dir / "esen_moe_heads.pt"
    if not path.exists():
        write_tiny_esen_checkpoint(path, datasets=("omat", "omol"), head="moe", layers=1)
    module, meta = build_esen_node_energy_model(path, "float64", task=task,
                                                measure_receptive_field=False)
    assert meta.extra["spin"] == ("1" if task == "omol" else "0")
    assert_matches(module, meta, fairchem_float64_calculator(path, task_name=task))


def test_omol_task_uses_fairchem_default_spin(model_dir):
    """An eSEN trained on 'omol': fairchem's calculator gives spin 1 to a structure that
    sets none; the export used spin 0 (energies off by ~1 eV/atom, silently)."""
    path = write_tiny_esen_checkpoint(model_dir / "esen_omol.pt", datasets=("omol",), layers=1)
    module, meta = build_esen_node_energy_model(path, "float64", measure_receptive_field=False)
    assert_matches(module, meta, fairchem_float64_calculator(path, task_name="omol"))


def test_checkpoint_without_ema_uses_model_weights(model_dir):
    """fairchem writes ema_state_dict=None when trained without EMA; the export crashed
    with "'NoneType' object is not subscriptable". It now loads model_state_dict: the
    same function as fairchem's calculator on the same weights saved with EMA."""
    plain = write_tiny_esen_checkpoint(model_dir / "esen_no_ema.pt", ema="none", layers=1)
    same = write_tiny_esen_checkpoint(model_dir / "esen_with_ema.pt", layers=1)
    module, meta = build_esen_node_energy_model(plain, "float64", measure_receptive_field=False)
    assert_matches(module, meta, fairchem_float64_calculator(same))


def test_binding_neighbour_cap_is_refused(model_dir):
    """max_neighbors=20 at 6 A: fairchem keeps the 20 nearest, the pair style passes all
    (dE ~0.2 eV/atom on Li3PS4 before, silently); now refused with the reason."""
    path = write_tiny_esen_checkpoint(model_dir / "esen_cap20.pt", max_neighbors=20, layers=1)
    with pytest.raises(ExportError, match="20 nearest neighbours"):
        build_esen_node_energy_model(path, "float64", measure_receptive_field=False)


def test_config_keys_of_another_fairchem_are_named(model_dir, tmp_path):
    path = write_tiny_esen_checkpoint(model_dir / "esen_keys.pt", layers=1)
    ckpt = torch.load(path, weights_only=False)
    ckpt.model_config["backbone"]["use_envelope"] = True
    torch.save(ckpt, tmp_path / "old.pt")
    with pytest.raises(ExportError, match="does not take: use_envelope"):
        build_esen_node_energy_model(tmp_path / "old.pt", "float64")
