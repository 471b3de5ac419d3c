"""``ionmd sweep submit``: decide from the run directories what is left to do, claim it and
hand it to the campaign's executor. Idempotent: completed runs and physical failures
are skipped, interrupted runs resume from their restart files, runs queued or running
under a live job are left alone, runs that stopped on an error are rerun only with
``retry_failed`` (from scratch)."""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from ionmd.errors import IonmdError

from ionmd.protocols.execute import running_here
from ionmd.protocols.run_lock import lock_holder
from ionmd.sweep.campaign import Campaign
from ionmd.sweep.lockrun import flock_within
from ionmd.sweep.plan import PlannedRun, plan_campaign
from ionmd.sweep.state import (DAMAGED, LMP_LOCK, claim_active, claim_job_state, classify,
                               local_job_id, new_token, read_claim, run_damage,
                               slurm_claim_job, slurm_job_states, update_claim, write_claim)

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
    damaged: list[str] = field(default_factory=list)
    """``<run>: <why>`` of each run left alone as :data:`~ionmd.sweep.state.DAMAGED`."""

    def ran_summary(self) -> str:
        """What a local submission did: the runs it ran by final state, apart from those
        it only recorded (their LAMMPS, of an earlier submitter, had ended already), then
        each run it left alone (another process runs it, a later submission claimed it),
        each run that did not start and why (its worker's error: ``lmp`` not found, a
        run.json edit gone wrong), a line each."""
        started = [r for r in self.results if "error" not in r and "skipped" not in r]
        ran = Counter(r.get("state", "?") for r in started if "recorded_only" not in r)
        recorded = Counter(r.get("state", "?") for r in started if "recorded_only" in r)
        text = f"ran {sum(ran.values())} run(s)"
        if ran:
            text += ": " + ", ".join(f"{n} {s}" for s, n in ran.items())
        if recorded:
            text += (f"; recorded {sum(recorded.values())} already finished by an earlier "
                     f"submitter's LAMMPS: " + ", ".join(f"{n} {s}" for s, n in recorded.items()))
        stopped = [r for r in started if "stopped_on_error" in r]
        if stopped:
            text += (f"\n{len(stopped)} run(s) stopped on an error (`ionmd sweep submit` "
                     f"resumes them):" + "".join(f"\n  {r['path']}: {r['stopped_on_error']}"
                                                 for r in stopped))
        alone = [r for r in self.results if "skipped" in r]
        if alone:
            text += (f"\n{len(alone)} run(s) left alone:"
                     + "".join(f"\n  {r['path']}: {r['skipped']}" for r in alone))
        failed = [r for r in self.results if "error" in r]
        if failed:
            text += (f"\n{len(failed)} run(s) did not start (fix this, then `ionmd sweep "
                     f"submit` hands them out again):"
                     + "".join(f"\n  {r['path']}: {r['error']}" for r in failed))
        return text


_LEFT_ALONE: ContextVar[frozenset] = ContextVar("submit_left_alone", default=frozenset())
"""Run folders that :func:`submit` hands out to no one (:func:`leaving_alone`)."""


@contextmanager
def leaving_alone(paths):
    """Within: :func:`submit` does not hand out the run folders ``paths`` (they count in
    its classes as before). A goal's rounds (:func:`ionmd.sweep.goal_pursue.pursue`) go on
    with the other series while a series waits on a run whose setup failed, which a new
    hand-out meets again; their ``run_round`` calls ``submit`` as the command does."""
    token = _LEFT_ALONE.set(frozenset(map(str, paths)))
    try:
        yield
    finally:
        _LEFT_ALONE.reset(token)


def scheduler_jobs(campaign: Campaign) -> dict[str, str] | None:
    """This user's queued and running SLURM jobs, id -> state (None for the local
    executor). Every job, not only those named after the campaign: a run claimed under
    another name (the campaign renamed, another campaign file with the same output) is
    still seen as queued or running."""
    if campaign.executor["kind"] != "slurm":
        return None
    return slurm_job_states()


