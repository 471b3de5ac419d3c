"""A goal series stopped as ``no_fit`` (its runs gave fewer than two temperatures) was
stopped for good: goal.json kept ``stopped: no_fit`` and every later round returned it
without looking at the runs, though a run.json edit analysed again, or a newer ionmd that
combines or extends what an older one left out, gives a fit; the budget stayed unspent
until goal.json was edited by hand. Now such a series is looked at again each round.

Reference: the goal's own round on the same runs without the earlier stop."""

from __future__ import annotations

import numpy as np
from scipy.stats import t as student_t

from ionmd.sweep.allocate import TemperatureRun

Q = float(student_t.ppf(0.975, 7))
KB_EV = 8.617333262e-5


def test_a_series_without_a_fit_is_looked_at_again(tmp_path, morse, monkeypatch):
    import ionmd.sweep.goal as goal_mod
    from ionmd.sweep import load_campaign
    from ionmd.sweep.plan import plan_campaign
    from sweep_setup import campaign_dir, patch_classify, write_campaign

    goal = ('goal = {temperatures = [600, 1000], sigma_300K_factor = 2, budget = "100 h", '
            'step = "1ps"}')
    c = load_campaign(write_campaign(campaign_dir(tmp_path / "c", morse),
                                     temperatures=(600, 1000), extra=goal))
    plan_campaign(c, create=True)
    diffused = {600.0: False}

    def measured(campaign, runs):
        out = []
        for run in runs:
            D = 1e-4 * np.exp(-0.4 / (KB_EV * run.temperature))
            if run.temperature < 700 and not diffused[600.0]:
                D = -5 * 0.1 * D                # below zero beyond its scatter: left out
            se = 0.1 * abs(D)
            out.append(TemperatureRun(run.temperature, 0.4, D, (max(D - Q * se, 0.0),
                                                                D + Q * se),
                                      cost_per_ps=1e-3, quantile=Q, key=run))
        return out, 0.0

    monkeypatch.setattr(goal_mod, "measure", measured)
    patch_classify(monkeypatch, lambda rd, jobs=None: "completed")
    assert goal_mod.advance_series(c, "fcc", "morse").state == "no_fit"
    (series,) = goal_mod.read_goal_state(c)["series"].values()
    assert series["stopped"] == "no_fit"
    assert "fcc/morse: no_fit, no round yet" in goal_mod.goal_summary(c)[1]   # was: no round yet

    diffused[600.0] = True                      # e.g. analysed again after a run.json edit
    result = goal_mod.advance_series(c, "fcc", "morse")
    assert result.state == "extended", result   # before: "no_fit", nothing analysed
    assert result.factor is not None and result.factor > 1
    (series,) = goal_mod.read_goal_state(c)["series"].values()
    assert "stopped" not in series and len(series["rounds"]) == 1
