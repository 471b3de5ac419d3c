"""The studentized bootstrap quantile's numerics (:mod:`ionmd.analysis.arrhenius_bootstrap`,
Dec 7 2026: its root solved by a bracketed Newton over all of a call's estimates at once,
no longer scipy's brentq per estimate): the per-draw parts against 60-digit arithmetic in the
draws where one weight dwarfs the rest, the root against a tight brentq of the same
exceedance, the exceedance's derivative against finite differences, the solver against the
normal quantile it must give for a constant ratio; and the fit in y's Gauss-Newton against
scipy's least_squares where one point's error is 1e-9 of its value."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from scipy.optimize import brentq, least_squares
from scipy.stats import norm

from ionmd.analysis.arrhenius import KB_EV
from ionmd.analysis.arrhenius_bootstrap import (_exceedance, _null_draws, _null_key,
                                                _solve_quantiles, _studentized_draws,
                                                studentized_quantile)
from ionmd.analysis.arrhenius_linear import fit_arrhenius_linear
from ionmd.errors import AnalysisError

T5 = np.array([600.0, 700.0, 800.0, 900.0, 1000.0])
X5 = -1.0 / (KB_EV * T5)
ERR5 = np.array([0.12, 0.10, 0.09, 0.08, 0.07])
ESTIMATES = np.array([[0.0, 1.0], [1.0, -1.0 / (KB_EV * 300.0)], [1.0, X5[2]]])


def exact_parts(x, err, ratio, normal, c0, c1):
    """One draw's (r, alpha, beta, gamma) as the module doc defines them, in 60 digits."""
    mpmath.mp.dps = 60
    x, err, ratio, z = ([mpmath.mpf(float(v)) for v in a] for a in (x, err, ratio, normal))
    c0, c1 = mpmath.mpf(float(c0)), mpmath.mpf(float(c1))
    w = [1 / (e * e * r) for e, r in zip(err, ratio)]
    total = sum(w)
    mean_x = sum(wi * xi for wi, xi in zip(w, x)) / total
    dx = [xi - mean_x for xi in x]
    sxx = sum(wi * d * d for wi, d in zip(w, dx))
    lever = c1 - c0 * mean_x
    b = [(c0 * wi / total + lever * wi * d / sxx) * e for wi, d, e in zip(w, dx, err)]
    b_norm = mpmath.sqrt(sum(v * v for v in b))
    along = [v / b_norm for v in b]
    t = sum(a * zi for a, zi in zip(along, z))

    def residuals(noise):
        y = [n * e for n, e in zip(noise, err)]
        dy = [yi - sum(wi * yj for wi, yj in zip(w, y)) / total for yi in y]
        slope = sum(wi * d * e for wi, d, e in zip(w, dx, dy)) / sxx
        return [(e - slope * d) * mpmath.sqrt(wi) for e, d, wi in zip(dy, dx, w)]

    p, q = residuals(along), residuals([zi - t * a for zi, a in zip(z, along)])
    se = mpmath.sqrt(c0 ** 2 / total + lever ** 2 / sxx)
    return np.array([float(se / b_norm), float(sum(v * v for v in p)),
                     float(sum(u * v for u, v in zip(p, q))), float(sum(v * v for v in q))])


def test_parts_are_exact_where_one_weight_dwarfs_the_rest():
    """Errors re-estimated over 0.25-0.3 dof: chi2(nu) / nu reaches 1e-32, one weight 1e32
    times the rest. Before, the weighted mean's rounding times that weight left O(1)
    residuals: alpha/beta/gamma up to 190 % off in such draws (the quantile 0.2-7.5 %,
    worst at 0.25 dof); now within 1e-9 of 60-digit arithmetic."""
    dof = np.array([0.25, 3.0, 7.0, 0.3, 15.0])
    key = _null_key(X5, ERR5, dof)
    draws = _studentized_draws(*key, 3)
    parts = draws._conditional_parts(ESTIMATES)
    ratio, normal = (a[:, :1024].T for a in _null_draws(key[2]))     # a row per draw
    assert ratio.min() < 1e-25                  # the extreme draws are there
    extreme = np.argsort(ratio.min(axis=1))[:12]
    x, err = np.frombuffer(key[0]), np.frombuffer(key[1])
    for k, (c0, c1) in enumerate(ESTIMATES):
        for i in np.append(extreme, [0, 500]):
            ref = exact_parts(x, err, ratio[i], normal[i], c0, c1)
            got = np.array([part[k, i] for part in parts])
            size = ref[1] + abs(ref[2]) + ref[3]     # the quadratic's scale
            np.testing.assert_allclose(got[0], ref[0], rtol=1e-9)
            np.testing.assert_allclose(got[1:], ref[1:], rtol=0, atol=1e-9 * size)


