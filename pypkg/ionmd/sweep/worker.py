"""Run one claimed run directory to its end: the same code on every executor (a thread of
the local pool, a SLURM array task)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from ionmd.errors import IonmdError, RunInterrupted
from ionmd.protocols.execute import execute
from ionmd.lammps.process import find_lammps
from ionmd.protocols.rundir import RunDir
from ionmd.sweep.state import CLAIM, read_claim, wait_for_local_process


def lammps_command(launcher: str, ranks: int, threads: int,
                   srun_args: list[str] | None = None) -> list[str] | None:
    """The command that starts LAMMPS for one run: ``srun [srun_args]`` inside a SLURM
    allocation, else ``lmp`` / ``mpirun -np N lmp`` (None: :func:`ionmd.protocols.launch`
    decides)."""
    if launcher != "srun":
        return None
    lmp = find_lammps(1)[0]
    return ["srun", "--ntasks", str(ranks), "--cpus-per-task", str(threads), "--exact",
            *(srun_args or []), lmp]


def slurm_job_id() -> str | None:
    """This process's SLURM job as squeue names it: ``123_4`` for an array task."""
    env = os.environ
    if "SLURM_ARRAY_JOB_ID" in env and "SLURM_ARRAY_TASK_ID" in env:
        return f"{env['SLURM_ARRAY_JOB_ID']}_{env['SLURM_ARRAY_TASK_ID']}"
    return env.get("SLURM_JOB_ID")


def run_one(path: str | Path, token: str, ranks: int = 1, threads: int = 1,
            launcher: str = "mpirun", env: dict | None = None,
            srun_args: list[str] | None = None) -> dict:
    """Run (or resume) the run directory ``path`` if the claim in it still carries
    ``token``; returns its final status (with ``path``, and ``skipped`` when it was not
    this worker's to run).

    A run whose LAMMPS process is still alive on this host (its submitter died, the
    process did not) is waited for, then recorded; nothing is started twice.
    """
    rd = RunDir.open(path)
    claim = read_claim(rd)
    if claim.get("token") != token:
        return {"path": str(path), "skipped": "claimed by a later submission",
                **rd.status}
    wait_for_local_process(rd)
    run_env = {"OMP_NUM_THREADS": str(threads)}
    run_env.update(env or {})
    command = lammps_command(launcher, ranks, threads, srun_args)
    rd.write_json(CLAIM, {**claim, "ran": {          # where and how: for status and tests
        "host": socket.gethostname(), "command": command or find_lammps(ranks),
        "slurm_job": slurm_job_id()}})
    try:
        status = execute(rd, nprocs=ranks, env=run_env, launcher=command)
    except RunInterrupted:         # SIGTERM/SIGINT (scancel, walltime): recorded, stop here
        raise
    except IonmdError as exc:      # e.g. lmp not found on this node: tell, do not stop the pool
        return {"path": str(path), "error": str(exc), **rd.status}
    return {"path": str(path), **status}


def run_group(paths: list[str], token: str, ranks: int = 1, threads: int = 1,
              launcher: str = "srun", srun_args: list[str] | None = None) -> list[dict]:
    """Run several run directories one after the other (one SLURM array task)."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    return [run_one(p, token, ranks, threads, launcher, srun_args=srun_args) for p in paths]
