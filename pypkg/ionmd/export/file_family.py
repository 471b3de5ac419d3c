"""Which model family a file (or what ``torch.load`` made of it) belongs to, and which
``ionmd export ...`` takes it: the one home of every exporter's refusal of a file that
is not its own.

Recognised: ionmd model files (TorchScript and AOTInductor), SevenNet checkpoints (whole,
without config, a bare state dict, deployed for SevenNet's own pair styles), MACE models
(``.model``, compiled, converted for MACE's pair style, a training checkpoint, a state
dict) and fairchem checkpoints (inference, 1.x training, a state dict).
:func:`identify_file` reads only the archive's member names, its extra files and the
class names its pickle refers to (without unpickling it: a MACE ``.model`` needs
mace-torch, and sometimes an older e3nn, to unpickle, a fairchem one ~10 s of imports);
:func:`identify_object` looks at a loaded object.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Optional

from ionmd.errors import ExportError
from ionmd.export.contract import METADATA_ENTRY

# exporter -> what it takes, for "X is ..., not <that>"
_TAKES = {"sevennet": "a SevenNet checkpoint", "mace": "a MACE model",
          "esen": "a fairchem eSEN checkpoint"}
_OWN_EXPORTER = {"sevennet": "sevennet", "mace": "mace", "fairchem": "esen",
                 "torchscript": "", "aoti": ""}
_SEVENNET_FULL = ("the full checkpoint that `sevenn train` writes (checkpoint_best.pth: "
                  "weights and the config sevenn rebuilds the network from)")


@dataclasses.dataclass(frozen=True)
class FileFamily:
    """What a file is: ``family`` (``ionmd``, ``sevennet``, ``mace``, ``fairchem``),
    ``what`` (a noun phrase), ``exporter`` (the ``ionmd export`` verb that takes it as
    it is, None where no exporter does) and ``fix`` (what to do with it, naming the
    command)."""

    family: str
    what: str
    exporter: Optional[str]
    fix: str

    def refusal(self, path: Path, exporter: str) -> Optional[str]:
        """The message of ``ionmd export <exporter>`` given this file, None where it
        takes it."""
        if self.exporter == exporter:
            return None
        own = _OWN_EXPORTER.get(self.family, exporter)     # ionmd's own files: no "not"
        other = "" if own == exporter else f", not {_TAKES[exporter]}"
        return f"{path} is {self.what}{other}: {self.fix}"


def refuse_other_files(path: str | Path, exporter: str, obj=None) -> Optional[FileFamily]:
    """ExportError naming what ``path`` is and the command that takes it, unless it is
    a file ``ionmd export <exporter>`` takes (or one not recognised: the exporter's own
    loader then says what is wrong). With ``obj`` (what ``torch.load`` returned), the
    loaded object is judged, else the file. Returns what was recognised (None: nothing)."""
    path = Path(path)
    kind = identify_object(obj) if obj is not None else identify_file(path)
    message = kind.refusal(path, exporter) if kind else None
    if message:
        raise ExportError(message)
    return kind


# fairchem 2's trainer saves a folder (torch.distributed checkpoint: .metadata, *.distcp
# shards, resume.yaml) and, with save_inference_ckpt on, inference_ckpt.pt in it
_DCP_PIECES = (".metadata", "resume.yaml")
_DCP_CONVERT = ("python -c \"from fairchem.core.units.mlip_unit.mlip_unit import "
                "convert_train_checkpoint_to_inference_checkpoint as c; "
                "c('{folder}', '{folder}/inference_ckpt.pt')\"")


def refuse_training_folder(path: str | Path) -> None:
    """ExportError for fairchem 2's training checkpoint folder or a piece of it, naming
    the inference checkpoint in it or the command that writes one."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    if not (folder / ".metadata").is_file() or \
            (path.is_file() and path.name not in _DCP_PIECES and path.suffix != ".distcp"):
        return
    what = (f"{path} is" if path.is_dir() else f"{path} is a piece of") + \
        f" fairchem's training checkpoint folder {folder} (a torch.distributed checkpoint)"
    inference = folder / "inference_ckpt.pt"
    if inference.is_file():
        raise ExportError(f"{what}: export the inference checkpoint fairchem wrote in it, "
                          f"{inference}")
    raise ExportError(f"{what}, without the inference_ckpt.pt fairchem writes in it when "
                      "save_inference_ckpt is on: write it with "
                      f"{_DCP_CONVERT.format(folder=folder)} and export that file")


# --- files, without unpickling ---------------------------------------------------------

