"""Replicas whose D comes out below zero within its scatter (low T: the true D is small
against a run's noise) are combined with the others, in D itself, not dropped: dropping
them kept the lucky high replicas only and biased the combined D upward (8 ions, 2
replicas, D = 0.7 standard errors: 1.4x the true D). A combination whose interval reaches
zero is not resolved: an upper bound, left out of the Arrhenius fit with why, and the goal's
allocator extends its runs (before: ignored them, planned nothing there).

References: the plain mean and Student t interval at the Welch-Satterthwaite dof by numpy and
scipy, Welch's ANOVA by statsmodels, the true D of the draws, numpy's weighted polynomial
fit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import t as student_t
from statsmodels.stats.oneway import anova_generic

from ionmd.analysis.aggregate import Point, arrhenius_of_points, fit_series
from ionmd.analysis.point_checks import usable
from ionmd.analysis.replica_combination import combine_replicas
from ionmd.errors import AnalysisError
from ionmd.sweep.allocate import TemperatureRun, next_step, spend_budget

N_IONS = 8
Q = float(student_t.ppf(0.975, N_IONS - 1))
KB_EV = 8.617333262e-5


def run_of(mean: float, se: float) -> tuple[float, tuple[float, float]]:
    """A run's D over N_IONS ions and its Student t interval, clipped at zero."""
    return mean, (max(mean - Q * se, 0.0), mean + Q * se)


def by_hand(values, se) -> tuple[float, float, float]:
    """Plain mean of replicas alike, its standard error and Welch-Satterthwaite dof."""
    values, se = np.asarray(values), np.asarray(se)
    err = np.sqrt(np.sum(se ** 2)) / len(values)
    dof = np.sum(se ** 2) ** 2 / np.sum(se ** 4 / (N_IONS - 1))
    return float(np.mean(values)), float(err), float(dof)


def welch_F(values, se) -> float:
    n = np.full(len(values), N_IONS)
    return float(anova_generic(np.asarray(values), np.asarray(se) ** 2 * n, n,
                               use_var="unequal").statistic)


@pytest.mark.parametrize("values", [
    [0.35e-6, -0.05e-6, 0.30e-6, 0.25e-6, 0.20e-6, 0.15e-6],     # clear of zero: resolved
    [0.25e-6, -0.05e-6, 0.20e-6],                                 # reaching zero: an upper bound
])
def test_a_replica_below_zero_enters_the_plain_mean(values):
    se = [0.2e-6] * len(values)
    assert welch_F(values, se) < 1          # the replicas agree: no widening by their scatter
    runs = [run_of(v, s) for v, s in zip(values, se)]
    got = combine_replicas([v for v, _ in runs], [iv for _, iv in runs], [Q] * len(runs))
    mean, err, dof = by_hand(values, se)
    half = student_t.ppf(0.975, dof) * err
    assert got["value"] == pytest.approx(mean, rel=1e-12)
    assert got["dof"] == pytest.approx(dof, rel=1e-9)
    assert got["replicas"] == pytest.approx(values, rel=1e-12)
    assert got["weights"] == "equal" and got["space"] == "linear"
    if mean - half > 0:
        assert got["resolved"] is True
        assert got["ci95"] == pytest.approx([mean - half, mean + half], rel=1e-9)
        assert got["ln_err"] == pytest.approx(err / mean, rel=1e-9)      # delta method
    else:
        assert got["resolved"] is False and "ln_err" not in got
        assert got["ci95"] == pytest.approx([0.0, mean + half], rel=1e-9)


def test_dropping_replicas_below_zero_biased_the_combination_upward():
    """8 ions x 2 replicas, normal per-ion D, true D 0.7 of a run's standard error, 2000
    draws: the old combination (replicas below zero dropped) averages >= 1.2x the true D;
    the new one is within 15 % of it (its shortfall: the ln-space geometric mean where all
    are positive), and its interval covers the true D more often."""
    rng = np.random.default_rng(7)
    trials, true_D, rel = 2000, 1.0, 1.4
    per_ion = rng.normal(true_D, rel * np.sqrt(N_IONS), (trials, 2, N_IONS))
    m = per_ion.mean(-1)
    se = per_ion.std(-1, ddof=1) / np.sqrt(N_IONS)
    lo, hi = np.maximum(m - Q * se, 0.0), m + Q * se
    assert (m < 0).any(axis=1).mean() > 0.3
    old, new, old_in, new_in = [], [], [], []
    for values, ivs in zip(m, np.stack([lo, hi], -1)):
        keep = [i for i in range(2) if usable(values[i], ivs[i])]
        if keep:
            o = combine_replicas(values[keep], ivs[keep], [Q] * len(keep))
            old.append(o["value"])
            old_in.append(o["ci95"][0] <= true_D <= o["ci95"][1])
        c = combine_replicas(values, ivs, [Q, Q])       # before: None where both were < 0
        new.append(c["value"] if c else np.nan)
        new_in.append(c is not None and c["ci95"][0] <= true_D <= c["ci95"][1])
    assert np.mean(old) / true_D >= 1.2
    assert abs(np.mean(new) / true_D - 1) < 0.15
    assert np.mean(new_in) >= 0.9 and np.mean(new_in) > np.sum(old_in) / trials + 0.02


