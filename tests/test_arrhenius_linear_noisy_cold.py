"""The fit in y on very noisy values, one at or below zero. Before, once the Gauss-Newton
step was halved below 1e-6 the trial was taken whatever its cost (NaN, or higher), the
curve ran off to vanish at two temperatures and a NaN reached the SVD: numpy's LinAlgError
escaped instead of AnalysisError (4 of 300 random draws with a value <= 0)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ionmd.analysis.arrhenius_linear import fit_arrhenius_linear
from ionmd.errors import AnalysisError

KB_EV = 8.617333262e-5


def test_a_curve_that_runs_off_is_an_analysis_error_not_a_linalg_error():
    T = np.array([550.0, 600.0, 750.0])
    f = 1e-4 * np.exp(-0.4 / (KB_EV * T))
    y = np.array([0.951, -0.021, 1.145]) * f
    se = np.array([0.143, 0.732, 1.059]) * f
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no NaN computed on the way either
        with pytest.raises(AnalysisError, match="too noisy to fit"):
            fit_arrhenius_linear(T, y, se)


def test_the_ordinary_case_still_reaches_the_minimum():
    """Against scipy's least squares in y from the same data: the same Ea."""
    from scipy.optimize import least_squares

    T = np.array([500.0, 600.0, 700.0, 800.0])
    f = 1e-4 * np.exp(-0.4 / (KB_EV * T))
    y = f * np.array([1.3, 0.8, 1.1, 0.95])
    se = 0.2 * f
    fit = fit_arrhenius_linear(T, y, se)
    ref = least_squares(lambda p: (y - np.exp(p[0] - p[1] / (KB_EV * T))) / se,
                        x0=[np.log(1e-4), 0.3], xtol=1e-15, ftol=1e-15, gtol=1e-15)
    assert fit.Ea_eV == pytest.approx(ref.x[1], rel=1e-6)