def status_jobs(campaign: Campaign, claims: list[dict]) -> tuple[dict[str, str] | None, str | None]:
    """The scheduler's jobs for ``status``, and why the queue is unknown (None: known).
    squeue is asked only where a claim names a SLURM job; where it is missing (off the
    cluster) or fails, the runs are read from their folders alone: status reads a
    campaign on any machine."""
    if campaign.executor["kind"] != "slurm" or not any(map(slurm_claim_job, claims)):
        return None, None
    try:
        return slurm_job_states(), None
    except IonmdError as exc:
        return None, str(exc)


def queue_readable(campaign: Campaign) -> None:
    """Ask the queue once before ``submit`` writes anything (run folders, claims, its
    lock): where squeue is missing or fails, which runs earlier jobs still hold is unknown.

    Raises
    ------
    IonmdError
        If squeue is missing or fails; nothing was written then.
    """
    try:
        scheduler_jobs(campaign)
    except IonmdError as exc:
        raise IonmdError(f"{exc}\nWithout the queue it is unknown which runs earlier jobs "
                         f"still hold, so nothing was written or submitted; submit again where "
                         f"`squeue` answers (the login node; once slurmctld is back)") from exc


@contextmanager
def submit_lock(campaign: Campaign, timeout_s: float = 600.0):
    """Held while a submission decides what is left and claims it (not while a local
    executor runs it): two ``submit`` at once never claim the same runs."""
    folder = campaign.output / ".sweep"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / "submit.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not flock_within(fd, timeout_s, poll_s=0.2):
            raise IonmdError(f"another `ionmd sweep submit` of {campaign.output} has held "
                             f"{folder / 'submit.lock'} for {timeout_s:g} s; wait for "
                             f"it to finish (or end it) and submit again")
        yield
    finally:
        os.close(fd)


def campaign_status(campaign: Campaign) -> list[dict]:
    """One row per planned run of the campaign (``ionmd status CAMPAIGN``, ``ionmd sweep
    status``): its class (:func:`ionmd.sweep.state.classify`, with the scheduler's jobs),
    step, planned steps, pieces, the reason it stopped, its stopping rule's last check,
    the job that claimed it and its state in the queue, a note when the job and the run
    disagree (an orphaned LAMMPS, a job gone without running it) and the log files to
    read when it did not complete."""
    from ionmd.protocols.stopping import describe_checks

    runs = plan_campaign(campaign)
    claims = [_claim_if_readable(run) for run in runs]
    jobs, unknown = status_jobs(campaign, claims)
    classes = [classify(run.rundir, jobs) for run in runs]
    statuses = [{} if cls == DAMAGED else run.rundir.status for run, cls in zip(runs, classes)]
    ended = ended_job_states([claim["job_id"] for claim, cls, st in zip(claims, classes, statuses)
                              if _left_queue(cls, claim, st)]) if unknown is None else {}
    rows = []
    for run, claim, cls, st in zip(runs, claims, classes, statuses):
        if cls == DAMAGED:          # shown among the others, with what is wrong
            rows.append(damaged_row(run))
            continue
        job_state = claim_job_state(claim, jobs)
        logs = run_logs(campaign, run, cls, claim)
        rows.append({"run": str(run.path), "class": cls,
                     # a run that failed before its first restart is at step 0 by its
                     # files, but ran to the step its failure names
                     "step": max(int(st.get("step") or 0), int(st.get("failed_step") or 0)),
                     "planned_steps": run.rundir.planned_steps,
                     "pieces": st.get("pieces", 0), "reason": st.get("reason"),
                     "stopping": describe_checks(st),
                     "job": claim.get("job_id"), "job_state": job_state,
                     "note": (_queue_unknown_note(cls, claim, unknown)
                              or _setup_error_note(cls, claim)
                              or _left_queue_note(campaign, cls, claim, st, logs, ended)
                              or _note(cls, st, claim, job_state, _holder(run, cls))),
                     "logs": [str(f) for f in logs]})
    return rows