def _runs(D_low: tuple[float, float], se_low: float) -> list[dict]:
    """Results of runs at 700, 800, 1000 K (Arrhenius, 0.4 eV, 5 % errors) and two replicas
    at 500 K with D ``D_low`` and standard error ``se_low``."""
    out = []
    for T in (700.0, 800.0, 1000.0):
        D = 1e-4 * np.exp(-0.4 / (KB_EV * T))
        out.append(_result(f"T{T:g}/r0", T, *run_of(D, 0.05 * D)))
    for k, D in enumerate(D_low):
        out.append(_result(f"T500/r{k}", 500.0, *run_of(D, se_low)))
    return out


def _result(label, T, D, iv) -> dict:
    return {"run": label, "temperature_K": T, "complete": True,
            "diffusion": [{"species": "Li", "direction": "xyz", "D": D, "D_ci95": list(iv),
                           "flags": [], "n_ions": N_IONS}]}


def test_a_temperature_not_resolved_is_left_out_of_the_fit_saying_why():
    """500 K's replicas straddle zero: the fit is that of the other three temperatures
    (numpy's weighted fit), and its runs are left out as not resolved; before, the
    positive one alone made the 500 K point."""
    D500 = 1e-4 * np.exp(-0.4 / (KB_EV * 500.0))
    runs = _runs((2.0 * D500, -1.0 * D500), se_low=1.5 * D500)
    entry = fit_series(runs, "D_Li")
    assert sorted(entry["runs"]) == ["T1000/r0", "T700/r0", "T800/r0"]
    (skipped,) = entry["not_resolved"]
    assert skipped["temperature_K"] == 500.0 and skipped["ci95"][0] == 0.0
    assert skipped["value"] == pytest.approx(0.5 * D500, rel=1e-12)
    why = {x["run"]: x["reason"] for x in entry["left_out"]}
    assert set(why) == {"T500/r0", "T500/r1"}
    assert all(w.startswith("not resolved at 500 K") and "upper bound" in w for w in why.values())
    T = np.array([700.0, 800.0, 1000.0])
    D = 1e-4 * np.exp(-0.4 / (KB_EV * T))
    ln_err = np.log((D + Q * 0.05 * D) / (D - Q * 0.05 * D)) / (2 * Q)
    slope = np.polyfit(1 / (KB_EV * T), np.log(D), 1, w=1 / ln_err)[0]
    assert entry["Ea_eV"] == pytest.approx(-slope, rel=1e-9)


def test_a_resolved_temperature_feeds_the_fit_with_its_replica_below_zero():
    """Six replicas at 500 K, one below zero: combined in D, clear of zero, the point is
    their plain mean with the delta method's ln error, every replica named as feeding it."""
    D500 = 1e-4 * np.exp(-0.4 / (KB_EV * 500.0))
    values = np.array([1.75, -0.25, 1.5, 1.25, 1.0, 0.75]) * D500
    points = [Point(500.0, *run_of(v, D500), run=f"r{k}", quantile=Q)
              for k, v in enumerate(values)]
    for T in (700.0, 800.0, 1000.0):
        D = 1e-4 * np.exp(-0.4 / (KB_EV * T))
        points.append(Point(T, *run_of(D, 0.05 * D), run=f"T{T:g}", quantile=Q))
    entry = arrhenius_of_points(points, times_T=False)
    low = next(p for p in entry["points"] if p["temperature_K"] == 500.0)
    mean, err, _ = by_hand(values, [D500] * 6)
    assert low["value"] == pytest.approx(mean, rel=1e-12)
    assert low["ln_err"] == pytest.approx(err / mean, rel=1e-9)
    assert low["runs"] == [f"r{k}" for k in range(6)]
    assert "not_resolved" not in entry


def _model_runs(low: tuple[float, ...], se_low: float, temps=(700.0, 800.0, 1000.0),
                rel: float = 0.05):
    """The allocator's runs: errors ``rel`` above, replicas ``low`` (multiples of the true D)
    at 500 K."""
    D500 = 1e-4 * np.exp(-0.4 / (KB_EV * 500.0))
    runs = []
    for T in temps:
        D = 1e-4 * np.exp(-0.4 / (KB_EV * T))
        runs.append(TemperatureRun(T, 50.0, *run_of(D, rel * D), cost_per_ps=1.0, key=f"T{T:g}",
                                   quantity="D", unit="cm^2/s"))
    for k, f in enumerate(low):
        runs.append(TemperatureRun(500.0, 50.0, *run_of(f * D500, se_low * D500), cost_per_ps=1.0,
                                   key=f"T500/r{k}", quantity="D", unit="cm^2/s"))
    return runs


