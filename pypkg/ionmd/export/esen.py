"""Export fairchem eSEN checkpoints (e.g. AQVolt26's eSEN-L4) to the ionmd contract.

fairchem 2 saves inference checkpoints as an ``MLIPInferenceCheckpoint`` (model
config, weights, EMA weights, task configs with normalisers and element references).
eSEN is fairchem's ``eSCNMDBackbone`` (or ``eSCNMDMoeBackbone`` with no experts)
with an MLP energy head; energy-conserving eSEN gets forces and stress by autograd.

How the contract is met
-----------------------
The backbone is run through its own ``forward``, unchanged, with the graph given
from outside (``otf_graph=False``). In that mode fairchem computes
``edge_distance_vec = pos[src] - pos[dst] + cell_offsets @ cell``; feeding
``pos = 0``, ``cell = I`` and ``cell_offsets = edge_vec`` makes that exactly
``edge_vec``, so the model sees the pair style's vectors (ghost images included, no
cell, no positions) and stays differentiable with respect to them. Reusing the
forward, rather than calling its submodules in a copied order, keeps the export
faithful to whatever the installed fairchem does (Wigner matrices, envelope, edge
embedding, layer norm) and the tests against fairchem's calculator check that the
identity above still holds. fairchem aggregates messages onto ``edge_index[1]``
(its target) with the vector pointing from target to source, so the contract's
``(i, j)`` pairs are passed flipped.

Per-node energies: fairchem's energy is ``rmsd * sum_n e_n + mean + sum_n ref[Z_n]``
(head, normaliser, element references). The module returns
``rmsd * e_n + ref[Z_n]`` per node; a non-zero ``mean`` is a per-structure constant
that cannot be assigned to atoms (and makes the energy non-extensive), so such
checkpoints are refused.

Things that are per structure in fairchem and constant here: the charge, spin and
dataset embedding is computed once (charge 0, spin 0 as fairchem's calculator uses
for non-molecular tasks, and the chosen task's dataset) and stored in the module.
Models whose outputs depend on the whole system (UMA's mixture of experts routed on
composition, charge/spin-balanced channels, a mean-reduced energy) are refused:
a domain-decomposed pair style cannot reproduce them.

Neighbour cap: eSEN was trained with at most ``max_neighbors`` (300) neighbours per
atom, the nearest ones. The pair style passes every neighbour within the cutoff.
The two agree whenever an atom has at most that many neighbours within the cutoff;
300 atoms in a 6 A sphere need a density of 0.33 atoms/A^3, about twice that of
diamond, so solid electrolytes never reach it. The cap is stored in the metadata.

Receptive field: ``layers + 1`` graph hops, because the edge-degree embedding sums
over neighbours before the first interaction layer. The metadata's ``num_layers``
(what sizes the ghost shell) is that hop count, measured at export
(:func:`receptive_field_hops`); ``interaction_layers`` keeps the architecture's count.

Determinism: fairchem draws a random roll angle about each edge for the Wigner
rotations on every call. eSEN's SO(2) convolutions and gate activations are exactly
equivariant to that roll, so results differ only by rounding (~1e-15 relative in
float64, ~1e-6 eV per node in float32); the export keeps fairchem's behaviour.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Optional

from ionmd.errors import ExportError
from ionmd.export.contract import SUPPORTED_DTYPES, ModelMetadata, sha256_of
from ionmd.export.esen_tasks import (check_task_normalizers, default_charge_spin,
                                     energy_task_of)

_DIRECT_FORCE_MESSAGE = (
    "only energy-conserving eSEN models can run in pair_style ionmd: this checkpoint "
    "predicts forces directly (a stage-1 'direct' eSEN, {why}), so its forces are not "
    "the gradient of an energy and MD with them does not conserve energy. Export the "
    "conservative fine-tuned checkpoint instead"
)


def _import_fairchem():
    try:
        import fairchem.core  # noqa: F401
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ExportError(
            "exporting eSEN models needs the `fairchem-core` package: pip install fairchem-core"
        ) from exc
    return torch


@contextlib.contextmanager
def _default_dtype(torch, dtype):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def _read_checkpoint(path: Path):
    """``torch.load`` a fairchem inference checkpoint, with clear errors for other files
    (:mod:`ionmd.export.file_family` names what they are and the command that takes them)."""
    from ionmd.export.file_family import refuse_other_files, refuse_training_folder

    refuse_training_folder(path)
    if path.is_dir():
        raise ExportError(f"{path} is a directory: give the eSEN checkpoint file in it "
                          "(inference_ckpt.pt of fairchem's training, or a released model's .pt)")
    if not path.is_file():
        raise ExportError(f"eSEN checkpoint {path} does not exist")
    kind = refuse_other_files(path, "esen")     # not unpickled, before fairchem's imports
    if kind is not None and kind.family == "fairchem":
        torch = _import_fairchem()
    else:   # whatever it holds, no fairchem class (~10 s of imports) is needed to say so
        import torch
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise ExportError(f"{path} is not a readable PyTorch checkpoint ({exc})") from exc
    if type(ckpt).__name__ == "MLIPInferenceCheckpoint":
        from fairchem.core.units.mlip_unit.api.inference import MLIPInferenceCheckpoint

        if isinstance(ckpt, MLIPInferenceCheckpoint):
            return ckpt
    kind = refuse_other_files(path, "esen", ckpt)   # the families' checkpoints, state dicts
    if isinstance(ckpt, dict) and kind is not None and kind.exporter == "esen":
        return _checkpoint_of_fields(ckpt, path)
    raise ExportError(
        f"{path} is not a fairchem inference checkpoint (found {type(ckpt).__name__}); "
        "pass the .pt file that fairchem's training writes as inference_ckpt.pt or "
        "that a released eSEN model ships"
    )


def _checkpoint_of_fields(fields: dict, path: Path):
    """The MLIPInferenceCheckpoint whose fields a plain dict holds (dataclasses.asdict of
    one): the same checkpoint, as ``torch.save(MLIPInferenceCheckpoint(**d), path)``
    would have saved it."""
    _import_fairchem()
    from fairchem.core.units.mlip_unit.api.inference import MLIPInferenceCheckpoint

    try:
        return MLIPInferenceCheckpoint(**fields)
    except TypeError as exc:        # fields of another fairchem version's checkpoint
        raise ExportError(f"{path} holds a dict of fairchem inference-checkpoint fields "
                          f"that this fairchem's MLIPInferenceCheckpoint does not take "
                          f"({exc})") from exc


def _describe_backbone(model_config: dict) -> str:
    backbone = model_config.get("backbone") if isinstance(model_config, dict) else None
    if isinstance(backbone, dict):
        return str(backbone.get("model", "?"))
    return "?"


def _check_is_esen(ckpt, path: Path) -> None:
    """Refuse non-eSEN and direct-force checkpoints before building anything."""
    cfg = ckpt.model_config
    name = _describe_backbone(cfg)
    if not (name.endswith("escn_md.eSCNMDBackbone") or name.endswith("escn_moe.eSCNMDMoeBackbone")
            or name in ("escnmd_backbone", "escnmd_moe_backbone")):
        raise ExportError(
            f"{path} holds a {name} model, not eSEN (fairchem's eSCNMDBackbone); "
            "`ionmd export esen` exports eSEN checkpoints only"
        )
    backbone = cfg["backbone"]
    if int(backbone.get("num_experts", 0) or 0) > 0:
        raise ExportError(
            f"{path} is a UMA mixture-of-experts model ({backbone['num_experts']} experts): "
            "its expert weights are chosen from the composition of the whole system, "
            "which a domain-decomposed pair style cannot reproduce; only eSEN "
            "(no experts) is supported"
        )
    if backbone.get("direct_forces", True) and backbone.get("regress_forces", True):
        # eSCNMDBackbone's defaults are direct_forces=True, regress_forces=True
        raise ExportError(_DIRECT_FORCE_MESSAGE.format(why="direct_forces=True"))


def _check_backbone_keys(ckpt, path: Path) -> None:
    """Name backbone config keys the installed fairchem does not know (a checkpoint of
    another fairchem version) instead of passing on hydra's TypeError."""
    import inspect

    from fairchem.core.common.registry import registry

    backbone = dict(ckpt.model_config["backbone"])
    try:
        cls = registry.get_model_class(backbone["model"])
    except Exception:  # let fairchem report what it cannot resolve
        return
    # a subclass passes **kwargs on to its base: collect the names along the MRO
    names: set = set()
    for klass in cls.__mro__:
        if klass is object or "__init__" not in vars(klass) or \
                not klass.__module__.startswith("fairchem."):
            continue
        params = inspect.signature(klass.__init__).parameters
        names |= set(params)
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            break
    else:
        return
    unknown = sorted(set(backbone) - names - {"model"})
    if unknown:
        from fairchem.core import __version__ as fairchem_version

        raise ExportError(
            f"{path}'s backbone config has keys that fairchem-core {fairchem_version}'s "
            f"{cls.__name__} does not take: {', '.join(unknown)}. The checkpoint was "
            "written by another fairchem version (or another model); install the "
            "fairchem-core it was trained with, or re-save it with this one"
        )


