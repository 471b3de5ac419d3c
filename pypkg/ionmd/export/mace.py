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
import sys
from pathlib import Path
from typing import Optional

from ionmd.errors import ExportError
from ionmd.export.contract import (SUPPORTED_DTYPES, EagerReference, ModelMetadata,
                                   save_torchscript, sha256_of)
from ionmd.export.file_family import refuse_other_files
from ionmd.export.mace_rebuild import (_first_line, _older_e3nn_modules,
                                       _tolerant_e3nn_unpickling, rebuild_mace_model)


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
    """Load a pickled MACE model file (``torch.save`` of the module, as MACE writes it).

    Files pickled under e3nn 0.4.x (the version mace-torch pins, so those of a standard
    MACE install and the foundation models) cannot be unpickled by a later e3nn as they
    are: they are read without their generated TorchScript code, and the model is rebuilt
    from the constructor arguments it implies and its state dict (:func:`rebuild_mace_model`).
    Files in mace-torch's cuEquivariance layout (``mace_run_train --enable_cueq
    --only_cueq``, ``mace_convert_e3nn_cueq``) are converted back to the e3nn layout
    with mace-torch's own ``mace.cli.convert_cueq_e3nn`` (:func:`from_cueq_layout`).
    """
    path = Path(path)
    _check_model_path(path)
    # TorchScript, the other families' files: named without unpickling them
    refuse_other_files(path, "mace")
    torch = _import_mace()
    try:
        # MACE model files are whole pickled modules, not state dicts.
        with _tolerant_e3nn_unpickling() as old_e3nn:
            model = torch.load(str(path), map_location="cpu", weights_only=False)
    except ModuleNotFoundError as exc:
        hint = (" (a model in mace-torch's cuEquivariance layout: install ionmd[cuda], or "
                "convert it back with mace_convert_cueq_e3nn where it was made)"
                if "cuequivariance" in str(exc) else "")
        raise ExportError(f"cannot read {path}: it needs the module {exc.name}{hint}") from exc
    except Exception as exc:
        raise ExportError(
            f"cannot read {path} as a MACE model file ({type(exc).__name__}: {exc}); "
            "expected a `.model` file written by mace_run_train (torch.save of the model, "
            "under e3nn 0.4 or later)") from exc
    refuse_other_files(path, "mace", model)    # checkpoints and state dicts
    if isinstance(model, dict) and "model" in model:
        model = model["model"]
    needed = ("atomic_numbers", "r_max", "num_interactions", "interactions")
    if not isinstance(model, torch.nn.Module) or not all(hasattr(model, a) for a in needed):
        raise ExportError(
            f"{path} does not hold a MACE model (found {type(model).__name__}); pass the "
            "`.model` file that mace_run_train writes (not a checkpoint `.pt` state dict)"
        )
    if cueq_layout(model):
        # mace-torch's conversion builds a fresh model under the installed e3nn, so it
        # also covers cuEquivariance files pickled under e3nn 0.4
        return from_cueq_layout(model, path)
    if old_e3nn or _older_e3nn_modules(model):
        try:
            model = rebuild_mace_model(model)
        except Exception as exc:
            import e3nn

            raise ExportError(
                f"{path} was pickled under an older e3nn (0.4.x, the one mace-torch pins) "
                f"and could not be rebuilt under e3nn {e3nn.__version__}: {exc}. ionmd "
                "rebuilds the MACE and ScaleShiftMACE files of mace-torch 0.3.3 and later "
                "(checked: the layouts of MACE-MP-0, -0b, MPA-0, OMAT-0 and OFF23 as 0.3.3, "
                "0.3.6 and 0.3.10 wrote them); the part named here is not one of them: "
                "please report it with the mace-torch version that wrote the file") from exc
    return model


def _check_model_path(path: Path) -> None:
    """Before mace-torch is imported (~20 s): the file must exist."""
    if path.is_dir():
        raise ExportError(f"{path} is a directory: give the MACE `.model` file in it")
    if not path.is_file():
        raise ExportError(f"MACE model file {path} does not exist")


