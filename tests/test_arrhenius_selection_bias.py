"""The Arrhenius fit where the coldest runs are noisy: in D itself (Dec 7 2026), not in ln D.

Fitted in ln D, a cold run's noise biased the fit three ways: ln of a noisy positive value
is low on average, its ln error ``se / D`` is smallest where D came out high (those weigh
most), and a temperature whose replicas reach zero had no logarithm and was left out (the
low ones). Over 2000 seeded campaigns (5 temperatures 500-900 K, Ea 0.4 eV, one run of 8
ions a temperature, the coldest run's relative error 0.8;
examples/arrhenius_selection_bias.py) the fit in ln D gave Ea 0.0166 eV low (4 %) and
D(300 K) 1.5x high, covering the truth 91.5-91.9 %; in D, +0.0023 eV and 0.94x, 94.6-94.9 %.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import curve_fit
from scipy.stats import t as student_t

from ionmd.analysis.aggregate import Point, arrhenius_of_points
from ionmd.analysis.arrhenius import KB_EV

EA, D0 = 0.4, 1e-3
TEMPS = np.array([500.0, 600.0, 700.0, 800.0, 900.0])


def true_d(T):
    return D0 * np.exp(-EA / (KB_EV * np.asarray(T, float)))


def campaign(rng, rel_cold: float, n_ions: int = 8) -> list[Point]:
    """One run a temperature, its D the mean of ``n_ions`` normal per-ion values, its
    relative error ``rel_cold`` at 500 K and falling as 1 / sqrt(D) above, its Student t
    interval clipped at zero as runs report it."""
    q = float(student_t.ppf(0.975, n_ions - 1))
    D = true_d(TEMPS)
    rel = rel_cold * np.sqrt(D.min() / D)
    x = rng.normal(D[:, None], (D * rel * np.sqrt(n_ions))[:, None], (TEMPS.size, n_ions))
    m, s = x.mean(1), x.std(1, ddof=1) / np.sqrt(n_ions)
    return [Point(float(T), float(v), (max(v - q * e, 0.0), v + q * e), run=f"T{T:g}", quantile=q)
            for T, v, e in zip(TEMPS, m, s)]


def test_noisy_cold_runs_leave_ea_and_d300_unbiased():
    """200 seeded campaigns, the coldest run's relative error 1.2 (0.55 at 600 K), through
    collect's path: the fit in ln D gave Ea 0.027 eV low (its standard error over these
    trials 0.004) and ln D(300 K) 0.70 high; in D, Ea +0.001 (0.005) and ln D(300 K)
    -0.03 (0.13); over 1000 trials -0.023 vs +0.0015 eV
    (examples/arrhenius_selection_bias.py)."""
    rng = np.random.default_rng(20261207)
    fits = [arrhenius_of_points(campaign(rng, 1.2), times_T=False) for _ in range(200)]
    ea = np.array([f["Ea_eV"] for f in fits])
    ln300 = np.log([f["extrapolated"] for f in fits])
    assert np.mean(ea) == pytest.approx(EA, abs=0.012)
    assert np.mean(ln300) == pytest.approx(np.log(true_d(300.0)), abs=0.3)


def test_two_temperatures_fit_the_weighted_means_in_d():
    """By hand: at two temperatures the curve passes through each one's inverse-variance
    mean of D (a value below zero among them: no logarithm taken of it), Ea is
    ``k ln(a / b) / (1/T_b - 1/T_a)``, var(ln a) = se_a^2 / a^2, and chi-square the
    residual sum in D."""
    from ionmd.analysis.arrhenius_linear import fit_arrhenius_linear

    T = np.array([1000.0, 1000.0, 500.0, 500.0])
    y = np.array([1.0, 3.0, 0.3, -0.1])
    se = np.array([1.0, 1.0, 0.2, 0.4])
    fit = fit_arrhenius_linear(T, y, se, scatter_p=0.0)
    a, var_a = 2.0, 0.5                      # (1 + 3) / 2, 1 / (1 + 1)
    b, var_b = 0.22, 1 / 31.25               # (0.3 * 25 - 0.1 * 6.25) / 31.25, 1 / 31.25
    span = 1 / 500.0 - 1 / 1000.0
    assert fit.Ea_eV == pytest.approx(KB_EV * np.log(a / b) / span, rel=1e-10)
    assert fit.Ea_err_eV == pytest.approx(
        KB_EV * np.sqrt(var_a / a ** 2 + var_b / b ** 2) / span, rel=1e-8)
    assert fit.chi2 == pytest.approx(1.0 + 1.0 + 0.4 ** 2 + 0.8 ** 2, rel=1e-10)
    assert fit.method == "linear" and fit.quantile == 1.96


def test_fit_in_d_is_scipys_curve_fit():
    """Five temperatures, the coldest value below zero: the same (ln A, Ea) and covariance
    as scipy's curve_fit of A exp(-Ea / kT) with absolute sigma."""
    from ionmd.analysis.arrhenius_linear import fit_arrhenius_linear

    y = true_d(TEMPS) * np.array([-0.4, 1.3, 0.9, 1.05, 0.98])
    se = true_d(TEMPS) * np.array([0.9, 0.4, 0.2, 0.1, 0.05])
    fit = fit_arrhenius_linear(TEMPS, y, se, scatter_p=0.0)

    def model(T, ln_a, ea):
        return np.exp(ln_a - ea / (KB_EV * T))

    p, cov = curve_fit(model, TEMPS, y, p0=(np.log(D0), 0.3), sigma=se, absolute_sigma=True,
                       xtol=1e-14, ftol=1e-14, gtol=1e-14)
    assert fit.Ea_eV == pytest.approx(p[1], rel=1e-7)
    assert np.log(fit.prefactor) == pytest.approx(p[0], rel=1e-7)
    np.testing.assert_allclose(fit.covariance, cov, rtol=1e-5)


def test_a_temperature_not_resolved_stays_out_of_the_fit_in_d():
    """500 K's two replicas straddle zero (0.5 and -0.3 of the true D, each its standard
    error the true D): not resolved, listed with why, left out; the fit is curve_fit's of
    the three others in D, whose values (one 10 % above the line) weigh by their
    standard errors in D."""
    q = float(student_t.ppf(0.975, 7))
    T = np.array([700.0, 800.0, 1000.0])
    y = true_d(T) * np.array([1.0, 1.1, 1.0])
    se = 0.05 * true_d(T)
    points = [Point(t, v, (v - q * s, v + q * s), run=f"T{t:g}", quantile=q)
              for t, v, s in zip(T, y, se)]
    d500 = float(true_d(500.0))
    for k, f in enumerate((0.5, -0.3)):
        points.append(Point(500.0, f * d500, (max(f - q, 0.0) * d500, (f + q) * d500),
                            run=f"T500/r{k}", quantile=q))
    out = arrhenius_of_points(points, times_T=False)
    (entry,) = out["not_resolved"]
    assert entry["temperature_K"] == 500.0 and "leaves this temperature out" in entry["reason"]
    assert out["n_points"] == 3 and out["method"] == "linear"

    def model(T, ln_a, ea):
        return np.exp(ln_a - ea / (KB_EV * T))

    p, _ = curve_fit(model, T, y, p0=(np.log(D0), 0.3), sigma=se, absolute_sigma=True,
                     xtol=1e-14, ftol=1e-14, gtol=1e-14)
    assert out["Ea_eV"] == pytest.approx(p[1], rel=1e-7)
