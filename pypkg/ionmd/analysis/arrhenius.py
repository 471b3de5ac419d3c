"""Arrhenius fits of D(T) or sigma(T) and extrapolation to room temperature.

``ln y = ln A - Ea / (k_B T)``, fitted by weighted least squares in ``ln y`` against
``1 / T``. The weight of each point is its uncertainty in ``ln y`` (half the width of its
95 % interval in log space / 1.96). Parameter covariance comes from the weights when
``absolute_sigma`` (the intervals are trusted), else it is rescaled by the reduced
chi-square (scipy ``curve_fit``'s convention). Extrapolation carries the full covariance
(delta method in log space, exact for a model linear in its parameters).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.constants import Boltzmann, electron_volt

from ionmd.errors import AnalysisError

KB_EV = Boltzmann / electron_volt


@dataclass
class ArrheniusFit:
    """Ea in eV, prefactor in the units of y, extrapolated y at ``T_extrapolated``."""

    Ea_eV: float
    Ea_err_eV: float
    prefactor: float
    ln_prefactor_err: float
    T_extrapolated: float
    y_extrapolated: float
    y_extrapolated_ci95: tuple[float, float]
    covariance: np.ndarray
    n_points: int

    def predict_ln(self, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """ln y at ``T`` and its standard error."""
        X = np.stack([np.ones_like(T, dtype=float), -1.0 / (KB_EV * np.asarray(T, float))], -1)
        mean = X @ np.array([np.log(self.prefactor), self.Ea_eV])
        var = np.einsum("...i,ij,...j->...", X, self.covariance, X)
        return mean, np.sqrt(var)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["covariance"] = self.covariance.tolist()
        out["y_extrapolated_ci95"] = list(self.y_extrapolated_ci95)
        return out


def fit_arrhenius(T: np.ndarray, y: np.ndarray, y_err_ln: np.ndarray | None = None, *,
                  T_extrapolate: float = 300.0, absolute_sigma: bool = True) -> ArrheniusFit:
    """Fit ``y(T) = A exp(-Ea / k_B T)``.

    Parameters
    ----------
    T : array
        Temperatures, K (at least 2 distinct, 3 for an error without given weights).
    y : array
        D or sigma, positive.
    y_err_ln : array, optional
        Standard error of ``ln y`` per point; unweighted (errors from the scatter) if None.
    T_extrapolate : float
        Temperature for the extrapolation (300 K).
    absolute_sigma : bool
        Trust ``y_err_ln`` as absolute (True) or rescale by the fit's chi-square.
    """
    T = np.asarray(T, float)
    y = np.asarray(y, float)
    if T.shape != y.shape or T.size < 2 or len(np.unique(T)) < 2:
        raise AnalysisError("Arrhenius fit needs D or sigma at >= 2 distinct temperatures")
    if np.any(y <= 0) or np.any(T <= 0) or not np.all(np.isfinite(y)):
        raise AnalysisError(f"Arrhenius fit needs positive finite values, got {y.tolist()} "
                            f"at {T.tolist()} K (a run not yet diffusive?)")
    if y_err_ln is None:
        if T.size < 3:
            raise AnalysisError("without per-point errors the Arrhenius fit needs >= 3 temperatures")
        w = np.ones_like(y)
        absolute_sigma = False
    else:
        y_err_ln = np.asarray(y_err_ln, float)
        if np.any(y_err_ln <= 0):
            raise AnalysisError("per-point errors of ln y must be positive")
        w = 1.0 / y_err_ln
    X = np.stack([np.ones_like(T), -1.0 / (KB_EV * T)], -1)
    Xw, lw = X * w[:, None], np.log(y) * w
    coef, *_ = np.linalg.lstsq(Xw, lw, rcond=None)
    cov = np.linalg.inv(Xw.T @ Xw)
    dof = T.size - 2
    if not absolute_sigma:
        if dof < 1:
            raise AnalysisError("cannot estimate the Arrhenius error from 2 points without errors")
        cov = cov * float(np.sum((lw - Xw @ coef) ** 2) / dof)
    fit = ArrheniusFit(Ea_eV=float(coef[1]), Ea_err_eV=float(np.sqrt(cov[1, 1])),
                       prefactor=float(np.exp(coef[0])), ln_prefactor_err=float(np.sqrt(cov[0, 0])),
                       T_extrapolated=float(T_extrapolate), y_extrapolated=0.0,
                       y_extrapolated_ci95=(0.0, 0.0), covariance=cov, n_points=int(T.size))
    mean, se = fit.predict_ln(np.array(T_extrapolate))
    fit.y_extrapolated = float(np.exp(mean))
    fit.y_extrapolated_ci95 = (float(np.exp(mean - 1.96 * se)), float(np.exp(mean + 1.96 * se)))
    return fit


def ln_error_from_interval(lo: float, hi: float) -> float:
    """Standard error of ln y from a 95 % interval [lo, hi] (log-normal approximation)."""
    if lo <= 0:
        lo = hi * 1e-3  # an interval reaching zero: treat as a very uncertain point
    return float((np.log(hi) - np.log(lo)) / (2 * 1.96))
