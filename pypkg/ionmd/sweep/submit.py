"""``ionmd sweep submit``: decide from the run directories what is left to do, claim it and
hand it to the campaign's executor. Idempotent: completed runs and physical failures
are skipped, interrupted runs resume from their restart files, runs queued or running
under a live job are left alone, runs that stopped on an error are rerun only with
``retry_failed`` (from scratch)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from ionmd.sweep.campaign import Campaign
from ionmd.sweep.plan import PlannedRun, plan_campaign
from ionmd.sweep.state import (active_slurm_jobs, claim_active, classify, local_job_id, new_token,
                               read_claim, write_claim)

TODO = ("new", "pending", "interrupted")


@dataclass
class Submission:
    """What a submit call did: runs per class before, the runs handed out, job ids, and
    (local executor) the final statuses."""

    before: Counter
    submitted: list[str] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)
    skipped_failed: list[str] = field(default_factory=list)


def scheduler_jobs(campaign: Campaign) -> set[str] | None:
    """Active SLURM jobs of the campaign (None for the local executor)."""
    if campaign.executor["kind"] != "slurm":
        return None
    from ionmd.sweep.slurm import job_name

    return active_slurm_jobs(job_name(campaign))


def campaign_status(campaign: Campaign) -> list[dict]:
    """One row per planned run of the campaign (``ionmd status CAMPAIGN``, ``ionmd sweep
    status``): its class (:func:`ionmd.sweep.state.classify`, with the scheduler's jobs),
    step, planned steps, pieces, the reason it stopped, its stopping rule's last check and
    the job that claimed it."""
    from ionmd.protocols.stopping import describe_checks

    runs = plan_campaign(campaign)
    jobs = scheduler_jobs(campaign)
    rows = []
    for run in runs:
        st = run.rundir.status
        rows.append({"run": str(run.path), "class": classify(run.rundir, jobs),
                     "step": st.get("step", 0), "planned_steps": run.rundir.planned_steps,
                     "pieces": st.get("pieces", 0), "reason": st.get("reason"),
                     "stopping": describe_checks(st),
                     "job": read_claim(run.rundir).get("job_id")})
    return rows


def select(runs: list[PlannedRun], jobs: set[str] | None,
           retry_failed: bool) -> tuple[list[PlannedRun], Counter, list[str]]:
    """Runs to hand out now; counts per class; failed runs left alone."""
    todo, counts, failed = [], Counter(), []
    for run in runs:
        cls = classify(run.rundir, jobs)
        counts[cls] += 1
        if cls in TODO:
            todo.append(run)
        elif cls == "running" and not claim_active(read_claim(run.rundir), jobs):
            todo.append(run)        # its LAMMPS outlived a dead local submitter: wait for it
        elif cls == "failed-error":
            if retry_failed:
                run.rundir.reset()
                todo.append(run)
            else:
                failed.append(str(run.path))
    return todo, counts, failed


def submit(campaign: Campaign, retry_failed: bool = False, progress: bool = True) -> Submission:
    """Create missing run directories, claim what is left and run it (local: here, until
    done) or submit it (SLURM: one job array, returns at once)."""
    runs = plan_campaign(campaign, create=True)
    jobs = scheduler_jobs(campaign)
    todo, counts, failed = select(runs, jobs, retry_failed)
    sub = Submission(before=counts, skipped_failed=failed)
    if not todo:
        return sub
    token = new_token()
    kind = campaign.executor["kind"]
    for run in todo:     # claim before starting: a job that finds another token skips
        write_claim(run.rundir, token, kind, local_job_id() if kind == "local" else None)
    paths = [str(run.path) for run in todo]
    sub.submitted = paths
    if kind == "local":
        from ionmd.sweep.local import run_local

        sub.jobs = [local_job_id()]
        sub.results = run_local(campaign, paths, token, progress=progress)
        return sub
    from ionmd.sweep.slurm import submit_slurm

    by_path = {str(run.path): run for run in todo}
    for group, job_id in submit_slurm(campaign, paths, token):
        sub.jobs.append(job_id)
        for p in group:
            write_claim(by_path[p].rundir, token, kind, job_id)
    return sub


def wait(campaign: Campaign, poll_s: float = 1.0, timeout_s: float | None = None,
         progress: bool = True) -> Counter:
    """Block until no run of the campaign is queued or running; returns the final counts."""
    runs = plan_campaign(campaign)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(runs), desc=f"{campaign.name} (waiting)", unit="run")
    t0 = time.time()
    while True:
        jobs = scheduler_jobs(campaign)
        counts = Counter(classify(r.rundir, jobs) for r in runs)
        if bar is not None:
            bar.n = counts["completed"] + counts["failed-physical"] + counts["failed-error"]
            bar.refresh()
        if counts["queued"] + counts["running"] == 0:
            break
        if timeout_s is not None and time.time() - t0 > timeout_s:
            break
        time.sleep(poll_s)
    if bar is not None:
        bar.close()
    return counts