def identify_file(path: str | Path) -> Optional[FileFamily]:
    """What the archive ``path`` holds, from its member names, extra files and the class
    names its pickle refers to; None where that does not say (not a zip archive, a
    pickle of plain containers: :func:`identify_object` judges those once loaded)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if any(n.split("/", 1)[-1] == "constants.pkl" for n in names):
                extras = {n.split("/extra/", 1)[1]:
                          archive.read(n).decode(errors="replace").strip()
                          for n in names if "/extra/" in n}
                return _torchscript(names, extras)
            if any("/aotinductor/" in n for n in names):
                return _aoti(archive, names)
            pickles = [n for n in names if n.endswith("data.pkl")]
            if not pickles:
                return None
            data = archive.read(pickles[0])
    except (zipfile.BadZipFile, EOFError, OSError, KeyError):
        return None         # a damaged or non-zip file: the exporter's loader says what
    return _from_classes(data)


_IONMD_FILE = FileFamily("ionmd", "already an ionmd model file", None,
                         "give it to pair_style ionmd as it is (ionmd inspect shows its "
                         "metadata)")


def _torchscript(names: list, extras: dict) -> FileFamily:
    if METADATA_ENTRY in extras:
        return _IONMD_FILE
    if ("model_type" in extras or "chemical_symbols_to_index" in extras
            or any("code/__torch__/sevenn/" in n for n in names)):
        kind = ("parallel (pair_style e3gnn/parallel)" if "comm_size" in extras
                else "serial (pair_style e3gnn)")
        return FileFamily(
            "sevennet",
            f"a SevenNet model deployed for SevenNet's own LAMMPS pair style, {kind}, by "
            f"sevenn {extras.get('version', '?')} (sevenn get_model / sevenn_get_model)",
            None,
            "it holds the compiled network without the training config ionmd rebuilds it "
            "from. Export the checkpoint it was deployed from instead, with `ionmd export "
            "sevennet`: checkpoint_best.pth of `sevenn train`, or a pretrained name such "
            "as 7net-0")
    if any(n.endswith("code/__torch__/mace/calculators/lammps_mace.py") for n in names):
        return FileFamily("mace", "a MACE model compiled for MACE's own LAMMPS pair style "
                          "(create_lammps_model's *-lammps.pt)", None,
                          "export the plain `.model` file it was made from with "
                          "`ionmd export mace`")
    if any("code/__torch__/mace/" in n for n in names):
        return FileFamily("mace", "a compiled (TorchScript) MACE model, such as the "
                          "*_compiled.model of mace_run_train", None,
                          "export the plain `.model` file mace_run_train writes next to it "
                          "with `ionmd export mace`")
    return FileFamily("torchscript", "a TorchScript file", None,
                      "TorchScript holds compiled code that cannot be rebuilt: export the "
                      "model's own file instead (a SevenNet checkpoint_best.pth with "
                      "`ionmd export sevennet`, a MACE `.model` with `ionmd export mace`, a "
                      "fairchem inference checkpoint with `ionmd export esen`)")


def _aoti(archive, names: list) -> FileFamily:
    for name in names:
        if "/aotinductor/" in name and name.endswith("_metadata.json"):
            if b"ionmd_metadata" in archive.read(name):
                return _IONMD_FILE
    return FileFamily("aoti", "an AOTInductor package (compiled code)", None,
                      "export the model's own file instead (a SevenNet checkpoint_best.pth "
                      "with `ionmd export sevennet`, a MACE `.model` with `ionmd export "
                      "mace`, a fairchem inference checkpoint with `ionmd export esen`)")


def _pickled_classes(data: bytes):
    """``module.name`` of each class a pickle refers to, read from its opcodes (nothing
    is imported or built)."""
    import pickletools

    strings = []
    try:
        for op, arg, _ in pickletools.genops(data):
            if op.name == "GLOBAL":                 # protocol <= 3 (torch.save's default 2)
                yield arg.replace(" ", ".", 1)
            elif op.name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
                strings.append(arg)
            elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                yield f"{strings[-2]}.{strings[-1]}"     # approximate under memo gets
    except Exception:       # a truncated pickle: what was read so far
        return


def _from_classes(data: bytes) -> Optional[FileFamily]:
    for name in _pickled_classes(data):
        if name.startswith("mace."):
            return _MACE_MODEL
        if name.startswith("fairchem."):
            return _FAIRCHEM_CHECKPOINT
    return None


_MACE_MODEL = FileFamily("mace", "a MACE model", "mace", "export it with `ionmd export mace`")
_FAIRCHEM_CHECKPOINT = FileFamily("fairchem", "a fairchem (eSEN) checkpoint", "esen",
                                  "export it with `ionmd export esen`")


# --- loaded objects ---------------------------------------------------------------------

# MLIPInferenceCheckpoint's fields: a dict of exactly these (dataclasses.asdict of one)
# holds the whole checkpoint, config included; `ionmd export esen` rebuilds it
_INFERENCE_FIELDS = {"model_config", "model_state_dict", "ema_state_dict", "tasks_config"}
_FAIRCHEM_FIELDS = FileFamily(
    "fairchem", "a fairchem inference checkpoint saved as a plain dict of its fields "
    "(dataclasses.asdict of an MLIPInferenceCheckpoint)", "esen",
    "export it with `ionmd export esen` (fairchem's own calculator reads it once re-saved "
    "with torch.save(MLIPInferenceCheckpoint(**d), path))")


def identify_object(obj) -> Optional[FileFamily]:
    """What ``torch.load`` returned: a family's checkpoint, model or state dict; None
    where nothing says which family it belongs to."""
    cls = type(obj)
    if cls.__name__ == "MLIPInferenceCheckpoint" or cls.__module__.startswith("fairchem."):
        return _FAIRCHEM_CHECKPOINT
    if cls.__module__.startswith("mace."):
        return _MACE_MODEL
    if cls.__name__ in ("RecursiveScriptModule", "ScriptModule"):
        return FileFamily("torchscript", "a TorchScript file", None,
                          _torchscript([], {}).fix)
    if not isinstance(obj, dict):
        return None
    if set(obj) == _INFERENCE_FIELDS and isinstance(obj["model_config"], dict):
        return _FAIRCHEM_FIELDS
    # a config next to the weights is SevenNet's and fairchem 1.x's layout, but also any
    # training script's: the weights' names say whose they are
    if "model_state_dict" in obj:
        family = _inner_family(obj["model_state_dict"])
        if family == "sevennet":
            if obj.get("config"):
                return FileFamily("sevennet", "a SevenNet checkpoint", "sevennet",
                                  "export it with `ionmd export sevennet`")
            return FileFamily("sevennet", "a SevenNet training checkpoint without its "
                              "config", None, f"export {_SEVENNET_FULL} with `ionmd export "
                              "sevennet`")
        return _state_dict_kind(family, "model_state_dict")
    if "config" in obj and "state_dict" in obj:
        family = _inner_family(obj["state_dict"])
        if family in ("sevennet", "mace"):
            return _state_dict_kind(family, "state_dict")
        return FileFamily("fairchem", "a fairchem 1.x training checkpoint", None,
                          "ionmd reads fairchem 2 inference checkpoints "
                          "(MLIPInferenceCheckpoint) with `ionmd export esen`: load it with "
                          "fairchem 2's conversion tools or re-save the model as an "
                          "inference checkpoint")
    if "unit_state" in obj and "config" in obj:
        return FileFamily("fairchem", "fairchem 2's training state (a training checkpoint "
                          "folder made one file by dcp_to_torch_save)", None,
                          "write the inference checkpoint from the folder it was made from "
                          f"with {_DCP_CONVERT.format(folder='FOLDER')} and export that file")
    inner = obj.get("model")
    if isinstance(inner, dict) and _state_dict_family(inner) == "mace":
        return FileFamily("mace", "a MACE training checkpoint (mace_run_train's "
                          "checkpoints/*.pt: weights without the model's architecture)", None,
                          "export the `.model` file mace_run_train writes at the end of "
                          "training with `ionmd export mace`")
    return _state_dict_kind(_state_dict_family(obj))


def _inner_family(state) -> Optional[str]:
    return _state_dict_family(state) if isinstance(state, dict) else None


def _state_dict_kind(family: Optional[str], key: str = "") -> Optional[FileFamily]:
    """A family's state dict (weights without what rebuilds the network), on its own or
    under ``key`` of a dict; None for a family not recognised."""
    where = f"a dict whose {key!r} is " if key else ""
    if family == "sevennet":
        return FileFamily("sevennet", f"{where}the state dict of a SevenNet network "
                          "(weights without the config sevenn rebuilds it from)", None,
                          f"export {_SEVENNET_FULL} with `ionmd export sevennet`")
    if family == "mace":
        return FileFamily("mace", f"{where}the state dict of a MACE model (weights without "
                          "the model's architecture)", None,
                          "export the `.model` file mace_run_train writes (the whole "
                          "model) with `ionmd export mace`")
    if family == "fairchem":
        return FileFamily("fairchem", f"{where}the state dict of a fairchem model (weights "
                          "without its config)", None,
                          "export the inference checkpoint fairchem writes "
                          "(inference_ckpt.pt) with `ionmd export esen`")
    return None


_SEVENNET_KEY = re.compile(r"^(onehot_to_feature_x|edge_embedding|rescale_atomic_energy"
                           r"|\d+_convolution|\d+_self_interaction_\d)\.")
_MACE_KEYS = {"atomic_numbers", "r_max", "num_interactions"}


def _state_dict_family(state: dict) -> Optional[str]:
    """The family whose parameter names a state dict has (weights named as each
    family's modules name them), None for other dicts."""
    keys = [k for k in state if isinstance(k, str)]
    if not keys or len(keys) != len(state):
        return None
    if _MACE_KEYS <= set(keys) and any(k.startswith("interactions.") for k in keys):
        return "mace"
    if sum(bool(_SEVENNET_KEY.match(k)) for k in keys) >= 2:
        return "sevennet"
    if any(re.match(r"^(module\.)?backbone\.", k) for k in keys) and \
            any(re.search(r"(^|\.)output_heads\.", k) for k in keys):
        return "fairchem"
    return None