def cueq_layout(model) -> bool:
    """Whether ``model`` holds mace-torch's cuEquivariance blocks (the layout of
    ``--enable_cueq --only_cueq`` training and ``mace_convert_e3nn_cueq``)."""
    return any(type(m).__module__.startswith("cuequivariance") for m in model.modules())


def from_cueq_layout(model, path: Path):
    """``model`` converted to mace-torch's e3nn layout by its own converter
    (``mace.cli.convert_cueq_e3nn``), which rebuilds it under the installed e3nn."""
    import torch
    from mace.cli.convert_cueq_e3nn import run

    previous = torch.get_default_dtype()
    try:
        converted = run(input_model=model, device="cpu", return_model=True)
    except Exception as exc:
        raise ExportError(
            f"{path} is in mace-torch's cuEquivariance layout and mace-torch's converter "
            f"could not turn it back into the e3nn layout ({type(exc).__name__}: "
            f"{_first_line(exc)}): convert it with mace_convert_cueq_e3nn where it was "
            "trained and export that file (add --kernels cueq for GPU kernels)") from exc
    finally:
        torch.set_default_dtype(previous)     # the converter sets the model's dtype globally
    if cueq_layout(converted):
        raise ExportError(f"mace-torch's converter left cuEquivariance blocks in {path}: "
                          "convert it with mace_convert_cueq_e3nn and export that file")
    print(f"ionmd: note: {path.name} is in mace-torch's cuEquivariance layout: converted to "
          "the e3nn layout with mace-torch's convert_cueq_e3nn (export with --kernels cueq "
          "for cuEquivariance GPU kernels)", file=sys.stderr)
    return converted.eval()


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
    from ionmd.export.mace_compat import make_scriptable

    make_scriptable(model)   # blocks that mace-torch ships but TorchScript cannot compile
    model = model.to(torch.float64 if dtype == "float64" else torch.float32).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    numbers = [int(z) for z in model.atomic_numbers.tolist()]
    from ionmd.export.mace_modules import MACEEdgeModel

    wrapper = MACEEdgeModel(model, len(numbers), head_index).eval()

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
                      head: Optional[str] = None, stages: bool = True, fused: bool = True,
                      kernels: str = "e3nn", kernel_method: str = "naive"):
    """Build the TorchScript contract module (``e3nn.util.jit.compile``) and metadata.

    With ``fused``, each interaction's edge convolution and each product's symmetric
    contraction run as one fused CPU op (:mod:`ionmd.export.mace_conv`,
    :mod:`ionmd.export.mace_product`), and each self-connection as one linear map per
    element (:mod:`ionmd.export.mace_skip`); blocks they do not fit keep mace-torch's, with
    a note. With ``kernels="cueq"`` the convolutions and contractions are cuEquivariance
    polynomials computed with ``kernel_method`` instead, on every device
    (:mod:`ionmd.export.mace_cueq`); the self-connections are fused as above.

    With ``stages``, the module also carries one stage per interaction
    (``ionmd.export.mace_stages``), checked against the unsplit model on random graphs.
    A layout whose stages cannot be built, compiled or checked is exported without
    them, with a one-line message on stderr (the plain contract is always exact;
    ``pair_style ionmd`` then uses a redundant ghost shell on several ranks).
    """
    from e3nn.util import jit

    torch = _import_mace()

    def eager():
        wrapper, meta = build_mace_eager(model_file, dtype=dtype, head=head)
        meta.extra["kernels"] = kernels
        meta.extra["kernel_method"] = kernel_method if kernels != "e3nn" else ""
        if kernels == "cueq":
            meta.extra["fused_ops"] = _install_kernels(wrapper.model, Path(model_file).name,
                                                       kernel_method)
        elif fused:
            meta.extra["fused_ops"], all_fused = _fuse(wrapper.model, Path(model_file).name)
            if all_fused:
                meta.extra["memory_auto_edges"] = str(FUSED_AUTO_EDGES)
        return wrapper, meta

    wrapper, meta = eager()
    reference = EagerReference(wrapper, meta)   # before e3nn compiles submodules in place
    if stages:
        try:
            module = _staged_module(wrapper, meta)
            reference.check(module, f"the MACE export of {Path(model_file).name}")
            return module, meta
        except ExportError as exc:
            print(f"ionmd: note: exporting {Path(model_file).name} without per-layer stages "
                  f"({_layout(wrapper.model)}): {_first_line(exc)}", file=sys.stderr)
            # e3nn compiles submodules in place: start again from the file
            wrapper, meta = eager()
    try:
        scripted = jit.compile(wrapper)
    except Exception as exc:
        raise ExportError(f"TorchScript compilation of the MACE model failed: {exc}") from exc
    module = torch.jit.freeze(scripted)
    reference.check(module, f"the MACE export of {Path(model_file).name}")
    return module, meta