def _energy_head(model, dataset: str):
    """The energy MLP serving ``dataset``: (energy_block, reduce, head name).

    Handles a bare ``MLP_EFS_Head``/``MLP_Energy_Head``/``Linear_Energy_Head``, one
    behind ``DatasetSpecificSingleHeadWrapper``, and one behind
    ``DatasetSpecificMoEWrapper`` (merged to plain linears for ``dataset``).
    """
    import types

    import torch
    from fairchem.core.models.uma.escn_md import Linear_Force_Head
    from fairchem.core.models.uma.escn_moe import (
        DatasetSpecificMoEWrapper,
        DatasetSpecificSingleHeadWrapper,
    )

    found = []
    for name, head in model.output_heads.items():
        inner = head
        if isinstance(head, Linear_Force_Head):
            raise ExportError(_DIRECT_FORCE_MESSAGE.format(why=f"head {name!r} is a force head"))
        if isinstance(head, DatasetSpecificMoEWrapper):
            if dataset not in head.dataset_name_to_exp:
                continue
            # the expert coefficients take the dtype of pos: the model's, not float32
            dtype = next(head.parameters()).dtype
            probe = types.SimpleNamespace(dataset=[dataset], pos=torch.zeros(1, 3, dtype=dtype))
            # and the merged linears are built in the default dtype
            with _default_dtype(torch, dtype):
                inner = head.merge_MOLE_model(probe).head.to(dtype)
        elif isinstance(head, DatasetSpecificSingleHeadWrapper):
            if dataset not in head.dataset_names:
                continue
            inner = head.head
        if isinstance(inner, Linear_Force_Head):
            raise ExportError(_DIRECT_FORCE_MESSAGE.format(why=f"head {name!r} is a force head"))
        block = getattr(inner, "energy_block", None)
        if block is not None:
            found.append((block, getattr(inner, "reduce", "sum"), name))
    if not found:
        raise ExportError(f"the checkpoint has no energy head for task {dataset!r}")
    if len(found) > 1:
        raise ExportError(
            f"the checkpoint has several energy heads for {dataset!r} "
            f"({', '.join(f[2] for f in found)}); ionmd cannot tell which one to export"
        )
    block, reduce, name = found[0]
    if reduce != "sum":
        raise ExportError(
            f"energy head {name!r} averages over atoms (reduce={reduce!r}): its energy is "
            "not a sum of atomic energies, so it cannot be split across MPI ranks"
        )
    return block, name


