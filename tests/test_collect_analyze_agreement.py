"""One campaign's runs through `ionmd analyze` (several temperatures -> Arrhenius) and
through `ionmd sweep collect` give the same D(T), sigma(T), Ea and its interval: both read
the runs with aggregate's one reader (collect's rows had their own loop beside it). A
temperature with one replica keeps that run's own interval: the replica combination
rebuilt it as 1.96 (or, for a run stopped by its rule, 2.58) standard errors, narrower
than the run's Student t interval over its 16 ions (t_15: 2.13 at 95 %, 2.95 at 99 %).

The campaign: Brownian Li of known Arrhenius D in an fcc Li/Cl cell (as
test_sweep_campaign prepares it), two replicas at 600 and 1000 K, one at 800 K whose run
stopped by its D-interval rule (its interval at 99 %), the other 800 K replica not run.
References: scipy's Student t over the run's ions with the run's own D and standard
error, the equal-weight mean in D with statsmodels' Welch ANOVA for the replicas'
scatter, scipy's curve_fit of D (sigma T) = A exp(-Ea / kT) in D itself with each point's
standard error in D (the campaign fit since 0b32879: tests/arrhenius_in_d.py; Ea's
Welch-Satterthwaite dof over its linearisation in D), and Ea's quantile the studentized
bootstrap one of that fit's hand-off over its ln errors se / f at the fitted curve and
their dof (``studentized_quantile``, 5edc5dd)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from statsmodels.stats.oneway import anova_generic
from scipy.constants import Boltzmann, electron_volt
from scipy.stats import chi2 as chi2_dist
from scipy.stats import norm
from scipy.stats import t as student_t

from arrhenius_in_d import ea_dof, fit_in_y, pdg_ea_error
from ionmd.analysis.replica_combination import combine_replicas
from ionmd.analysis.arrhenius_bootstrap import studentized_quantile
from ionmd.cli import main
from ionmd.sweep import load_campaign, plan_campaign
from sweep_setup import brownian_run, campaign_dir, write_campaign

KB = Boltzmann / electron_volt
EA, D_1000 = 0.25, 0.5          # eV; A^2/ps at 1000 K
RULE = "D_rel_ci<=0.2,hops>=10"
THRESHOLDS = "collapse_fraction = 0.01"   # Brownian ions overlap: no collapse check


@pytest.fixture(scope="module")
def both(tmp_path_factory, morse):
    """collect's results.json and analyze's summary.json of the same runs, and the runs'
    own analyses (analyze's per-run results.json) by temperature."""
    folder = campaign_dir(tmp_path_factory.mktemp("agree") / "camp", morse)
    path = write_campaign(folder, temperatures=(600, 800, 1000), replicas=2,
                          analysis="charges = {Li = 1, Cl = -1}\nfit_start_ps = 1.0\n"
                                   f"window_ps = 15.0\n{THRESHOLDS}",
                          duration_ps=30, discard_ps=2)     # as long as the Brownian runs
    runs = plan_campaign(load_campaign(path), create=True)
    ran = []
    for k, run in enumerate(runs):
        if (run.temperature, run.replica) == (800.0, 1):
            continue                                    # planned, not run
        brownian_run(run.rundir, run.temperature, 10 + k, EA, D_1000)
        ran.append(run)
        if run.temperature == 800.0:                    # stopped by its rule
            run.rundir.set_status(
                "completed", step=15000, pieces=1, resumable=False, stop_reason="converged",
                stopping={"until": RULE, "check_every_ps": 10.0, "max_time_ps": 2000.0},
                checks=[{"step": 15000, "time_ps": 30.0, "met": True,
                         "values": {"D_rel_ci": 0.15, "hops": 14.0}}])
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    collected = json.loads((folder / "runs" / "collect" / "results.json").read_text())
    out = tmp_path_factory.mktemp("analyzed")
    assert main(["analyze", *(str(r.path) for r in ran), "-o", str(out),
                 "--collapse-fraction", "0.01"]) in (0, None)
    summary = json.loads((out / "summary.json").read_text())
    own = {}
    for f in sorted(out.rglob("results.json")):
        res = json.loads(f.read_text())
        own.setdefault(res["temperature_K"], []).append(res)
    assert sorted(map(len, own.values())) == [1, 2, 2]
    return collected, summary, own


def xyz_li(res: dict) -> dict:
    return next(d for d in res["diffusion"] if d["direction"] == "xyz" and d["species"] == "Li")


def test_one_replica_keeps_its_own_interval():
    """Unit: one replica's 'combination' is its value and its interval, at its own level
    (a Student t interval over 8 ions: 2.36 standard errors, not 1.96)."""
    D, se, n = 2e-5, 3e-6, 8
    q95, q99 = (student_t.ppf(p, n - 1) for p in (0.975, 0.995))
    own95, own99 = ((D - q * se, D + q * se) for q in (q95, q99))
    out = combine_replicas([D], [own95], [q95])
    assert out["value"] == pytest.approx(D, rel=1e-15)
    assert out["ci95"] == pytest.approx(own95, rel=1e-15) and "interval_level" not in out
    assert out["ln_err"] == pytest.approx(np.log(own95[1] / own95[0]) / (2 * q95), rel=1e-12)
    out = combine_replicas([D], [own99], [q99], [0.99], [own95])
    assert out["ci95"] == pytest.approx(own99, rel=1e-15) and out["interval_level"] == 0.99
    assert out["ci95_unwidened"] == pytest.approx(own95, rel=1e-15)
    # two replicas are still combined (Student t at the combination's degrees of freedom)
    two = combine_replicas([D, 1.1 * D], [own95, (1.1 * own95[0], 1.1 * own95[1])], [q95, q95])
    q_two = student_t.ppf(0.975, two["dof"])
    assert two["ci95"] == pytest.approx(np.exp(np.log(two["value"]) + np.array([-q_two, q_two])
                                               * two["ln_err"]), rel=1e-12)


def test_single_replica_row_is_the_run_interval(both):
    """collect's 800 K row and analyze's 800 K point: the stopped run's own 99 % interval
    (scipy's Student t with its D and standard error), its 95 % one beside it. Before, both
    were exp(ln D +- 2.58 se), 13 % narrower in log width than the run's (t_15 = 2.95)."""
    collected, summary, own = both
    (res,) = own[800.0]
    d = xyz_li(res)
    q99, q95 = (student_t.ppf(p, d["n_ions"] - 1) for p in (0.995, 0.975))
    assert d["D_ci95"] == pytest.approx([d["D"] - q99 * d["D_std"], d["D"] + q99 * d["D_std"]],
                                        rel=1e-9)
    row = next(r for r in collected["rows"] if r["temperature_K"] == 800.0)
    point = next(p for p in summary["arrhenius"]["fcc"]["D_Li"]["points"]
                 if p["temperature_K"] == 800.0)
    for got in (row["D_Li"], point):
        assert got["value"] == pytest.approx(d["D"], rel=1e-14)
        assert got["ci95"] == pytest.approx(d["D_ci95"], rel=1e-12)
        assert got["interval_level"] == 0.99
        assert got["ci95_unwidened"] == pytest.approx(
            [d["D"] - q95 * d["D_std"], d["D"] + q95 * d["D_std"]], rel=1e-9)
        assert np.log(got["ci95"][1] / got["ci95"][0]) > 1.1 * 2 * norm.ppf(0.995) * got["ln_err"]
    c = res["conductivity"]
    assert row["sigma"]["ci95"] == pytest.approx(c["sigma_ci95"], rel=1e-12)
    assert row["sigma"]["ci95_unwidened"] == pytest.approx(c["sigma_ci95_unwidened"], rel=1e-12)


def test_rows_are_the_points_of_the_fits(both):
    """collect's per-temperature rows are the points its Arrhenius fits took (one reader),
    and the same as analyze's points: D, and sigma as sigma T / T."""
    collected, summary, _ = both
    rows = {r["temperature_K"]: r for r in collected["rows"]}
    assert rows[800.0]["replicas_done"] == 1 and rows[800.0]["incomplete"] == 1
    for key, row_key, per in (("D_Li", "D_Li", lambda T: 1.0), ("sigma_T", "sigma", lambda T: T)):
        fit_points = collected["arrhenius"]["fcc/morse"][key]["points"]
        analyze_points = summary["arrhenius"]["fcc"][key]["points"]
        assert [p["temperature_K"] for p in fit_points] == [600.0, 800.0, 1000.0]
        for p, q in zip(fit_points, analyze_points):
            T, row = p["temperature_K"], rows[p["temperature_K"]][row_key]
            assert q["temperature_K"] == T and len(p["replicas"]) == len(row["replicas"])
            for got in (p, q):
                assert got["value"] / per(T) == pytest.approx(row["value"], rel=1e-12)
                assert np.divide(got["ci95"], per(T)) == pytest.approx(row["ci95"], rel=1e-12)
                assert got["ln_err"] == pytest.approx(row["ln_err"], rel=1e-12)


def scatter_part(pvalue: float) -> float:
    """The part of Welch's F that widens a combination: all of it at p <= 5 %, none from
    50 %, linear in log p between."""
    return float(np.clip(np.log10(0.5 / pvalue), 0.0, 1.0))


@pytest.mark.parametrize("key", ["D_Li", "sigma_T"])
def test_analyze_and_collect_fits_agree_with_curve_fit_in_d(both, key):
    """Ea, its error and interval and the 300 K value: analyze's and collect's fits are the
    same, and scipy's curve_fit in D of the replicas combined by hand (numpy, each run's
    error from its own interval by scipy's Student t) gives them."""
    collected, summary, own = both
    fit_c, fit_a = collected["arrhenius"]["fcc/morse"][key], summary["arrhenius"]["fcc"][key]
    for name in ("Ea_eV", "Ea_err_eV", "prefactor", "y_extrapolated"):
        assert fit_c[name] == pytest.approx(fit_a[name], rel=1e-12), name
    assert fit_c["Ea_ci95"] == pytest.approx(fit_a["Ea_ci95"], rel=1e-12)
    assert fit_c["y_extrapolated_ci95"] == pytest.approx(fit_a["y_extrapolated_ci95"], rel=1e-12)
    sigma_row = next(r for r in collected["rows"] if r["temperature_K"] == 600.0)
    if key == "sigma_T":
        assert sigma_row["sigma_300K"] == pytest.approx(fit_a["sigma_extrapolated_mS_cm"],
                                                        rel=1e-12)
    else:
        assert sigma_row["Ea_eV"] == pytest.approx(fit_a["Ea_eV"], rel=1e-12)

    T = np.array(sorted(own))
    y, se, dof = [], [], []
    for t in T:
        vals, errs, ions, his = [], [], [], []
        for res in own[t]:
            d = xyz_li(res)
            vals.append(d["D"] if key == "D_Li" else res["conductivity"]["sigma"] * t)
            his.append(d["D_ci95"] if key == "D_Li" else
                       [v * t for v in res["conductivity"]["sigma_ci95"]])
            ions.append(d["n_ions"])
            # each run's standard error in D: its half-width (the upper one where larger:
            # sigma's percentile interval) over its Student t quantile at its level
            q = student_t.ppf(0.5 + d.get("interval_level", 0.95) / 2, d["n_ions"] - 1)
            errs.append(max(his[-1][1] - vals[-1], (his[-1][1] - his[-1][0]) / 2) / q)
        # replicas alike by design (same cell, protocol, length): equal weights in D (the
        # arithmetic mean, unbiased), the error widened by Welch's F where Welch's ANOVA
        # (statsmodels) finds them disagreeing; a lone run: its own value and error
        errs, ions = np.array(errs), np.array(ions)
        err = np.sqrt(np.sum(np.square(errs))) / len(vals)
        widening = None
        if len(vals) > 1:
            welch = anova_generic(np.array(vals), np.square(errs) * ions, ions, use_var="unequal")
            err *= np.sqrt(1 + scatter_part(welch.pvalue) * max(welch.statistic - 1, 0))
            if scatter_part(welch.pvalue) > 0 and welch.statistic > 1:
                widening = scatter_part(welch.pvalue), welch.statistic, welch.df_num
        y.append(np.mean(vals))
        se.append(err)
        # Welch-Satterthwaite dof of the equal-weight mean (a lone run: its ions - 1)
        dof.append(np.sum(errs ** 2) ** 2 / np.sum(errs ** 4 / (ions - 1)))
        if widening:    # Welch-Satterthwaite over the runs' errors and their spread (k - 1)
            share, F, df1 = widening
            within, spread = 1 - share, share * F
            dof[-1] = (within + spread) ** 2 / (within ** 2 / dof[-1] + spread ** 2 / df1)
    y, se, dof = np.array(y), np.array(se), np.array(dof)
    ref = fit_in_y(T, y, se)
    # the points scatter as their errors say: the scatter test, whose null for errors
    # estimated over the ions is heavier-tailed than chi-square, passes the fit
    assert chi2_dist.sf(ref["chi2"], len(T) - 2) >= 0.05
    assert "scatter_exceeds_errors" not in fit_c["flags"]
    # errors over few ions: the covariance scaled by the PDG factor max(1, chi2 / (n - 2)),
    # whatever the test says
    bse = pdg_ea_error(ref, len(T))
    # the Welch-Satterthwaite dof of Ea (linear in the points' values about the curve),
    # still recorded
    assert fit_c["Ea_dof"] == pytest.approx(ea_dof(ref, T, se, dof), rel=1e-9)
    # the quantile: the bootstrap's of this fit (the PDG scale in its draws) for the ln
    # errors it hands off, se / f at the fitted curve, and their dof; over 16 ions near the
    # normal one, larger where Welch's F widened a point (its dof then toward the replicas'
    # k - 1), short of that point's own t
    q = studentized_quantile(np.array([[0.0, 1.0]]), -1.0 / (KB * T), se / ref["f"], dof,
                             scaled=True)[0]
    assert 1.9 < q < student_t.ppf(0.975, min(dof))
    rel = 1e-9
    assert fit_c["Ea_eV"] == pytest.approx(ref["Ea"], rel=rel)
    assert fit_c["Ea_err_eV"] == pytest.approx(bse, rel=rel)
    assert fit_c["Ea_ci95"] == pytest.approx([ref["Ea"] - q * bse, ref["Ea"] + q * bse], rel=rel)
    assert abs(fit_c["Ea_eV"] - EA) < 4 * fit_c["Ea_err_eV"]