# `memory auto` switches to recomputing stages above this many edges per rank. With fused
# ops MACE's fast path holds ~8 KiB per edge (MP-0a medium layout, float32: 0.50 MB/atom at
# 4032 atoms), SevenNet-0's ~147 KiB: this keeps the switch near the same ~4-5 GB per rank
# as the plugin's default of 32768 edges (docs/scaling.md).
FUSED_AUTO_EDGES = 524288


def _fuse(model, name: str) -> tuple[str, bool]:
    """Install ionmd's fused CPU ops; say where mace-torch's blocks stay. Returns a summary
    and whether every block was fused."""
    from ionmd.export.mace_conv import fuse_mace_convolutions
    from ionmd.export.mace_product import fuse_mace_products
    from ionmd.export.mace_skip import fuse_mace_self_connections

    conv, prod = fuse_mace_convolutions(model), fuse_mace_products(model)
    skip_done, skip = fuse_mace_self_connections(model)
    for why in conv + prod + skip:
        print(f"ionmd: note: {name}: mace-torch's own block kept in {why}", file=sys.stderr)
    n = len(model.interactions)
    return (f"{n - len(conv)} of {n} convolutions, {n - len(prod)} of {n} products, "
            f"{skip_done} of {skip_done + len(skip)} self-connections", not conv and not prod)


def _install_kernels(model, name: str, method: str) -> str:
    """cuEquivariance convolutions and contractions, ionmd's fused self-connections; say
    where mace-torch's blocks stay. Returns a summary."""
    from ionmd.export.mace_cueq import install_cueq
    from ionmd.export.mace_skip import fuse_mace_self_connections

    conv, prod = install_cueq(model, method)
    skip_done, skip = fuse_mace_self_connections(model)
    for why in conv + prod + skip:
        print(f"ionmd: note: {name}: mace-torch's own block kept in {why}", file=sys.stderr)
    n = len(model.interactions)
    return (f"cuEquivariance ({method}): {n - len(conv)} of {n} convolutions, "
            f"{n - len(prod)} of {n} products; {skip_done} of "
            f"{skip_done + len(skip)} self-connections fused")


def _layout(model) -> str:
    """Interaction and readout classes of a MACE model, for messages."""
    def names(modules):
        out = []
        for m in modules:
            name = type(m).__name__
            if out and out[-1][0] == name:
                out[-1][1] += 1
            else:
                out.append([name, 1])
        return ", ".join(n if c == 1 else f"{c}x {n}" for n, c in out)

    return f"interactions {names(model.interactions)}; readouts {names(model.readouts)}"


