"""``ionmd sweep collect`` of a campaign whose goal has a ``target_K`` reports the goal's
quantity there too, with the goal's own numbers (one computation:
ionmd.sweep.allocate.verdict_at). Before, collect knew nothing of target_K: two runs at
600 and 650 K whose sigma(620 K) meets the goal printed only NOT A RESULT at 300 K.

References: the Arrhenius line through the two temperatures' points (two points, two
parameters: the fit passes through both whatever its weights), and the goal's verdict
(advance_series) on the same runs."""

from __future__ import annotations

import math

import pytest

from ionmd.cli import main
from test_goal_collect_points import campaign_with, collected, wide_runs

TEMPS = (600.0, 650.0)
GOAL_620 = 'sigma_300K_factor = 10, budget = "100 h", step = "1ps", target_K = 620'


def _through_both(by_T: dict, T: float) -> float:
    """sigma(T) on the Arrhenius line of sigma T through the two runs' points."""
    (t0, r0), (t1, r1) = sorted(by_T.items())
    y0, y1 = r0["conductivity"]["sigma"] * t0, r1["conductivity"]["sigma"] * t1
    slope = (math.log(y1) - math.log(y0)) / (1 / t1 - 1 / t0)
    return math.exp(math.log(y0) + slope * (1 / T - 1 / t0)) / T


def test_collect_reports_sigma_at_the_goals_target_as_the_goal_reads_it(
        tmp_path, morse, monkeypatch, capsys):
    import ionmd.sweep.goal as goal_mod

    by_T = wide_runs()
    c, _ = campaign_with(tmp_path, morse, monkeypatch, TEMPS, by_T,
                         dict.fromkeys(TEMPS, "completed"), goal=GOAL_620)
    (srec,) = collected(c)["structures"].values()
    assert "decades" in srec["fit_problem"]             # 300 K: NOT A RESULT, as before
    at = srec["at_target_K"]
    assert at["temperature_K"] == 620.0 and at["quantity"] == "sigma"
    assert at["unit"] == "mS/cm" and at["fit_problem"] is None
    assert at["value"] == pytest.approx(_through_both(by_T, 620.0), rel=1e-9)
    lo, hi = at["ci95"]
    assert lo < at["value"] < hi
    r = goal_mod.advance_series(c, "fcc", "morse")      # the goal's verdict, same runs
    assert r.state == "goal_met"
    assert at["factor"] == pytest.approx(r.factor, rel=1e-12) and at["goal_met"]
    assert at["factor"] == pytest.approx(math.sqrt(hi / lo), rel=1e-12)

    capsys.readouterr()
    assert main(["sweep", "collect", str(c.path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "fcc/morse sigma: NOT A RESULT" in out
    assert (f"fcc/morse sigma(620 K), the goal's target_K: {at['value']:.3g} mS/cm "
            f"[{lo:.3g}, {hi:.3g}], within a factor {r.factor:.3g} (goal 10: met)") in out


def test_a_goal_at_300K_adds_nothing_to_collects_own_sigma_300K(tmp_path, morse,
                                                                 monkeypatch):
    c, _ = campaign_with(tmp_path, morse, monkeypatch, TEMPS, wide_runs(),
                         dict.fromkeys(TEMPS, "completed"),
                         goal='sigma_300K_factor = 10, budget = "100 h", step = "1ps"')
    (srec,) = collected(c)["structures"].values()
    assert "at_target_K" not in srec
