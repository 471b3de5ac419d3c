"""Every exporter given another family's file names what it is and the `ionmd export`
command that takes it (pypkg/ionmd/export/file_family.py). The files are written by each
family's own code: the sevenn wheel's SevenNet-0 checkpoint, its state dict and the
checkpoint without its config, a model deployed by sevenn's own deploy; a MACE model of
mace-torch's constructors (tests/tiny_mace.py), its state dict and mace-torch's
CheckpointHandler training checkpoint; fairchem's inference checkpoint
(tests/tiny_esen.py); ionmd model files (TorchScript and AOTInductor). Before
file_family.py: `export sevennet` of the eSEN checkpoint said "AttributeError: ...
has no attribute 'get'", `export esen` said "found ScaleShiftMACE / dict /
RecursiveScriptModule", state dicts and config-less checkpoints named no command.
All refusals come before any export (no compile).
"""

import subprocess
import sys

import pytest
import torch

from ionmd.errors import ExportError
from ionmd.export import export_mace, export_sevennet
from ionmd.export.esen import export_esen

EXPORTERS = {"sevennet": export_sevennet, "mace": export_mace, "esen": export_esen}


@pytest.fixture(scope="module")
def family_files(tmp_path_factory, tiny_mace_file, sevennet_deployed):
    """name -> (path, the exporter that takes it or the one a fix names); sevenn's deploy
    is the session's (tests/session_exports.py), shared with the other deployed-file tests."""
    from mace.tools.checkpoint import CheckpointHandler, CheckpointState
    from sevenn._const import SEVENNET_0_11Jul2024
    from tiny_esen import write_tiny_esen_checkpoint

    out = tmp_path_factory.mktemp("family_files")
    raw = torch.load(SEVENNET_0_11Jul2024, map_location="cpu", weights_only=False)
    torch.save(raw["model_state_dict"], out / "sevennet_state_dict.pth")
    torch.save({k: v for k, v in raw.items() if k != "config"}, out / "no_config.pth")

    mace = torch.load(tiny_mace_file, map_location="cpu", weights_only=False)
    torch.save(mace.state_dict(), out / "mace_state_dict.pt")
    optimizer = torch.optim.Adam(mace.parameters())
    state = CheckpointState(mace, optimizer, torch.optim.lr_scheduler.ExponentialLR(optimizer, 0.9))
    CheckpointHandler(directory=str(out), tag="mace_run", keep=True).save(state, epochs=5)
    (mace_checkpoint,) = out.glob("mace_run*.pt")

    return {
        "SevenNet checkpoint": (SEVENNET_0_11Jul2024, "sevennet"),
        "SevenNet state dict": (out / "sevennet_state_dict.pth", "sevennet"),
        "SevenNet checkpoint without config": (out / "no_config.pth", "sevennet"),
        "SevenNet deployed model": (sevennet_deployed / "deployed_serial.pt", "sevennet"),
        "MACE model": (tiny_mace_file, "mace"),
        "MACE state dict": (out / "mace_state_dict.pt", "mace"),
        "MACE training checkpoint": (mace_checkpoint, "mace"),
        "fairchem eSEN checkpoint": (write_tiny_esen_checkpoint(out / "esen.pt", layers=1,
                                                                channels=8), "esen"),
    }


def _refusal(exporter: str, path, tmp_path) -> str:
    try:
        EXPORTERS[exporter](path, tmp_path / "x.pt")
    except ExportError as exc:
        return str(exc)
    return "(exported)"


def _wrong_messages(exporter: str, family_files, tmp_path, *, own_unusable=()) -> list:
    """Messages of ``exporter`` on the files it does not take that do not name the file
    and the command its family's exporter is."""
    wrong = []
    for name, (path, right) in family_files.items():
        if right == exporter and name not in own_unusable:
            continue
        message = _refusal(exporter, path, tmp_path)
        if str(path) not in message or f"`ionmd export {right}`" not in message:
            wrong.append(f"{name}: {message}")
    return wrong