def _claim_if_readable(run: PlannedRun) -> dict:
    """The run's claim, ``{}`` where it cannot be read (the run is then
    :data:`~ionmd.sweep.state.DAMAGED`, said in its row)."""
    try:
        return read_claim(run.rundir)
    except IonmdError:
        return {}


def damaged_row(run: PlannedRun) -> dict:
    """``status``'s row of a :data:`~ionmd.sweep.state.DAMAGED` run: its class, nothing
    read from the files it cannot read (step, pieces, job: None), and as its reason what
    is wrong, which file, and what to do (:func:`~ionmd.sweep.state.run_damage`)."""
    return {"run": str(run.path), "class": DAMAGED, "step": None, "planned_steps": None,
            "pieces": None, "reason": run_damage(run.rundir), "stopping": None, "job": None,
            "job_state": None, "note": None, "logs": []}


def _setup_error_note(cls: str, claim: dict) -> str | None:
    """A run whose last hand-out failed before its LAMMPS ran: the error its worker
    recorded (:func:`ionmd.sweep.worker.setup_failed`), which the next try meets again."""
    if cls not in TODO or not claim.get("error"):
        return None
    job = claim.get("ran", {}).get("slurm_job") or claim.get("ran", {}).get("job_id")
    return (f"its setup failed before LAMMPS ran{f' (job {job})' if job else ''}: "
            f"{claim['error']}; fix that, then `ionmd sweep submit` hands it out again")


def _left_queue(cls: str, claim: dict, status: dict) -> bool:
    """A run left pending or interrupted by the SLURM job that claimed it: the job is gone
    and never ran it (a failed setup line, scancel before it started, a node that never
    came up), or did not resume it (its task requeued, then cancelled: the run's reason
    still says the task resumes it). Not an interrupted run whose ``status`` still says
    ``running``: its job died running it (a node failure), nothing recorded how it ended
    (it may have completed), and it has no requeue reason to answer (:func:`_note`)."""
    if cls == "interrupted" and status.get("state") == "running":
        return False
    return cls in ("pending", "interrupted") and bool(claim.get("job_id")) \
        and claim.get("executor") == "slurm"


SETUP_FAILED = "ionmd: a setup line of the campaign failed"
"""The start of the line a job's failed setup line writes to its stderr
(:func:`ionmd.sweep.slurm.checked_setup`)."""


def _left_queue_note(campaign: Campaign, cls: str, claim: dict, status: dict, logs: list,
                     ended: dict[str, str]) -> str | None:
    """Why the job of a :func:`_left_queue` run did not run it, as far as it is known: the
    failed setup line its stderr quotes (fix it first: a new job meets it again), else the
    state SLURM gives the job (``ended``: :func:`ended_job_states`) and whether it wrote
    a log."""
    if not _left_queue(cls, claim, status):
        return None
    job = claim["job_id"]
    head = f"job {job} left the queue without running it" if cls == "pending" else \
        f"job {job} left the queue without resuming the run"
    setup = _setup_failure(logs)
    if setup:
        src = campaign.source
        where = (f" (line {src.line('executor', 'setup')} of {campaign.path})"
                 if "setup" in src.data.get("executor", {}) else "")
        return (f"{head}: a setup line failed; its stderr says \"{setup}\". Fix executor.setup"
                f"{where} first: `ionmd sweep submit` submits it again, and a job with the same "
                f"setup fails the same way")
    state = ended.get(job)
    said = f": SLURM says {state}" + (" (scancel, or an admin)" if state == "CANCELLED" else "") \
        if state else ""
    if cls == "interrupted":        # it ran the run: its reason may say a requeue resumes it
        return (f"{head}{said}; no job holds it now (whatever its reason says of a requeued "
                f"task): `ionmd sweep submit` resumes it from its last restart")
    if not any(str(f).endswith((".out", ".err")) for f in logs):
        known = "" if state else " (and neither squeue nor sacct knows it any more)"
        return (f"{head}{said}; it wrote no job log: it never started{known}; "
                f"`ionmd sweep submit` submits it again")
    return f"{head}{said} (see its log below); `ionmd sweep submit` submits it again"


