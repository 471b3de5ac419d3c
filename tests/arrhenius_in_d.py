"""Independent references for the campaign Arrhenius fit in D itself (0b32879,
:func:`ionmd.analysis.arrhenius_linear.fit_arrhenius_linear`): ``y = A exp(-Ea / k_B T)``
by least squares in y, each point weighted by its standard error in y. Here scipy's
curve_fit (trust-region reflective, exact Jacobian, absolute sigma) does the fit,
and the rest is written from its documented definitions: the PDG scale
``max(1, chi2 / (n - 2))`` where the errors were estimated over few ions, and Ea's
Welch-Satterthwaite dof over its linearisation in y (``Ea ~ sum_i a_i y_i``,
``a = (J^T W J)^-1 J^T W`` at the fitted curve)."""

from __future__ import annotations

import numpy as np
from scipy.constants import Boltzmann, electron_volt
from scipy.optimize import curve_fit
from scipy.stats import t as student_t

KB = Boltzmann / electron_volt


def _curve(t, ln_a, ea):
    return np.exp(ln_a - ea / (KB * t))


def _jacobian(t, ln_a, ea):
    f = _curve(t, ln_a, ea)
    return np.stack([f, -f / (KB * t)], axis=-1)


def own_se(d: dict) -> float:
    """A run's standard error of D from its own interval (its upper half where wider, as
    an interval clipped at zero keeps): the half-width over scipy's Student t quantile over
    its ions, at the interval's level."""
    q = student_t.ppf(0.5 + d.get("interval_level", 0.95) / 2, d["n_ions"] - 1)
    lo, hi = d["D_ci95"]
    return float(max(hi - d["D"], (hi - lo) / 2) / q)


def fit_in_y(T, y, se) -> dict:
    """curve_fit of ``y = A exp(-Ea / k_B T)`` in y with ``sigma=se``, absolute_sigma:
    ``ln_a``, ``Ea``, ``cov`` (of (ln A, Ea), unscaled), ``chi2`` (in y), ``f`` (the fitted
    curve at T). Started from numpy's unweighted line fit of ln y."""
    T, y, se = (np.asarray(v, float) for v in (T, y, se))
    pos = y > 0
    slope, icpt = np.polyfit(-1.0 / (KB * T[pos]), np.log(y[pos]), 1)
    # trust-region reflective with the cost's own stop off (ftol None): chi2 is flat along
    # the (ln A, Ea) valley, and MINPACK's relative-reduction stop left Ea 4e-9 short
    (ln_a, ea), cov = curve_fit(_curve, T, y, p0=(icpt, slope), sigma=se, absolute_sigma=True,
                                jac=_jacobian, method="trf", ftol=None, xtol=1e-15,
                                gtol=1e-15, max_nfev=10000)
    f = _curve(T, ln_a, ea)
    return {"ln_a": float(ln_a), "Ea": float(ea), "cov": cov, "f": f,
            "chi2": float(np.sum(((y - f) / se) ** 2))}


def pdg_ea_error(fit: dict, n: int) -> float:
    """Ea's standard error with the PDG scale factor: the covariance times
    ``max(1, chi2 / (n - 2))``."""
    return float(np.sqrt(fit["cov"][1, 1] * max(1.0, fit["chi2"] / (n - 2))))


def ea_dof(fit: dict, T, se, dof) -> float:
    """Welch-Satterthwaite dof of Ea from its linearisation in y about the fitted curve:
    ``dEa/dy_i = [cov J^T W]_(1, i)``, each part ``(dEa/dy_i se_i)^2`` known to ``dof_i``."""
    T, se, dof = (np.asarray(v, float) for v in (T, se, dof))
    jac = _jacobian(T, fit["ln_a"], fit["Ea"])
    a = (fit["cov"] @ (jac / se[:, None] ** 2).T)[1]
    part = (a * se) ** 2
    return float(part.sum() ** 2 / np.sum(part ** 2 / dof))
