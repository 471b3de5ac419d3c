"""What each run directory says, and who may run it.

The run directories are the only state: ``status.json`` (written by
:mod:`ionmd.protocols.execute`) says pending / running / completed / failed / interrupted,
and ``sweep.json`` holds the *claim* of the submission that last took the run: a random
token and the executor's job id. A worker runs a run only while the claim still carries
its token, so a run submitted twice (a submitter that died after ``sbatch`` and before it
could record the job id, then a resubmission) is still run once: the older job finds a
newer token and leaves the run alone.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid

from ionmd.errors import IonmdError
from ionmd.lammps.process import process_alive
from ionmd.protocols.execute import running_here
from ionmd.protocols.rundir import SETTINGS, RunDir

CLAIM = "sweep.json"

# classes of runs, in the order status prints them
CLASSES = ("completed", "running", "queued", "interrupted", "pending", "failed-error",
           "failed-physical", "new")


def new_token() -> str:
    return uuid.uuid4().hex


def read_claim(rd: RunDir) -> dict:
    return rd.read_json(CLAIM)


def write_claim(rd: RunDir, token: str, executor: str, job_id: str | None = None) -> None:
    rd.write_json(CLAIM, {"token": token, "executor": executor, "job_id": job_id,
                          "claimed": time.strftime("%Y-%m-%dT%H:%M:%S")})


def release_claim(rd: RunDir) -> None:
    """Forget who last took the run (it ended, and is to be run again, e.g. extended by a
    goal): the next submit claims it afresh."""
    (rd.path / CLAIM).unlink(missing_ok=True)


def local_job_id() -> str:
    """Job id of a local submitter: ``local:<host>:<pid>``."""
    return f"local:{socket.gethostname()}:{os.getpid()}"


def active_slurm_jobs(job_name: str) -> set[str]:
    """Ids (``123_4`` for array tasks) of this user's pending or running jobs named
    ``job_name``, from ``squeue``.

    Raises
    ------
    IonmdError
        If ``squeue`` is missing or fails (the scheduler cannot be asked).
    """
    if not shutil.which("squeue"):
        raise IonmdError("`squeue` not found: run this on a SLURM login node (or use the local "
                         "executor)")
    res = subprocess.run(["squeue", "--noheader", "--array", "--format=%i",
                          f"--name={job_name}", f"--user={os.getuid()}"],
                         capture_output=True, text=True, timeout=60)
    if res.returncode:
        raise IonmdError(f"squeue failed: {res.stderr.strip()}")
    return {line.strip() for line in res.stdout.splitlines() if line.strip()}


def claim_active(claim: dict, slurm_jobs: set[str] | None) -> bool:
    """Whether the job holding ``claim`` may still run (queued or running)."""
    job = claim.get("job_id")
    if not job:
        return False
    if job.startswith("local:"):
        _, host, pid = job.split(":")
        return host == socket.gethostname() and process_alive(int(pid))
    return slurm_jobs is not None and job in slurm_jobs


def classify(rd: RunDir, slurm_jobs: set[str] | None = None) -> str:
    """One of :data:`CLASSES` for a run directory.

    ``failed-physical`` is a result (``fix halt`` on the volume, lost atoms): it is never
    rerun. ``failed-error`` (LAMMPS stopped with an error) is rerun only when asked
    (``--retry-failed``). ``interrupted`` (killed, walltime) resumes from its restart files.
    """
    if not (rd.path / SETTINGS).is_file():
        return "new"
    status = rd.status
    state = status.get("state", "pending")
    if state == "completed":
        return "completed"
    if state == "failed" and not status.get("resumable"):
        return "failed-physical" if "failed_step" in status else "failed-error"
    claim = read_claim(rd)
    active = claim_active(claim, slurm_jobs)
    if state in ("interrupted", "failed"):  # killed, a signal, disk full (older files: failed
        # + resumable): resumes. Resubmitted to SLURM and its task not started yet: queued
        # (a local submitter starts what it claims at once, so its claims never wait)
        return "queued" if active and claim.get("executor") == "slurm" else "interrupted"
    if state == "running":
        if running_here(status) or active:
            return "running"
        return "interrupted"
    return "queued" if active else "pending"


def wait_for_local_process(rd: RunDir, poll_s: float = 0.5) -> None:
    """Block while the run's LAMMPS process (started by an earlier, dead submitter on this
    host) is still alive."""
    while True:
        status = rd.status
        if status.get("state") != "running" or not running_here(status):
            return
        time.sleep(poll_s)


__all__ = ["CLAIM", "CLASSES", "active_slurm_jobs", "claim_active", "classify", "local_job_id",
           "new_token", "read_claim", "wait_for_local_process", "write_claim"]