def _setup_failure(logs: list) -> str | None:
    """The line a failed setup line left in a job's stderr (its last), if any."""
    for f in logs:
        if str(f).endswith(".err"):
            try:
                lines = [ln for ln in open(f, errors="replace") if ln.startswith(SETUP_FAILED)]
            except OSError:
                continue
            if lines:
                return lines[-1].strip()
    return None


def setup_failure(campaign: Campaign, run: PlannedRun, cls: str) -> str | None:
    """Why the last hand-out of a run that did not start (``cls``: its class) will fail
    again, where that is known: the error its worker met before LAMMPS ran (recorded in
    its claim: :func:`ionmd.sweep.worker.setup_failed`), or the failed setup line its SLURM
    job's stderr quotes (a job that left the queue without running it). None otherwise (a
    node that never came up, a job cancelled before it started: those pass)."""
    claim = read_claim(run.rundir)
    if claim.get("error"):
        return f"its setup failed before LAMMPS ran: {claim['error']}"
    if _left_queue(cls, claim, run.rundir.status):
        setup = _setup_failure(run_logs(campaign, run, cls, claim))
        if setup:
            return f"a setup line of its job {claim['job_id']} failed: \"{setup}\""
    return None


def ended_job_states(job_ids: list[str]) -> dict[str, str]:
    """How SLURM says the jobs ``job_ids`` (``123_4`` for an array task) ended:
    ``CANCELLED``, ``FAILED``, ``NODE_FAIL``, ``BOOT_FAIL``, ... From the controller's
    memory of recently ended jobs (``squeue --states=all``: MinJobAge, 300 s by default),
    else from accounting (``sacct``, where the cluster keeps it); a job neither knows,
    or where neither answers, is left out."""
    if not job_ids:
        return {}
    states = _job_table(["squeue", "--states=all", "--noheader", "--array",
                         f"--user={os.getuid()}", "--format=%i|%T"])
    rest = [j for j in job_ids if j not in states]
    if rest:
        states.update(_job_table(["sacct", "-X", "--noheader", "--parsable2",
                                  "--format=JobID,State", "--jobs", ",".join(rest)]))
    return {j: states[j] for j in job_ids if j in states}


def _job_table(command: list[str]) -> dict[str, str]:
    """``id|STATE ...`` rows a SLURM command prints, as id -> STATE (its first word:
    sacct writes ``CANCELLED by 1000``); empty where the command is missing or fails
    (sacct without accounting: "Slurm accounting storage is disabled")."""
    try:
        res = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if res.returncode:
        return {}
    rows = (line.split("|") for line in res.stdout.splitlines() if "|" in line)
    return {job.strip(): state.split()[0] for job, state in rows if state.split()}


def _queue_unknown_note(cls: str, claim: dict, why: str | None) -> str | None:
    """Where squeue could not be asked: a run that a SLURM job claimed and did not end
    may still be queued or running under it."""
    job = slurm_claim_job(claim)
    if why is None or not job or cls in ("completed", "failed-error", "failed-physical"):
        return None
    return (f"queue unknown: {why}; its job {job} may still be queued or running (its state "
            f"here is read from the run folder alone)")


def _holder(run: PlannedRun, cls: str) -> str | None:
    """Who holds the LAMMPS lock of a ``running`` run, as its lock file names it
    (:func:`ionmd.protocols.run_lock.lock_holder`; None: not held)."""
    return lock_holder(run.path / LMP_LOCK) if cls == "running" else None