# fairchem's execution backends: "general" evaluates each SO(2) convolution and radial MLP
# module by module; "umas_fast_pytorch" (one of fairchem's inference backends) runs each
# layer's SO(2) convolutions as block-diagonal matrix products and all layers' radial MLPs
# as one batched MLP. Both are plain torch ops (exportable, any device) and give the same
# function (float64: ~1e-16). On this 2-core CPU they take the same time for eSEN-L4 at
# 1000 atoms (17.0 vs 17.1 s per eager force call, 2026-12-04), and a staged package would
# run every layer's radial MLP in every stage, so "general" stays the default; the GPU
# check times both (examples/gpu_check.py, esen step).
EXECUTION_MODES = ("general", "umas_fast_pytorch")


def load_esen(checkpoint: str | Path, *, dtype: str = "float32", task: Optional[str] = None,
              execution_mode: str = "general"):
    """Load a fairchem eSEN checkpoint the way fairchem's predictor does.

    Returns
    -------
    (model, checkpoint, task_name, energy_task)
        The ``HydraModel`` (EMA weights, eval mode, built and cast in ``dtype``), the
        checkpoint object, the chosen dataset name and its energy ``Task``.
    """
    if dtype not in SUPPORTED_DTYPES:
        raise ExportError(f"dtype must be one of {SUPPORTED_DTYPES}, got {dtype!r}")
    path = Path(checkpoint)
    ckpt = _read_checkpoint(path)       # other files are refused before fairchem's imports
    torch = _import_fairchem()
    from fairchem.core.units.mlip_unit.utils import load_inference_model

    _check_is_esen(ckpt, path)
    torch_dtype = getattr(torch, dtype)
    overrides = {"backbone": {
        "otf_graph": False,               # the graph comes from the pair style
        "always_use_pbc": False,
        "activation_checkpointing": False,  # chunking is for training memory only
        "execution_mode": "general",      # the fast backend is installed below
    }}
    if execution_mode not in EXECUTION_MODES:
        raise ExportError(f"unknown eSEN execution mode {execution_mode!r}: use one of "
                          f"{', '.join(EXECUTION_MODES)}")
    # build under the target default dtype, as fairchem's MLIPPredictUnit does, so
    # constants made at construction (SO3 grids, Wigner coefficients) are exact in fp64
    _check_backbone_keys(ckpt, path)
    # fairchem's predictor always loads the EMA weights; a checkpoint trained without
    # EMA (fairchem writes ema_state_dict=None then) only has the model weights
    use_ema = getattr(ckpt, "ema_state_dict", None) is not None
    if not use_ema and not getattr(ckpt, "model_state_dict", None):
        raise ExportError(f"{path} holds no weights (neither ema_state_dict nor "
                          "model_state_dict)")
    if not use_ema:
        ckpt = _without_ddp_prefix(ckpt)
    with _default_dtype(torch, torch_dtype):
        try:
            loaded, ckpt = load_inference_model(str(path), overrides=overrides, use_ema=use_ema,
                                                preloaded_checkpoint=ckpt)
        except Exception as exc:
            raise ExportError(f"fairchem could not build the model in {path}: {exc}") from exc
        model = loaded.module if use_ema else loaded
        model.setup_tasks(ckpt.tasks_config)
        if execution_mode != "general":
            _use_backend(model.backbone, execution_mode)
    model = model.to(torch_dtype).eval().requires_grad_(False)
    task_name, energy_task = energy_task_of(model, task)
    return model, ckpt, task_name, energy_task


