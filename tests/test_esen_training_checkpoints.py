"""What fairchem 2's trainer writes besides the inference checkpoint: its training
checkpoint folder (a torch.distributed checkpoint: .metadata, *.distcp shards, with
inference_ckpt.pt only when save_inference_ckpt is on) and that folder made one file by
dcp_to_torch_save. `ionmd export esen` names what each is and how to get the inference
checkpoint; the conversion it names is fairchem's own and gives a file it exports."""

from __future__ import annotations

import logging
import shlex

import pytest
import torch

from tiny_esen import write_tiny_esen_checkpoint

from ionmd.errors import ExportError
from ionmd.export.esen import build_esen_node_energy_model

logging.getLogger().setLevel(logging.ERROR)


pytestmark = pytest.mark.filterwarnings("ignore:torch.distributed is disabled")


@pytest.fixture(scope="module")
def training_folder(model_dir):
    """The folder fairchem's MLIPTrainEvalUnit.save_state writes (dcp.save of its
    unit_state and config), without inference_ckpt.pt."""
    import torch.distributed.checkpoint as dcp

    ckpt = torch.load(write_tiny_esen_checkpoint(model_dir / "esen_train.pt", layers=1),
                      weights_only=False)
    folder = model_dir / "step_100"
    state = {"unit_state": {"model": ckpt.model_state_dict, "ema": ckpt.ema_state_dict},
             "config": {"runner": {"train_eval_unit": {"model": ckpt.model_config,
                                                       "tasks": ckpt.tasks_config}}}}
    dcp.save(state, checkpoint_id=str(folder), no_dist=True)
    return folder


def export_error(path):
    with pytest.raises(ExportError) as info:
        build_esen_node_energy_model(path, "float64", measure_receptive_field=False)
    return str(info.value)


def test_training_folder_names_the_conversion_that_works(training_folder):
    """The folder (was: 'give the eSEN checkpoint file in it (inference_ckpt.pt ...)',
    which is not there) and its shards (was: 'not a readable PyTorch checkpoint
    (... corrupted ...)') name fairchem's conversion; running it gives a file that
    exports."""
    shard = next(training_folder.glob("*.distcp"))
    for path in (training_folder, shard, training_folder / ".metadata"):
        message = export_error(path)
        assert "training checkpoint folder" in message, message
        assert "convert_train_checkpoint_to_inference_checkpoint" in message, message
    command = message.split("write it with ", 1)[1].split(" and export", 1)[0]
    argv = shlex.split(command)
    assert argv[:2] == ["python", "-c"]
    exec(argv[2], {})      # the command's code, in this process (fairchem is imported)
    written = training_folder / "inference_ckpt.pt"
    try:
        build_esen_node_energy_model(written, "float64", measure_receptive_field=False)
        assert f"export the inference checkpoint fairchem wrote in it, {written}" in \
            export_error(training_folder)
    finally:
        written.unlink()


def test_training_state_in_one_file_is_named(training_folder, tmp_path):
    """dcp_to_torch_save's file (was: 'not a fairchem inference checkpoint (found dict)')."""
    from torch.distributed.checkpoint.format_utils import dcp_to_torch_save

    path = tmp_path / "state.pt"
    dcp_to_torch_save(str(training_folder), str(path))
    message = export_error(path)
    assert "fairchem 2's training state" in message, message
    assert "convert_train_checkpoint_to_inference_checkpoint" in message, message