def _staged_module(wrapper, meta):
    """The checked, frozen staged module; ExportError when this layout cannot be staged
    (``meta`` is left as it was then)."""
    from e3nn.util import jit

    from ionmd.export.mace_stages import build_staged
    from ionmd.export.staged import checked_frozen_stages

    module = build_staged(wrapper)
    try:
        scripted = jit.compile(module)
    except Exception as exc:
        raise ExportError(f"its per-layer stages do not compile in TorchScript "
                          f"({_first_line(exc)})") from exc
    extra = dict(meta.extra)
    try:
        return checked_frozen_stages(scripted, meta, reference=wrapper)
    except Exception as exc:
        meta.extra.clear()
        meta.extra.update(extra)
        if isinstance(exc, ExportError):
            raise
        raise ExportError(f"its per-layer stages fail on a test graph ({_first_line(exc)})") from exc


def export_mace(model_file: str | Path, output: str | Path = "mace.pt", *,
                dtype: str = "float64", head: Optional[str] = None,
                format: str = "torchscript", device: str = "cpu", stages: bool = True,
                fused: bool = True, kernels: str = "e3nn",
                kernel_method: Optional[str] = None) -> Path:
    """Export a MACE model file to an ionmd model file for ``pair_style ionmd``.

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
        Also write one stage per interaction, for the per-layer halo exchange of
        ``pair_style ionmd`` on several MPI ranks and ``memory low`` (TorchScript only:
        AOTInductor packages are written without them, with a note).
    fused
        Run each edge convolution and symmetric contraction as one fused CPU op
        (TorchScript only; :mod:`ionmd.export.mace_conv`, :mod:`ionmd.export.mace_product`);
        False keeps mace-torch's e3nn and einsum code.
    kernels
        ``"e3nn"`` (the default: the fused CPU ops above, mace-torch's code off the CPU)
        or ``"cueq"``: the convolutions and symmetric contractions as NVIDIA
        cuEquivariance polynomials on every device (:mod:`ionmd.export.mace_cueq`;
        TorchScript only; needs ``pip install 'ionmd[cuda]'``).
    kernel_method
        cuEquivariance implementation: ``"uniform_1d"`` (compiled GPU kernels; the
        default where they load) or ``"naive"`` (pure torch, any device; the default
        elsewhere).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    _check_model_path(Path(model_file))     # before mace-torch's slow import
    # MACE files pickle whole modules; torch >= 2.6 refuses that by default.
    os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    from ionmd.export.kernels import check_cueq_method, check_kernels, default_cueq_method

    if check_kernels(kernels) == "cueq":
        if kernel_method == "fused_tp":     # cuEquivariance: 3- and 4-operand products only
            raise ExportError("MACE's symmetric contraction (correlation 3: weights, three "
                              "features, output) has more operands than cuEquivariance's "
                              "fused_tp method takes: use --kernel-method uniform_1d")
        kernel_method = check_cueq_method(kernel_method or default_cueq_method(device))
        if format != "torchscript":
            raise ExportError("MACE exports with --kernels cueq are TorchScript only: "
                              "drop --format aoti")
    if format == "torchscript":
        scripted, meta = build_mace_module(model_file, dtype=dtype, head=head, stages=stages,
                                           fused=fused, kernels=kernels,
                                           kernel_method=kernel_method or "naive")
        return save_torchscript(scripted, output, meta)
    if format == "aoti":
        from ionmd.export.aoti import save_aoti
        from ionmd.export.aoti_modules import NodeEnergy

        wrapper, meta = build_mace_eager(model_file, dtype=dtype, head=head)
        if stages:
            # Measured 2026-12-03: torch 2.13's AOTInductor compiles MACE's first-stage
            # vector-Jacobian program into code that corrupts the heap when run (static or
            # dynamic shapes, float32 and float64; the exported graph itself is exact).
            print(f"ionmd: note: {Path(model_file).name}: MACE AOTInductor packages are written "
                  "without per-layer stages (torch 2.13 miscompiles their vector-Jacobian "
                  "programs); the TorchScript export (the default) has them, for the halo "
                  "exchange and 'memory low'", file=sys.stderr)
        return save_aoti(NodeEnergy(wrapper).eval(), output, meta, device=device)
    raise ExportError(f"unknown format {format!r}: use torchscript or aoti")
