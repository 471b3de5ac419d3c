"""Export SevenNet checkpoints (the ``sevenn`` wheel's pretrained models or any
``checkpoint_*.pth``) to the ionmd model-file contract.

SevenNet already follows the contract's edge convention: ``edge_index[0]`` is the
receiving atom ``i`` and ``edge_index[1]`` the sending atom ``j``, with
``edge_vec = x_j - x_i`` (``sevenn.nn.convolution``). The exporter therefore only
strips the modules that do the caller's job (force/stress autograd, the energy sum
over all nodes) and wraps the rest behind the contract's ``forward`` signature.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Optional

from ionmd.errors import ExportError
from ionmd.export.contract import (SUPPORTED_DTYPES, EagerReference, ModelMetadata,
                                   save_torchscript, sha256_of)

# Modules that compute what the pair style computes itself (forces, virial, total energy).
_CALLER_SIDE_MODULES = ("force_output", "reduce_total_enegy", "reduce_total_energy")


def _import_torch_sevenn():
    try:
        import sevenn  # noqa: F401
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ExportError(
            "exporting SevenNet models needs the `sevenn` package: pip install sevenn"
        ) from exc
    return torch


def _build_network(cp, torch, dtype: str, kernels: str = "e3nn", method: str = "naive"):
    """The checkpoint's network, built natively in ``dtype``.

    Tensor products are generated with one ``split`` instead of column slices
    (:mod:`ionmd.export.e3nn_split_slices`). SevenNet builds in float32; ``.double()``
    afterwards leaves constants that e3nn computed at construction (Wigner 3j,
    normalisations) rounded to float32, which shows up as ~1e-7 relative force errors.
    For float64 the network is therefore rebuilt under a float64 default dtype and
    given the checkpoint's parameters; its buffers (Wigner 3j, Clebsch-Gordan
    coefficients, output masks) stay the float64 ones it was built with.
    ``kernels="cueq"`` builds the convolutions through SevenNet's own cuEquivariance
    patch (:mod:`ionmd.export.kernels`), which also converts the weights.
    """
    import copy

    from sevenn.model_build import build_E3_equivariant_model

    from ionmd.export.e3nn_split_slices import split_tensor_product_slices
    from ionmd.export.kernels import sevennet_kernel_build

    with sevennet_kernel_build(cp.config, kernels, method) as config:
        with split_tensor_product_slices():  # 15-20 % faster backward on CPU (see module)
            try:
                net = cp.build_model(enable_cueq=kernels == "cueq", enable_flash=False,
                                     enable_oeq=False)
            except Exception as exc:    # sevenn's own builder or weight conversion
                raise ExportError(build_failure(cp.config, kernels, exc)) from exc
        if dtype == "float32":
            return net
        previous = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            with split_tensor_product_slices():
                net64 = build_E3_equivariant_model(copy.deepcopy(config))
        finally:
            torch.set_default_dtype(previous)
    net64.load_state_dict(float64_state(net, net64, torch), strict=True)
    return net64


def build_failure(config: dict, kernels: str, exc: Exception) -> str:
    """Why sevenn could not build a checkpoint's network, and the way on. A checkpoint
    trained with cuEquivariance kernels holds their weight layout; sevenn converts it to
    e3nn's (the default ``--kernels e3nn``), and where that conversion fails (sevenn
    0.13's converter does not know the fused convolution's constants) the same kernels
    load it as it is."""
    import sevenn

    text = (f"sevenn {sevenn.__version__} could not build the network of this checkpoint "
            f"({type(exc).__name__}: {exc})")
    cueq = (config.get("cuequivariance_config") or {}).get("use", False)
    if cueq and kernels != "cueq":
        return (text + ": it was trained with cuEquivariance kernels (cuequivariance_config "
                "use: true in its config), and sevenn's conversion of their weights to e3nn "
                "failed; export it with --kernels cueq (--kernel-method naive runs on a CPU)")
    if config.get("use_flash_tp") or config.get("use_oeq"):
        return (text + ": it was trained with flashTP/OpenEquivariance kernels, whose weights "
                "this sevenn cannot convert; upgrade sevenn (pip install -U sevenn) and "
                "export again")
    return text + "; check that the installed sevenn can load it (sevenn.util.load_checkpoint)"


def float64_state(net32, net64, torch) -> dict:
    """``net64``'s state dict with ``net32``'s learned values.

    Parameters come from the checkpoint (float32, widened). Buffers are construction
    constants in SevenNet (e3nn's Wigner 3j and output masks, cuEquivariance's
    coefficients, empty bias placeholders), so ``net64`` keeps its own float64 values;
    a buffer that is not a constant (it differs from the checkpoint's by more than
    float32 construction can) is an error rather than a silent choice.
    """
    params = {name for name, _ in net64.named_parameters()}
    own = net64.state_dict()
    state = {}
    for name, value in net32.state_dict().items():
        if name in params or not value.is_floating_point():
            state[name] = value.double() if value.is_floating_point() else value
            continue
        mine = own[name]
        # a learned buffer would differ at O(1); float32 construction at ~1e-7
        if mine.shape != value.shape or not torch.allclose(mine.to(value.dtype), value,
                                                            rtol=1e-4, atol=1e-6):
            raise ExportError(f"buffer {name} of the float64 rebuild differs from the "
                              "checkpoint's: it is not a construction constant; export "
                              "with --dtype float32")
        state[name] = mine
    return state


# Pretrained names that sevenn.util.pretrained_name_to_path knows (either prefix, any
# case) -> the sevenn._const attribute holding the checkpoint's path in the wheel.
_PRETRAINED = {
    "0": "SEVENNET_0_11Jul2024", "0_11jul2024": "SEVENNET_0_11Jul2024",
    "0_11july2024": "SEVENNET_0_11Jul2024", "0_22may2024": "SEVENNET_0_22May2024",
    "l3i5": "SEVENNET_l3i5", "mf-0": "SEVENNET_MF_0", "mf-ompa": "SEVENNET_MF_ompa",
    "omat": "SEVENNET_omat", "omni": "SEVENNET_omni", "omni-i8": "SEVENNET_omni_i8",
    "omni-i12": "SEVENNET_omni_i12",
}


def _pretrained_attribute(name: str) -> Optional[str]:
    """The sevenn._const attribute of a pretrained name, None if it is not one."""
    lower = name.lower()
    for prefix in ("7net-", "sevennet-"):
        if lower.startswith(prefix):
            return _PRETRAINED.get(lower[len(prefix):])
    return None


def resolve_checkpoint(model: str | Path) -> Path:
    """A pretrained name known to ``sevenn`` (``7net-0``, ``7net-l3i5``, ``7net-mf-0``, ...)
    or a checkpoint path -> the checkpoint file, without any download: a name whose file
    is neither in the wheel nor in sevenn's download cache (``~/.cache/sevennet``) is
    refused with where to get it."""
    import os.path

    path = Path(model)
    if path.is_file():
        return path
    if path.is_dir():
        if any(path.glob("deployed_parallel_*.pt")):
            raise ExportError(
                f"{path} is a folder of SevenNet's parallel deploy (sevenn get_model -p, "
                "for pair_style e3gnn/parallel): it holds compiled layers without the "
                "training config ionmd rebuilds the network from. Export the checkpoint it "
                "was deployed from (checkpoint_best.pth of `sevenn train`, or a pretrained "
                "name such as 7net-0), with the same --modal for a multi-fidelity model")
        raise ExportError(f"{path} is a directory: give the checkpoint file in it "
                          "(checkpoint_best.pth of `sevenn train`)")
    attribute = _pretrained_attribute(str(model))
    if attribute is None:
        raise ExportError(
            f"{model!r} is neither a file nor a SevenNet pretrained name "
            f"(names: {', '.join('7net-' + n for n in _PRETRAINED if '_' not in n)}; "
            "or a checkpoint path)")
    _import_torch_sevenn()
    from sevenn import _const

    shipped = getattr(_const, attribute, None)
    if shipped is None:
        raise ExportError(f"the installed sevenn does not know the pretrained model "
                          f"{model!r}: pass the path of its checkpoint file")
    cached = shipped.replace(_const._prefix, os.path.expanduser("~/.cache/sevennet"))
    for candidate in (shipped, cached):
        if Path(candidate).is_file():
            return Path(candidate)
    url = _const.CHECKPOINT_DOWNLOAD_LINKS.get(shipped)
    where = f"download it from {url}" if url else "get the checkpoint from SevenNet's releases"
    raise ExportError(
        f"SevenNet model {model!r} is not shipped in the installed sevenn wheel (nor in "
        f"{Path(cached).parent}), and ionmd never downloads at run time: {where} and "
        "pass the path of that file")


def _load_sevennet_checkpoint(path: Path):
    """``sevenn.util.load_checkpoint`` with clear refusals of files that are not
    SevenNet training checkpoints (:mod:`ionmd.export.file_family` names what they are
    and the command that takes them)."""
    import torch
    from sevenn.util import load_checkpoint

    from ionmd.export.file_family import refuse_other_files

    refuse_other_files(path, "sevennet")        # TorchScript, MACE, fairchem: not unpickled
    try:
        raw = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise ExportError(f"cannot read {path} as a SevenNet checkpoint "
                          f"({type(exc).__name__}: {exc})") from exc
    refuse_other_files(path, "sevennet", raw)
    if not isinstance(raw, dict) or not raw.get("config") or not raw.get("model_state_dict"):
        missing = ("config" if not isinstance(raw, dict) or not raw.get("config")
                   else "model_state_dict")
        raise ExportError(f"{path} is not a SevenNet checkpoint: it has no {missing}; pass "
                          "the full checkpoint that `sevenn train` writes "
                          "(checkpoint_best.pth) to `ionmd export sevennet`")
    del raw
    try:
        cp = load_checkpoint(str(path))
    except Exception as exc:
        raise ExportError(f"cannot read {path} as a SevenNet checkpoint "
                          f"({type(exc).__name__}: {exc})") from exc
    _refuse_newer_release(path, cp.config)
    return cp


def _refuse_newer_release(path: Path, config: dict) -> None:
    """A checkpoint of a newer sevenn may use options the installed builder ignores
    (sevenn itself only warns), which would export a different network silently."""
    import sevenn
    from packaging.version import InvalidVersion, Version

    written = config.get("version")
    try:
        newer = Version(str(written)) > Version(sevenn.__version__)
    except InvalidVersion:
        return
    if newer:
        raise ExportError(
            f"{path} was written by sevenn {written}, newer than the installed "
            f"sevenn {sevenn.__version__}, whose network builder may not know all of its "
            "options: upgrade sevenn in ionmd's environment (pip install -U sevenn) and "
            "export again"
        )


def build_sevennet_eager(model: str | Path = "7net-0", *, dtype: str = "float32",
                         modal: Optional[str] = None, kernels: str = "e3nn",
                         kernel_method: str = "naive"):
    """The contract wrapper around the checkpoint's network, eager, plus its metadata.

    ``kernels``/``kernel_method``: see :mod:`ionmd.export.kernels`.

    Returns
    -------
    (torch.nn.Module, ModelMetadata)
        The module's ``forward(edge_vec, edge_index, species, nlocal)`` returns the
        energies of the first ``nlocal`` nodes.
    """
    torch = _import_torch_sevenn()
    import sevenn
    import sevenn._keys as KEY
    from ase.data import chemical_symbols
    from sevenn.nn.node_embedding import OnehotEmbedding

    if dtype not in SUPPORTED_DTYPES:
        raise ExportError(f"dtype must be one of {SUPPORTED_DTYPES}, got {dtype!r}")
    ckpt_path = resolve_checkpoint(model)
    cp = _load_sevennet_checkpoint(ckpt_path)
    config = cp.config
    net = _build_network(cp, torch, dtype, kernels, kernel_method)

    for key in _CALLER_SIDE_MODULES:
        net.delete_module_by_key(key)
    if hasattr(net, "eval_type_map"):
        net.eval_type_map = False  # species arrive as model-internal indices

    modal_map = net.modal_map or {}
    if modal_map:
        if modal is None:
            raise ExportError(
                f"{ckpt_path.name} is a multi-fidelity model: choose a fidelity with "
                f"--modal (one of {', '.join(modal_map)})"
            )
        if modal not in modal_map:
            raise ExportError(f"unknown modal {modal!r}; this model has {', '.join(modal_map)}")
        net.prepare_modal_deploy(modal)
    elif modal is not None:
        raise ExportError(f"{ckpt_path.name} has a single fidelity; drop --modal {modal}")

    torch_dtype = torch.float64 if dtype == "float64" else torch.float32
    from ionmd.export.sevennet_modules import OnehotInModelDtype, SevenNetEdgeModel

    for name, mod in list(net._modules.items()):
        if isinstance(mod, OnehotEmbedding):
            net._modules[name] = OnehotInModelDtype(
                mod.num_classes, mod.key_x, mod.key_output, mod.key_save,
                mod.key_additional_output, torch_dtype
            )
    net.set_is_batch_data(False)
    net = net.to(torch_dtype).eval()

    wrapper = SevenNetEdgeModel(net).eval()

    # type map: atomic number -> model index; invert to index-ordered symbols
    type_map = config[KEY.TYPE_MAP]
    elements = [""] * len(type_map)
    for z, idx in type_map.items():
        elements[int(idx)] = chemical_symbols[int(z)]
    num_layers = int(config[KEY.NUM_CONVOLUTION])
    cutoff = float(config[KEY.CUTOFF])
    meta = ModelMetadata(
        family="sevennet",
        cutoff=cutoff,
        num_layers=num_layers,
        elements=elements,
        dtype=dtype,
        source=str(model),
        source_sha256=sha256_of(ckpt_path),
        extra={
            "family_version": f"sevenn {sevenn.__version__}",
            "modal": modal or "",
            "checkpoint_file": ckpt_path.name,
            "kernels": kernels,
            "kernel_method": kernel_method if kernels != "e3nn" else "",
        },
    )
    return wrapper, meta


def build_sevennet_module(model: str | Path = "7net-0", *, dtype: str = "float32",
                          modal: Optional[str] = None, stages: bool = True,
                          kernels: str = "e3nn", kernel_method: str = "naive"):
    """Build the scripted (TorchScript) contract module and its metadata (not yet saved).

    With ``stages``, the module also carries one stage per interaction layer
    (``halo_embed``/``halo_stage``, see ``ionmd.export.sevennet_stages``) for the halo
    exchange of ``pair_style ionmd``; they are checked against the unsplit network on
    random graphs before the module is returned.

    Returns
    -------
    (torch.jit.ScriptModule, ModelMetadata)
    """
    import e3nn.util.jit
    import torch

    from ionmd.export.staged import checked_frozen_stages
    from ionmd.export.sevennet_stages import build_staged

    wrapper, meta = build_sevennet_eager(model, dtype=dtype, modal=modal, kernels=kernels,
                                         kernel_method=kernel_method)
    reference = EagerReference(wrapper, meta)    # taken before anything is compiled
    if not stages:
        module = torch.jit.freeze(e3nn.util.jit.script(wrapper))
    else:
        scripted = e3nn.util.jit.script(build_staged(wrapper))
        module = checked_frozen_stages(scripted, meta, reference=wrapper)
    reference.check(module, f"the SevenNet export of {model}")
    return module, meta


@contextlib.contextmanager
def _shape_generic_sevenn():
    """Let ``make_fx`` trace SevenNet with a symbolic atom count.

    ``sevenn.nn.convolution.message_gather`` sizes its output with ``len(tensor)``,
    a Python int that freezes the atom count into the traced program. The stand-in
    below does the same scatter-sum with ``tensor.shape[0]`` (kept symbolic); it is
    installed only while an AOTInductor package is traced.
    """
    import torch
    from sevenn.nn import convolution

    def message_gather(node_features, edge_dst, message):
        out = torch.zeros((node_features.shape[0],) + tuple(message.shape[1:]),
                          dtype=node_features.dtype, device=node_features.device)
        index = edge_dst.reshape(-1, *([1] * (message.dim() - 1))).expand_as(message)
        return out.scatter_reduce_(0, index, message, reduce="sum")

    original = convolution.message_gather
    convolution.message_gather = message_gather
    try:
        yield
    finally:
        convolution.message_gather = original


def export_sevennet(model: str | Path = "7net-0", output: str | Path = "sevennet.pt", *,
                    dtype: str = "float32", modal: Optional[str] = None,
                    format: str = "torchscript", device: str = "cpu",
                    stages: bool = True, kernels: str = "e3nn",
                    kernel_method: Optional[str] = None) -> Path:
    """Export a SevenNet checkpoint to an ionmd model file for ``pair_style ionmd``.

    Parameters
    ----------
    model
        Pretrained name shipped in the ``sevenn`` wheel (``7net-0``, ``7net-l3i5``,
        ``7net-mf-0``) or a path to a SevenNet checkpoint.
    output
        Path of the model file to write (``.pt`` for TorchScript, ``.pt2`` for
        AOTInductor by convention).
    dtype
        ``"float32"`` (fast, what SevenNet was trained in) or ``"float64"``.
    modal
        Fidelity of a multi-fidelity checkpoint (e.g. ``"PBE"`` for ``7net-mf-0``).
    format
        ``"torchscript"`` or ``"aoti"`` (AOTInductor package, compiled ahead of time
        for ``device``; takes a minute or more to export).
    device
        Device an AOTInductor package is compiled for (``"cpu"`` or ``"cuda"``).
    stages
        Also write one stage per interaction layer, so that ``pair_style ionmd`` on
        several ranks exchanges node features between layers over a one-cutoff ghost
        shell instead of a ``layers x cutoff`` one, and can recompute layer by layer
        (``memory low``). An AOTInductor package then holds ``2 L + 1`` more compiled
        programs (a forward and a vector-Jacobian product per stage).
    kernels
        ``"e3nn"`` (default) or ``"cueq"``: the convolutions built from cuEquivariance
        (:mod:`ionmd.export.kernels`; needs ``pip install 'ionmd[cuda]'``).
    kernel_method
        cuEquivariance implementation: ``"uniform_1d"`` (compiled GPU kernels; the
        default where they load), ``"fused_tp"``, or ``"naive"`` (pure-torch reference,
        any device; the default elsewhere).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    from ionmd.export.kernels import check_kernels, default_cueq_method

    check_kernels(kernels)
    if kernel_method is None:
        kernel_method = default_cueq_method(device) if kernels == "cueq" else "naive"
    if format == "torchscript":
        scripted, meta = build_sevennet_module(model, dtype=dtype, modal=modal, stages=stages,
                                               kernels=kernels, kernel_method=kernel_method)
        return save_torchscript(scripted, output, meta)
    if format == "aoti":
        from ionmd.export.aoti import save_aoti, save_staged_aoti
        from ionmd.export.aoti_modules import AllRowStages, NodeEnergy
        from ionmd.export.sevennet_stages import build_staged
        from ionmd.export.staged import checked_stages

        wrapper, meta = build_sevennet_eager(model, dtype=dtype, modal=modal, kernels=kernels,
                                             kernel_method=kernel_method)
        with _shape_generic_sevenn():
            if not stages:
                return save_aoti(NodeEnergy(wrapper).eval(), output, meta, device=device)
            staged = checked_stages(AllRowStages(build_staged(wrapper)), meta, reference=wrapper)
            return save_staged_aoti(NodeEnergy(wrapper).eval(), staged, meta.num_layers, output,
                                    meta, device=device)
    raise ExportError(f"unknown format {format!r}: use torchscript or aoti")
