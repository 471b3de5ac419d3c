"""Random-weight eSEN checkpoints in fairchem's own inference-checkpoint format.

No AQVolt26 weights are on this machine, so tests build eSEN with the paper's
architecture (Table S1: lmax = mmax = 2, Gaussian distance basis, 6 A cutoff, up to
300 neighbours, energy-conserving) at a small width, and save it exactly as fairchem
saves inference checkpoints (``MLIPInferenceCheckpoint`` with model, EMA and task
configs), so the exporter and fairchem's calculator read it through the path users'
files go through (``load_inference_model`` / ``load_predict_unit``).

The model layout follows fairchem's eSEN training configs: a ``HydraModel`` with an
``eSCNMDMoeBackbone`` without experts and one ``MLP_EFS_Head`` behind a
``DatasetSpecificSingleHeadWrapper``; the energy task has a normaliser and per-element
reference energies, so the exporter's handling of both is exercised.
"""

from __future__ import annotations

from pathlib import Path

DATASET = "omat"


def esen_backbone_config(*, layers: int, channels: int, cutoff: float = 6.0,
                         num_distance_basis: int = 64, max_neighbors: int = 300,
                         direct_forces: bool = False, datasets=(DATASET,),
                         **overrides) -> dict:
    """Backbone config of an eSEN (eSCNMD without mixture of experts); ``overrides``
    replace or add keys (``None`` removes one)."""
    cfg = {
        "model": "fairchem.core.models.uma.escn_moe.eSCNMDMoeBackbone",
        "num_experts": 0,
        "max_num_elements": 100,
        "sphere_channels": channels,
        "lmax": 2,
        "mmax": 2,
        "otf_graph": True,
        "max_neighbors": max_neighbors,
        "use_pbc": True,
        "use_pbc_single": True,
        "cutoff": cutoff,
        "edge_channels": channels,
        "distance_function": "gaussian",
        "num_distance_basis": num_distance_basis,
        "regress_forces": True,
        "regress_stress": not direct_forces,
        "direct_forces": direct_forces,
        "num_layers": layers,
        "hidden_channels": channels,
        "norm_type": "rms_norm_sh",
        "act_type": "gate",
        "ff_type": "spectral",
        "chg_spin_emb_type": "rand_emb",
        "cs_emb_grad": True,
        "dataset_list": list(datasets),
    }
    for key, value in overrides.items():
        if value is None:
            cfg.pop(key, None)
        else:
            cfg[key] = value
    return cfg


def _heads(direct_forces: bool, head: str = "single", datasets=(DATASET,)) -> dict:
    if direct_forces:
        # stage-1 eSEN (AQVolt26 Table S1): energy head + a direct force head
        return {
            "energy": {"module": "fairchem.core.models.uma.escn_md.MLP_Energy_Head"},
            "forces": {"module": "fairchem.core.models.uma.escn_md.Linear_Force_Head"},
        }
    if head == "plain":
        # one MLP_EFS_Head shared by every dataset, not wrapped (outputs keyed by property)
        return {"efs": {"module": "fairchem.core.models.uma.escn_md.MLP_EFS_Head"}}
    if head == "moe":
        # one expert head per dataset (fairchem's DatasetSpecificMoEWrapper)
        return {"energyandforcehead": {
            "module": "fairchem.core.models.uma.escn_moe.DatasetSpecificMoEWrapper",
            "head_cls": "fairchem.core.models.uma.escn_md.MLP_EFS_Head",
            "head_kwargs": {"wrap_property": False},
            "dataset_names": list(datasets),
        }}
    return {
        "energyandforcehead": {
            "module": "fairchem.core.models.uma.escn_moe.DatasetSpecificSingleHeadWrapper",
            "head_cls": "fairchem.core.models.uma.escn_md.MLP_EFS_Head",
            "head_kwargs": {"wrap_property": False},
            "dataset_names": list(datasets),
        }
    }


def _tasks(direct_forces: bool, element_refs: list[float], rmsd: float, mean: float,
           datasets=(DATASET,), head: str = "single", references: bool = True,
           stress: bool = True) -> list:
    if not direct_forces and len(datasets) > 1:
        # one set of tasks per dataset, with its own normaliser (a mix-up shows)
        return [t for k, ds in enumerate(datasets)
                for t in _tasks(False, element_refs, rmsd * (1 + 0.5 * k), mean, (ds,), head,
                                references, stress)]
    dataset = datasets[0]

    def task(name, level, prop, dim, **extra):
        cfg = {
            "_target_": "fairchem.core.units.mlip_unit.mlip_unit.Task",
            "name": name,
            "level": level,
            "property": prop,
            "out_spec": {"dim": dim, "dtype": "float32"},
            "normalizer": {
                "_target_": "fairchem.core.modules.normalization.normalizer.Normalizer",
                "mean": mean if prop == "energy" else 0.0,
                "rmsd": rmsd,
            },
            "datasets": [dataset],
        }
        if head == "plain":
            cfg["name"] = prop   # a bare head's outputs are named by property
        cfg.update(extra)
        return cfg

    refs = {
        "_target_": "fairchem.core.modules.normalization.element_references.ElementReferences",
        "element_references": {"_target_": "torch.DoubleTensor", "_args_": [element_refs]},
    }
    if direct_forces:
        return [task("energy", "system", "energy", [1], element_references=refs),
                task("forces", "atom", "forces", [3])]
    extra = {"element_references": refs} if references else {}
    tasks = [task(f"{dataset}_energy", "system", "energy", [1], **extra),
             task(f"{dataset}_forces", "atom", "forces", [3])]
    if stress:
        tasks.append(task(f"{dataset}_stress", "system", "stress", [1, 9]))
    return tasks


