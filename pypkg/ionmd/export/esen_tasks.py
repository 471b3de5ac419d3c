"""The task an eSEN checkpoint is exported for, and the checks of that task's
normalisers: what makes fairchem's energy, forces and stress one function that a pair
style can split over atoms (:mod:`ionmd.export.esen` builds the module)."""

from __future__ import annotations

from typing import Optional

from ionmd.errors import ExportError


def energy_task_of(model, task: Optional[str]):
    """Choose the dataset (fairchem 'task name') and its energy Task."""
    energy = {ds: t for ds, ts in model.dataset_to_tasks.items() for t in ts
              if t.property == "energy"}
    if not energy:
        raise ExportError("the checkpoint defines no energy task")
    if task is None:
        if len(energy) > 1:
            raise ExportError(
                f"this eSEN model was trained on several datasets: choose one with "
                f"--task (one of {', '.join(sorted(energy))})"
            )
        task = next(iter(energy))
    if task not in energy:
        raise ExportError(f"unknown task {task!r}; this model has {', '.join(sorted(energy))}")
    return task, energy[task]


def check_task_normalizers(model, task_name: str, energy_task) -> None:
    """Refuse an energy normaliser that adds a per-structure mean, and forces or stress
    denormalised unlike the energy."""
    mean = float(energy_task.normalizer.mean)
    if mean != 0.0:
        raise ExportError(
            f"the energy normaliser of task {task_name!r} adds {mean} eV per structure "
            "(not per atom): that energy is not extensive and cannot be split into atom "
            "energies for pair_style ionmd"
        )
    _check_derivative_normalizers(model, task_name, energy_task)


def _check_derivative_normalizers(model, task_name: str, energy_task) -> None:
    """Refuse forces or stress that fairchem denormalises unlike the energy: its predictor
    scales each task's output (the head's gradients of the normalised energy) by that
    task's own normaliser, so they would not be the energy's derivatives that the pair
    style computes (forces rmsd 2.0 vs energy 1.3: 1.54 times off, silently)."""
    import math

    energy_rmsd = float(energy_task.normalizer.rmsd)
    for task in model.dataset_to_tasks.get(task_name, []):
        if task.property not in ("forces", "stress"):
            continue
        rmsd, mean = float(task.normalizer.rmsd), float(task.normalizer.mean)
        if mean == 0.0 and math.isclose(rmsd, energy_rmsd, rel_tol=1e-6):
            continue
        raise ExportError(
            f"task {task.name!r} denormalises {task.property} with rmsd {rmsd:g} and mean "
            f"{mean:g}, while {energy_task.name!r} scales the energy by rmsd "
            f"{energy_rmsd:g}: fairchem's calculator then reports {task.property} that are "
            "not the derivatives of its energy, whereas pair_style ionmd computes them from "
            "the energy, so the two would disagree. Export a checkpoint whose energy, forces "
            "and stress tasks share one normaliser (mean 0; fairchem's training configs use "
            "one normalizer_rmsd for all three)"
        )


def default_charge_spin(model, task_name: str) -> tuple[int, int]:
    """The charge and spin fairchem's calculator gives a structure of ``task_name``
    that sets neither (its own ``validate_atoms_data``)."""
    from ase import Atoms

    probe = Atoms("Li", cell=[10.0, 10.0, 10.0], pbc=True)
    validate = getattr(model, "validate_atoms_data", None) or \
        getattr(model.backbone, "validate_atoms_data", None)
    if validate is not None:
        validate(probe, task_name)
    return int(probe.info.get("charge", 0)), int(probe.info.get("spin", 0))
