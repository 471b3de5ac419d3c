"""A goal run whose setup fails before LAMMPS runs (the worker's error: a file it cannot
write, a runner it cannot start) fails the same way on every hand-out. Before, the local
submitter's claim stayed on the run (its submitter alive): the run read ``queued``, the
goal stopped at "waiting ... 1 run(s) to finish first" without the reason, and ``submit``'s
final wait never ended (on SLURM such runs were handed out ``HAND_OUT_AGAIN`` times before
the goal gave up). Now the worker records the error in the run's claim and lets go of it:
the run is ``pending``, and the goal's first round stops waiting on it, saying why.

The failing setup is a stand-in (the worker's ``execute`` raising what ``launch`` raises
before LAMMPS starts); the goal's analysis too (``measure``): what is checked is what the
worker, ``submit`` and the rounds do with such a run."""

from __future__ import annotations

import pytest

from ionmd.errors import IonmdError

GOAL = ('goal = {temperatures = [600, 1000], sigma_300K_factor = 2, budget = "100 h", '
        'step = "1ps"}')
WHY = "cannot write in.md.0 (stand-in setup failure)"


@pytest.fixture
def campaign(tmp_path, morse, monkeypatch):
    import ionmd.sweep.goal as goal_mod
    import ionmd.sweep.worker as worker_mod
    from ionmd.sweep import load_campaign
    from sweep_setup import campaign_dir, write_campaign

    def setup_fails(rd, **kw):
        raise IonmdError(WHY)

    def measured(campaign, runs):      # nothing completed: no point, nothing spent
        return [], 0.0

    monkeypatch.setattr(worker_mod, "execute", setup_fails)
    monkeypatch.setattr(goal_mod, "measure", measured)
    return load_campaign(write_campaign(campaign_dir(tmp_path / "c", morse),
                                        temperatures=(600, 1000), extra=GOAL))


def test_a_run_whose_setup_failed_is_said_at_once_with_the_reason(campaign):
    from ionmd.sweep.goal import pursue
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.state import classify
    from ionmd.sweep.submit import campaign_status, submit, wait

    sub = submit(campaign, progress=False)              # as `ionmd sweep submit` does first
    assert [r["error"] for r in sub.results] == [WHY, WHY]
    runs = plan_campaign(campaign)
    assert [classify(r.rundir) for r in runs] == ["pending", "pending"]   # before: queued
    counts = wait(campaign, poll_s=0.1, timeout_s=5.0, progress=False)
    assert counts["queued"] == 0                        # before: waited for ever

    calls = []
    all_rounds = list(pursue(campaign, lambda: calls.append(1) or True))
    assert calls == []                                  # not handed out again
    (last,) = all_rounds[-1]
    assert last.state == "waiting" and last.detail.startswith("stopped waiting: 2 run(s) whose "
                                                              "setup failed")
    for r in runs:
        assert f"{r.path}: its setup failed before LAMMPS ran: {WHY}" in last.detail
    notes = [row["note"] for row in campaign_status(campaign)]     # "sweep status says why"
    assert all(n.startswith("its setup failed before LAMMPS ran") and WHY in n for n in notes)


def test_the_next_claim_forgets_the_error(campaign, monkeypatch):
    """The error belongs to the hand-out that met it: once fixed, a new submit claims the
    run afresh (a goal then waits on it as on any run)."""
    import ionmd.sweep.worker as worker_mod
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.state import read_claim
    from ionmd.sweep.submit import setup_failure, submit

    submit(campaign, progress=False)
    runs = plan_campaign(campaign)
    assert all(setup_failure(campaign, r, "pending") for r in runs)
    monkeypatch.setattr(worker_mod, "execute", lambda rd, **kw: dict(rd.status))  # fixed
    submit(campaign, progress=False)
    assert not any(setup_failure(campaign, r, "completed") for r in runs)
    assert all("error" not in read_claim(r.rundir) for r in runs)
