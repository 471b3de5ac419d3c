"""A goal whose series has one usable temperature and whose campaign's ``max_runs`` withholds
every new one stops as ``run_limit`` saying so (not as ``no_fit`` with the Arrhenius fit's
"needs >= 2 distinct temperatures" alone, which never named max_runs: review RV9), and
``sweep status`` says what to raise. Without the bound the same round adds the run (the
reference: what the goal does when nothing withholds it)."""

from __future__ import annotations

import numpy as np

import ionmd.sweep.goal as goal_mod
from ionmd.sweep import load_campaign
from ionmd.sweep.allocate import TemperatureRun
from ionmd.sweep.goal_state import goal_summary
from ionmd.sweep.plan import plan_campaign
from sweep_setup import campaign_dir, patch_classify, write_campaign

GOAL = ('goal = {sigma_300K_factor = 1.01, budget = "100 h", step = "1ps", '
        'temperatures = "1200"}')


def _only_1000K(campaign, runs):
    """A usable point at 1000 K only (the 1100 K run gave no D)."""
    out = []
    for run in runs:
        if run.temperature == 1000:
            D = 1e-4 * np.exp(-0.3 / (8.617e-5 * run.temperature))
            out.append(TemperatureRun(run.temperature, 10.0, D, (D / 1.3, D * 1.3),
                                      cost_per_ps=1.0, max_time_ps=10.0, key=run))
    return out, 0.0


def _series(tmp_path, morse, monkeypatch, bound):
    path = write_campaign(campaign_dir(tmp_path / "c", morse), temperatures=(1000, 1100),
                          extra=GOAL)
    if bound:
        path.write_text(f"max_runs = {bound}\n" + path.read_text())
    c = load_campaign(path)
    plan_campaign(c, create=True)
    monkeypatch.setattr(goal_mod, "measure", _only_1000K)
    patch_classify(monkeypatch, lambda rd, jobs=None: "completed")
    return c, goal_mod.advance_series(c, "fcc", "morse")


def test_max_runs_that_withholds_the_only_way_on_is_said(tmp_path, morse, monkeypatch):
    c, result = _series(tmp_path, morse, monkeypatch, 2)
    assert result.state == goal_mod.RUN_LIMIT, result
    assert "max_runs = 3 or more" in result.detail, result.detail
    (line,) = [x for x in goal_summary(c) if "fcc/morse" in x]
    assert "run_limit" in line and "max_runs = 3 or more" in line, line


def test_without_the_bound_the_round_adds_the_run(tmp_path, morse, monkeypatch):
    _, result = _series(tmp_path, morse, monkeypatch, None)
    assert result.state == "added", result


def test_a_series_held_at_the_bound_adds_one_round_not_one_per_submit(tmp_path, morse,
                                                                      monkeypatch):
    """Looked at again each submit, a series held at max_runs records its round once (a
    round per look buried the one before it: review RV10)."""
    c, _ = _series(tmp_path, morse, monkeypatch, 2)
    for _ in range(2):
        result = goal_mod.advance_series(c, "fcc", "morse")
        assert result.state == goal_mod.RUN_LIMIT, result
    rounds = goal_mod.read_goal_state(c)["series"]["fcc/morse"]["rounds"]
    assert len(rounds) == 1, rounds


def test_a_spent_budget_is_no_reason_to_raise_max_runs(tmp_path, morse, monkeypatch):
    path = write_campaign(campaign_dir(tmp_path / "c", morse), temperatures=(1000, 1100),
                          extra=GOAL.replace('"100 h"', '"1e-9 h"'))
    path.write_text("max_runs = 2\n" + path.read_text())
    c = load_campaign(path)
    plan_campaign(c, create=True)

    def spent_all(campaign, runs):
        measured, _ = _only_1000K(campaign, runs)
        return measured, 1.0

    monkeypatch.setattr(goal_mod, "measure", spent_all)
    patch_classify(monkeypatch, lambda rd, jobs=None: "completed")
    result = goal_mod.advance_series(c, "fcc", "morse")
    assert result.state != goal_mod.RUN_LIMIT and "max_runs" not in result.detail, result
