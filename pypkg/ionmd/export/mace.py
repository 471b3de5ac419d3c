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
import re
import sys
from pathlib import Path
from typing import Optional

from ionmd.errors import ExportError
from ionmd.export.contract import (SUPPORTED_DTYPES, EagerReference, ModelMetadata,
                                   save_torchscript, sha256_of)
from ionmd.export.file_family import refuse_other_files


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


def _older_e3nn_modules(model) -> list[str]:
    """e3nn modules pickled by e3nn 0.4 that hold no generated code (which
    :class:`_tolerant_e3nn_unpickling` sees): e3nn 0.5 and later give SphericalHarmonics
    a ``sph_func``, which 0.4's lacks and its TorchScript cannot redefine."""
    import e3nn

    if e3nn.__version__.startswith("0.4."):
        return []
    return [name for name, m in model.named_modules()
            if type(m).__name__ == "SphericalHarmonics"
            and type(m).__module__.startswith("e3nn.") and not hasattr(m, "sph_func")]


class _tolerant_e3nn_unpickling:
    """While active, e3nn's ``CodeGenMixin.__setstate__`` accepts the state of e3nn 0.4.x
    (generated code as bare TorchScript bytes; later versions store ``(kind, bytes)``):
    it drops that code, which belongs to the old e3nn, so the object is incomplete and
    must be rebuilt. ``as`` gives a list that is non-empty if that happened."""

    def __enter__(self):
        import e3nn
        from e3nn.util.codegen._mixin import CodeGenMixin

        self.cls, self.seen = None, []
        if e3nn.__version__.startswith("0.4."):
            return self.seen        # the installed e3nn writes and reads that state itself
        self.cls = CodeGenMixin
        self.original = CodeGenMixin.__dict__["__setstate__"]
        original, seen = self.original, self.seen

        def __setstate__(obj, state):
            codegen = state.get("__codegen__") if isinstance(state, dict) else None
            if isinstance(codegen, dict) and any(isinstance(v, bytes) for v in codegen.values()):
                state = dict(state)
                del state["__codegen__"]
                seen.append(type(obj).__name__)
            return original(obj, state)

        CodeGenMixin.__setstate__ = __setstate__
        return self.seen

    def __exit__(self, *exc):
        if self.cls is not None:
            self.cls.__setstate__ = self.original
        return False


