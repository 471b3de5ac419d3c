"""A fit that means nothing never meets the goal. Before, the goal read only the width of
collect's 300 K interval (``reported_factor``): runs whose D falls with temperature (Ea <= 0,
no Arrhenius law seen) gave a narrow interval and the series stopped as ``goal_met``.

A goal round whose collect fit exists but is NOT A RESULT (Ea <= 0, ...) says so: its
line said 'no fit yet' (SeriesRound.line: a factor of None read as no fit), and an unpriced
option beside such a fit said 'unpriced (no fit yet)' under 'NOT A RESULT: ...'."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import t as student_t

from ionmd.sweep.allocate import TemperatureRun, next_step, spend_budget

Q = float(student_t.ppf(0.975, 7))          # 8 ions
KB_EV = 8.617333262e-5
TEMPS = (600.0, 700.0, 800.0)


def falling(T: float) -> float:
    """A D that falls as T rises (Ea = -0.05 eV): no thermally activated law."""
    return 1e-4 * np.exp(0.05 / (KB_EV * T))


def run_at(T: float, **kwargs) -> TemperatureRun:
    """10 ps at ``T`` of the :func:`falling` D, its interval +-2 % x Q."""
    D = falling(T)
    return TemperatureRun(T, 10.0, D, (D * (1 - 0.02 * Q), D * (1 + 0.02 * Q)),
                          cost_per_ps=1e-3, quantile=Q, key=f"T{T:g}", **kwargs)


def runs(flags=()):
    return [run_at(T, **({"flags": list(flags)} if flags else {})) for T in TEMPS]


@pytest.fixture
def falling_campaign(tmp_path, morse, monkeypatch):
    """A goal campaign at TEMPS whose runs, planned and completed, measure :func:`runs`
    (three clear runs with Ea < 0 and a 1.05 interval factor)."""
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
        out = []
        for p in planned:
            r = by_T[float(p.temperature)]
            out.append(TemperatureRun(r.temperature_K, r.time_ps, r.D, r.D_ci95,
                                      cost_per_ps=1e-3, quantile=Q, key=p))
        return out, 0.0

    monkeypatch.setattr(goal_mod, "measure", measured)
    patch_classify(monkeypatch, lambda rd, jobs=None: "completed")
    return c


def test_a_narrow_interval_with_ea_not_positive_does_not_meet_the_goal():
    d = next_step(runs(), step_ps=1.0, candidates_K=(650.0, 750.0), budget_left=1.0)
    assert d.fit.Ea_eV < 0 and d.reported_factor < 1.5      # narrow: met on the old code
    assert d.fit_problem and "Ea = " in d.fit_problem and "not positive" in d.fit_problem
    assert d.describe().startswith("NOT A RESULT: the Arrhenius fit means nothing")
    out = spend_budget(runs(), budget=0.01, step_ps=1.0, goal_factor=2.0,
                       candidates_K=(650.0, 750.0))
    assert out.stopped != "goal_met" and out.spent > 0          # before: goal_met, 0 spent


def test_every_temperature_flagged_not_diffusive_is_a_fit_problem():
    rising = [TemperatureRun(r.temperature_K, 10.0, 1e-4 * np.exp(-0.3 / (KB_EV * r.temperature_K)),
                             (0.0, 0.0), cost_per_ps=1e-3) for r in runs()]
    for r in rising:
        r.D_ci95 = (r.D * 0.95, r.D * 1.05)
        r.flags = ["too_few_hops"]
    d = next_step(rising, step_ps=1.0, budget_left=1.0)
    assert d.fit.Ea_eV > 0 and d.fit_problem and "not diffusive" in d.fit_problem
    rising[0].flags = []
    assert next_step(rising, step_ps=1.0, budget_left=1.0).fit_problem is None


def test_the_goal_round_does_not_stop_as_goal_met_and_says_why(falling_campaign):
    """advance_series: three clear runs with Ea < 0 and a 1.05 interval factor."""
    import ionmd.sweep.goal as goal_mod

    c = falling_campaign
    result = goal_mod.advance_series(c, "fcc", "morse")
    assert result.state != "goal_met", result               # before: goal_met
    assert result.factor is None
    assert "NOT A RESULT: the Arrhenius fit means nothing" in result.detail
    rounds = goal_mod.read_goal_state(c)["series"]["fcc/morse"]["rounds"]
    assert "not positive" in rounds[-1]["fit_problem"]


def test_unpriced_options_beside_a_fit_that_is_no_result_do_not_say_no_fit():
    """600 K clear, 800 K melted: collect fits both points (Ea < 0), the planner has one
    clear temperature, so its options are unpriced."""
    d = next_step([run_at(600.0), run_at(800.0, failed="melted")], step_ps=1.0,
                  candidates_K=(650.0, 700.0), budget_left=1.0)
    assert d.fit_problem and "not positive" in d.fit_problem        # a fit, no result
    text = d.describe()
    assert text.startswith("NOT A RESULT")
    assert "no fit yet" not in text                                  # before: on each option
    assert "unpriced (collect's fit is NOT A RESULT" in d.choice.describe(d.fit_problem)
    # with no fit at all (one temperature), still 'no fit yet'
    lone = next_step([run_at(600.0)], step_ps=1.0, candidates_K=(650.0,), budget_left=1.0)
    assert lone.fit_problem is None and lone.choice.describe().endswith("(no fit yet)")


def test_the_goal_rounds_line_says_not_a_result(falling_campaign, monkeypatch):
    """advance_series over three clear runs with Ea < 0: the round's printed line names the
    fit as no result, its reason once; then a round waiting on an open run still says so
    (from the last round's record)."""
    import ionmd.sweep.goal as goal_mod
    from sweep_setup import patch_classify

    c = falling_campaign
    result = goal_mod.advance_series(c, "fcc", "morse")
    line = result.line(100.0, "h")
    assert result.factor is None and "no fit yet" not in line, line     # before: no fit yet
    assert "fitted, NOT A RESULT" in line and line.count("not positive") == 1
    patch_classify(monkeypatch, lambda rd, jobs=None: "running")
    waiting = goal_mod.advance_series(c, "fcc", "morse")
    assert waiting.state == "waiting"
    line = waiting.line(100.0, "h")
    assert "no fit yet" not in line and "NOT A RESULT: the Arrhenius fit" in line, line