def _note(cls: str, status: dict, claim: dict, job_state: str | None,
          holder: str | None = None) -> str | None:
    """What the class alone does not say: who runs a run whose LAMMPS holds its lock
    (``holder``: the lock file's line; its job gone: an orphan), a task requeued to resume
    it (a job that ended without running it: :func:`_left_queue_note`)."""
    job = claim.get("job_id")
    where = holder or f"on {status.get('host')} (pid {status.get('pid')})"
    if cls == "running" and job and job_state is None:
        return (f"its LAMMPS still runs ({where}) but its job {job} is gone (an orphan "
                f"finishing); `ionmd sweep submit` records it once it ends")
    if cls == "running" and holder:
        return f"its LAMMPS holds {LMP_LOCK}: {holder}"
    if cls == "queued" and status.get("state") in ("running", "interrupted") and \
            claim.get("ran", {}).get("slurm_job") == job:
        if job_state in ("SUSPENDED", "STOPPED", "SPECIAL_EXIT", "REQUEUE_HOLD"):
            return (f"job {job} is held by SLURM ({job_state}); it resumes the run from its "
                    f"last restart once released (`scontrol resume` / `scontrol release "
                    f"{job}`), or cancel it to resubmit")
        return f"job {job} was requeued ({job_state}); it resumes the run from its last restart"
    if cls == "interrupted" and status.get("state") == "running":
        return ("its LAMMPS is no longer running and its submitter or job is gone, so how it "
                "ended is not recorded yet; `ionmd sweep submit` records it (completed, or "
                "resumed from its last restart: nothing is run twice)")
    return None


def run_logs(campaign: Campaign, run: PlannedRun, cls: str, claim: dict) -> list:
    """Files to read about a run that did not complete: its last LAMMPS log and screen
    output, and the stdout/stderr of the SLURM job that last took it."""
    if cls in ("completed", "running", "queued", "new"):
        return []
    rd = run.rundir
    n = int(rd.status.get("pieces", 0))
    files = [f for f in (rd.piece(n - 1)["log"], rd.piece(n - 1)["screen"]) if f.is_file()] \
        if n else []
    job = claim.get("job_id")
    if job and claim.get("executor") == "slurm":
        from ionmd.sweep.slurm import job_logs

        files += job_logs(campaign, job)
    return files


def select(runs: list[PlannedRun], jobs: dict[str, str] | None, retry_failed: bool
           ) -> tuple[list[PlannedRun], Counter, list[str], list[PlannedRun]]:
    """Runs to hand out now; counts per class; failed runs left alone; the runs classed
    :data:`~ionmd.sweep.state.DAMAGED` (left alone)."""
    todo, counts, failed, damaged = [], Counter(), [], []
    for run in runs:
        cls = classify(run.rundir, jobs)
        counts[cls] += 1
        if cls in TODO:
            todo.append(run)
        elif cls == "running" and running_here(run.rundir.status) and _submitter_gone(run, jobs):
            todo.append(run)        # its LAMMPS outlived a dead local submitter: wait for it
        elif cls == "failed-error":
            if retry_failed:
                todo.append(run)        # reset by submit once every check passed
            else:
                failed.append(str(run.path))
        elif cls == DAMAGED:
            damaged.append(run)
    return todo, counts, failed, damaged


def _submitter_gone(run: PlannedRun, jobs: dict[str, str] | None) -> bool:
    """Whether no live job holds the claim of a run whose LAMMPS runs on this host (to be
    claimed and waited for). A claim that cannot be read is no such claim: the run is
    ``running`` (its LAMMPS holds its lock) and left alone, its claim kept as it is
    (``damaged`` once the LAMMPS ended); before, its refusal stopped the submission of
    every run."""
    try:
        claim = read_claim(run.rundir)
    except IonmdError:
        return False
    return not claim_active(claim, jobs)


