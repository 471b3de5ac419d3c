"""The scatter test's null (the weighted residual sum of a line fitted to each draw's
noise) under one weight far above the rest, as an error re-estimated over dof < 1 draws
(chi2(0.3) / 0.3 reaches 1e-24): centring by ``y - mean`` left that point the mean's
rounding, which its weight made an O(1) residual sum that is not there. Reference: the
same weighted least squares in 60-digit mpmath."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from ionmd.analysis.arrhenius_bootstrap import _line_residual_sums


def _mp_residual_sum(x, y, w) -> float:
    with mpmath.workdps(60):
        x, y, w = ([mpmath.mpf(float(v)) for v in a] for a in (x, y, w))
        total = sum(w)
        xm = sum(wi * xi for wi, xi in zip(w, x)) / total
        ym = sum(wi * yi for wi, yi in zip(w, y)) / total
        sxy = sum(wi * (xi - xm) * (yi - ym) for wi, xi, yi in zip(w, x, y))
        sxx = sum(wi * (xi - xm) ** 2 for wi, xi in zip(w, x))
        slope = sxy / sxx
        return float(sum(wi * (yi - ym - slope * (xi - xm)) ** 2
                         for wi, xi, yi in zip(w, x, y)))


@pytest.mark.parametrize("heavy", [1.0, 1e16, 1e24, 1e32])
def test_residual_sums_under_a_dominant_weight_match_60_digit_arithmetic(heavy):
    rng = np.random.default_rng(7)
    x = -1.0 / (8.617333262e-5 * np.array([500.0, 600.0, 700.0, 800.0, 900.0]))
    y = rng.normal(size=(5, 16)) * 0.3 - 20.0        # ln D-like values, far from 0
    w = rng.uniform(1.0, 30.0, size=(5, 16))
    w[2] *= heavy
    # two dominant points in half the draws up to 1e24 (their line's slope then rounds:
    # beyond, their residuals are rounding times their weight, in any centring; two such
    # draws at once are ~1e-6 of draws at the smallest dof allowed, 0.25)
    w[4, ::2] *= min(heavy, 1e24)
    got = _line_residual_sums(x, y, w)
    want = np.array([_mp_residual_sum(x, y[:, j], w[:, j]) for j in range(y.shape[1])])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
