"""What each run directory says, and who may run it.

The run directories are the only state: ``status.json`` (written by
:mod:`ionmd.protocols.execute`) says pending / running / completed / failed / interrupted,
and ``sweep.json`` holds the *claim* of the submission that last took the run: a random
token and the executor's job id. A worker runs a run only while the claim still carries
its token, so a run submitted twice (a submitter that died after ``sbatch`` and before it
could record the job id, then a resubmission) is still run once: the older job finds a
newer token and leaves the run alone. The claim is read and replaced only under its lock
(:data:`CLAIM_LOCK`), so that a worker's record of its end never overwrites a later claim.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from ionmd.analysis.run_files import SETTINGS
from ionmd.errors import IonmdError, RunInterrupted
from ionmd.file_locks import flock_if_supported, held_elsewhere
from ionmd.lammps.process import process_alive
from ionmd.protocols.execute import running_here
from ionmd.protocols.outcome import LAMMPS_LOCK
from ionmd.protocols.rundir import RunDir
from ionmd.protocols.run_settings import DamagedRunFile, read_run_settings, replace_json

CLAIM = "sweep.json"
LMP_LOCK = LAMMPS_LOCK
"""Held by a run's LAMMPS process for as long as it runs (:mod:`ionmd.sweep.lockrun`); a
run's outcome is not recorded while it is (:func:`ionmd.protocols.outcome.finish`)."""
WORKER_LOCK = ".worker.lock"
"""Held by the worker (a SLURM task, a local submitter) while it runs the run."""
CLAIM_LOCK = ".claim.lock"
"""Held while the claim is written or read and replaced (:func:`claim_locked`): only for
that, never while another lock is waited for, so a worker holding :data:`WORKER_LOCK`
takes it without a deadlock."""
CLAIM_LOCK_WAIT_S = 60.0

# classes of runs, in the order status prints them
DAMAGED = "damaged"
"""The class of a run whose ``settings.json``, ``status.json`` or claim holds no JSON
object, or settings without a run's keys (cut short by an interrupted copy, edited by
hand): what it is cannot be read (:func:`run_damage` says
which file and what to do). It is no result, never handed out, and not waited for: the
campaign's other runs are shown, collected and pursued as usual."""
CLASSES = ("completed", "running", "queued", "interrupted", "pending", "failed-error",
           "failed-physical", "new", DAMAGED)


def new_token() -> str:
    return uuid.uuid4().hex


def read_claim(rd: RunDir) -> dict:
    """The run's claim (``{}`` where none).

    Raises
    ------
    DamagedRunFile
        (an IonmdError) If its file is no JSON object (edited by hand, damaged), saying
        how to go on.
    """
    f = rd.path / CLAIM
    try:    # read here, not by rd.read_json: its refusal tells to restore or move the
        claim = json.loads(f.read_text()) if f.is_file() else {}    # folder, not the claim
    except (ValueError, UnicodeDecodeError) as exc:
        claim = exc
    if isinstance(claim, dict):
        return claim
    why = claim if isinstance(claim, ValueError) else f"a JSON {type(claim).__name__}"
    raise DamagedRunFile(f"{rd.path / CLAIM} is no JSON object ({why}): remove it; the run is then "
                     f"claimed by no one and the next `ionmd sweep submit` claims it afresh "
                     f"(a LAMMPS still running it is seen by its lock, and a job that still "
                     f"holds it finds a newer claim and leaves it alone)")


@contextmanager
def claim_locked(path: str | Path, wait_s: float = CLAIM_LOCK_WAIT_S, poll_s: float = 0.02):
    """Hold the claim lock (:data:`CLAIM_LOCK`) of the run folder ``path`` for the block;
    on a file system without locks the block runs unlocked (as before claims were locked).

    Raises
    ------
    TimeoutError
        If another process held it ``wait_s`` (each holder holds it for one read and write).
    OSError
        If the lock file cannot be opened (the run folder is gone, no permission).
    """
    lock = Path(path) / CLAIM_LOCK
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                flock_if_supported(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{lock} has been held by another process for "
                                       f"{wait_s:g} s (a claim is written in less than a "
                                       f"second): is a process holding it stopped or hung?")
                time.sleep(poll_s)
        yield
    finally:
        os.close(fd)


def write_claim(rd: RunDir, token: str, executor: str, job_id: str | None = None) -> None:
    with claim_locked(rd.path):
        rd.write_json(CLAIM, {"token": token, "executor": executor, "job_id": job_id,
                              "claimed": time.strftime("%Y-%m-%dT%H:%M:%S")})


