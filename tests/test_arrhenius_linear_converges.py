"""The campaign fit in D (:func:`ionmd.analysis.arrhenius_linear.fit_arrhenius_linear`)
converges to the least-squares minimum, not to where the cost's rounding stopped its step
halving: a Gauss-Newton step whose cost came out 7e-16 above (rounding, at chi2 1.46) was
halved to 1e-6 of itself, and that tiny step read as convergence, 4e-9 eV short in Ea before
the hand-off's last step (a real campaign's collect: Ea 2.5e-10 and its error 2e-9 off,
relative; tests/test_sweep_collect_real_campaign.py compares them with curve_fit at 1e-9).

Reference: mpmath's root of the chi-square gradient in (ln A, Ea) at 40 digits, the Fisher
covariance there, scaled by PDG's max(1, chi2 / (n - 2)) (the points' errors estimated)."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from scipy.constants import Boltzmann, electron_volt

from ionmd.analysis.arrhenius_linear import fit_arrhenius_linear

KB = Boltzmann / electron_volt

# test_sweep_collect_real_campaign's rows (LiCl, 2 replicas a temperature): D and ln_err
REAL = ([1000.0, 1200.0, 1400.0],
        [0.0001381907582917138, 0.00031821883757155475, 0.00046066501107388635],
        [0.11442944912939548, 0.08556469521715057, 0.07231603013720468])


def seeded(seed: int) -> tuple[list, list, list]:
    """6 temperatures 500-1000 K, Ea 0.3 eV, relative errors 10-40 %, scattered by them."""
    rng = np.random.default_rng(seed)
    T = np.linspace(500.0, 1000.0, 6)
    rel = np.linspace(0.4, 0.1, 6)
    true = 1e-3 * np.exp(-0.3 / (KB * T))
    return list(T), list(true * (1 + rel * rng.standard_normal(6))), list(rel)


def exact_fit(T, y, rel) -> tuple[float, float]:
    """Ea and its PDG-scaled standard error at the exact least-squares minimum in y."""
    mp.mp.dps = 40
    k = mp.mpf(KB)
    se = [mp.mpf(v) * mp.mpf(r) for v, r in zip(y, rel)]

    def grad(a, e):
        g = [mp.mpf(0), mp.mpf(0)]
        for t, v, s in zip(T, y, se):
            f = mp.exp(a - e / (k * t))
            r = (v - f) / s
            g[0] += -2 * r * f / s
            g[1] += 2 * r * f / (k * t) / s
        return g

    slope, icpt = np.polyfit(-1.0 / (KB * np.array(T)), np.log(y), 1)
    a, e = mp.findroot(grad, (mp.mpf(icpt), mp.mpf(slope)))
    J, chi2 = mp.matrix(len(T), 2), mp.mpf(0)
    for i, (t, v, s) in enumerate(zip(T, y, se)):
        f = mp.exp(a - e / (k * t))
        J[i, 0], J[i, 1] = f / s, -f / (k * t) / s
        chi2 += ((v - f) / s) ** 2
    cov = (J.T * J) ** -1
    return float(e), float(mp.sqrt(cov[1, 1] * max(1, chi2 / (len(T) - 2))))


@pytest.mark.parametrize("case", ["real", 1, 2, 3])
def test_fit_in_y_reaches_the_minimum(case):
    T, y, rel = REAL if case == "real" else seeded(case)
    assert min(y) > 0
    se = np.array(y) * np.array(rel)
    fit = fit_arrhenius_linear(np.array(T), np.array(y), se, y_err_dof=np.full(len(T), 15.0))
    ea, ea_err = exact_fit(T, y, rel)
    assert fit.Ea_eV == pytest.approx(ea, rel=2e-11)
    assert fit.Ea_err_eV == pytest.approx(ea_err, rel=1e-10)