def check_run_json_edits_of(runs: list[PlannedRun]) -> None:
    """Refuse to hand out ``runs`` where a run folder's ``run.json`` holds an edit its
    analysis could not use (:func:`ionmd.protocols.run_json_edits.run_json_edit_problems`):
    before any is claimed, reset or submitted, every bad run in one message. Each worker
    checks again at launch; without this a SLURM job's error said it, run by run, after
    the queue wait.

    Raises
    ------
    IonmdError
        Naming each bad run.json, key and value, and what to write instead.
    """
    from ionmd.protocols.run_json_edits import run_json_edit_problems

    problems = []
    for run in runs:
        try:
            problems += run_json_edit_problems(run.rundir)
        except IonmdError as exc:           # run.json that is no JSON: said the same way
            problems.append(str(exc))
    if problems:
        raise IonmdError(f"{len(problems)} run.json edit(s) the analysis could not use:\n  "
                         + "\n  ".join(problems)
                         + "\nnothing was claimed, reset or submitted; fix them and submit "
                           "again")


def _with_job(job_id: str):
    """The change :func:`submit` makes to a claim once SLURM has named the task holding it
    (:func:`ionmd.sweep.state.update_claim`, under the claim's lock): its ``job_id`` set,
    the rest kept. A task may have started before (sbatch returned, the claims not yet
    updated) and written the claim already: its ``ran`` is kept, and where it let the run
    go (its setup failed: ``error``; or it ended and handed the run back: ``ran`` names the
    job it ran under) the claim stays let go of, the job id only recorded in ``ran``.
    Before, the claim was written whole again: the task's record was lost, and a run whose
    setup failed read ``queued`` under a job already gone (its error unsaid)."""
    def change(claim: dict) -> dict:
        ran = claim.get("ran")
        if claim.get("error") or (isinstance(ran, dict) and "job_id" in ran):
            return {**claim, "ran": {**ran, "job_id": ran.get("job_id") or job_id}
                    if isinstance(ran, dict) else {"job_id": job_id}}
        return {**claim, "job_id": job_id}
    return change


def submit(campaign: Campaign, retry_failed: bool = False, progress: bool = True) -> Submission:
    """Create missing run directories, claim what is left and run it (local: here, until
    done) or submit it (SLURM: one job array, returns at once)."""
    kind = campaign.executor["kind"]
    queue_readable(campaign)
    with submit_lock(campaign):
        runs = plan_campaign(campaign, create=True, retry_failed=retry_failed)
        jobs = scheduler_jobs(campaign)
        todo, counts, failed, damaged = select(runs, jobs, retry_failed)
        todo = [run for run in todo if str(run.path) not in _LEFT_ALONE.get()]
        sub = Submission(before=counts, skipped_failed=failed)
        # left alone, said: the others are handed out (those classed damaged: a finished
        # run's unreadable claim is no damage, its result stands)
        sub.damaged = [f"{run.path}: {run_damage(run.rundir)}" for run in damaged]
        if not todo:
            return sub
        check_run_json_edits_of(todo)
        for run in todo:
            if classify(run.rundir, jobs) == "failed-error":
                run.rundir.reset()          # --retry-failed: from scratch
        token = new_token()
        for run in todo:     # claim before starting: a job that finds another token skips
            write_claim(run.rundir, token, kind, local_job_id() if kind == "local" else None)
        paths = [str(run.path) for run in todo]
        sub.submitted = paths
        if kind == "slurm":
            from ionmd.sweep.slurm import submit_slurm

            by_path = {str(run.path): run for run in todo}
            for group, job_id in submit_slurm(campaign, paths, token):
                sub.jobs.append(job_id)
                for p in group:
                    update_claim(by_path[p].rundir.path, token, _with_job(job_id))
            return sub
    from ionmd.sweep.local import run_local

    sub.jobs = [local_job_id()]
    sub.results = run_local(campaign, paths, token, progress=progress)
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
