"""Local executor: a pool of runs in threads, as many at once as the cores (and GPUs)
allow for each run's ranks x threads. Each run's LAMMPS runs in its own session, so it
keeps going if the submitter dies; the next ``submit`` waits for it and records it."""

from __future__ import annotations

import queue
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed

from ionmd.cores import available_cores, oversubscription
from ionmd.sweep.campaign import Campaign
from ionmd.sweep.worker import let_go_of, run_one, unexpected_failure


def pool_width(campaign: Campaign, n_gpus: int = 0) -> int:
    """Runs at once: executor cores // (ranks x threads), and GPUs // GPUs per run. The
    executor's cores are capped at the available ones (:func:`available_cores`: under
    ``taskset`` or in a SLURM job fewer than the machine's, against which the campaign
    file was checked), with a warning on stderr."""
    r = campaign.resources
    cores = campaign.executor.get("cores", 1)
    available = available_cores()
    have, source = available
    if cores > have:
        print(f"warning: executor.cores = {cores} but {source} are {have}: running as many "
              f"runs at once as {have} cores hold", file=sys.stderr)
        cores = have
    width = max(1, cores // r.cores)
    if r.cores > have:
        why = oversubscription(r.ranks, r.threads, available)
        print(f"warning: {why}; lower resources.ranks or threads", file=sys.stderr)
    if r.gpus:
        width = min(width, max(1, n_gpus // r.gpus))
    return width


def run_local(campaign: Campaign, paths: list[str], token: str, progress: bool = True) -> list[dict]:
    """Run the claimed run directories ``paths``; returns their final statuses. A run
    that ends in an error is that run's result (:func:`ionmd.sweep.worker.run_one`): the
    others still run and are reported."""
    r = campaign.resources
    n_gpus = 0
    if r.gpus:
        from ionmd.sweep.campaign_executor import local_gpus

        n_gpus = local_gpus()
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
    futures: dict = {}
    try:
        for p in paths:
            futures[pool.submit(task, p)] = p
        for fut in as_completed(futures):
            try:
                results.append(fut.result())
            except Exception as exc:    # run_one says its own errors: a last guard
                results.append(unexpected_failure(futures[fut], token, exc))
            if bar is not None:
                bar.update(1)
    except KeyboardInterrupt:
        # runs not started yet stay pending; running ones finish (their lmp is in its own
        # session, so killing this process instead leaves them running on their own)
        pool.shutdown(wait=False, cancel_futures=True)
        for fut, path in futures.items():   # this submitter lives on while the running
            if fut.cancelled():             # ones finish: those it will not start are
                let_go_of(path, token)      # pending, not queued under it
        print("interrupted: no new runs start; the running ones finish (kill this process to "
              "leave them running alone; `ionmd sweep submit` again picks everything up)")
        raise
    finally:
        if bar is not None:
            bar.close()
    pool.shutdown()
    return results
