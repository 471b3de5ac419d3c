"""A goal campaign's ``submit --wait`` stopped at the first round that found a series waiting
on a run whose job had died before starting it (the run left ``pending``): "waiting ... 1
run(s) to finish first", though nothing would ever run it. Now the rounds hand such a run
out again (``run_round``: the CLI's ``submit`` + wait), at most ``HAND_OUT_AGAIN`` times,
and then stop, naming the runs and why.

The goal's own analysis is replaced by a stand-in (``measure``), and the run states by what
a dead job leaves (``classify``): what is checked is what the rounds do with such runs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import t as student_t

from ionmd.sweep.allocate import TemperatureRun

Q = float(student_t.ppf(0.975, 7))
KB_EV = 8.617333262e-5
GOAL = ('goal = {temperatures = [600, 1000], sigma_300K_factor = 2, budget = "100 h", '
        'step = "1ps"}')


@pytest.fixture
def goal_campaign(tmp_path, morse, monkeypatch):
    """A goal campaign of two runs, written (pending), with the run states in ``states``
    (what ``classify`` says) and a measured budget of 0 until they completed, then all of
    it (the goal stops as budget_spent)."""
    import ionmd.sweep.collect  # noqa: F401  imported before classify is patched: a module
    import ionmd.sweep.submit  # noqa: F401   first imported under the patch kept the lambda
    import ionmd.sweep.goal as goal_mod
    import ionmd.sweep.state as state_mod
    from ionmd.sweep import load_campaign
    from ionmd.sweep.plan import plan_campaign
    from sweep_setup import campaign_dir, write_campaign

    c = load_campaign(write_campaign(campaign_dir(tmp_path / "c", morse),
                                     temperatures=(600, 1000), extra=GOAL))
    runs = plan_campaign(c, create=True)
    states = {str(r.path): "pending" for r in runs}

    def measured(campaign, runs):
        out = []
        for run in runs:
            D = 1e-4 * np.exp(-0.4 / (KB_EV * run.temperature))
            se = 0.1 * D
            out.append(TemperatureRun(run.temperature, 0.4, D, (D - Q * se, D + Q * se),
                                      cost_per_ps=1e-3, quantile=Q, key=run))
        done = all(s == "completed" for s in states.values())
        return out, (1e9 if done else 0.0)

    monkeypatch.setattr(goal_mod, "measure", measured)
    monkeypatch.setattr(state_mod, "classify", lambda rd, jobs=None: states[str(rd.path)])
    return c, runs, states


def test_a_run_left_pending_is_handed_out_again_and_the_goal_goes_on(goal_campaign):
    from ionmd.sweep.goal import pursue

    c, runs, states = goal_campaign
    calls = []

    def run_round():            # the job it submits runs them this time
        calls.append(dict(states))
        states.update({p: "completed" for p in states})
        return True

    rounds = [r for rs in pursue(c, run_round) for r in rs]
    assert len(calls) == 1                          # before: 0 (stopped at "waiting")
    assert [r.state for r in rounds] == ["waiting", "budget_spent"]


def test_handed_out_a_bounded_number_of_times_then_stops_naming_the_runs(goal_campaign):
    from ionmd.sweep.goal import HAND_OUT_AGAIN, pursue

    c, runs, states = goal_campaign
    states[str(runs[0].path)] = "completed"        # one run done, one its jobs never start
    dead = str(runs[1].path)
    calls = []

    def run_round():
        calls.append(1)
        return True

    all_rounds = list(pursue(c, run_round))
    assert len(calls) == HAND_OUT_AGAIN == 2        # before: 0
    assert len(all_rounds) == HAND_OUT_AGAIN + 1
    (last,) = all_rounds[-1]
    assert last.state == "waiting"
    assert "stopped waiting" in last.detail and dead in last.detail
    assert str(runs[0].path) not in last.detail
    assert "ionmd sweep status" in last.detail


def test_runs_a_live_job_holds_are_not_handed_out_again(goal_campaign):
    """SLURM without --wait: the runs just submitted are queued; the round waits for them
    and leaves them to the queue (run_round is never asked)."""
    from ionmd.sweep.goal import pursue

    c, runs, states = goal_campaign
    states.update({p: "queued" for p in states})
    calls = []
    rounds = [r for rs in pursue(c, lambda: calls.append(1) or True) for r in rs]
    assert calls == [] and [r.state for r in rounds] == ["waiting"]
