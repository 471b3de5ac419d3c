"""A goal is not met on a fitted point its own checks flag not diffusive. Before, only a
fit whose every temperature was flagged was marked (arrhenius_problems.fit_problem), and an
audit's goal (factor 3) stopped as goal_met at factor 2.97 on a 900 K point flagged
fit_start_not_diffusive, 2.8x its value from a later fit start. The runs' analyses are
stand-ins (tests/test_goal_collect_points.py's: an Arrhenius law, Student t intervals), the
reference collect's own fit of them."""

from __future__ import annotations

import json

import pytest

from test_goal_collect_points import campaign_with, collected, results

TEMPS = (600.0, 700.0, 800.0)
FLAG = "fit_start_not_diffusive"


def setup(tmp_path, morse, monkeypatch, flagged: bool, goal: str | None = None):
    by_T = {T: results(T, rel=0.02, flags=[FLAG] if flagged and T == 600.0 else [])
            for T in TEMPS}
    return campaign_with(tmp_path, morse, monkeypatch, TEMPS, by_T,
                         dict.fromkeys(TEMPS, "completed"), factor=2.0, goal=goal)


def test_the_factor_is_met_without_the_flag(tmp_path, morse, monkeypatch):
    """The control: the same runs unflagged meet the goal (collect's interval within 2)."""
    import ionmd.sweep.goal as goal_mod

    c, _ = setup(tmp_path, morse, monkeypatch, flagged=False)
    assert goal_mod.advance_series(c, "fcc", "morse").state == "goal_met"


def test_a_flagged_point_is_extended_not_met(tmp_path, morse, monkeypatch):
    import ionmd.sweep.goal as goal_mod

    c, runs = setup(tmp_path, morse, monkeypatch, flagged=True)
    doc = collected(c)
    fit = doc["arrhenius"]["fcc/morse"]["sigma_T"]
    lo, hi = fit["extrapolated_ci95"]
    assert (hi / lo) ** 0.5 < 2.0 and "fit_problem" not in fit     # the factor is met
    points = {p["temperature_K"]: p["flags"] for p in fit["points"]}
    assert points == {600.0: [FLAG], 700.0: [], 800.0: []}         # the fit says which
    (cold,) = [r for r in runs if r.temperature == 600.0]
    before = cold.rundir.planned_steps
    result = goal_mod.advance_series(c, "fcc", "morse")
    assert result.state == "extended", result                       # before: goal_met
    assert "T600K" in result.detail and FLAG in result.detail
    assert cold.rundir.planned_steps > before                       # the flagged run
    rnd = goal_mod.read_goal_state(c)["series"]["fcc/morse"]["rounds"][-1]
    assert rnd["flagged_points"][0].startswith(f"600 K ({FLAG}")


def test_the_budget_spent_first_says_which_points_are_flagged(tmp_path, morse, monkeypatch):
    import ionmd.sweep.goal as goal_mod

    c, _ = setup(tmp_path, morse, monkeypatch, flagged=True)
    measure = goal_mod.measure
    monkeypatch.setattr(goal_mod, "measure", lambda camp, r: (measure(camp, r)[0], 1e3))
    result = goal_mod.advance_series(c, "fcc", "morse")
    assert result.state == "budget_spent", result                   # before: goal_met
    assert f"600 K ({FLAG}" in result.detail and "T600K" in result.detail
    assert "flagged" in "\n".join(goal_mod.goal_summary(c))


def test_collect_at_the_goals_target_is_not_met_on_a_flagged_point(tmp_path, morse,
                                                                    monkeypatch):
    from ionmd.sweep.collect_target import target_line

    c, _ = setup(tmp_path, morse, monkeypatch, flagged=True,
                 goal='sigma_300K_factor = 2, budget = "100 h", step = "1ps", target_K = 650')
    record = json.loads(json.dumps(collected(c)["structures"]["fcc/morse"]["at_target_K"]))
    assert record["factor"] < 2 and record["fit_problem"] is None
    assert record["goal_met"] is False                              # before: True
    assert record["flagged_points"][0].startswith(f"600 K ({FLAG}")
    assert "not met yet: points flagged not diffusive" in target_line("fcc/morse", record)


if __name__ == "__main__":
    pytest.main([__file__])