DDP_PREFIX = "module."
"""What torch's DistributedDataParallel puts before every key of the model it wraps."""


def _without_ddp_prefix(ckpt):
    """``ckpt`` with its model weights' keys unprefixed where every one carries
    :data:`DDP_PREFIX` (weights saved from a DDP-wrapped model, as torch users strip it;
    a HydraModel has no submodule named ``module``). Without EMA weights these are the
    ones loaded, and fairchem's loader (its calculator too) listed every key as missing."""
    weights = ckpt.model_state_dict
    if not all(key.startswith(DDP_PREFIX) for key in weights):
        return ckpt
    return dataclasses.replace(ckpt, model_state_dict={
        key.removeprefix(DDP_PREFIX): value for key, value in weights.items()})


def _use_backend(backbone, execution_mode: str) -> None:
    """Install one of fairchem's inference backends on a built backbone, as its predictor
    does (the backend's module conversions included)."""
    from fairchem.core.models.uma.nn.execution_backends import get_execution_backend

    backend = get_execution_backend(execution_mode)
    try:
        backend.validate(lmax=backbone.lmax, mmax=backbone.mmax, settings=None)
        backend.prepare_model_for_inference(backbone)
    except Exception as exc:
        raise ExportError(f"fairchem's {execution_mode!r} backend does not take this model "
                          f"({exc}); export with --execution-mode general") from exc
    backbone.backend = backend