def _constructor_config(model) -> dict:
    """Keyword arguments of ``MACE``/``ScaleShiftMACE`` that build ``model``'s architecture
    (after mace.tools.scripts_utils.extract_config_mace_model, which covers
    ScaleShiftMACE only and one correlation order for all layers)."""
    from e3nn import o3
    from mace.tools.scripts_utils import extract_radial_MLP

    def radial_type(radial):
        return {"BesselBasis": "bessel", "GaussianBasis": "gaussian",
                "ChebychevBasis": "chebyshev"}[type(radial.bessel_fn).__name__]

    def distance_transform(radial):
        if not hasattr(radial, "distance_transform"):
            return "None"
        return {"AgnesiTransform": "Agnesi", "SoftTransform": "Soft"}[
            type(radial.distance_transform).__name__]

    def correlation(product):
        sc = product.symmetric_contractions
        try:
            return len(sc.contractions[0].weights) + 1
        except AttributeError:
            return int(sc.contraction_degree)

    heads = list(getattr(model, "heads", None) or ["Default"])
    last = model.readouts[-1]
    mlp = o3.Irreps(str(last.hidden_irreps)) if hasattr(last, "hidden_irreps") else o3.Irreps("1x0e")
    gate = None
    acts = getattr(getattr(last, "non_linearity", None), "acts", None)
    if acts:
        gate = getattr(acts[0], "f", None)
    num_interactions = int(model.num_interactions.item())
    hidden = o3.Irreps(str(model.products[0].linear.irreps_out))
    last_out = o3.Irreps(str(model.products[-1].linear.irreps_out))
    config = {
        "r_max": float(model.r_max.item()),
        "num_bessel": len(model.radial_embedding.bessel_fn.bessel_weights)
        if hasattr(model.radial_embedding.bessel_fn, "bessel_weights")
        else int(model.radial_embedding.out_dim),
        "num_polynomial_cutoff": int(model.radial_embedding.cutoff_fn.p.item()),
        "max_ell": model.spherical_harmonics._lmax,  # pylint: disable=protected-access
        "interaction_cls": type(model.interactions[-1]),
        "interaction_cls_first": type(model.interactions[0]),
        "num_interactions": num_interactions,
        "num_elements": len(model.atomic_numbers),
        "hidden_irreps": hidden,
        "edge_irreps": getattr(model, "edge_irreps", None),
        "use_edge_irreps_first": getattr(model, "use_edge_irreps_first", False),
        "MLP_irreps": o3.Irreps(f"{max(1, mlp.count((0, 1)) // len(heads))}x0e"),
        "gate": gate,
        "use_reduced_cg": getattr(model, "use_reduced_cg", False),
        "use_so3": getattr(model, "use_so3", False),
        "use_agnostic_product": getattr(model, "use_agnostic_product", False),
        "use_last_readout_only": getattr(model, "use_last_readout_only", False),
        "readout_cls": type(last),
        "keep_last_layer_irreps": num_interactions > 1 and last_out.dim > last_out.count((0, 1)),
        "atomic_energies": model.atomic_energies_fn.atomic_energies.cpu().numpy(),
        "avg_num_neighbors": float(model.interactions[0].avg_num_neighbors),
        "atomic_numbers": [int(z) for z in model.atomic_numbers.tolist()],
        "correlation": [correlation(p) for p in model.products],
        "radial_type": radial_type(model.radial_embedding),
        "distance_transform": distance_transform(model.radial_embedding),
        "apply_cutoff": getattr(model, "apply_cutoff", True),
        "radial_MLP": _radial_mlp(model, extract_radial_MLP),
        "pair_repulsion": hasattr(model, "pair_repulsion_fn"),
        "heads": heads,
    }
    if hasattr(model, "scale_shift"):
        config["atomic_inter_scale"] = model.scale_shift.scale.cpu().numpy()
        config["atomic_inter_shift"] = model.scale_shift.shift.cpu().numpy()
    return config


def _generated(model):
    """A test for names inside e3nn's generated code (``__codegen__`` submodules)."""
    prefixes = tuple(f"{name}.{c}" if name else c for name, m in model.named_modules()
                     for c in (getattr(m, "__codegen__", None) or []))
    return lambda n: any(n == g or n.startswith(g + ".") for g in prefixes)


def _radial_mlp(model, extract_radial_mlp):
    """Hidden widths of the radial MLPs, read from an interaction that takes them
    (the attention block's MLP is fixed); None (the default) if none does."""
    from types import SimpleNamespace

    for interaction in model.interactions:
        if type(interaction).__name__ != "RealAgnosticAttResidualInteractionBlock":
            widths = extract_radial_mlp(SimpleNamespace(interactions=[interaction]))
            return [int(h) for h in widths] or None
    return None


def _module_tree(model) -> dict:
    """Submodule name -> class name, without e3nn's generated code (fx graph modules
    get one class per instance, so names are compared)."""
    generated = _generated(model)
    return {n: type(m).__name__ for n, m in model.named_modules() if not generated(n)}


def rebuild_mace_model(model):
    """A fresh ``MACE``/``ScaleShiftMACE`` with ``model``'s architecture and weights, built
    by the installed mace-torch and e3nn (for models unpickled from another e3nn).

    The rebuilt model must have the same submodules (names and classes, apart from
    e3nn's generated code) and take every entry of the state dict, with no entry
    missing but the constants of the generated code; otherwise this raises, naming
    the difference.
    """
    from mace import modules

    cls_name = type(model).__name__
    if cls_name not in ("MACE", "ScaleShiftMACE") or hasattr(model, "joint_embedding"):
        raise ExportError(f"rebuilding a {cls_name}"
                          f"{' with extra embedded features' if cls_name in ('MACE', 'ScaleShiftMACE') else ''}"
                          " is not supported (only MACE and ScaleShiftMACE energy models)")
    state = model.state_dict()
    config = _constructor_config(model)
    # `use_reduced_cg` (True by default since mace-torch 0.3.10) takes effect only where
    # cuEquivariance was installed when the model was built: the file's attribute does
    # not tell which symmetric-contraction basis its weights are in, the weights do. Try
    # the attribute's choice first, then the other one.
    problems: list[str] = []
    for reduced in dict.fromkeys([config["use_reduced_cg"], not config["use_reduced_cg"]]):
        fresh, found = _rebuild_with(model, cls_name, dict(config, use_reduced_cg=reduced),
                                     state, modules)
        if not found:
            return fresh
        problems = problems or found
    raise ExportError(f"the rebuilt model does not take the file's weights "
                      f"({len(problems)} mismatches: {', '.join(problems[:3])})")


