"""Export MACE models (``.model`` files as ``mace_run_train`` and the MACE foundation
models save them) to the ionmd model-file contract.

MACE builds its edge vectors as ``positions[receiver] - positions[sender] + shifts``
with ``edge_index = [sender, receiver]`` (``mace.modules.utils``). The contract gives
``edge_index = [i (receiver), j (sender)]`` and ``edge_vec = x_j - x_i``. The wrapper
therefore swaps the two rows and feeds ``positions = 0`` and ``shifts = -edge_vec``:
MACE's own ``forward`` then sees exactly the vectors it would have built itself, so
every MACE variant (any number of interactions, correlation order, heads, pair
repulsion) runs unchanged, and the gradient reaches ``edge_vec`` through ``shifts``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from ionmd.errors import ExportError
from ionmd.export.contract import SUPPORTED_DTYPES, ModelMetadata, save_torchscript, sha256_of


def _import_mace():
    try:
        import mace  # noqa: F401
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ExportError(
            "exporting MACE models needs mace-torch; `make install` installs it "
            f"(import failed: {exc})"
        ) from exc
    return torch


def load_mace_model(path: str | Path):
    """Load a pickled MACE model file (``torch.save`` of the module, as MACE writes it)."""
    torch = _import_mace()
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"MACE model file {path} does not exist")
    try:
        # MACE model files are whole pickled modules, not state dicts.
        model = torch.load(str(path), map_location="cpu", weights_only=False)
    except Exception as exc:
        raise ExportError(f"cannot read {path} as a MACE model file: {exc}") from exc
    if isinstance(model, dict) and "model" in model:
        model = model["model"]
    needed = ("atomic_numbers", "r_max", "num_interactions", "interactions")
    if not isinstance(model, torch.nn.Module) or not all(hasattr(model, a) for a in needed):
        raise ExportError(
            f"{path} does not hold a MACE model (found {type(model).__name__}); pass the "
            "`.model` file that mace_run_train writes (not a checkpoint `.pt` state dict)"
        )
    return model


def _wrapper_class(torch):
    from typing import Dict

    from e3nn.util.jit import compile_mode

    @compile_mode("script")
    class MACEEdgeModel(torch.nn.Module):
        """Contract wrapper: (edge_vec, edge_index, species, nlocal) -> local energies."""

        def __init__(self, model: torch.nn.Module, num_elements: int, head: int):
            super().__init__()
            self.model = model
            self.num_elements = num_elements
            self.register_buffer("head", torch.tensor([head], dtype=torch.int64))

        def forward(self, edge_vec: torch.Tensor, edge_index: torch.Tensor,
                    species: torch.Tensor, nlocal: int) -> torch.Tensor:
            n = species.shape[0]
            node_attrs = torch.nn.functional.one_hot(species, self.num_elements).to(edge_vec.dtype)
            zeros_n = torch.zeros_like(species)
            data: Dict[str, torch.Tensor] = {
                "positions": torch.zeros((n, 3), dtype=edge_vec.dtype, device=edge_vec.device),
                "edge_index": torch.stack([edge_index[1], edge_index[0]]),
                "shifts": -edge_vec,
                "unit_shifts": torch.zeros_like(edge_vec),
                "node_attrs": node_attrs,
                "batch": zeros_n,
                "ptr": torch.stack([zeros_n.sum(), torch.ones_like(species).sum()]),
                "cell": torch.zeros((3, 3), dtype=edge_vec.dtype, device=edge_vec.device),
                "head": self.head,
            }
            out = self.model(data, training=False, compute_force=False, compute_virials=False,
                             compute_stress=False, compute_displacement=False)
            node_energy = out["node_energy"]
            assert node_energy is not None
            return node_energy[:nlocal]

    return MACEEdgeModel


def _resolve_head(model, head: Optional[str], path: Path) -> tuple[int, str]:
    heads = list(getattr(model, "heads", None) or ["Default"])
    if len(heads) == 1:
        if head not in (None, heads[0]):
            raise ExportError(f"{path.name} has a single head ({heads[0]}); drop --head {head}")
        return 0, heads[0]
    if head is None:
        # MACECalculator's rule: without a head keyword, the head named "default"
        default = [h for h in heads if h.lower() == "default"]
        if default:
            return heads.index(default[0]), default[0]
        raise ExportError(
            f"{path.name} is a multi-head MACE model: choose a head with --head "
            f"(one of {', '.join(heads)})"
        )
    if head not in heads:
        raise ExportError(f"unknown head {head!r}; this model has {', '.join(heads)}")
    return heads.index(head), head


def build_mace_eager(model_file: str | Path, *, dtype: str = "float64",
                     head: Optional[str] = None):
    """The contract wrapper around a MACE model file, eager, plus its metadata.

    Returns
    -------
    (torch.nn.Module, ModelMetadata)
    """
    torch = _import_mace()
    from ase.data import chemical_symbols

    if dtype not in SUPPORTED_DTYPES:
        raise ExportError(f"dtype must be one of {SUPPORTED_DTYPES}, got {dtype!r}")
    path = Path(model_file)
    model = load_mace_model(path)
    head_index, head_name = _resolve_head(model, head, path)
    model = model.to(torch.float64 if dtype == "float64" else torch.float32).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    numbers = [int(z) for z in model.atomic_numbers.tolist()]
    wrapper = _wrapper_class(torch)(model, len(numbers), head_index).eval()

    import mace

    meta = ModelMetadata(
        family="mace",
        cutoff=float(model.r_max),
        num_layers=int(model.num_interactions),
        elements=[chemical_symbols[z] for z in numbers],
        dtype=dtype,
        source=str(model_file),
        source_sha256=sha256_of(path),
        extra={
            "family_version": f"mace-torch {getattr(mace, '__version__', 'unknown')}",
            "head": head_name,
            "model_class": type(model).__name__,
        },
    )
    return wrapper, meta


def build_mace_module(model_file: str | Path, *, dtype: str = "float64",
                      head: Optional[str] = None, stages: bool = True):
    """Build the TorchScript contract module (``e3nn.util.jit.compile``) and metadata.

    With ``stages``, the module also carries one stage per interaction
    (``ionmd.export.mace_stages``), checked against the unsplit model on random graphs.
    """
    from e3nn.util import jit

    from ionmd.export.mace_stages import build_staged
    from ionmd.export.staged import checked_frozen_stages

    torch = _import_mace()
    wrapper, meta = build_mace_eager(model_file, dtype=dtype, head=head)
    module = build_staged(wrapper, torch) if stages else wrapper
    try:
        scripted = jit.compile(module)
    except Exception as exc:
        raise ExportError(f"TorchScript compilation of the MACE model failed: {exc}") from exc
    if not stages:
        return torch.jit.freeze(scripted), meta
    return checked_frozen_stages(scripted, meta, reference=wrapper), meta



def export_mace(model_file: str | Path, output: str | Path = "mace.pt", *,
                dtype: str = "float64", head: Optional[str] = None,
                format: str = "torchscript", device: str = "cpu", stages: bool = True) -> Path:
    """Export a MACE model file to an ionmd model file for ``pair_style mlip``.

    Parameters
    ----------
    model_file
        A ``.model`` file written by ``mace_run_train`` (or a MACE foundation model).
    output
        Model file to write (``.pt`` TorchScript, ``.pt2`` AOTInductor).
    dtype
        ``"float64"`` (MACE's recommended MD precision) or ``"float32"``.
    head
        Head of a multi-head (fine-tuned) model; by default the head named
        "Default", as MACE's own calculator chooses.
    format
        ``"torchscript"`` or ``"aoti"``.
    device
        Device an AOTInductor package is compiled for.
    stages
        Also write one stage per interaction (TorchScript only) for the per-layer halo
        exchange of ``pair_style mlip`` on several MPI ranks.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    # MACE files pickle whole modules; torch >= 2.6 refuses that by default.
    os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    if format == "torchscript":
        scripted, meta = build_mace_module(model_file, dtype=dtype, head=head, stages=stages)
        return save_torchscript(scripted, output, meta)
    if format == "aoti":
        from ionmd.export.aoti import node_energy_adapter, save_aoti

        wrapper, meta = build_mace_eager(model_file, dtype=dtype, head=head)
        return save_aoti(node_energy_adapter(wrapper), output, meta, device=device)
    raise ExportError(f"unknown format {format!r}: use torchscript or aoti")
