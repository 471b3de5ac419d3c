"""Arrhenius fits whose points' errors differ by orders of magnitude: one point measured
far more precisely than the rest, or an error estimated over less than one dof (a
Welch-Satterthwaite dof of combined replicas). The normal matrix then has the square of
the weighted design's condition: inverting it gave a negative variance of Ea (NaN), and
the scatter test's simulated null (errors re-estimated as chi2(nu) / nu, reaching 1e-24
over 0.3 dof) raised numpy's LinAlgError 'Singular matrix'. References: the analytic
limit of a line pinned through the precise point, and statsmodels' WLS."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.stats import t as student_t

from ionmd.analysis.arrhenius import KB_EV, fit_arrhenius
from ionmd.analysis.arrhenius_bootstrap import studentized_quantile

T = np.array([600.0, 700.0, 800.0, 900.0, 1000.0])
OFFSETS = np.array([0.1, -0.1, 0.05, 0.0, 0.03])
Y = np.exp(np.log(1e-5) - 0.3 / (KB_EV * T) + OFFSETS)
X = np.stack([np.ones_like(T), -1.0 / (KB_EV * T)], -1)


def statsmodels_fit(err: np.ndarray, scaled: bool):
    """(coefficients, covariance): WLS with the errors as given, times max(1, chi2/dof)
    where ``scaled`` (PDG's scale factor, the rule for estimated errors)."""
    fixed = sm.WLS(np.log(Y), X, weights=1.0 / err ** 2).fit(cov_type="fixed scale")
    scale = sm.WLS(np.log(Y), X, weights=1.0 / err ** 2).fit().scale if scaled else 1.0
    return np.asarray(fixed.params), np.asarray(fixed.cov_params()) * max(1.0, scale)


def test_one_precise_known_point_gives_the_pinned_line_error():
    err = np.array([0.1, 0.1, 1e-9, 0.1, 0.1])
    fit = fit_arrhenius(T, Y, err)
    # as one weight grows without bound the line passes through that point, and the
    # slope's variance is that of a line through it fitted to the others
    x, others = X[:, 1], np.arange(T.size) != 2
    pinned = 1.0 / np.sqrt(np.sum((x[others] - x[2]) ** 2 / err[others] ** 2))
    assert np.isfinite(fit.Ea_err_eV)
    assert fit.Ea_err_eV == pytest.approx(pinned, rel=1e-6)
    assert np.log(fit.prefactor) - fit.Ea_eV / (KB_EV * T[2]) == pytest.approx(np.log(Y[2]), abs=1e-9)
    assert all(np.isfinite(fit.y_extrapolated_ci95)) and fit.y_extrapolated_ci95[0] > 0


def test_one_precise_estimated_point_is_fitted_as_statsmodels_does():
    err = np.array([0.1, 0.1, 1e-9, 0.1, 0.1])
    fit = fit_arrhenius(T, Y, err, y_err_dof=np.full(T.size, 3.0))
    params, cov = statsmodels_fit(err, scaled=True)
    assert fit.Ea_eV == pytest.approx(params[1], rel=1e-9)
    assert fit.Ea_err_eV == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-6)
    assert 0.0 < fit.Ea_ci95[1] - fit.Ea_ci95[0] < 1.0


def test_an_error_estimated_over_less_than_one_dof_is_fitted():
    err = np.array([0.1, 0.15, 0.08, 0.2, 0.12])
    dof = np.array([0.3, 3.0, 3.0, 3.0, 3.0])
    fit = fit_arrhenius(T, Y, err, y_err_dof=dof)
    params, cov = statsmodels_fit(err, scaled=True)
    assert fit.Ea_err_eV == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-9)
    # the Welch-Satterthwaite dof of Ea still recorded, by hand
    a = np.linalg.inv(X.T @ (X / err[:, None] ** 2))[1] @ (X / err[:, None] ** 2).T
    part = (a * err) ** 2
    ws = part.sum() ** 2 / np.sum(part ** 2 / dof)
    assert fit.Ea_dof == pytest.approx(ws, rel=1e-9)
    # the interval: the studentized bootstrap quantile (its draws re-estimate the 0.3-dof
    # error down to 1e-24 too), finite and beyond the normal's
    q = studentized_quantile(np.array([[0.0, 1.0]]), X[:, 1], err, dof, scaled=True)[0]
    assert 1.96 < q < student_t.ppf(0.975, 0.3)
    half = q * np.sqrt(cov[1, 1])
    assert fit.Ea_ci95 == pytest.approx((params[1] - half, params[1] + half), rel=1e-9)