def build_esen_node_energy_model(checkpoint: str | Path, dtype: str = "float32", *,
                                 task: Optional[str] = None, measure_receptive_field: bool = True,
                                 execution_mode: str = "general"):
    """Build the node-energy module of an eSEN checkpoint and its metadata.

    Parameters
    ----------
    checkpoint
        fairchem 2 inference checkpoint (``.pt``) of an energy-conserving eSEN model.
    dtype
        ``"float32"`` or ``"float64"``.
    task
        fairchem task (dataset) name whose energy head to export; needed only when the
        model was trained on several datasets.
    measure_receptive_field
        Measure the receptive field in graph hops for ``num_layers`` (a few ms); if
        false, use the architectural value ``layers + 1``.
    execution_mode
        fairchem's backend the graph is built from (:data:`EXECUTION_MODES`):
        ``"general"`` (module by module; the default) or ``"umas_fast_pytorch"``
        (block-diagonal SO(2) matrix products, one batched radial MLP).

    Returns
    -------
    (torch.nn.Module, ModelMetadata)
        ``module(edge_vec [E,3], edge_index [2,E], species [N]) -> node energies [N]``
        (eV, model dtype); their sum is the model's total energy.
    """
    path = Path(checkpoint)
    model, ckpt, task_name, energy_task = load_esen(path, dtype=dtype, task=task,
                                                    execution_mode=execution_mode)
    torch = _import_fairchem()
    from ase.data import chemical_symbols
    from fairchem.core import __version__ as fairchem_version

    backbone = model.backbone
    torch_dtype = getattr(torch, dtype)
    # the backbone must not make positions/cell require grad (the caller takes the
    # gradient with respect to edge_vec); the heads keep their own config object
    backbone.regress_config = dataclasses.replace(backbone.regress_config, forces=False,
                                                  stress=False, hessian=False)

    if backbone.regress_config.direct_forces:
        raise ExportError(_DIRECT_FORCE_MESSAGE.format(why="direct_forces=True"))
    if backbone.charge_channel_end > backbone.charge_channel_start or \
            backbone.spin_channel_end > backbone.spin_channel_start:
        raise ExportError(
            "this model balances charge/spin channels over the whole structure, which "
            "a domain-decomposed pair style cannot reproduce"
        )
    energy_block, head_name = _energy_head(model, task_name)
    _check_neighbor_cap(int(backbone.max_neighbors), float(backbone.cutoff))

    check_task_normalizers(model, task_name, energy_task)
    rmsd = torch.as_tensor(energy_task.normalizer.rmsd, dtype=torch_dtype).reshape(())

    # species k <-> atomic number k+1: every element the embedding table knows
    max_z = int(backbone.max_num_elements) - 1
    elements = [chemical_symbols[z] for z in range(1, max_z + 1)]
    z_of_species = torch.arange(1, max_z + 1, dtype=torch.int64)
    refs = torch.zeros(max_z, dtype=torch.float64)
    if energy_task.element_references is not None:
        table = energy_task.element_references.element_references.to(torch.float64)
        refs = table[z_of_species]

    # per-structure embedding at the charge and spin fairchem's calculator uses for this
    # task when the structure sets none (0 and 0, but spin 1 for 'omol'), for the chosen
    # dataset
    charge, spin = default_charge_spin(model, task_name)
    with torch.no_grad():
        dataset = [task_name] if backbone.use_dataset_embedding else None
        csd = backbone.csd_embedding(charge=torch.tensor([charge], dtype=torch.int64),
                                     spin=torch.tensor([spin], dtype=torch.int64),
                                     dataset=dataset)

    from ionmd.export.esen_modules import ESENNodeEnergy

    module = ESENNodeEnergy(backbone, energy_block, z_of_species, refs.to(torch_dtype), rmsd,
                            csd.to(torch_dtype).detach()).eval()

    layers = int(backbone.num_layers)
    cutoff = float(backbone.cutoff)
    hops = receptive_field_hops(module, cutoff, max_hops=layers + 3) \
        if measure_receptive_field else layers + 1
    meta = ModelMetadata(
        family="esen",
        cutoff=cutoff,
        num_layers=hops,
        elements=elements,
        dtype=dtype,
        source=str(checkpoint),
        source_sha256=sha256_of(path),
        extra={
            "family_version": f"fairchem-core {fairchem_version}",
            "checkpoint_file": path.name,
            "task": task_name,
            "energy_head": head_name,
            "interaction_layers": str(layers),
            "receptive_field_hops": str(hops),
            "sphere_channels": str(int(backbone.sphere_channels)),
            "hidden_channels": str(int(backbone.hidden_channels)),
            "edge_channels": str(int(backbone.edge_channels)),
            "lmax": str(int(backbone.lmax)),
            "mmax": str(int(backbone.mmax)),
            "num_distance_basis": str(int(backbone.num_distance_basis)),
            "max_neighbors": str(int(backbone.max_neighbors)),
            "charge": str(charge),
            "spin": str(spin),
            "energy_rmsd": repr(float(rmsd)),
            "execution_mode": execution_mode,
        },
    )
    return module, meta


# the pair style passes every neighbour within the cutoff, fairchem only the nearest
# max_neighbors: an export is refused unless the cap binds only above this density
# (atoms/A^3; diamond, the densest common solid, has 0.176; Li2O and LiF 0.12)
MIN_CAP_DENSITY = 0.2


def _check_neighbor_cap(max_neighbors: int, cutoff: float) -> None:
    import math

    density = max_neighbors / (4.0 / 3.0 * math.pi * cutoff ** 3)
    if density < MIN_CAP_DENSITY:
        need = math.ceil(MIN_CAP_DENSITY * 4.0 / 3.0 * math.pi * cutoff ** 3)
        raise ExportError(
            f"this eSEN model keeps only the {max_neighbors} nearest neighbours within its "
            f"{cutoff:g} A cutoff, while pair_style ionmd passes all of them: the two differ "
            f"in any structure denser than {density:.3f} atoms/A^3 (solid electrolytes have "
            f"0.05-0.12), so the exported energies and forces would not be the model's. "
            f"ionmd exports eSEN models whose cap is at least {need} at this cutoff"
        )


