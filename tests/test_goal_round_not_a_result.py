"""A goal round whose collect fit exists but is NOT A RESULT (Ea <= 0, ...) says so: its
line said 'no fit yet' (SeriesRound.line: a factor of None read as no fit), and an unpriced
option beside such a fit said 'unpriced (no fit yet)' under 'NOT A RESULT: ...'."""

from __future__ import annotations

from ionmd.sweep.allocate import TemperatureRun, next_step

from test_goal_fit_problem import Q, falling, runs


def _run(T: float, failed: str = "") -> TemperatureRun:
    D = falling(T)          # falls as T rises: collect's fit has Ea < 0
    return TemperatureRun(T, 10.0, D, (D * (1 - 0.02 * Q), D * (1 + 0.02 * Q)),
                          cost_per_ps=1e-3, quantile=Q, key=f"T{T:g}", failed=failed)


def test_unpriced_options_beside_a_fit_that_is_no_result_do_not_say_no_fit():
    """600 K clear, 800 K melted: collect fits both points (Ea < 0), the planner has one
    clear temperature, so its options are unpriced."""
    d = next_step([_run(600.0), _run(800.0, failed="melted")], step_ps=1.0,
                  candidates_K=(650.0, 700.0), budget_left=1.0)
    assert d.fit_problem and "not positive" in d.fit_problem        # a fit, no result
    text = d.describe()
    assert text.startswith("NOT A RESULT")
    assert "no fit yet" not in text                                  # before: on each option
    assert "unpriced (collect's fit is NOT A RESULT" in d.choice.describe(d.fit_problem)
    # with no fit at all (one temperature), still 'no fit yet'
    lone = next_step([_run(600.0)], step_ps=1.0, candidates_K=(650.0,), budget_left=1.0)
    assert lone.fit_problem is None and lone.choice.describe().endswith("(no fit yet)")


def test_the_goal_rounds_line_says_not_a_result(tmp_path, morse, monkeypatch):
    """advance_series over three clear runs with Ea < 0 (test_goal_fit_problem's): the
    round's printed line names the fit as no result, its reason once; then a round
    waiting on an open run still says so (from the last round's record)."""
    import ionmd.sweep.goal as goal_mod
    from ionmd.sweep import load_campaign
    from ionmd.sweep.plan import plan_campaign
    from sweep_setup import campaign_dir, patch_classify, write_campaign

    goal = 'goal = {sigma_300K_factor = 2, budget = "100 h", step = "1ps"}'
    c = load_campaign(write_campaign(campaign_dir(tmp_path / "c", morse),
                                     temperatures=(600, 700, 800), extra=goal))
    plan_campaign(c, create=True)
    by_T = {r.temperature_K: r for r in runs()}

    def measured(campaign, planned):
        return [TemperatureRun(by_T[float(p.temperature)].temperature_K, 10.0,
                               by_T[float(p.temperature)].D, by_T[float(p.temperature)].D_ci95,
                               cost_per_ps=1e-3, quantile=Q, key=p) for p in planned], 0.0

    monkeypatch.setattr(goal_mod, "measure", measured)
    patch_classify(monkeypatch, lambda rd, jobs=None: "completed")
    result = goal_mod.advance_series(c, "fcc", "morse")
    line = result.line(100.0, "h")
    assert result.factor is None and "no fit yet" not in line, line     # before: no fit yet
    assert "fitted, NOT A RESULT" in line and line.count("not positive") == 1
    patch_classify(monkeypatch, lambda rd, jobs=None: "running")
    waiting = goal_mod.advance_series(c, "fcc", "morse")
    assert waiting.state == "waiting"
    line = waiting.line(100.0, "h")
    assert "no fit yet" not in line and "NOT A RESULT: the Arrhenius fit" in line, line
