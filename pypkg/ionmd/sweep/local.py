"""Local executor: a pool of runs in threads, as many at once as the cores (and GPUs)
allow for each run's ranks x threads. Each run's LAMMPS runs in its own session, so it
keeps going if the submitter dies; the next ``submit`` waits for it and records it."""

from __future__ import annotations

import os
import queue
import re
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed

from ionmd.sweep.campaign import Campaign
from ionmd.sweep.worker import run_one


def available_cores() -> tuple[int, str]:
    """Cores this process may run on, and where the number comes from: its CPU affinity
    (what ``taskset``, cgroups and ``srun`` leave it, unlike ``os.cpu_count()``, the
    machine's), and within a SLURM job at most the job's CPUs on this node
    (``SLURM_CPUS_ON_NODE``)."""
    try:
        cores, source = len(os.sched_getaffinity(0)), "the CPUs this process may use"
    except (AttributeError, OSError):          # no affinity on macOS
        cores, source = os.cpu_count() or 1, "the machine's CPUs"
    slurm = os.environ.get("SLURM_CPUS_ON_NODE", "")
    if slurm.isdigit() and 0 < int(slurm) < cores:
        cores, source = int(slurm), "the SLURM job's CPUs on this node (SLURM_CPUS_ON_NODE)"
    return cores, source


def slurm_job_cpus() -> int | None:
    """The SLURM job's CPUs over all its nodes (``SLURM_JOB_CPUS_PER_NODE``: ``32(x2),16``
    is 80), None outside a job or where the variable cannot be read."""
    text = os.environ.get("SLURM_JOB_CPUS_PER_NODE", "").strip()
    total = 0
    for part in filter(None, text.split(",")):
        match = re.fullmatch(r"(\d+)(?:\(x(\d+)\))?", part.strip())
        if match is None:
            return None
        total += int(match.group(1)) * int(match.group(2) or 1)
    return total or None


def mpi_cores() -> tuple[int, str]:
    """Cores that ``mpirun -np N`` may start ranks on: :func:`available_cores`, except in
    a SLURM job over several nodes, or in an ``salloc`` shell (``SLURM_CPUS_ON_NODE``
    unset: it may run on the login node), where mpirun places the ranks over the job's
    nodes: the job's CPUs (``SLURM_JOB_CPUS_PER_NODE``)."""
    job = slurm_job_cpus()
    nodes = os.environ.get("SLURM_JOB_NUM_NODES", os.environ.get("SLURM_NNODES", "1"))
    if job is not None and (not os.environ.get("SLURM_CPUS_ON_NODE", "").isdigit()
                            or (nodes.isdigit() and int(nodes) > 1)):
        return job, "the SLURM job's CPUs over its nodes (SLURM_JOB_CPUS_PER_NODE)"
    return available_cores()


def oversubscription(ranks: int, threads: int, at_once: int = 1,
                     available: tuple[int, str] | None = None) -> str | None:
    """Why ``at_once`` runs of ``ranks`` x ``threads`` each are more than the available
    cores (``available``: cores and where the number comes from; default
    :func:`available_cores`), or None when they fit. MPICH and OpenMP start every
    rank and thread whatever the cores: oversubscribed, each waits for a core in turn
    (many times slower) and each rank holds its own copy of the model in memory."""
    cores, source = available or available_cores()
    need = ranks * threads * at_once
    if need <= cores:
        return None
    runs = f"{at_once} runs x " if at_once > 1 else ""
    return (f"{runs}{ranks} MPI rank(s) x {threads} thread(s) = {need} cores, but {source} "
            f"are {cores}: the ranks would share cores (many times slower, each rank holding "
            f"its own copy of the model in memory)")


def pool_width(campaign: Campaign, n_gpus: int = 0) -> int:
    """Runs at once: executor cores // (ranks x threads), and GPUs // GPUs per run. The
    executor's cores are capped at the available ones (:func:`available_cores`: under
    ``taskset`` or in a SLURM job fewer than the machine's, against which the campaign
    file was checked), with a warning on stderr."""
    r = campaign.resources
    cores = campaign.executor.get("cores", 1)
    have, source = available_cores()
    if cores > have:
        print(f"warning: executor.cores = {cores} but {source} are {have}: running as many "
              f"runs at once as {have} cores hold", file=sys.stderr)
        cores = have
    width = max(1, cores // r.cores)
    if r.cores > have:
        print(f"warning: {oversubscription(r.ranks, r.threads)}; lower resources.ranks or "
              f"threads", file=sys.stderr)
    if r.gpus:
        width = min(width, max(1, n_gpus // r.gpus))
    return width


def run_local(campaign: Campaign, paths: list[str], token: str, progress: bool = True) -> list[dict]:
    """Run the claimed run directories ``paths``; returns their final statuses."""
    r = campaign.resources
    n_gpus = 0
    if r.gpus:
        from ionmd.sweep.campaign import _local_gpus

        n_gpus = _local_gpus()
    width = pool_width(campaign, n_gpus)
    slots: queue.Queue = queue.Queue()        # GPU ids per concurrent run
    for k in range(width):
        slots.put([str(g) for g in range(k * r.gpus, (k + 1) * r.gpus)])

    def task(path: str) -> dict:
        gpus = slots.get()
        try:
            env = {"CUDA_VISIBLE_DEVICES": ",".join(gpus)} if r.gpus else None
            return run_one(path, token, r.ranks, r.threads, campaign.executor["launcher"], env)
        finally:
            slots.put(gpus)

    results = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(paths), desc=f"{campaign.name} (local, {width} at once)", unit="run")
    pool = ThreadPoolExecutor(max_workers=width)
    try:
        for fut in as_completed([pool.submit(task, p) for p in paths]):
            results.append(fut.result())
            if bar is not None:
                bar.update(1)
    except KeyboardInterrupt:
        # runs not started yet stay pending; running ones finish (their lmp is in its own
        # session, so killing this process instead leaves them running on their own)
        pool.shutdown(wait=False, cancel_futures=True)
        print("interrupted: no new runs start; the running ones finish (kill this process to "
              "leave them running alone; `ionmd sweep submit` again picks everything up)")
        raise
    finally:
        if bar is not None:
            bar.close()
    pool.shutdown()
    return results
