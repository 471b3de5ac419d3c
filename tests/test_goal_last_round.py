"""A goal's budget ends with one step shortened to what it has left (docs/sweeps.md), not
with ever shorter rounds: a shortened piece costs less than the cost per ps it was priced
by, so each left budget, and an audit's goal (0.008 core-h, 1 ps steps) ran steps of 0.48,
0.14 and finally 0.015 ps (20 MD steps, a launch and an analysis; a SLURM job each). Now
the series stops as ``budget_spent`` once the shortened step has run, or at once where the
budget's rest buys less than a tenth of a step. Reference: the allocator's arithmetic on
stand-in runs (cost 1 h per ps, the budget spent set by the test), goal.json's rounds."""

from __future__ import annotations

import json

import numpy as np

import ionmd.sweep.goal as goal_mod
from ionmd.sweep import load_campaign
from ionmd.sweep.allocate import TemperatureRun
from ionmd.sweep.plan import plan_campaign
from sweep_setup import campaign_dir, patch_classify, write_campaign


def _series(tmp_path, morse, monkeypatch, spent: list[float], budget: str = "10 h"):
    """A campaign at 1000 and 1200 K whose goal (factor 1.01: never met, no new
    temperature) extends its runs; ``measure`` gives each run 10 ps of an Arrhenius D
    (30 % either way), 1 h per ps, and ``spent[-1]`` as the budget spent."""
    path = write_campaign(campaign_dir(tmp_path / "c", morse), temperatures=(1000, 1200),
                          extra=f'goal = {{sigma_300K_factor = 1.01, budget = "{budget}", '
                                f'step = "1ps"}}')
    c = load_campaign(path)
    plan_campaign(c, create=True)

    def measured(campaign, runs):
        out = []
        for run in runs:
            D = 1e-4 * np.exp(-0.3 / (8.617e-5 * run.temperature))
            out.append(TemperatureRun(run.temperature, 10.0, D, (D / 1.3, D * 1.3),
                                      cost_per_ps=1.0, max_time_ps=100.0, key=run))
        return out, spent[-1]

    monkeypatch.setattr(goal_mod, "measure", measured)
    patch_classify(monkeypatch, lambda rd, jobs=None: "completed")
    return path, c


def _rounds(c) -> list[dict]:
    return json.loads((c.output / "goal.json").read_text())["series"]["fcc/morse"]["rounds"]


def test_the_series_stops_once_the_shortened_step_has_run(tmp_path, morse, monkeypatch):
    spent = [8.5]
    path, c = _series(tmp_path, morse, monkeypatch, spent)
    first = goal_mod.advance_series(c, "fcc", "morse")
    assert first.state == "extended" and "by 1 ps" in first.detail, first    # 1.5 h left
    assert "last_step_of_budget" not in _rounds(c)[-1]
    spent.append(9.6)                   # 0.4 h left: a step of 0.4 ps, the budget's last
    second = goal_mod.advance_series(c, "fcc", "morse")
    assert second.state == "extended" and "by 0.4 ps" in second.detail, second
    spent.append(9.8)                   # the shorter piece cost less than priced
    third = goal_mod.advance_series(c, "fcc", "morse")
    # old: 'extended' by 0.2 ps, and so on in ever shorter rounds
    assert third.state == "budget_spent", third
    assert "shortened to the budget's rest has run (0.2 h left" in third.detail, third
    rounds = _rounds(c)
    assert len(rounds) == 3 and rounds[-1]["stopped"] == "budget_spent"
    assert rounds[1]["last_step_of_budget"] == 10.0 and "last_step_of_budget" not in rounds[0]
    assert "0.2 h left" in rounds[-1]["budget_over"]


def test_a_budget_raised_after_the_shortened_step_goes_on(tmp_path, morse, monkeypatch):
    spent = [9.6]
    path, c = _series(tmp_path, morse, monkeypatch, spent)
    assert goal_mod.advance_series(c, "fcc", "morse").state == "extended"
    assert _rounds(c)[-1]["last_step_of_budget"] == 10.0
    path.write_text(path.read_text().replace('"10 h"', '"20 h"'))
    c = load_campaign(path)
    spent.append(9.8)
    again = goal_mod.advance_series(c, "fcc", "morse")
    assert again.state == "extended" and "by 1 ps" in again.detail, again


def test_a_rest_under_a_tenth_of_a_step_is_not_spent(tmp_path, morse, monkeypatch):
    spent = [9.95]                      # 0.05 h left: 0.05 ps, a twentieth of a step
    path, c = _series(tmp_path, morse, monkeypatch, spent)
    steps = {r.path: r.rundir.planned_steps for r in plan_campaign(c)}
    result = goal_mod.advance_series(c, "fcc", "morse")
    # old: 'extended' by 0.05 ps (a round of a launch and an analysis for 50 MD steps)
    assert result.state == "budget_spent", result
    assert "buys 0.05 ps, less than 0.1 of a 1 ps step" in result.detail, result
    assert {r.path: r.rundir.planned_steps for r in plan_campaign(c)} == steps
