"""Wall time a campaign's runs will need, from what its own runs measured: LAMMPS's
``Loop time of T on N procs for S steps with A atoms`` lines give each model's cost per
atom-step. ``ionmd sweep plan`` warns when a run's estimate exceeds its walltime (it then
needs resubmissions, each resuming from the restart).

``N procs`` is MPI ranks x OpenMP threads as LAMMPS counts them (``mpirun -np 2`` and
``OMP_NUM_THREADS=2`` both print ``on 2 procs``), so a loop measured with other resources
than the planned ones is converted at equal core-seconds per step (ideal scaling; real
scaling is worse: planned on more cores than measured, the wall time is a lower bound,
on fewer an upper one). Loops measured with the planned
cores are used as they are whenever there are any. Minimisations (their "steps" are
line-search iterations of several force evaluations) and setup-only ``run 0`` are no MD
steps and are left out of the cost per step; what a run used (:func:`used_core_seconds`,
the budget a campaign's goal spends) counts them, as all of its compute."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from statistics import median

from ionmd.analysis.run_files import STATUS
from ionmd.lammps.log import Loop, finished_loops, log_files, piece_core_seconds
from ionmd.lammps.thermo_log import unfinished_md_steps
from ionmd.protocols.piece_times import piece_wall_seconds
from ionmd.protocols.run_settings import DamagedRunFile, read_folder_json


def md_loops(log_text: str) -> list[Loop]:
    """The finished MD runs of a LAMMPS log: ``Loop time`` lines of at least one step,
    those of a ``minimize`` (followed by its ``Minimization stats:``) left out."""
    return [loop for loop in finished_loops(log_text)
            if not loop.minimization and loop.steps > 0 and loop.atoms > 0]


def run_loops(run_dirs) -> list[Loop]:
    """The MD loops of every LAMMPS log (every piece) of the run folders ``run_dirs``."""
    return [loop for path in run_dirs for log in log_files(Path(path))
            for loop in md_loops(log.read_text(errors="replace"))]


def md_core_seconds_per_step(run_dir) -> float | None:
    """Core-seconds (seconds x procs) per MD step over the finished MD loops of a run's
    logs; None without one."""
    loops = run_loops([run_dir])
    steps = sum(loop.steps for loop in loops)
    return sum(loop.seconds * loop.procs for loop in loops) / steps if steps else None


def _wall_seconds(log: Path, status: dict) -> float | None:
    """Wall seconds the piece of ``log`` (``log.K.lammps``) ran, as ionmd recorded it
    (:func:`ionmd.protocols.piece_times.piece_wall_seconds`); None for a log of another name
    (a hand-run piece)."""
    parts = log.name.split(".")
    if len(parts) == 3 and parts[0] == "log" and parts[1].isdigit():
        return piece_wall_seconds(log.parent, int(parts[1]), status)
    return None


def used_core_seconds(run_dir, per_step: float | None = None) -> float:
    """Core-seconds (seconds x ranks x threads) that a run's LAMMPS used: all of its
    compute, what a budget spends.

    Every finished loop of every piece (the MD's, a relaxation's minimisation, an
    equilibration's ``run``) at its procs; the MD steps of a piece that ended inside its
    run after its last loop line (killed at its walltime, failed, still running: steps a
    later piece runs again from the restart were paid for too) at ``per_step``
    (core-seconds per MD step: the run's own MD loops, else its series'), else, where
    none is known, at the piece's wall time so far as recorded
    (:func:`ionmd.lammps.log.piece_core_seconds`); and the pieces that no log holds any
    more (``status.json`` ``discarded_core_seconds``: killed before their first restart
    file, or a failed run retried)."""
    run_dir = Path(run_dir)
    try:
        status = read_folder_json(run_dir / STATUS)
    except DamagedRunFile:  # a damaged run (said as such, the goal waits on it): its logs
        status = {}         # count, the pieces no log holds any more cannot be read
    used = float(status.get("discarded_core_seconds", 0.0))
    for log in log_files(run_dir):
        text = log.read_text(errors="replace")
        tail = unfinished_md_steps(text)
        if tail and per_step:       # its loops, and its unfinished run at the MD's rate
            used += piece_core_seconds(log, None) + tail * per_step
        else:
            used += piece_core_seconds(log, _wall_seconds(log, status))
    return used


def wall_seconds_at(loops: list[Loop], cores: int | None) -> list[tuple[float, Loop]]:
    """Each loop's wall seconds as it would take on ``cores`` (ranks x threads): the loops
    measured on ``cores`` if any, as they are; otherwise every loop at its core-seconds /
    ``cores``. ``cores`` None: the loops as measured, whatever their resources."""
    if cores is None:
        return [(loop.seconds, loop) for loop in loops]
    same = [loop for loop in loops if loop.procs == cores]
    if same:
        return [(loop.seconds, loop) for loop in same]
    return [(loop.seconds * loop.procs / cores, loop) for loop in loops]


def loop_costs(log_text: str, cores: int | None = None) -> list[float]:
    """Wall seconds per atom-step of every finished MD ``run`` in a LAMMPS log, on
    ``cores`` (see :func:`wall_seconds_at`)."""
    return [t / (loop.steps * loop.atoms) for t, loop in wall_seconds_at(md_loops(log_text), cores)]


def measured_cost(run_dirs, cores: int | None = None) -> float | None:
    """Median wall seconds per atom-step over the logs of ``run_dirs``, on ``cores``
    (ranks x threads per run; see :func:`wall_seconds_at`); None when none has one."""
    costs = [t / (loop.steps * loop.atoms) for t, loop in wall_seconds_at(run_loops(run_dirs), cores)]
    return median(costs) if costs else None


@dataclass
class WallTimeEstimate:
    path: Path
    hours: float
    walltime_hours: float


def over_walltime(runs, atoms_of: dict[str, int], walltime_min: float,
                  cores: int | None = None) -> list[WallTimeEstimate]:
    """Runs whose estimated wall time (steps x atoms x their model's measured cost) exceeds
    ``walltime_min``; models without a measurement are skipped.

    Parameters
    ----------
    runs : list of PlannedRun
    atoms_of : dict
        Atoms per run of each structure (after the supercell).
    cores : int, optional
        Ranks x threads each run is planned with (``resources.cores``): logs measured with
        others are converted (see the module docstring). None: the logs as measured.
    """
    by_model: dict[str, list] = {}
    for run in runs:
        by_model.setdefault(run.model, []).append(run)
    out = []
    for model, items in by_model.items():
        cost = measured_cost((r.path for r in items), cores)
        if cost is None:
            continue
        for run in items:
            hours = cost * run.rundir.planned_steps * atoms_of[run.structure] / 3600.0
            if hours * 60.0 > walltime_min:
                out.append(WallTimeEstimate(run.path, hours, walltime_min / 60.0))
    return out
