"""The goal's verdict is read off what ``collect`` reports, in the cases the earlier tests
missed (review R1):

* ``target_K`` other than 300 K: the goal's quantity is sigma(target_K), so the 4-decade
  span is checked there; Ea <= 0 and "every temperature not diffusive" do not depend on the
  temperature and always block. Where collect's 300 K extrapolation is NOT A RESULT, the
  goal says so beside its factor (before: goal_met with no word of it);
* a failed run without a point reaches the allocator: no new run at or above it, and
  where every run failed the colder candidates come first (before: a run was added above
  a melt, and two melted runs stopped the series as no_fit, its colder candidates untried);
* a failed run with a usable stretch is in collect's fit and so in the goal's verdict
  (before: "no fit yet", and runs were added to a goal collect already meets).

Collect itself is the reference: its interval, fit_problem and left-out reasons."""

from __future__ import annotations

import numpy as np
import pytest

from test_goal_collect_points import campaign_with, collected, results, wide_runs


def campaign_goal(tmp_path, morse, monkeypatch, temps, by_T, classes, goal: str):
    """A campaign at ``temps`` with ``goal``, each run's class and analysis given
    (collect's cache and classify patched), a cost per ps of 1e-3 from every run's logs."""
    return campaign_with(tmp_path, morse, monkeypatch, temps, by_T, classes, goal=goal)


def test_a_goal_at_620K_is_met_there_and_says_the_300K_extrapolation_is_no_result(
        tmp_path, morse, monkeypatch):
    import ionmd.sweep.goal as goal_mod

    temps = (600.0, 650.0)
    c, _ = campaign_goal(tmp_path, morse, monkeypatch, temps, wide_runs(),
                         dict.fromkeys(temps, "completed"),
                         'sigma_300K_factor = 10, budget = "100 h", step = "1ps", '
                         'target_K = 620')
    doc = collected(c)
    (srec,) = doc["structures"].values()
    lo, hi = doc["arrhenius"]["fcc/morse"]["sigma_T"]["extrapolated_ci95"]
    span = np.log10(hi / lo)
    assert span > 4 and "decades" in srec["fit_problem"]       # collect: NOT A RESULT
    r = goal_mod.advance_series(c, "fcc", "morse")
    # sigma(620 K), between the runs, is known: the goal is met there...
    assert r.state == "goal_met" and r.factor is not None and r.factor <= 10
    assert r.factor < np.sqrt(hi / lo)          # narrower than the 300 K interval
    assert r.line(100, "h").startswith(f"fcc/morse: goal_met: sigma(620 K) within a factor "
                                       f"{r.factor:.3g}")
    # ... and the report says what collect prints at 300 K, in its numbers and unit
    # (before: nothing of it)
    said = (f"sigma(620 K) known within a factor {r.factor:.3g}; the 300 K extrapolation is "
            f"not a result: its 95 % interval at 300 K, [{lo:.3g}, {hi:.3g}] mS/cm, spans "
            f"{span:.3g} decades")
    assert said in r.detail, r.detail
    (last,) = goal_mod.read_goal_state(c)["series"]["fcc/morse"]["rounds"]
    assert last["stopped"] == "goal_met" and f"{span:.3g} decades" in last["not_a_result_300K"]
    (line,) = [x for x in goal_mod.goal_summary(c) if "fcc/morse" in x]
    assert "the 300 K extrapolation is not a result" in line and "sigma(620 K)" in line


def test_at_620K_a_fit_with_Ea_below_zero_still_never_meets_the_goal(tmp_path, morse,
                                                                     monkeypatch):
    # D falling with temperature (Ea < 0), narrow: no Arrhenius law at any temperature
    import ionmd.sweep.goal as goal_mod

    temps = (600.0, 650.0)
    by_T = {600.0: results(600.0, D=2e-6, rel=0.01), 650.0: results(650.0, D=1e-6, rel=0.01)}
    c, _ = campaign_goal(tmp_path, morse, monkeypatch, temps, by_T,
                         dict.fromkeys(temps, "completed"),
                         'sigma_300K_factor = 10, budget = "100 h", step = "1ps", '
                         'target_K = 620')
    (srec,) = collected(c)["structures"].values()
    assert "not positive" in srec["fit_problem"]
    r = goal_mod.advance_series(c, "fcc", "morse")
    assert r.state != "goal_met" and r.factor is None
    assert "NOT A RESULT" in r.detail and "not positive" in r.detail


