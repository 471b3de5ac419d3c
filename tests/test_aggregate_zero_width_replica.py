"""A replica whose D interval has zero width (no error: an infinite weight) is left out of
the replica combination and the Arrhenius fit, named with why, in analyze's and collect's
paths alike. Before, its weight inf made the combined value and interval NaN silently, and
the fit then failed ("positive finite values"); a zero error given to fit_arrhenius was
refused without saying which point. References: the replicas' mean by hand
(numpy, statsmodels' Welch ANOVA), the weighted least-squares fit in D by scipy's
curve_fit (absolute errors), Student t by scipy."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.oneway import anova_generic
from scipy.constants import Boltzmann, electron_volt
from scipy.optimize import curve_fit
from scipy.stats import t as student_t

from ionmd.analysis.aggregate import fit_series
from ionmd.analysis.replica_combination import combine_replicas
from ionmd.analysis.arrhenius import fit_arrhenius
from ionmd.errors import AnalysisError

KB = Boltzmann / electron_volt
N_IONS = 16
Q = student_t.ppf(0.975, N_IONS - 1)


def run(label, T, D, lo, hi) -> dict:
    """A run's results as analyze_run gives them (one mobile species, xyz)."""
    return {"run": label, "temperature_K": T, "complete": True,
            "diffusion": [{"species": "Li", "direction": "xyz", "D": D, "D_ci95": [lo, hi],
                           "flags": [], "n_ions": N_IONS}]}


def by_hand(values, intervals) -> tuple[float, float]:
    """One replica: its value and ln error read from its interval with Student t over
    N_IONS ions. Several, alike (same ions, errors within chance of each other): their
    equal-weight mean in D and its relative standard error, widened by Welch's F where
    statsmodels' Welch ANOVA finds them disagreeing (in full at p <= 5 %, not at all from
    50 %, linear in log p between)."""
    if len(values) == 1:
        (lo, hi), = intervals
        return float(values[0]), float(np.log(hi / lo) / (2 * Q))
    y = np.array(values)
    se = np.array([(hi - lo) / (2 * Q) for lo, hi in intervals])
    err = np.sqrt(np.sum(se ** 2)) / len(y)
    n = np.full(len(y), N_IONS)
    welch = anova_generic(y, se ** 2 * n, n, use_var="unequal")
    part = np.clip(np.log10(0.5 / welch.pvalue), 0.0, 1.0)
    err *= np.sqrt(1 + part * max(welch.statistic - 1, 0.0))
    return float(np.mean(y)), float(err / np.mean(y))


def test_a_zero_width_replica_is_left_out_of_the_combination():
    values = [1.0e-5, 1.1e-5, 0.9e-5]
    intervals = [(0.8e-5, 1.2e-5), (1.1e-5, 1.1e-5), (0.7e-5, 1.1e-5)]   # symmetric in D
    out = combine_replicas(values, intervals, [Q] * 3)
    value, err = by_hand([values[0], values[2]], [intervals[0], intervals[2]])
    assert out["value"] == pytest.approx(value, rel=1e-12)
    assert out["ln_err"] == pytest.approx(err, rel=1e-12)
    assert out["replicas"] == [values[0], values[2]]
    # an interval upside down has no error either; one of them alone: nothing to combine
    assert combine_replicas([1e-5], [(1.2e-5, 0.9e-5)]) is None
    assert combine_replicas([1e-5], [(1e-5, 1e-5)]) is None


@pytest.fixture
def runs() -> list[dict]:
    """Three temperatures of an Arrhenius law (0.3 eV); 800 K has a second replica of zero
    width, 700 K only one such run."""
    out = []
    for T, e in ((600.0, 0.3), (800.0, 0.2), (1000.0, 0.25)):     # symmetric in D, as a run's
        D = 1e-3 * np.exp(-0.3 / (KB * T)) * (1.02 if T == 800 else 1.0)
        out.append(run(f"T{T:g}/r0", T, D, D * (1 - e), D * (1 + e)))
    D8 = 1e-3 * np.exp(-0.3 / (KB * 800.0))
    out.append(run("T800/r1", 800.0, D8, D8, D8))
    D7 = 1e-3 * np.exp(-0.3 / (KB * 700.0))
    out.append(run("T700/r0", 700.0, D7, D7, D7))
    return out


def test_the_fit_leaves_zero_width_runs_out_and_names_them(runs):
    entry = fit_series(runs, "D_Li")
    assert "error" not in entry, entry
    assert sorted(entry["runs"]) == ["T1000/r0", "T600/r0", "T800/r0"]
    reasons = {r["run"]: r["reason"] for r in entry["left_out"]}
    assert set(reasons) == {"T800/r1", "T700/r0"}
    assert all("interval of zero width" in why for why in reasons.values()), reasons
    # the fit of the three usable runs in D itself, by scipy's curve_fit: each D weighted by
    # its standard error, its interval's half-width over Student t (absolute errors)
    usable = [r["diffusion"][0] for r in runs[:3]]
    T = np.array([r["temperature_K"] for r in runs[:3]])
    D = np.array([d["D"] for d in usable])
    se = np.array([(d["D_ci95"][1] - d["D_ci95"][0]) / (2 * Q) for d in usable])
    ref, cov = curve_fit(lambda t, ln_a, ea: np.exp(ln_a - ea / (KB * t)), T, D,
                         p0=(np.log(1e-3), 0.25), sigma=se, absolute_sigma=True,
                         xtol=1e-14, ftol=1e-14)
    assert entry["Ea_eV"] == pytest.approx(ref[1], rel=1e-8)
    assert entry["Ea_err_eV"] == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-6)


def test_collect_rows_leave_the_zero_width_replica_out(runs):
    from ionmd.sweep.collect import _aggregate

    results = [{**r, "class": "completed"} for r in runs if r["temperature_K"] == 800.0]
    row = _aggregate(results, len(results))
    d = results[0]["diffusion"][0]
    value, err = by_hand([d["D"]], [d["D_ci95"]])
    assert row["D_Li"]["value"] == pytest.approx(value, rel=1e-12)
    assert row["D_Li"]["ln_err"] == pytest.approx(err, rel=1e-12)
    assert np.isfinite(row["D_Li"]["ci95"]).all()


def test_a_zero_error_is_refused_naming_its_temperature():
    with pytest.raises(AnalysisError, match=r"\[0\.0\] at \[700\.0\] K .*zero width"):
        fit_arrhenius(np.array([600.0, 700.0, 800.0]), np.array([1.0, 2.0, 3.0]),
                      np.array([0.1, 0.0, 0.1]))
