"""An eSEN checkpoint whose EMA weights differ from its plain weights, as every trained
one's do: the export must take the EMA weights, as fairchem's predictor does. Every
other test checkpoint has the two sets equal, so exporting the plain weights went
unnoticed. The module checked is build_esen_node_energy_model's, the one AOTInductor
compiles (no package is built here); the reference is fairchem's own calculator."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import torch

from structures import STRUCTURES
from test_esen_layouts import assert_matches
from test_export_esen import contract_inputs, energy_forces_virial
from tiny_esen import fairchem_float64_calculator, write_tiny_esen_checkpoint

from ionmd.export.esen import build_esen_node_energy_model

logging.getLogger().setLevel(logging.ERROR)


def with_two_ema_updates(source, target):
    """``source`` after two training steps (random moves of every parameter), each
    followed by an EMA update (torch's AveragedModel, decay 0.5), saved as fairchem
    saves an inference checkpoint: the plain weights and the EMA ones."""
    import hydra
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    ckpt = torch.load(source, weights_only=False)
    model = hydra.utils.instantiate(ckpt.model_config)
    model.load_state_dict(ckpt.model_state_dict)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.5))
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for _ in range(2):
            for p in model.parameters():
                p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
            ema.update_parameters(model)
    ckpt = dataclasses.replace(ckpt, model_state_dict=model.state_dict(),
                               ema_state_dict=ema.state_dict())
    torch.save(ckpt, target)
    return ckpt


def test_export_takes_the_ema_weights(model_dir, tmp_path):
    source = write_tiny_esen_checkpoint(model_dir / "esen_l1_ema_source.pt", layers=1)
    path = tmp_path / "ema.pt"
    ckpt = with_two_ema_updates(source, path)
    plain, ema = ckpt.model_state_dict, ckpt.ema_state_dict
    moved = max(float((plain[k] - ema[f"module.{k}"]).abs().max()) for k in plain
                if plain[k].is_floating_point())
    assert moved > 0.1      # the two sets differ visibly

    module, meta = build_esen_node_energy_model(path, "float64", measure_receptive_field=False)
    assert_matches(module, meta, fairchem_float64_calculator(path), name="li2s_12")

    # the plain weights alone (a checkpoint without EMA) give another energy
    torch.save(dataclasses.replace(ckpt, ema_state_dict=None), tmp_path / "plain.pt")
    plain_module, _ = build_esen_node_energy_model(tmp_path / "plain.pt", "float64",
                                                   measure_receptive_field=False)
    atoms = STRUCTURES["li2s_12"]()
    inputs = contract_inputs(atoms, meta)
    e_ema, f_ema, _ = energy_forces_virial(module, *inputs, len(atoms))
    e_plain, f_plain, _ = energy_forces_virial(plain_module, *inputs, len(atoms))
    assert abs(e_ema - e_plain) / len(atoms) > 1e-2
    assert np.abs(f_ema - f_plain).max() > 1e-2
