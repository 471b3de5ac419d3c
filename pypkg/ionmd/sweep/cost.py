"""Wall time a campaign's runs will need, from what its own runs measured: LAMMPS's
``Loop time of T on N procs for S steps with A atoms`` lines give each model's cost per
atom-step at the campaign's resources. ``ionmd sweep plan`` warns when a run's estimate
exceeds its walltime (it then needs resubmissions, each resuming from the restart)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from statistics import median

from ionmd.lammps.log import loop_times


def loop_costs(log_text: str) -> list[float]:
    """Seconds per atom-step of every finished ``run`` in a LAMMPS log (runs of at least
    one step)."""
    return [t / (s * a) for t, _, s, a in loop_times(log_text) if s > 0 and a > 0]


def measured_cost(run_dirs) -> float | None:
    """Median seconds per atom-step over the logs of ``run_dirs``; None when none has one."""
    costs = []
    for path in run_dirs:
        for log in sorted(Path(path).glob("log.*.lammps")):
            costs += loop_costs(log.read_text(errors="replace"))
    return median(costs) if costs else None


@dataclass
class WallTimeEstimate:
    path: Path
    hours: float
    walltime_hours: float


def over_walltime(runs, atoms_of: dict[str, int], walltime_min: float) -> list[WallTimeEstimate]:
    """Runs whose estimated wall time (steps x atoms x their model's measured cost) exceeds
    ``walltime_min``; models without a measurement are skipped.

    Parameters
    ----------
    runs : list of PlannedRun
    atoms_of : dict
        Atoms per run of each structure (after the supercell).
    """
    by_model: dict[str, list] = {}
    for run in runs:
        by_model.setdefault(run.model, []).append(run)
    out = []
    for model, items in by_model.items():
        cost = measured_cost(r.path for r in items)
        if cost is None:
            continue
        for run in items:
            hours = cost * run.rundir.planned_steps * atoms_of[run.structure] / 3600.0
            if hours * 60.0 > walltime_min:
                out.append(WallTimeEstimate(run.path, hours, walltime_min / 60.0))
    return out