def test_sevennet_names_every_other_file(family_files, tmp_path):
    wrong = _wrong_messages("sevennet", family_files, tmp_path, own_unusable=(
        "SevenNet state dict", "SevenNet checkpoint without config", "SevenNet deployed model"))
    assert not wrong, "\n".join(wrong)
    for name in ("SevenNet state dict", "SevenNet checkpoint without config"):
        assert "checkpoint_best.pth" in _refusal("sevennet", family_files[name][0], tmp_path)


def test_mace_names_every_other_file(family_files, tmp_path):
    wrong = _wrong_messages("mace", family_files, tmp_path, own_unusable=(
        "MACE state dict", "MACE training checkpoint"))
    assert not wrong, "\n".join(wrong)
    for name in ("MACE state dict", "MACE training checkpoint"):
        assert "`.model` file" in _refusal("mace", family_files[name][0], tmp_path)


def test_esen_names_every_other_file(family_files, tmp_path):
    wrong = _wrong_messages("esen", family_files, tmp_path)
    assert not wrong, "\n".join(wrong)


def test_each_exporter_takes_its_own_files(family_files):
    """The recognition refuses no file its family's exporter takes (the exports
    themselves are tested per family)."""
    from ionmd.export.file_family import refuse_other_files

    for name in ("SevenNet checkpoint", "MACE model", "fairchem eSEN checkpoint"):
        path, exporter = family_files[name]
        refuse_other_files(path, exporter)
        obj = torch.load(path, map_location="cpu", weights_only=False)
        refuse_other_files(path, exporter, obj)


def test_ionmd_model_files_to_every_exporter(morse, morse_pt2, tmp_path):
    for path in (morse, morse_pt2):
        for exporter in EXPORTERS:
            message = _refusal(exporter, path, tmp_path)
            assert f"{path} is already an ionmd model file" in message, (exporter, message)
            assert "pair_style ionmd" in message


def test_esen_refuses_other_files_before_importing_fairchem(family_files, tmp_path):
    """`export esen` of a SevenNet checkpoint took 12 s (fairchem's imports) to refuse it."""
    code = ("import sys\nfrom ionmd.errors import ExportError\n"
            "from ionmd.export.esen import export_esen\n"
            "try:\n    export_esen(sys.argv[1], sys.argv[2])\nexcept ExportError as e:\n"
            "    print(e)\nprint('fairchem imported' if 'fairchem' in sys.modules "
            "else 'fairchem not imported')\n")
    path = family_files["SevenNet checkpoint"][0]
    proc = subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path / "x.pt2")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "`ionmd export sevennet`" in proc.stdout
    assert "fairchem not imported" in proc.stdout


def test_wrapped_state_dicts_are_judged_by_their_weights(tiny_mace_file, tmp_path):
    """A MACE state dict saved next to a config, as SevenNet ({"model_state_dict",
    "config"}) and fairchem 1.x ({"config", "state_dict"}) lay theirs out, is a MACE state
    dict (before: "is a SevenNet checkpoint... `ionmd export sevennet`" and "is a fairchem
    1.x training checkpoint"); SevenNet-0's weights in fairchem's layout are SevenNet's."""
    from sevenn._const import SEVENNET_0_11Jul2024

    mace = torch.load(tiny_mace_file, map_location="cpu", weights_only=False).state_dict()
    config = {"r_max": 5.0, "num_interactions": 2}
    files = {"sevennet_layout.pt": {"model_state_dict": mace, "config": config},
             "fairchem_layout.pt": {"config": config, "state_dict": mace}}
    for name, obj in files.items():
        torch.save(obj, tmp_path / name)
        for exporter in EXPORTERS:
            message = _refusal(exporter, tmp_path / name, tmp_path)
            assert "the state dict of a MACE model" in message, (name, exporter, message)
            assert "`.model` file" in message and "`ionmd export mace`" in message

    sevennet = torch.load(SEVENNET_0_11Jul2024, map_location="cpu", weights_only=False)
    torch.save({"config": config, "state_dict": sevennet["model_state_dict"]},
               tmp_path / "sevennet_weights.pt")
    message = _refusal("esen", tmp_path / "sevennet_weights.pt", tmp_path)
    assert "the state dict of a SevenNet network" in message
    assert "checkpoint_best.pth" in message and "`ionmd export sevennet`" in message
