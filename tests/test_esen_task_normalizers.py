"""eSEN checkpoints whose forces or stress task has its own normaliser.

fairchem's predictor denormalises each task's output with that task's normaliser, so
with a forces rmsd unlike the energy's its calculator reports forces that are not the
gradient of its energy; pair_style ionmd takes forces and stress from the energy, and
exported such checkpoints silently (forces 2.0/1.3 times off fairchem's). They are
refused, naming the task; the reference is fairchem's own calculator."""

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


def with_normalizer(source, target, prop, **normalizer):
    ckpt = torch.load(source, weights_only=False)
    for task in ckpt.tasks_config:
        if task["property"] == prop:
            task["normalizer"].update(normalizer)
    torch.save(ckpt, target)
    return target


@pytest.fixture(scope="module")
def checkpoint(model_dir):
    path = model_dir / "esen_l1_normalizers.pt"
    if not path.exists():
        write_tiny_esen_checkpoint(path, layers=1)
    return path


def test_forces_rmsd_unlike_energy_is_refused(checkpoint, tmp_path):
    path = with_normalizer(checkpoint, tmp_path / "forces_rmsd.pt", "forces", rmsd=2.0)
    # fairchem's forces are 2.0/1.3 times the gradient of its (unchanged) energy
    atoms = STRUCTURES["li3ps4_like_32"]()
    module, meta = build_esen_node_energy_model(checkpoint, "float64",
                                                measure_receptive_field=False)
    _, gradient_forces, _ = energy_forces_virial(module, *contract_inputs(atoms, meta),
                                                 len(atoms))
    atoms.calc = fairchem_float64_calculator(path)
    assert np.allclose(atoms.get_forces(), gradient_forces * 2.0 / 1.3, rtol=1e-8, atol=1e-8)
    with pytest.raises(ExportError, match=r"'omat_forces' denormalises forces with rmsd 2 "):
        build_esen_node_energy_model(path, "float64", measure_receptive_field=False)


@pytest.mark.parametrize("prop, normalizer", [("stress", dict(rmsd=0.5)),
                                              ("forces", dict(mean=0.1))])
def test_stress_rmsd_or_force_mean_is_refused(prop, normalizer, checkpoint, tmp_path):
    path = with_normalizer(checkpoint, tmp_path / "other.pt", prop, **normalizer)
    with pytest.raises(ExportError, match=f"'omat_{prop}' denormalises {prop}"):
        build_esen_node_energy_model(path, "float64", measure_receptive_field=False)


def test_one_normalizer_written_as_a_tensor_is_taken(checkpoint, tmp_path):
    """The same rmsd, given as a tensor in the forces task: exported as before."""
    path = with_normalizer(checkpoint, tmp_path / "tensor.pt", "forces",
                           rmsd=torch.tensor(1.3, dtype=torch.float32))
    build_esen_node_energy_model(path, "float64", measure_receptive_field=False)