def update_claim(path: str | Path, token: str, change) -> bool:
    """Replace the claim of the run folder ``path`` by ``change(claim)`` if it still carries
    ``token``; False (nothing written) where a later submission claimed the run meanwhile:
    its claim is that submission's. A folder, not a :class:`RunDir`: a worker that cannot
    open its run (a run.json edit gone wrong) still says so. Read and replaced under the
    claim's lock (:func:`claim_locked`): a ``submit`` claiming the run again meanwhile
    (its hand-out's job looked gone) writes its claim before or after, never in between.

    Raises
    ------
    OSError, ValueError
        If the claim cannot be read (no JSON) or written (it is then unchanged), or its
        lock not taken (:func:`claim_locked`).
    """
    f = Path(path) / CLAIM
    with claim_locked(path):
        claim = json.loads(f.read_text()) if f.is_file() else {}
        if not isinstance(claim, dict):
            raise ValueError(f"{f} is no JSON object (a JSON {type(claim).__name__})")
        if claim.get("token") != token:
            return False
        replace_json(f, change(claim))
    return True


def release_claim(rd: RunDir) -> None:
    """Forget who last took the run (it ended, and is to be run again, e.g. extended by a
    goal): the next submit claims it afresh."""
    if not rd.path.is_dir():
        return                              # its folder is gone, and its claim with it
    with claim_locked(rd.path):
        (rd.path / CLAIM).unlink(missing_ok=True)


def local_job_id() -> str:
    """Job id of a local submitter: ``local:<host>:<pid>``."""
    return f"local:{socket.gethostname()}:{os.getpid()}"


def _squeue(args: list[str]) -> list[list[str]]:
    """Rows of ``squeue --noheader --array`` with ``|``-separated ``--format`` fields.

    Raises
    ------
    IonmdError
        If ``squeue`` is missing or fails (the scheduler cannot be asked).
    """
    if not shutil.which("squeue"):
        raise IonmdError("`squeue` not found: run this on a SLURM login node (or use the local "
                         "executor)")
    res = subprocess.run(["squeue", "--noheader", "--array", *args], capture_output=True,
                         text=True, timeout=60)
    if res.returncode:
        raise IonmdError(f"squeue failed (exit {res.returncode}): {res.stderr.strip()}")
    return [line.strip().split("|") for line in res.stdout.splitlines() if line.strip()]


def slurm_job_states() -> dict[str, str]:
    """Every queued or running job of this user, whatever its name: id (``123_4`` for an
    array task) -> SLURM state (``PENDING``, ``RUNNING``, ``COMPLETING``, ...). By id, not
    by the campaign's job name, so that a claim is recognised after the campaign was
    renamed or when another campaign file shares its output folder.

    Raises
    ------
    IonmdError
        If ``squeue`` is missing or fails (the scheduler cannot be asked).
    """
    return {row[0]: row[1] for row in _squeue(["--format=%i|%T", f"--user={os.getuid()}"])}


WAITING_STATES = ("PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD",
                  "SPECIAL_EXIT", "SUSPENDED", "STOPPED", "CONFIGURING")
"""SLURM job states in which a job holds a claim but runs nothing yet (or not now): a
requeued task (walltime, node failure, ``scontrol requeue``) waits in ``PENDING``."""


def slurm_claim_job(claim: dict) -> str | None:
    """The SLURM job id a claim names (None: no job yet, or a local submitter's)."""
    job = claim.get("job_id")
    return job if job and not job.startswith("local:") else None


def claim_job_state(claim: dict, slurm_jobs: dict[str, str] | None) -> str | None:
    """The state of the job holding ``claim`` while it may still run: SLURM's state
    (``slurm_jobs``: :func:`slurm_job_states`), ``RUNNING`` for a live local submitter;
    None when the job is gone."""
    job = claim.get("job_id")
    if not job:
        return None
    if job.startswith("local:"):
        _, host, pid = job.split(":")
        return "RUNNING" if host == socket.gethostname() and process_alive(int(pid)) else None
    return (slurm_jobs or {}).get(job)


def claim_active(claim: dict, slurm_jobs: dict[str, str] | None) -> bool:
    """Whether the job holding ``claim`` may still run (queued or running)."""
    return claim_job_state(claim, slurm_jobs) is not None


