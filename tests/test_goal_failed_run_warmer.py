"""A failed run gives no information on how ions move at its temperature. Before, the
allocator read a failed hot run without a point as a temperature whose ions barely move:
the new run it starts with too few temperatures for a fit had to be warmer than it, no
candidate was, and the series stopped as ``no_fit`` with its candidates untried; a run
that crashed (never measured) left one fitted temperature, which was refused the same
way. Now the coldest candidate warmer than the fitted temperature is started, and the
option says why."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import t as student_t

from ionmd.errors import AnalysisError
from ionmd.sweep.allocate import TemperatureRun, next_step

Q = float(student_t.ppf(0.975, 7))          # 8 ions
KB_EV = 8.617333262e-5
CANDIDATES = tuple(float(t) for t in range(650, 1000, 50))     # every 50 K, as a goal's


def D_of(T: float) -> float:
    return 1e-4 * np.exp(-0.4 / (KB_EV * T))


def run(T: float, D: float, se: float, key, failed: str = "") -> TemperatureRun:
    return TemperatureRun(T, 0.4, D, (D - Q * se, D + Q * se), cost_per_ps=1e-3,
                          quantile=Q, key=key, **({"failed": failed} if failed else {}))


def test_a_failed_hot_run_without_a_point_does_not_block_the_warmer_candidates():
    clear = run(600.0, D_of(600.0), 0.05 * D_of(600.0), "T600")
    se = 0.1 * D_of(1000.0)
    hot = dict(T=1000.0, D=-4.0 * se, se=se, key="T1000")   # below zero beyond its scatter
    # not failed: its ions did not move there, nothing warmer to try: refused as before
    with pytest.raises(AnalysisError):
        next_step([clear, run(**hot)], step_ps=1.0, candidates_K=CANDIDATES, budget_left=1.0)
    d = next_step([clear, run(**hot, failed="failed: melted")], step_ps=1.0,
                  candidates_K=CANDIDATES, budget_left=1.0)
    assert (d.choice.action, d.choice.temperature_K) == ("new", 650.0)     # before: raised
    assert d.fit is None and d.reported_factor == np.inf
    text = d.choice.describe()
    assert "warmer than 600 K" in text and "failed runs at 1000 K" in text


def test_a_crashed_run_leaves_one_temperature_and_a_new_one_is_started(tmp_path, morse,
                                                                       monkeypatch):
    """The goal's round: the 1000 K run ended as failed-physical (never measured), the
    600 K one is clear. Before: the series stopped as 'no_fit' (one temperature)."""
    import ionmd.sweep.goal as goal_mod
    from ionmd.sweep import load_campaign
    from ionmd.sweep.plan import plan_campaign
    from sweep_setup import campaign_dir, patch_classify, write_campaign

    goal = 'goal = {sigma_300K_factor = 2, budget = "100 h", step = "1ps"}'
    c = load_campaign(write_campaign(campaign_dir(tmp_path / "c", morse),
                                     temperatures=(600, 1000), extra=goal))
    plan_campaign(c, create=True)

    def measured(campaign, runs):
        return [run(r.temperature, D_of(r.temperature), 0.05 * D_of(r.temperature), r)
                for r in runs if r.temperature < 700], 0.0

    monkeypatch.setattr(goal_mod, "measure", measured)
    patch_classify(monkeypatch, lambda rd, jobs=None:
                   "failed-physical" if "T1000" in str(rd.path) else "completed")
    result = goal_mod.advance_series(c, "fcc", "morse")
    assert result.state == "added", result                  # before: no_fit
    assert result.detail.startswith("a run at 650 K of ")
    assert "the one temperature fitted" in result.detail
