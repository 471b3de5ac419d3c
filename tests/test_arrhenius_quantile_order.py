"""The simulated nulls of an Arrhenius fit with estimated errors (the studentized bootstrap
quantile, the scatter test's p-value) are a function of the set of points, not of the
order they are given in. Each column of the seeded draws went to the point in that
position, so the same five points gave a 300 K quantile of 2.309 in one order and 2.177 in
another, and the allocator sorted its points by temperature to match collect. The
reference: the same call on the points in another order (to 1e-12), and the fit's
interval from the points sorted by temperature."""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.analysis.arrhenius import KB_EV, fit_arrhenius
from ionmd.analysis.arrhenius_bootstrap import scatter_p_value, studentized_quantile
from ionmd.sweep.allocate import extrapolation_factor

T = np.array([500.0, 600.0, 700.0, 800.0, 900.0, 700.0])   # a replica at 700 K too
ERR = np.array([0.10, 0.12, 0.08, 0.15, 0.10, 0.11])
DOF = np.array([7.0, 3.0, 7.0, 15.0, 5.0, 7.0])
ORDERS = [np.array([3, 0, 5, 4, 1, 2]), np.array([5, 4, 3, 2, 1, 0]), np.array([2, 1, 0, 5, 3, 4])]
X0 = np.array([[1.0, -1.0 / (KB_EV * 300.0)], [0.0, 1.0]])     # ln D(300 K), Ea


def x_of(T):
    return -1.0 / (KB_EV * T)


@pytest.mark.parametrize("scaled", [True, False])
def test_studentized_quantile_is_the_same_for_the_points_in_any_order(scaled):
    ref = studentized_quantile(X0, x_of(T), ERR, DOF, scaled=scaled)
    assert np.all((ref > 1.96) & (ref < 12.7))                 # a quantile of estimated errors
    for order in ORDERS:
        q = studentized_quantile(X0, x_of(T[order]), ERR[order], DOF[order], scaled=scaled)
        assert q == pytest.approx(ref, rel=1e-12, abs=0)


def test_scatter_p_value_is_the_same_for_the_points_in_any_order():
    X = np.stack([np.ones_like(T), x_of(T)], -1)
    ref = scatter_p_value(6.0, X, ERR, DOF)
    assert 0.01 < ref < 0.5
    for order in ORDERS:
        assert scatter_p_value(6.0, X[order], ERR[order], DOF[order]) == pytest.approx(
            ref, rel=1e-12, abs=0)


def test_fit_and_allocator_give_the_interval_of_the_sorted_points():
    """fit_arrhenius on shuffled points reports the interval of the points by temperature
    (what collect fits), and the allocator's factor, its points in any order, that fit's."""
    rng = np.random.default_rng(3)
    D = 1e-5 * np.exp(-0.3 * (1.0 / (KB_EV * T) - 1.0 / (KB_EV * 1000.0)))
    D = D * np.exp(ERR * rng.standard_normal(T.size))
    by_T = np.argsort(T, kind="stable")
    ref = fit_arrhenius(T[by_T], D[by_T], ERR[by_T], y_err_dof=DOF[by_T], scatter_p=0.0)
    for order in ORDERS:
        fit = fit_arrhenius(T[order], D[order], ERR[order], y_err_dof=DOF[order], scatter_p=0.0)
        assert fit.y_extrapolated_ci95 == pytest.approx(ref.y_extrapolated_ci95, rel=1e-12)
        assert fit.Ea_ci95 == pytest.approx(ref.Ea_ci95, rel=1e-12)
        var = float(ref.predict_ln(np.array(300.0))[1]) ** 2
        f = extrapolation_factor(T[order], ERR[order] ** 2, DOF[order], var, 300.0)
        # the allocator takes the scaled procedure's quantile from 3 points: compare that
        q = studentized_quantile(X0[:1], x_of(T[by_T]), ERR[by_T], DOF[by_T], scaled=True)[0]
        assert np.log(f) == pytest.approx(q * np.sqrt(var), rel=1e-12)
