"""The budget allocator reads a run stopped by its D-interval rule (its interval at 99 %,
Student t over its ions) with the dof collect reads (ions - 1), so that its factor at
300 K is collect's 95 % interval; the reference dof is scipy's t quantile inverted by hand,
the standard error that of the least-squares fit in D (scipy's curve_fit, as collect fits
since 0b32879) and the quantile the studentized bootstrap one of collect's fit (5edc5dd) over
those errors and dof."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.constants import Boltzmann, electron_volt
from scipy.optimize import curve_fit
from scipy.stats import t as student_t

from ionmd.analysis.aggregate import Point, arrhenius_of_points
from ionmd.analysis.arrhenius_bootstrap import studentized_quantile
from ionmd.sweep.allocate import TemperatureRun, next_step

KB = Boltzmann / electron_volt
T = np.array([600.0, 700.0, 800.0, 900.0, 1000.0])
IONS = 8


def rule_stopped_points(rng):
    """One run per temperature over 8 ions, its interval at 99 % (Student t, 7 dof)."""
    q99 = student_t.ppf(0.995, IONS - 1)
    D = 1e-5 * np.exp(-0.3 / (KB * T))
    se = D * rng.uniform(0.05, 0.1, T.size)
    v = D + rng.normal(0, se)
    return [Point(float(t), float(m), (m - q99 * e, m + q99 * e), quantile=q99, level=0.99)
            for t, m, e in zip(T, v, se)]


def test_rule_stopped_runs_read_with_their_ions():
    points = rule_stopped_points(np.random.default_rng(2))
    runs = [TemperatureRun(p.temperature_K, 50.0, p.value, p.ci95, 1.0, quantile=p.quantile,
                           level=p.level) for p in points]
    assert [r.dof for r in runs] == pytest.approx([IONS - 1] * T.size, rel=1e-8)
    d = next_step(runs, step_ps=10.0, candidates_K=(500.0,))
    fit = arrhenius_of_points(points, times_T=False)
    assert not fit["flags"]
    assert d.D_target * d.factor == pytest.approx(fit["extrapolated_ci95"][1], rel=1e-9)
    # by hand: collect's fit in D itself (scipy's curve_fit, each D weighted by its 99 %
    # interval's half-width over Student t at 99 %, absolute errors): the fitted ln D(300 K)'s
    # error from its covariance, times the bootstrap quantile over points of 7 dof each whose
    # ln errors are their errors in D over the fitted curve (the PDG scale in its draws, as
    # collect's 5-point fit)
    se = np.array([(p.ci95[1] - p.ci95[0]) / (2 * p.quantile) for p in points])
    (ln_a, ea), cov = curve_fit(lambda t, a, e: np.exp(a - e / (KB * t)), T,
                                np.array([p.value for p in points]), p0=(np.log(1e-5), 0.3),
                                sigma=se, absolute_sigma=True, xtol=1e-14, ftol=1e-14)
    x = -1.0 / (KB * T)
    x0 = np.array([1.0, -1 / (KB * 300.0)])
    assert d.D_target == pytest.approx(np.exp(ln_a - ea / (KB * 300.0)), rel=1e-7)
    q = studentized_quantile(x0[None], x, se / np.exp(ln_a + ea * x),
                             np.full(T.size, IONS - 1.0), scaled=True)[0]
    assert q > 2.0
    assert np.log(d.factor) == pytest.approx(q * np.sqrt(x0 @ cov @ x0), rel=1e-6)