def _rebuild_with(model, cls_name: str, config: dict, state: dict, modules):
    """(fresh model built from ``config`` with ``state`` loaded, problems loading it)."""
    import torch

    dtype = next((v.dtype for v in state.values() if v.is_floating_point()), torch.float64)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        fresh = getattr(modules, cls_name)(**config)
    finally:
        torch.set_default_dtype(previous)
    for old, new in zip(model.interactions, fresh.interactions):
        new.avg_num_neighbors = old.avg_num_neighbors
    unused = _adopt_old_release_parts(model, fresh)
    state = {k: v for k, v in state.items() if k not in unused}
    old_tree = {n: c for n, c in _module_tree(model).items() if n not in unused}
    new_tree = _module_tree(fresh)
    diff = sorted(n for n in set(old_tree) | set(new_tree) if old_tree.get(n) != new_tree.get(n))
    if diff:
        shown = ", ".join(f"{n or '<model>'}: {old_tree.get(n)} vs {new_tree.get(n)}"
                          for n in diff[:3])
        raise ExportError(f"the rebuilt model differs in {len(diff)} submodules ({shown})")
    # constants of the generated code (e.g. Wigner 3j buffers) come with the new code;
    # so do the flags that later mace-torch derives from its own U matrices
    generated = _generated(fresh)
    try:
        result = fresh.load_state_dict(state, strict=False)
        problems = list(result.unexpected_keys) + [
            k for k in result.missing_keys
            if not generated(k.rpartition(".")[0]) and not _derived_buffer(k)]
    except RuntimeError as exc:
        problems = [_first_line(exc)]
    return fresh.to(dtype).eval(), problems


def _adopt_old_release_parts(model, fresh) -> set:
    """Give ``fresh`` (built by the installed mace-torch) the parts that the release which
    pickled ``model`` built differently. Returns the names (submodules and state-dict
    keys) of ``model`` that its own release's forward never read."""
    import torch

    unused: set = set()
    zbl = getattr(model, "pair_repulsion_fn", None)
    if zbl is not None and isinstance(getattr(zbl, "cutoff", None), torch.nn.Module):
        # mace-torch 0.3.5-0.3.9: ZBLBasis(r_max) kept an `r_max` buffer and a
        # PolynomialCutoff that its forward never called (its envelope ends at the sum of
        # the covalent radii, as in later releases); the rest is the same
        unused |= {"pair_repulsion_fn.cutoff", "pair_repulsion_fn.r_max",
                   "pair_repulsion_fn.cutoff.p", "pair_repulsion_fn.cutoff.r_max"}
    transform = getattr(model.radial_embedding, "distance_transform", None)
    if (type(transform).__name__ == "SoftTransform" and not hasattr(transform, "alpha")
            and hasattr(transform, "a") and hasattr(transform, "b")):
        # mace-torch 0.3.5-0.3.9: another formula, parameters a and b (later: alpha)
        from ionmd.export.mace_compat import SoftTransform

        fresh.radial_embedding.distance_transform = SoftTransform().to(
            transform.covalent_radii.dtype)
    return unused


_DERIVED_BUFFER = re.compile(
    r"\.symmetric_contractions\.contractions\.\d+\.weights_(\d+|max)_zeroed$")


def _derived_buffer(key: str) -> bool:
    """Buffers that mace-torch's constructor computes from the layout alone, which files
    of releases before it had them lack: ``weights_{i}_zeroed``/``weights_max_zeroed`` of
    each symmetric contraction (True where that correlation order's U matrix is zero,
    whose weights then multiply nothing)."""
    return _DERIVED_BUFFER.search(key) is not None


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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


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