def receptive_field_hops(module, cutoff: float, *, max_hops: int = 8) -> int:
    """Measure how many graph hops away an atom can change a node energy.

    A straight chain with spacing ``0.6 * cutoff`` has only nearest-neighbour edges,
    so atom ``k`` is exactly ``k`` hops from atom 0. The largest ``k`` whose position
    has a non-zero gradient of atom 0's energy is the receptive field (autograd gives
    exact zeros beyond it: there is no path in the graph).
    """
    import torch

    n = 2 * max_hops + 3
    dtype = module.rmsd.dtype
    pos = torch.zeros(n, 3, dtype=dtype)
    pos[:, 0] = torch.arange(n, dtype=dtype) * 0.6 * cutoff
    pos[:, 1] = 0.05 * torch.sin(torch.arange(n, dtype=dtype))  # not exactly collinear
    pos.requires_grad_(True)
    i = torch.arange(n - 1)
    edge_index = torch.cat([torch.stack([i, i + 1]), torch.stack([i + 1, i])], dim=1)
    species = torch.arange(n) % 3 + 2  # Li, Be, B: any species works
    edge_vec = pos[edge_index[1]] - pos[edge_index[0]]
    centre = n // 2
    with torch.enable_grad():
        energy = module(edge_vec, edge_index, species)[centre]
        (grad,) = torch.autograd.grad(energy, pos)
    reached = (grad.abs().sum(dim=1) > 0).nonzero().flatten()
    hops = int((reached - centre).abs().max())
    if hops >= max_hops:
        raise ExportError(f"receptive field of {hops}+ hops exceeds the probe chain; "
                          "this is not an eSEN model")
    return hops


def export_esen(checkpoint: str | Path, output: str | Path = "esen.pt2", *,
                dtype: str = "float32", task: Optional[str] = None, device: str = "cpu",
                stages: bool = True, execution_mode: str = "general") -> Path:
    """Export a fairchem eSEN checkpoint to an AOTInductor package for ``pair_style ionmd``.

    Parameters
    ----------
    checkpoint
        fairchem 2 inference checkpoint of an energy-conserving eSEN model.
    output
        ``.pt2`` file to write.
    dtype
        ``"float32"`` (what eSEN was trained in) or ``"float64"``.
    task
        fairchem task (dataset) name, for models trained on several datasets.
    device
        ``"cpu"`` or ``"cuda"``: the device kind the package is compiled for.
    stages
        Also compile the per-layer stages (:mod:`ionmd.export.esen_stages`): the halo
        exchange on several ranks (a ghost shell of one cutoff instead of ``(L+1)``
        cutoffs) and ``memory low``. Costs ``2 (L+1) + 1`` more compilations.
    execution_mode
        fairchem's backend the programs are built from: ``"general"`` (the default) or
        ``"umas_fast_pytorch"`` (see :func:`build_esen_node_energy_model`).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    module, meta = build_esen_node_energy_model(checkpoint, dtype, task=task,
                                                execution_mode=execution_mode)
    from ionmd.export.aoti import save_aoti, save_staged_aoti

    if not stages:
        return save_aoti(module, output, meta, device=device)
    staged = checked_esen_stages(module, meta)
    return save_staged_aoti(module, staged, staged.num_stages, output, meta, device=device)


def checked_esen_stages(module, meta: ModelMetadata):
    """The stages of an eSEN node-energy module, checked against its whole forward on
    random graphs; records their widths in ``meta`` (``halo_stages``, ``halo_widths``)."""
    from ionmd.export.esen_stages import ESENStages
    from ionmd.export.staged import checked_stages

    staged = ESENStages(module)
    if staged.num_stages != meta.num_layers:
        raise ExportError(f"eSEN's {staged.num_stages} stages do not match its measured "
                          f"receptive field of {meta.num_layers} hops")
    return checked_stages(staged, meta, _LocalEnergies(module), max_elements=8)


class _LocalEnergies:
    """A node-energy module seen through the contract's ``forward(..., nlocal)``."""

    def __init__(self, module):
        self.module = module

    def __call__(self, edge_vec, edge_index, species, nlocal: int):
        return self.module(edge_vec, edge_index, species)[:nlocal]
