"""The Arrhenius fit's scatter test and correction (ionmd.analysis.arrhenius.fit_arrhenius).

Errors estimated over few ions (``y_err_dof`` finite): the test's null knows it (read as
chi-square, data scattering exactly as their errors said were flagged 9.7 % of the time at
3 points over 4 ions, 18 % at 5), the flag only informs, and the covariance is always
scaled by max(1, chi2 / (n - 2)) (the PDG scale factor), the quantile the studentized
bootstrap one of that scaled fit (5edc5dd; before it Student t at the Welch-Satterthwaite
dof, still recorded; d9a7246 scaled only below p 5 %, gradually, so D(300 K) covered 89 %
at 5 T / 4 ions).
Known errors: the correction grows with p, from none at 5 % to the Birge-scaled covariance
and t(n - 2) at 0.5 %. No interval moves far on a tiny change of data (the old switch: a
3-point fit's 300 K factor 3.0 -> 44,000 on residuals 0.1 % larger).

References: scipy's chi-square and t, statsmodels' WLS (fixed and estimated scale), numpy's
weighted polyfit for an independent simulation of the null, and hand formulas."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.stats import chi2 as chi2_dist
from scipy.stats import t as student_t

from ionmd.analysis.arrhenius import KB_EV, fit_arrhenius
from ionmd.analysis.arrhenius_bootstrap import scatter_p_value, studentized_quantile

T3 = np.array([600.0, 800.0, 1000.0])
T5 = np.array([600.0, 700.0, 800.0, 900.0, 1000.0])
X5 = sm.add_constant(-1 / (KB_EV * T5))
X300 = np.array([1.0, -1 / (KB_EV * 300.0)])


def true_ln_y(T):
    return np.log(1e-5) - 0.3 / (KB_EV * T)


def ws_t(x0, X, se, dof):
    """Student t 95 % at the Welch-Satterthwaite dof of the WLS estimate x0 . coef, and that
    dof (by hand)."""
    W = np.diag(1 / se ** 2)
    part = (x0 @ np.linalg.inv(X.T @ W @ X) @ X.T @ W * se) ** 2
    nu = part.sum() ** 2 / np.sum(part ** 2 / dof)
    return student_t.ppf(0.975, nu), nu


def flag_rates(T, nu, trials, seed):
    """Flagged share of fits of data scattered exactly as the points' (estimated) errors say,
    and the share a chi-square reading of the same residual sums flags (the old test)."""
    rng = np.random.default_rng(seed)
    flagged = chi2_flagged = 0
    for _ in range(trials):
        se = 0.1 * np.sqrt(rng.chisquare(nu, T.size) / nu)
        y = np.exp(true_ln_y(T) + 0.1 * rng.standard_normal(T.size))
        fit = fit_arrhenius(T, y, se, y_err_dof=np.full(T.size, nu))
        flagged += "scatter_exceeds_errors" in fit.flags
        chi2_flagged += chi2_dist.sf(fit.chi2, T.size - 2) < 0.05
    return flagged / trials, chi2_flagged / trials


@pytest.mark.parametrize("T, nu", [(T3, 3.0), (T5, 3.0), (T5, 7.0)])
def test_false_flag_rate_is_nominal_with_estimated_errors(T, nu):
    # 600 trials: binomial sd 0.9 % at 5 %; read as chi-square the same fits flag 8-18 %
    rate, chi2_rate = flag_rates(T, nu, 600, seed=11)
    assert 0.02 <= rate <= 0.075, rate
    assert chi2_rate > 0.075, chi2_rate


def test_p_value_against_chi_square_and_an_independent_simulation():
    se = np.array([0.08, 0.1, 0.12, 0.1, 0.09])
    # known errors: chi-square with n - 2 dof
    assert scatter_p_value(6.0, X5, se, np.full(5, np.inf)) == pytest.approx(chi2_dist.sf(6.0, 3))
    assert scatter_p_value(6.0, X5, se, None) == pytest.approx(chi2_dist.sf(6.0, 3))
    # estimated over 4 ions: numpy's weighted polyfit on the null, drawn independently
    rng = np.random.default_rng(5)
    x, null = 1 / T5, []
    for _ in range(3000):
        s = se * np.sqrt(rng.chisquare(3, 5) / 3)
        e = se * rng.standard_normal(5)
        resid = e - np.polyval(np.polyfit(x, e, 1, w=1 / s), x)
        null.append(np.sum((resid / s) ** 2))
    for q in (6.0, 10.0, 20.0):
        ref = np.mean(np.array(null) >= q)
        assert scatter_p_value(q, X5, se, np.full(5, 3.0)) == pytest.approx(ref, abs=0.03)
        assert ref > chi2_dist.sf(q, 3) + 0.02          # heavier-tailed than chi-square
    # far out: still falling, positive
    far = [scatter_p_value(q, X5, se, np.full(5, 3.0)) for q in (200.0, 400.0, 800.0)]
    assert far[0] > far[1] > far[2] > 0


@pytest.mark.parametrize("size", [0.5, 2.0, 3.0, 4.0, 6.0])
def test_estimated_errors_scaled_by_the_pdg_factor_whatever_p(size):
    """Errors over few ions: the covariance is statsmodels' fixed-scale one times
    max(1, its estimated scale) at any p, the intervals the studentized bootstrap quantile
    of the scaled fit (the same whatever the data: it depends on the errors and dof alone;
    below the unscaled one, whose draws lack the scale), the Welch-Satterthwaite dof still
    recorded; the flag where the simulated null's p < 5 %. d9a7246 left fits with p >= 5 %
    unscaled (size 2: scale 1.5, 3: 3.4) and pooled t(n - 2 + dof) below."""
    se, dof = np.array([0.08, 0.1, 0.12, 0.1, 0.09]), np.array([3.0, 7.0, 3.0, 15.0, 5.0])
    ln_y = true_ln_y(T5) + size * se * np.array([1.0, -1.0, 0.0, -1.0, 1.0]) / 2
    fit = fit_arrhenius(T5, np.exp(ln_y), se, y_err_dof=dof)
    wls = sm.WLS(ln_y, X5, weights=1 / se ** 2)
    fixed, scaled = wls.fit(cov_type="fixed scale"), wls.fit()
    cov = fixed.cov_params() * max(1.0, scaled.scale)
    assert fit.covariance == pytest.approx(cov, rel=1e-9)
    x0s = np.array([[0.0, 1.0], X300])
    qs = studentized_quantile(x0s, X5[:, 1], se, dof, scaled=True)
    assert np.all(qs < studentized_quantile(x0s, X5[:, 1], se, dof, scaled=False))
    assert [fit.Ea_quantile, fit.quantile] == pytest.approx(qs, rel=1e-12)
    assert [fit.Ea_dof, fit.extrapolation_dof] == pytest.approx(
        [ws_t(x0, X5, se, dof)[1] for x0 in x0s], rel=1e-9)
    for x0, q, got in zip(x0s, qs, (fit.Ea_ci95, np.log(fit.y_extrapolated_ci95))):
        mean, sd = x0 @ fixed.params, np.sqrt(x0 @ cov @ x0)
        assert got == pytest.approx([mean - q * sd, mean + q * sd], rel=1e-9)
    p = scatter_p_value(fixed.ssr, X5, se, dof)
    assert ("scatter_exceeds_errors" in fit.flags) == (p < 0.05)
    # 0.5: not scaled; 2 and 3: scaled though unflagged (3: chi-square p 3 %, the old
    # switch's flag and t(3)); 4 and 6 flagged
    assert {0.5: scaled.scale < 1 and p > 0.05, 2.0: scaled.scale > 1 and p > 0.05,
            3.0: p > 0.05 and chi2_dist.sf(fixed.ssr, 3) < 0.05,
            4.0: p < 0.05, 6.0: p < 0.005}[size]


@pytest.mark.parametrize("size, in_band", [(1.0, False), (1.6, True), (1.75, True), (2.0, False)])
def test_known_errors_correction_grows_with_p(size, in_band):
    """Known errors: none at p >= 5 % (1.96, fixed scale), all of the Birge scale and t(3) at
    p <= 0.5 % (as before), between: share log10(0.05 / p) of both (the old fit: all of
    them from p < 5 %)."""
    se = np.array([0.08, 0.1, 0.12, 0.1, 0.09])
    ln_y = true_ln_y(T5) + size * se * np.array([1.0, -1.0, 0.0, -1.0, 1.0])
    fit = fit_arrhenius(T5, np.exp(ln_y), se, y_err_dof=np.full(5, np.inf))
    fixed = sm.WLS(ln_y, X5, weights=1 / se ** 2).fit(cov_type="fixed scale")
    p = chi2_dist.sf(fixed.ssr, 3)
    share = float(np.clip(np.log10(0.05 / p), 0, 1))
    q = (1 - share) * 1.96 + share * student_t.ppf(0.975, 3)
    cov = fixed.cov_params() * (1 + share * (fixed.ssr / 3 - 1))
    mean, sd = X300 @ fixed.params, np.sqrt(X300 @ cov @ X300)
    assert fit.y_extrapolated_ci95 == pytest.approx(np.exp([mean - q * sd, mean + q * sd]),
                                                    rel=1e-9)
    assert ("scatter_exceeds_errors" in fit.flags) == (p < 0.05)
    assert (0 < share < 1) == in_band


BOUND3 = 0.01
"""Largest rise of the 300 K factor a step of 0.005 errors over 4 ions: x1.0054 (d9a7246's
gradual correction x1.014)."""


def factor_steps(nu, sizes):
    """ln of neighbouring 300 K factors' ratios over one residual pattern scaled finely
    (3 points, ln errors 0.1 with dof ``nu``)."""
    pattern = 0.1 * np.array([1.0, -2.0, 1.0]) / np.sqrt(6)
    ln_factor = []
    for k in sizes:
        fit = fit_arrhenius(T3, np.exp(true_ln_y(T3) + k * pattern), np.full(3, 0.1),
                            y_err_dof=np.full(3, nu))
        lo, hi = fit.y_extrapolated_ci95
        ln_factor.append(np.log(hi / lo) / 2)
    return np.diff(ln_factor)


@pytest.mark.parametrize("nu, bound", [(3.0, BOUND3), (np.inf, 0.25)])
def test_interval_grows_continuously_with_the_scatter(nu, bound):
    # the old switch moved the 300 K factor 3.0 -> 44,000 (x15,000) between sizes 1.98
    # and 1.9825 errors (dof 3), as with known errors; over 4 ions the PDG scale grows as
    # the residuals do; the known errors' gradual correction still rises steeply (x1.17 a
    # step of 0.005 errors) towards t(1) = 12.7 times the Birge scale
    steps = factor_steps(nu, np.linspace(1.0, 4.0, 601))
    assert np.all(steps > -1e-12)          # more scatter never narrows it
    assert np.exp(steps.max()) < 1 + bound, np.exp(steps.max())
