"""Rounds of a goal until its series stop: :func:`pursue` drives
:func:`ionmd.sweep.goal.advance` round after round, handing out again the runs a job left
unfinished, and stops waiting on a series where that will not help (a failed setup, a run
handed out :data:`HAND_OUT_AGAIN` times) while the other series go on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ionmd.sweep.campaign import Campaign

if TYPE_CHECKING:       # goal imports this module (its names there): goal's read at call time
    from ionmd.sweep.goal import SeriesRound

HAND_OUT_AGAIN = 2
"""Times :func:`pursue` hands out again a run whose job left the queue without finishing
it (``submit --wait``). Once covers what passes (a node that never came up, a job
preempted before it started), twice one more; what ends a job before its run a third time
(a broken node or environment, scancel) will do so again: the goal stops waiting then,
naming the runs, instead of spending the queue on them. A run whose setup failed (its
worker's error before LAMMPS, a failed setup line of its job:
:func:`ionmd.sweep.submit.setup_failure`) is not handed out again at all: the goal says so
at once, with the reason."""


def pursue(campaign: Campaign, run_round, max_rounds: int = 1000):
    """Rounds until every series stopped (local executor: ``run_round`` runs what a round
    planned) or a round leaves only series waiting for runs elsewhere (SLURM: ``run_round``
    submits them, and the next ``submit`` goes on). A series waiting on runs that no job
    holds any more (a job that died before starting its run left it pending) has them
    handed out again by ``run_round`` (as ``submit`` hands them out), each up to
    :data:`HAND_OUT_AGAIN` times, a run whose setup failed not at all. Then the goal stops
    waiting on that series alone: its round says which runs and why, and its runs are
    left alone (:func:`ionmd.sweep.submit.leaving_alone`) while the other series go on
    (a setup that fails for one series, its model file, a run.json edit, need not for
    the others; one that fails for all stops them all in the same round). Yields each
    round's results."""
    from ionmd.sweep.goal import advance
    from ionmd.sweep.submit import leaving_alone, setup_failure

    handed = {}                     # run folder -> times handed out again here
    stopped = {}                    # series -> (given_up, failed) as _given_up takes them
    for _ in range(max_rounds):
        rounds = advance(campaign)
        stranded = _stranded_runs(campaign, rounds)
        newly = set()
        for key, runs in stranded.items():
            if key in stopped:
                continue
            failed = {str(r.path): why for r, cls in runs
                      if (why := setup_failure(campaign, r, cls))}
            given_up = [str(r.path) for r, _ in runs
                        if handed.get(str(r.path), 0) >= HAND_OUT_AGAIN]
            if failed or given_up:
                stopped[key] = (given_up, failed)
                newly.add(key)
        yield [_given_up(r, *stopped[r.series], said_before=r.series not in newly)
               if r.series in stopped and r.state == "waiting" else r for r in rounds]
        again = [str(r.path) for key, runs in stranded.items() if key not in stopped
                 for r, _ in runs]
        if not again and not any(r.state in ("extended", "added") for r in rounds):
            return
        for p in again:
            handed[p] = handed.get(p, 0) + 1
        with leaving_alone(str(r.path) for key in stopped for r, _ in stranded.get(key, [])):
            if not run_round():
                return


def _stranded_runs(campaign: Campaign, rounds: list[SeriesRound]) -> dict[str, list]:
    """Per waiting series, its runs that no job queues or runs and that did not end: left
    pending or interrupted by a job that left the queue (``submit`` hands them out
    again), each with its class. Empty where there are none or the queue cannot be
    read."""
    from ionmd.errors import IonmdError
    from ionmd.sweep.goal import _series_runs
    from ionmd.sweep.state import classify
    from ionmd.sweep.submit import scheduler_jobs

    waiting = {r.series for r in rounds if r.state == "waiting"}
    if not waiting:
        return {}
    try:
        jobs = scheduler_jobs(campaign)
    except IonmdError:
        return {}
    stranded = {}
    for s in campaign.structures:
        for m in campaign.models:
            key = f"{s.name}/{m.name}"
            classes = [(r, classify(r.rundir, jobs)) for r in _series_runs(
                campaign, s.name, m.name)] if key in waiting else []
            runs = [(r, cls) for r, cls in classes if cls in ("new", "pending", "interrupted")]
            if runs:
                stranded[key] = runs
    return stranded


def _given_up(r: SeriesRound, given_up: list[str], failed: dict[str, str],
              said_before: bool = False) -> SeriesRound:
    """``r`` saying which of its runs the goal stops waiting on: those whose setup failed
    (``failed``: run folder -> why), and those (``given_up``) handed out again
    :data:`HAND_OUT_AGAIN` times and still left unfinished by their jobs; in short in the
    rounds after the one that said it in full (``said_before``)."""
    from ionmd.sweep.goal import SeriesRound

    given_up = [p for p in given_up if p not in failed]
    if said_before:
        return SeriesRound(r.series, "waiting", r.factor, r.spent,
                           f"stopped waiting on {len(failed) + len(given_up)} run(s), said "
                           f"in an earlier round; `ionmd sweep status` says why", r.target_K,
                           r.fit_problem)
    said = []
    if failed:
        said.append(f"{len(failed)} run(s) whose setup failed, which a second try meets "
                    f"again: " + "; ".join(f"{p}: {why}" for p, why in failed.items()))
    if given_up:
        said.append(f"{len(given_up)} run(s) handed out again {HAND_OUT_AGAIN} times, each "
                    f"time left unfinished by a job that left the queue (a node or "
                    f"environment that fails, scancel): {', '.join(given_up)}")
    return SeriesRound(r.series, "waiting", r.factor, r.spent,
                       f"stopped waiting: {'; and '.join(said)}; `ionmd sweep status` says "
                       f"why; fix that and submit again", r.target_K, r.fit_problem)
