"""Rebuild a MACE model unpickled under another e3nn (0.4.x files) or an older
mace-torch release: a fresh ``MACE``/``ScaleShiftMACE`` built by the installed packages from
the constructor arguments the old model implies, given its weights
(:func:`rebuild_mace_model`); :mod:`ionmd.export.mace` loads and exports."""

from __future__ import annotations

import re

from ionmd.errors import ExportError


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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