def write_tiny_esen_checkpoint(path: str | Path, *, layers: int = 2, channels: int = 16,
                               cutoff: float = 6.0, num_distance_basis: int = 64,
                               seed: int = 11, direct_forces: bool = False,
                               energy_mean: float = 0.0, max_neighbors: int = 300,
                               datasets=(DATASET,), head: str = "single",
                               ema: str = "same", references: bool = True,
                               backbone: dict | None = None,
                               model_config_extra: dict | None = None) -> Path:
    """Write a random-weight eSEN checkpoint; defaults give the small test model.

    Parameters
    ----------
    path
        Checkpoint file to write.
    layers, channels, cutoff, num_distance_basis
        Architecture (eSEN-L4 of AQVolt26: 4 layers, 128 channels, 6 A, 64 Gaussians).
    seed
        Seed of the random weights (results are reproducible).
    direct_forces
        Write a stage-1 (direct-force) model instead of an energy-conserving one.
    energy_mean
        Mean of the energy normaliser (fairchem's released models use 0).
    max_neighbors
        The backbone's neighbour cap.
    datasets
        Dataset (task) names; with several, each gets its own tasks and normaliser.
    head
        ``"single"`` (one MLP_EFS_Head behind DatasetSpecificSingleHeadWrapper),
        ``"moe"`` (one expert per dataset, DatasetSpecificMoEWrapper) or ``"plain"``
        (a bare MLP_EFS_Head).
    ema
        ``"same"`` (EMA weights = model weights), ``"different"`` (EMA weights
        perturbed: fairchem's predictor uses the EMA ones) or ``"none"``
        (``ema_state_dict=None``, as fairchem's trainer writes without EMA).
    references
        Give the energy task per-element reference energies.
    backbone
        Backbone config keys to replace or add (``None`` removes one).
    model_config_extra
        Top-level model-config keys to add.
    """
    import hydra
    import torch
    from fairchem.core.units.mlip_unit.api.inference import MLIPInferenceCheckpoint

    model_config = {
        "_target_": "fairchem.core.models.base.HydraModel",
        "backbone": esen_backbone_config(layers=layers, channels=channels, cutoff=cutoff,
                                         num_distance_basis=num_distance_basis,
                                         max_neighbors=max_neighbors,
                                         direct_forces=direct_forces, datasets=datasets,
                                         **(backbone or {})),
        "heads": _heads(direct_forces, head, datasets),
        "pass_through_head_outputs": not direct_forces,
    }
    model_config.update(model_config_extra or {})
    gen = torch.Generator().manual_seed(seed)
    # per-element reference energies of a few eV, as in fairchem's linear references
    element_refs = (-1.0 - 4.0 * torch.rand(101, generator=gen, dtype=torch.float64))
    element_refs[0] = 0.0
    tasks_config = _tasks(direct_forces, element_refs.tolist(), rmsd=1.3, mean=energy_mean,
                          datasets=tuple(datasets), head=head, references=references,
                          stress=model_config["backbone"].get("regress_stress", False))

    torch.manual_seed(seed)
    model = hydra.utils.instantiate(model_config)
    with torch.no_grad():
        # fairchem initialises the species embeddings of the edges at +-1e-3, which
        # leaves a random model nearly blind to species; widen them so that a species
        # mix-up in the exporter would show up in the tests
        for name in ("source_embedding", "target_embedding"):
            getattr(model.backbone, name).weight.normal_(0.0, 1.0, generator=gen)
        # random weights give forces of ~1e-2 eV/A; scale the readout so forces are
        # O(1 eV/A) and force comparisons mean something
        for module in model.output_heads.modules():
            if isinstance(module, torch.nn.Sequential):
                last = module[-1]   # a Linear, or a MOLE (per-dataset experts)
                (last.weight if hasattr(last, "weight") else last.weights).mul_(30.0)
    ema_model = torch.optim.swa_utils.AveragedModel(model)
    if ema == "different":
        with torch.no_grad():
            for p in ema_model.module.parameters():
                p.mul_(1.0 + 0.2 * torch.rand(p.shape, generator=gen, dtype=p.dtype))
    ckpt = MLIPInferenceCheckpoint(
        model_config=model_config,
        model_state_dict=model.state_dict(),
        ema_state_dict=None if ema == "none" else ema_model.state_dict(),
        tasks_config=tasks_config,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, path)
    return path


def fairchem_eager_calculator(checkpoint: str | Path, dtype: str = "float64",
                              device: str = "cpu", task_name: str = DATASET):
    """fairchem's own ``FAIRChemCalculator`` on a checkpoint, eager (no TF32, no compile)."""
    import torch
    from fairchem.core import FAIRChemCalculator
    from fairchem.core.units.mlip_unit import load_predict_unit
    from fairchem.core.units.mlip_unit.api.inference import InferenceSettings

    settings = InferenceSettings(tf32=False, activation_checkpointing=False, merge_mole=False,
                                 compile=False, base_precision_dtype=getattr(torch, dtype))
    unit = load_predict_unit(checkpoint, inference_settings=settings, device=device)
    return FAIRChemCalculator(unit, task_name=task_name)


def fairchem_float64_calculator(checkpoint: str | Path, task_name: str = DATASET):
    """fairchem's calculator in float64 on the CPU: the independent reference of the eSEN
    tests."""
    return fairchem_eager_calculator(checkpoint, "float64", "cpu", task_name)