@pytest.mark.parametrize("scaled", [True, False])
def test_quantile_is_the_root_of_the_exceedance(scaled):
    """Each estimate's quantile is where its exceedance is 5 %: against scipy's brentq of
    the same function to 1e-14, on designs of 3-8 points and dof 0.25-200 (within 1e-9;
    the brentq before stopped at 1e-9 + 1e-6 q)."""
    rng = np.random.default_rng(3)
    for _ in range(6):
        n = int(rng.integers(3, 9))
        x = -1.0 / (KB_EV * np.sort(rng.uniform(400.0, 1300.0, n)))
        err = np.exp(rng.uniform(np.log(0.01), 0.0, n))
        dof = np.exp(rng.uniform(np.log(0.25), np.log(200.0), n))
        x0 = np.array([[0.0, 1.0], [1.0, -1.0 / (KB_EV * 300.0)], [1.0, x[-1]]])
        q = studentized_quantile(x0, x, err, dof, scaled=scaled)
        residual_dof = n - 2 if scaled else 0
        parts = _studentized_draws(*_null_key(x, err, dof), residual_dof)._conditional_parts(x0)
        for k in range(len(x0)):
            row = [None if p is None else p[k:k + 1] for p in parts]

            def excess(v):
                return _exceedance(np.array([v]), *row, residual_dof)[0][0] - 0.05

            ref = brentq(excess, 0.5 * q[k], 2.0 * q[k], xtol=1e-14, rtol=1e-13)
            assert q[k] == pytest.approx(ref, rel=1e-9)


def test_exceedance_derivative_matches_finite_differences():
    """Newton's slope: the exceedance's derivative in q (its quadratic's roots moving with
    it) against central differences, where some draws' quadratic opens downwards."""
    dof = np.array([0.5, 3.0, 1.0, 3.0, 2.0])
    parts = _studentized_draws(*_null_key(X5, ERR5, dof), 3)._conditional_parts(ESTIMATES)
    for q in (1.5, 2.5, 4.0, 8.0):
        qs = np.full(len(ESTIMATES), q)
        _, slope = _exceedance(qs, *parts, 3)
        h = 1e-6 * q
        numeric = (_exceedance(qs + h, *parts, 3)[0] - _exceedance(qs - h, *parts, 3)[0]) / (2 * h)
        np.testing.assert_allclose(slope, numeric, rtol=1e-4)
    assert np.any(3 - (8.0 * parts[0]) ** 2 * parts[1] < 0)      # a quadratic opens down


def test_solver_gives_the_normal_quantile_of_a_constant_ratio():
    """Unscaled with the same ratio r in every draw the exceedance is 2 Phi(-q r): its root
    is 1.959964 / r, from r = 1 to 1e-11 (q 2e11: the Newton's bracket opened by factors
    of 3 on the way); beyond 3^25 (8.5e11) refused as before."""
    r = np.array([1.0, 0.1, 1e-4, 1e-11])[:, None] * np.ones((1, 64))
    q = _solve_quantiles(r, None, None, None, 0, lambda: "these points")
    np.testing.assert_allclose(q, norm.ppf(0.975) / r[:, 0], rtol=1e-10)
    with pytest.raises(AnalysisError, match="exceeds 1e12 for points with these points"):
        _solve_quantiles(np.full((1, 64), 1e-13), None, None, None, 0, lambda: "these points")


def test_fit_in_y_converges_where_one_error_is_1e9_of_its_value():
    """Gauss-Newton's step by weighted centred sums: with one point's error 1e-16 in D
    (1e-9 of it) the SVD step's rounding never settled (AnalysisError 'did not converge
    in 200 steps' before); now the fit reaches scipy's least-squares minimum."""
    T = np.array([664.5318303771019, 1031.4117094556855, 1177.4076169873765])
    y = np.array([1.2629853857106799e-09, 7.685815733102699e-08, 1.953112181533467e-07])
    se = np.array([2.0308934571245968e-10, 7.685815738023637e-17, 1.134013670348322e-08])
    fit = fit_arrhenius_linear(T, y, se, y_err_dof=np.array([3.0, np.inf, 3.0]))
    x = -1.0 / (KB_EV * T)
    ref = least_squares(lambda c: (y - np.exp(c[0] + c[1] * x)) / se, [-8.9, 0.66],
                        xtol=1e-15, ftol=1e-15, gtol=1e-15, x_scale=[1.0, 0.1])
    assert fit.chi2 == pytest.approx(2 * ref.cost, rel=1e-7)
    assert fit.Ea_eV == pytest.approx(ref.x[1], rel=1e-7)
