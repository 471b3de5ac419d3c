"""A fairchem inference checkpoint saved as a plain dict of its fields
(dataclasses.asdict of MLIPInferenceCheckpoint) holds its config as well as its weights:
`ionmd export esen` exports it as the checkpoint it is (it was refused as "the state dict
of a fairchem model (weights without its config)"), and the other exporters name it so.
The reference is fairchem's calculator on the checkpoint the dict was made from."""

from __future__ import annotations

import dataclasses
import logging

import pytest
import torch

from test_esen_layouts import assert_matches
from tiny_esen import fairchem_float64_calculator, write_tiny_esen_checkpoint

from ionmd.errors import ExportError
from ionmd.export.esen import build_esen_node_energy_model
from ionmd.export.file_family import refuse_other_files

logging.getLogger().setLevel(logging.ERROR)


@pytest.fixture(scope="module")
def checkpoints(model_dir):
    source = model_dir / "esen_l1_as_dict_source.pt"
    if not source.exists():
        write_tiny_esen_checkpoint(source, layers=1, ema="different")
    fields = model_dir / "esen_l1_as_dict.pt"
    torch.save(dataclasses.asdict(torch.load(source, weights_only=False)), fields)
    return source, fields


def test_dict_of_checkpoint_fields_exports_as_the_checkpoint(checkpoints):
    source, fields = checkpoints
    assert type(torch.load(fields, weights_only=False)) is dict
    module, meta = build_esen_node_energy_model(fields, "float64",
                                                measure_receptive_field=False)
    assert_matches(module, meta, fairchem_float64_calculator(source), name="li2s_12")


@pytest.mark.parametrize("exporter", ["mace", "sevennet"])
def test_other_exporters_name_it_a_fairchem_checkpoint(checkpoints, exporter):
    _, fields = checkpoints
    with pytest.raises(ExportError) as info:
        refuse_other_files(fields, exporter, torch.load(fields, weights_only=False))
    message = str(info.value)
    assert "fairchem inference checkpoint saved as a plain dict" in message, message
    assert "`ionmd export esen`" in message and "without its config" not in message, message
