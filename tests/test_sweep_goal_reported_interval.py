"""A goal is met by the interval ``collect`` reports. Since 366244d collect's Arrhenius fit
scales the covariance by PDG's max(1, chi2 / dof) where the points' errors were estimated
over few ions; the goal checked the allocator's unscaled interval, so where the points
scatter more than their intervals say a campaign stopped as ``goal_met`` while the
interval it reported missed the goal. The reference is scipy's ``curve_fit`` in D itself
(collect's fit since 0b32879, each D weighted by its interval's half-width over Student t)
with ``absolute_sigma=False`` (the covariance scaled by chi2 / dof) and the quantile collect's
fit uses for points whose errors were estimated over the ions (since 5edc5dd): the
studentized bootstrap quantile of that scaled fit (``studentized_quantile(..., scaled=True)``)
over the points' errors in D relative to the fitted curve, a function of those errors and
dof alone."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.constants import Boltzmann, electron_volt
from scipy.optimize import curve_fit
from scipy.stats import t as student_t

from ionmd.analysis.arrhenius_bootstrap import studentized_quantile
from ionmd.sweep import load_campaign
from ionmd.sweep.allocate import TemperatureRun, next_step, spend_budget
from ionmd.sweep.plan import plan_campaign
from sweep_setup import campaign_dir, write_campaign

KB = Boltzmann / electron_volt
T = np.array([1000.0, 1200.0, 1400.0])
IONS = 8
Q = student_t.ppf(0.975, IONS - 1)      # each run's interval: Student t over its ions
SE = np.array([0.05, 0.04, 0.03])       # relative standard errors of D
OFF = np.array([-1.0, 2.0, -1.0]) * 0.6  # residual pattern off the line, in errors: chi2 > dof


def scattered_runs(keys=None) -> list[TemperatureRun]:
    """Runs over 8 ions whose D lie off one Arrhenius line by 0.6-1.2 of their errors, their
    intervals Student t, symmetric in D (as a run's)."""
    D = np.exp(np.log(1e-4) - 0.3 / (KB * T) + OFF * SE)
    keys = [None] * T.size if keys is None else keys
    return [TemperatureRun(float(t), 10.0, float(m), (float(m * (1 - Q * s)),
                                                      float(m * (1 + Q * s))),
                           cost_per_ps=1.0, key=k, quantile=Q)
            for t, m, s, k in zip(T, D, SE, keys)]


def collect_factor(runs) -> tuple[float, float]:
    """The 300 K factor of collect's interval by hand, and the reduced chi-square."""
    D = np.array([r.D for r in runs])
    se = np.array([(r.D_ci95[1] - r.D_ci95[0]) / (2 * Q) for r in runs])

    def model(t, a, e):
        return np.exp(a - e / (KB * t))

    def jac(t, a, e):       # exact: curve_fit's finite differences leave 1e-7
        return np.stack([model(t, a, e), -model(t, a, e) / (KB * t)], -1)

    kw = dict(p0=(np.log(1e-4), 0.3), sigma=se, jac=jac, xtol=1e-14, ftol=1e-14)
    (a, e), _ = curve_fit(model, T, D, absolute_sigma=True, **kw)
    _, cov = curve_fit(model, T, D, absolute_sigma=False, **kw)     # x chi2 / dof
    f = model(T, a, e)
    chi2_dof = float(np.sum(((D - f) / se) ** 2) / (T.size - 2))
    x0 = np.array([1.0, -1.0 / (KB * 300.0)])
    # the quantile of ln D(300 K), over the points' errors relative to the fitted curve
    q = studentized_quantile(x0[None], -1.0 / (KB * T), se / f,
                             np.full(T.size, IONS - 1.0), scaled=True)[0]
    return float(np.exp(q * np.sqrt(x0 @ cov @ x0))), chi2_dof


def between(ref: float, chi2_dof: float) -> float:
    """A goal factor halfway (in ln f) between the unscaled interval's and collect's."""
    return float(np.exp(np.log(ref) * (1 + 1 / np.sqrt(chi2_dof)) / 2))


def test_decision_reports_collects_interval_and_plans_unscaled():
    runs = scattered_runs()
    ref, chi2_dof = collect_factor(runs)
    assert chi2_dof > 1.5                                   # the case this is about
    d = next_step(runs, step_ps=10.0, candidates_K=(1100.0, 1300.0))
    assert d.reported_factor == pytest.approx(ref, rel=1e-6)
    # the model's (unscaled) factor: ln f smaller by sqrt(chi2 / dof), the old goal check's
    assert np.log(d.factor) == pytest.approx(np.log(ref) / np.sqrt(chi2_dof), rel=1e-6)
    # planning: a scale common to every point scales every option's gain alike, so the
    # runs' errors widened by sqrt(chi2 / dof) (the scaled fit's) rank the options as is
    wide = [TemperatureRun(r.temperature_K, r.time_ps, r.D,
                           (r.D * (1 - Q * s * np.sqrt(chi2_dof)),
                            r.D * (1 + Q * s * np.sqrt(chi2_dof))), 1.0, quantile=Q)
            for r, s in zip(runs, SE)]
    scaled = next_step(wide, step_ps=10.0, candidates_K=(1100.0, 1300.0))
    assert [(o.action, o.temperature_K) for o in scaled.options] == \
        [(o.action, o.temperature_K) for o in d.options]
    # (to 1e-6: the fit in D is iterated, its curve the same to its convergence, 1e-12,
    # and a gain is a difference of variances)
    assert [o.gain_per_cost for o in scaled.options] == pytest.approx(
        [o.gain_per_cost * chi2_dof for o in d.options], rel=1e-6)


def test_spend_budget_stops_on_collects_interval():
    runs = scattered_runs()
    ref, chi2_dof = collect_factor(runs)
    goal = between(ref, chi2_dof)
    plan = spend_budget(runs, budget=40.0, step_ps=10.0, goal_factor=goal,
                        candidates_K=(1100.0, 1300.0))
    assert len(plan.decisions) > 1, plan.describe()   # the old check stopped at once
    if plan.stopped == "goal_met":
        assert plan.reported_factor <= goal


@pytest.fixture(scope="module")
def morse(tmp_path_factory):
    from protocol_setup import morse_model

    return morse_model(tmp_path_factory.mktemp("morse") / "morse.pt")


def test_goal_is_not_met_where_collects_interval_misses_it(tmp_path, morse, monkeypatch):
    """The campaign's three runs completed, scattering 0.6-1.2 errors off the line: the goal's
    factor lies between the runs' unscaled one and collect's. The round goes on (it
    stopped as goal_met before) and records collect's factor."""
    import ionmd.sweep.goal as goal_module

    ref, chi2_dof = collect_factor(scattered_runs())
    goal = between(ref, chi2_dof)
    folder = campaign_dir(tmp_path / "c", morse)
    path = write_campaign(folder, temperatures=[int(t) for t in T], extra=(
        f'goal = {{sigma_300K_factor = {goal:.6f}, budget = "100 h"}}'))
    c = load_campaign(path)
    planned = sorted(plan_campaign(c, create=True), key=lambda r: r.temperature)
    for r in planned:
        r.rundir.set_status("completed", resumable=False, step=500)
    runs = scattered_runs(keys=planned)
    monkeypatch.setattr(goal_module, "measure", lambda campaign, series_runs: (runs, 1.0))
    result = goal_module.advance_series(c, "fcc", "morse")
    assert result.state in ("extended", "added"), result
    assert result.factor == pytest.approx(ref, rel=1e-6) and result.factor > goal
    record = goal_module.read_goal_state(c)["series"]["fcc/morse"]["rounds"][-1]
    assert record["factor"] == pytest.approx(ref, rel=1e-6)
    assert np.log(record["runs_factor"]) == pytest.approx(np.log(ref) / np.sqrt(chi2_dof),
                                                          rel=1e-6)