def lock_held(rd: RunDir, name: str = LMP_LOCK) -> bool:
    """Whether a process holds the lock ``name`` of the run directory (on any host whose
    filesystem passes ``flock`` on: NFSv4, Lustre with ``-o flock``): the run's LAMMPS
    (:data:`LMP_LOCK`, held by :mod:`ionmd.sweep.lockrun` for as long as it runs, also
    when its submitter or job is gone) or a worker (:data:`WORKER_LOCK`). Probed with a
    shared lock, never created; False where the filesystem has no locks."""
    return held_elsewhere(rd.path / name)


def classify(rd: RunDir, slurm_jobs: dict[str, str] | None = None) -> str:
    """One of :data:`CLASSES` for a run directory (``slurm_jobs``: :func:`slurm_job_states`).

    ``failed-physical`` is a result (``fix halt`` on the volume, lost atoms): it is never
    rerun. ``failed-error`` (LAMMPS stopped with an error) is rerun only when asked
    (``--retry-failed``). ``interrupted`` (killed, walltime) resumes from its restart files.
    A run is ``running`` while its LAMMPS runs: its process on this host, or the lock
    its LAMMPS holds (any host; an orphan whose job or submitter is gone too), or its
    job running elsewhere; a run whose task was requeued (walltime, node failure) is
    ``queued`` until the task starts again. A run whose status or claim cannot be read
    is :data:`DAMAGED` (:func:`run_damage` says why).
    """
    if not (rd.path / SETTINGS).is_file():
        return "new"
    try:
        read_run_settings(rd.path)
        return _classify(rd, slurm_jobs)
    except DamagedRunFile:
        return DAMAGED


def run_damage(rd: RunDir) -> str | None:
    """Why a run is :data:`DAMAGED`: the refusal of its ``settings.json``, ``status.json``
    or claim (``sweep.json``), naming the file and what to do; None where they read."""
    try:
        read_run_settings(rd.path)
        rd.status
        read_claim(rd)
    except DamagedRunFile as exc:
        return str(exc)
    return None


def _classify(rd: RunDir, slurm_jobs: dict[str, str] | None) -> str:
    status = rd.status
    state = status.get("state", "pending")
    if state == "completed":
        return "completed"
    if state == "failed" and not status.get("resumable"):
        return "failed-physical" if "failed_step" in status else "failed-error"
    if lock_held(rd):                    # its LAMMPS still runs, whoever started it
        return "running"
    claim = read_claim(rd)
    job = claim_job_state(claim, slurm_jobs)
    waiting = job in WAITING_STATES
    if state in ("interrupted", "failed"):  # killed, a signal, disk full (older files: failed
        # + resumable): resumes. Resubmitted to SLURM and its task not started yet: queued
        # (a local submitter starts what it claims at once, so its claims never wait)
        return "queued" if job and claim.get("executor") == "slurm" else "interrupted"
    if state == "running":
        if running_here(status):
            return "running"
        if job and waiting and claim.get("executor") == "slurm":
            return "queued"             # its task was requeued and waits to resume it
        if job:
            return "running"            # its job runs it (on a host this one cannot see)
        return "interrupted"
    return "queued" if job else "pending"


def wait_for_local_process(rd: RunDir, poll_s: float = 0.5, stop=None) -> None:
    """Block while the run's LAMMPS process (started by an earlier, dead submitter on this
    host) is still alive; ``stop`` (a :class:`ionmd.protocols.execute.StopRequests`: a
    SLURM task's walltime warning, scancel) ends the wait at once.

    Raises
    ------
    RunInterrupted
        Where ``stop`` caught a signal: the run was not taken, its LAMMPS still runs (the
        next ``ionmd sweep submit`` records it once it has ended, or resumes it)."""
    while True:
        status = rd.status
        if status.get("state") != "running" or not running_here(status):
            return
        if stop is not None and stop.signum is not None:
            name = signal.Signals(stop.signum).name
            raise RunInterrupted(
                f"{rd.path}: stopped by {name} while waiting for its LAMMPS (pid "
                f"{status.get('pid')} on {status.get('host')}, started by an earlier "
                f"submission) to end; that LAMMPS still runs, this job did not take the run: "
                f"`ionmd sweep submit` records it once it has ended, or resumes it",
                stop.signum)
        time.sleep(poll_s)


__all__ = ["CLAIM", "CLAIM_LOCK", "CLASSES", "DAMAGED", "LMP_LOCK", "WORKER_LOCK", "claim_active",
           "claim_job_state", "claim_locked", "classify", "lock_held", "slurm_job_states",
           "local_job_id", "new_token", "read_claim", "run_damage", "slurm_claim_job", "update_claim",
           "wait_for_local_process", "write_claim"]