def test_a_run_that_melted_without_a_point_bounds_the_new_runs(tmp_path, morse, monkeypatch):
    """600 K completed, 700 K melted before a usable stretch, the one candidate 800 K.
    Before: the goal added a run at 800 K, above the melt."""
    import ionmd.sweep.goal as goal_mod

    temps = (600.0, 700.0)
    by_T = {600.0: results(600.0), 700.0: results(700.0, failed="framework_melting",
                                                   point=False)}
    c, runs = campaign_goal(tmp_path, morse, monkeypatch, temps, by_T,
                            {600.0: "completed", 700.0: "failed-physical"},
                            'sigma_300K_factor = 3, budget = "100 h", step = "1ps", '
                            'temperatures = "800"')
    row = {r["temperature_K"]: r for r in collected(c)["rows"]}
    assert row[700.0]["failure_modes"] == ["framework_melting"]     # collect: it failed
    measured, _ = goal_mod.measure(c, runs)
    assert {m.temperature_K: m.failed for m in measured} == {
        600.0: "", 700.0: "failed: framework_melting"}        # before: 600 K only
    r = goal_mod.advance_series(c, "fcc", "morse")
    assert r.state == "no_fit" and "800" not in r.detail.split("; left out")[0], r.detail
    assert "framework_melting" in r.detail
    assert not any(float(x.temperature) == 800.0 for x in goal_mod._series_runs(c, "fcc",
                                                                                "morse"))


def test_where_every_run_melted_the_colder_candidates_come_first(tmp_path, morse,
                                                                 monkeypatch):
    """600 and 700 K both melted without a point, candidates 450 and 500 K. Before: no_fit,
    the colder runs never tried."""
    import ionmd.sweep.goal as goal_mod

    temps = (600.0, 700.0)
    by_T = {T: results(T, failed="framework_melting", point=False) for T in temps}
    c, _ = campaign_goal(tmp_path, morse, monkeypatch, temps, by_T,
                         dict.fromkeys(temps, "failed-physical"),
                         'sigma_300K_factor = 3, budget = "100 h", step = "1ps", '
                         'temperatures = "450 500"')
    r = goal_mod.advance_series(c, "fcc", "morse")
    assert r.state == "added" and r.detail.startswith("a run at 500 K"), r.detail
    assert "colder than 600 K" in r.detail


def test_a_failed_run_with_a_point_meets_the_goal_as_collect_reports_it(tmp_path, morse,
                                                                        monkeypatch):
    """600 K completed, 700 K melted after a usable stretch: collect fits both and reports
    sigma(300 K) within 1.26, no problem. Before: the goal said "no fit yet" (its model
    leaves failed points out) and added runs to a goal of 50 already met."""
    import ionmd.sweep.goal as goal_mod

    temps = (600.0, 700.0)
    by_T = {600.0: results(600.0, rel=0.01),
            700.0: results(700.0, rel=0.01, failed="framework_melting")}
    c, _ = campaign_goal(tmp_path, morse, monkeypatch, temps, by_T,
                         {600.0: "completed", 700.0: "failed-physical"},
                         'sigma_300K_factor = 50, budget = "100 h", step = "1ps"')
    fit = collected(c)["arrhenius"]["fcc/morse"]["sigma_T"]
    lo, hi = fit["extrapolated_ci95"]
    assert not fit.get("fit_problem") and len(fit["runs"]) == 2
    r = goal_mod.advance_series(c, "fcc", "morse")
    assert r.state == "goal_met", r                     # before: added (no fit yet)
    assert r.factor == pytest.approx(np.sqrt(hi / lo), rel=1e-9)    # collect's interval
    assert not any(float(x.temperature) not in temps
                   for x in goal_mod._series_runs(c, "fcc", "morse"))
