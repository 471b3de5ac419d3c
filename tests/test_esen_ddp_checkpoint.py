"""An eSEN checkpoint trained under DistributedDataParallel without EMA: every key of its
model weights starts with ``module.`` (DDP's wrapper), and fairchem's loader, its own
calculator too, failed on it with a list of every weight as missing (a 6,000-character
error). The export strips the prefix where every key carries it, as torch users do; the
reference is fairchem's calculator on the same weights as a checkpoint it loads (the EMA
weights equal to the plain ones: its calculator always loads the EMA set)."""

from __future__ import annotations

import dataclasses
import logging

import torch

from test_esen_layouts import assert_matches
from tiny_esen import fairchem_float64_calculator, write_tiny_esen_checkpoint

from ionmd.export.esen import build_esen_node_energy_model

logging.getLogger().setLevel(logging.ERROR)


def test_ddp_prefixed_weights_without_ema_export_as_the_plain_ones(model_dir, tmp_path):
    # the EMA test's checkpoint (EMA weights = plain ones), made once per session
    source = model_dir / "esen_l1_ema_source.pt"
    if not source.exists():
        write_tiny_esen_checkpoint(source, layers=1)
    ckpt = torch.load(source, weights_only=False)
    ddp = tmp_path / "ddp.pt"
    torch.save(dataclasses.replace(ckpt, ema_state_dict=None, model_state_dict={
        f"module.{k}": v for k, v in ckpt.model_state_dict.items()}), ddp)

    module, meta = build_esen_node_energy_model(ddp, "float64", measure_receptive_field=False)
    assert_matches(module, meta, fairchem_float64_calculator(source), name="li2s_12")