def test_the_allocator_extends_the_runs_of_a_temperature_not_resolved():
    """500 K's two replicas both come out below zero within their scatter (the true D 1.4
    standard errors; 20 % errors above): they are extended (before: ignored, no option
    there), first, as the nearest to 300 K; the decision names the temperature as not
    resolved, not as left out."""
    runs = _model_runs((-0.3, -0.1), se_low=0.7, rel=0.2)
    d = next_step(runs, step_ps=50.0)
    assert d.choice.temperature_K == 500.0
    at_500 = [o for o in d.options if o.temperature_K == 500.0]
    assert sorted(o.key for o in at_500) == ["T500/r0", "T500/r1"]
    assert all(o.action == "extend" and o.gain_per_cost > 0 for o in at_500)
    assert d.ignored == [] and len(d.not_resolved) == 1
    assert d.not_resolved[0].startswith("not resolved at 500 K")
    # a plan extends both replicas until 500 K is resolved, then fits it as a point: the
    # model's variance there is its runs' over the fitted curve, as collect's fit in D
    # weighs it (before the allocator modelled that fit, 500 K was chosen 3 times of 6)
    plan = spend_budget(runs, budget=300.0, step_ps=50.0)
    chosen = [x.choice.temperature_K for x in plan.decisions if x.choice is not None]
    assert chosen[:2] == [500.0, 500.0]
    assert sorted(x.choice.key for x in plan.decisions[:2]) == ["T500/r0", "T500/r1"]
    after = plan.decisions[2]
    assert after.not_resolved == [] and 500.0 in [t for t, _, _ in after.fit.point_errors]


def test_with_too_few_resolved_temperatures_the_unresolved_one_is_extended_first():
    """One resolved temperature and one not: no fit to price by; before, no decision at all
    (the goal stopped its series as 'no_fit'); now its runs are extended."""
    runs = _model_runs((-0.3, 0.4), se_low=1.0, temps=(1000.0,))
    with pytest.raises(AnalysisError):
        next_step(runs[:1], step_ps=50.0)
    d = next_step(runs, step_ps=50.0)
    assert d.choice is not None and d.choice.temperature_K == 500.0
    assert d.choice.action == "extend" and d.fit is None and d.reported_factor == np.inf
    assert d.not_resolved and d.not_resolved[0].startswith("not resolved at 500 K")


@pytest.mark.parametrize("candidates, state, did", [
    ("temperatures = [600, 1000], ", "extended", "r0 at 600 K to "),   # none new to start
    ("", "added", "a run at 650 K of "),        # every 50 K: the coldest warmer one first
])
def test_the_goal_extends_a_run_not_resolved_rather_than_stopping(tmp_path, morse, monkeypatch,
                                                                  candidates, state, did):
    """A goal campaign (one replica per temperature) whose 600 K run comes out below zero
    within its scatter beside a clear 1000 K run: before, no fit, and the series stopped
    for good ('no_fit'); now the round goes on and says why: it starts the coldest
    candidate temperature warmer than 600 K (a second point for a fit), or where the goal
    has none left, extends the 600 K run."""
    import ionmd.sweep.goal as goal_mod
    from ionmd.sweep import load_campaign
    from ionmd.sweep.plan import plan_campaign
    from sweep_setup import campaign_dir, patch_classify, write_campaign

    goal = f'goal = {{{candidates}sigma_300K_factor = 2, budget = "100 h", step = "1ps"}}'
    c = load_campaign(write_campaign(campaign_dir(tmp_path / "c", morse),
                                     temperatures=(600, 1000), extra=goal))
    plan_campaign(c, create=True)

    def measured(campaign, runs):
        out = []
        for run in runs:
            D = 1e-4 * np.exp(-0.4 / (KB_EV * run.temperature))
            mean, iv = run_of(D if run.temperature > 700 else -0.3 * D,
                              (0.05 if run.temperature > 700 else 0.7) * D)
            out.append(TemperatureRun(run.temperature, 0.4, mean, iv, cost_per_ps=1e-3,
                                      quantile=Q, key=run))
        return out, 0.0

    monkeypatch.setattr(goal_mod, "measure", measured)
    patch_classify(monkeypatch, lambda rd, jobs=None: "completed")
    result = goal_mod.advance_series(c, "fcc", "morse")
    assert result.state == state, result
    assert result.detail.startswith(did) and "not resolved at 600 K" in result.detail
    (series,) = goal_mod.read_goal_state(c)["series"].values()
    assert "stopped" not in series and series["rounds"][-1]["factor"] is None
    assert series["rounds"][-1]["not_resolved"][0].startswith("not resolved at 600 K")
    assert "factor none yet" in goal_mod.goal_summary(c)[1]
