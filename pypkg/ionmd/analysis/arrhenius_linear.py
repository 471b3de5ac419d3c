"""Arrhenius fits in y itself (D, sigma T): ``y_i ~ Normal(A exp(-Ea / k_B T_i), se_i)``.

Why not in ln y: at the cold end a run's D carries a large relative error (0.5-1.2), and
ln of a noisy positive value is biased (``E ln y < ln E y``), its ln error ``se / y`` is
smallest where y came out high (the high draws weigh most), and a value at or below zero
has no logarithm at all, so the temperatures whose replicas reach zero had to be left out:
those that came out low. Each of the three pushes the cold points up, Ea down
(examples/arrhenius_selection_bias.py). A run's D, a slope summed over its ions, is close
to normal in D (the replicas are combined in D for the same reason,
:mod:`ionmd.analysis.aggregate`), so the likelihood is normal in D: no selection, no log
of a noisy value, and weights ``1 / se^2`` that do not follow the value.

The least-squares fit in y is nonlinear in (ln A, Ea); Gauss-Newton's step is the weighted
line fit of the working values ``z_i = ln f_i + (y_i - f_i) / f_i`` with ln errors
``se_i / f_i`` (``f``: the current curve). At convergence that line fit returns the same
(ln A, Ea), its residual sum is the fit's chi-square in y, and its covariance is the
Gauss-Newton (Fisher) one; so the fit is handed, at convergence, to
:func:`ionmd.analysis.arrhenius.fit_ln_line` with those working values and errors, and
gets the same scatter test, PDG scale and studentized bootstrap intervals as the fit in
ln y (the errors it studentizes are the points' relative errors on the curve, ``se / f``,
which do not follow the data's noise as ``se / y`` does).

Measured (examples/arrhenius_selection_bias.py: 5 temperatures 500-900 K, Ea 0.4 eV, one
run of 8 ions a temperature, the coldest run's relative error 0.8 / 1.2; bias of Ea in eV,
standard errors 0.001-0.002): in ln y -0.0166 / -0.0232; in y -0.0013 / +0.0015,
the temperatures not resolved left out (collect's choice); in y with them taken in
+0.0023 / +0.0127 (a value near or below zero pulls the curve's cold end down: the
exponential is nonlinear there); in ln y where a point's relative error is below 0.2 and
in y above, -0.0025 / +0.0017 (no better, and discontinuous at the switch); a censored
likelihood (normal in y for the resolved, the probability of lying below the upper end for
those not resolved) -0.0001 / +0.0060. With 10 % errors over 8-64 ions
(examples/arrhenius_dof_coverage.py, 2000 trials, PDG scale) the fit in y covers D(300 K)
93.4-95.5 % (Ea 93.8-95.8 %; the fit in ln y 94.7-95.8 %, module doc of
:mod:`ionmd.analysis.arrhenius`; on the same draws of 6 temperatures over 8 ions, two
seeds, 94.7 / 94.9 % against 95.2 / 95.4 %), its 300 K interval 1-8 % narrower in ln.

Limits (a referee's measurements, Dec 7 2026): the fit in y removes the mean bias of Ea,
not its typical error, and is less efficient than the ln fit at large cold errors (5 T, one
run of 8 ions, 600 trials; coldest relative error 0.8: Ea mean error ln -0.0153 / y -0.0014
eV, median -0.0166 / -0.0056, RMSE 0.0446 / 0.0469; 1.2: mean -0.027 / -0.003, median
-0.030 / -0.013, RMSE 0.062 / 0.067; ln D(300 K) median +0.44 / +0.12, RMSE 1.10 / 1.16):
what it gains is coverage that is right where the ln fit's was not. At two temperatures it
is exactly the ln fit (the curve passes through both points): a 2-temperature campaign's
selection bias is unchanged. With relative errors above ~0.7 its least squares can have
several minima: it returns the local one nearest the ln fit's start (a curve that runs off
to vanish at a point raises AnalysisError). Several replicas over-cover, ~96-97 % (Welch's
F widening stacked under the PDG scale, 1.0 +- 0.5 % of it); at 10 % errors the coverage is
94.0-95.6 % (1000 trials each, +- 0.7 %).
"""

from __future__ import annotations

import numpy as np

from ionmd.analysis.arrhenius import ArrheniusFit, _design, _weighted_line, fit_ln_line
from ionmd.analysis.arrhenius_bootstrap import centred_on_heaviest
from ionmd.errors import AnalysisError

MAX_STEPS = 200
"""Gauss-Newton steps before giving up (a few suffice from the ln fit's start)."""

COST_ROUNDING = 1e-10
"""A step whose cost comes out at most this much (relative) above the last one is taken,
not halved: near the minimum the cost's rounding alone does that (7e-16 at chi2 1.46), and
halved to nothing such a step read as convergence, Ea 1e-8 short of the minimum
(tests/test_arrhenius_linear_converges.py)."""


def fit_arrhenius_linear(T: np.ndarray, y: np.ndarray, y_se: np.ndarray, *,
                         y_err_dof: np.ndarray | None = None,
                         y_err_ln: np.ndarray | None = None, T_extrapolate: float = 300.0,
                         scatter_p: float = 0.05) -> ArrheniusFit:
    """Fit ``y(T) = A exp(-Ea / k_B T)`` by least squares in y, weighted by ``1 / y_se^2``
    (module docstring); ``y`` may be at or below zero (a value within its noise).

    ``y_err_ln``: where finite, that point enters in ln y with this ln error instead (a
    mixed fit: its residual ``(ln y - ln f) / y_err_ln``); NaN or None: in y.
    ``y_err_dof``, ``T_extrapolate``, ``scatter_p``: as :func:`~ionmd.analysis.arrhenius.
    fit_arrhenius`. The fit's ``method`` is ``"linear"`` (``"mixed"`` with points in ln,
    ``"wls"`` with all: :func:`~ionmd.analysis.arrhenius.fit_arrhenius`'s fit)."""
    T, y, se = (np.asarray(a, float) for a in (T, y, y_se))
    ln_err = np.full(T.shape, np.nan) if y_err_ln is None else np.asarray(y_err_ln, float)
    if not (T.shape == y.shape == se.shape == ln_err.shape) or len(np.unique(T)) < 2:
        raise AnalysisError("Arrhenius fit needs one value and standard error per temperature, "
                            "at >= 2 distinct temperatures")
    in_ln = np.isfinite(ln_err)
    bad = ~(np.isfinite(y) & np.isfinite(se) & (se > 0) & (T > 0)) | (in_ln & ~(y > 0))
    if np.any(bad):
        raise AnalysisError(
            f"Arrhenius fit in y needs finite values with positive finite standard errors "
            f"(positive values where fitted in ln): got {y[bad].tolist()} +- "
            f"{se[bad].tolist()} at {T[bad].tolist()} K; leave those points out or give "
            f"them their intervals")
    X = _design(T)
    coef = _start(X, y, se, ln_err, in_ln)
    z, e = _working(X, coef, y, se, ln_err, in_ln)
    cost = _cost(X, coef, y, se, ln_err, in_ln)
    if not np.isfinite(cost):
        raise AnalysisError(f"the Arrhenius fit in y has no finite chi-square at its start "
                            f"(values {y.tolist()} +- {se.tolist()} at {T.tolist()} K)")
    for _ in range(MAX_STEPS):
        if not (np.all(np.isfinite(z)) and np.all(np.isfinite(e)) and np.all(e > 0)):
            break           # the curve vanished somewhere: said below, not fed to the SVD
        step = _line_step(X[:, 1], z - X @ coef, 1.0 / e ** 2)
        shrink, trial = 1.0, coef
        while np.all(np.isfinite(step)):     # halve the Gauss-Newton step until the cost falls
            trial = coef + shrink * step
            new = _cost(X, trial, y, se, ln_err, in_ln)
            if new <= cost * (1 + COST_ROUNDING):
                break
            shrink /= 2
            if shrink < 1e-6:   # no descent along it: the current coefficients are the
                trial = coef    # (local) minimum; before, the trial was taken, its cost
                break           # NaN or higher, and a NaN reached the SVD (LinAlgError)
        done = np.all(np.abs(trial - coef) <= 1e-12 * (1 + np.abs(coef)))
        if trial is not coef:
            coef, cost = trial, new
            z, e = _working(X, coef, y, se, ln_err, in_ln)
        if done:
            break
    else:
        raise AnalysisError(f"the Arrhenius fit in y did not converge in {MAX_STEPS} steps "
                            f"(values {y.tolist()} +- {se.tolist()} at {T.tolist()} K)")
    if not (np.all(np.isfinite(z)) and np.all(np.isfinite(e)) and np.all(e > 0)):
        # the curve ran off to vanish (or blow up) at some point: no minimum in reach
        raise AnalysisError(
            f"the Arrhenius fit in y has no minimum in reach: its curve vanishes or overflows "
            f"at {T[~(np.isfinite(z) & np.isfinite(e) & (e > 0))].tolist()} K (Ea "
            f"{coef[1]:.3g} eV); the values {y.tolist()} +- {se.tolist()} at {T.tolist()} K "
            f"are too noisy to fit: run longer or add replicas")
    method = "wls" if in_ln.all() else "mixed" if in_ln.any() else "linear"
    return fit_ln_line(T, z, e, T_extrapolate=T_extrapolate, scatter_p=scatter_p,
                       y_err_dof=y_err_dof, method=method)


def _line_step(x: np.ndarray, u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Gauss-Newton's step: the weighted least-squares line ``(intercept, slope)`` of the
    working residuals ``u = z - ln f`` on ``x`` (weights ``w``, 1 / error^2), by weighted
    centred sums, each point's offset from the weighted mean of ``x`` taken by differences
    to the heaviest point (:func:`~ionmd.analysis.arrhenius_bootstrap.centred_on_heaviest`:
    exact under one dominant weight, an error of 1e-9 among 0.1s). The same step as the SVD line fit of ``z`` less the coefficients
    (:func:`~ionmd.analysis.arrhenius._weighted_line`, which the fit's covariance still
    comes from), at a fifth of its cost: ~10 steps a fit, and a Monte-Carlo study or an
    allocator's plan makes 10^4 fits."""
    total = w.sum()
    dx = centred_on_heaviest(x[:, None], w[:, None], w.sum(keepdims=True))[:, 0]
    slope = (w * dx * u).sum() / (w * dx * dx).sum()
    return np.array([(w * (u - slope * x)).sum() / total, slope])


def _start(X: np.ndarray, y: np.ndarray, se: np.ndarray, ln_err: np.ndarray,
           in_ln: np.ndarray) -> np.ndarray:
    """The weighted line fit in ln y of the positive points (ln error ``se / y`` where in y):
    where it starts, Gauss-Newton converges in a few steps."""
    pos = y > 0
    if len(np.unique(X[pos, 1])) < 2:
        raise AnalysisError(
            f"Arrhenius fit needs positive values at >= 2 distinct temperatures to start "
            f"from; got {y.tolist()} at {(-1 / X[:, 1]).tolist()} (in eV^-1 k_B T)")
    err = np.where(in_ln, ln_err, se / np.where(pos, y, 1.0))[pos]
    return _weighted_line(X[pos], np.log(y[pos]), 1.0 / err)[0]


def _working(X: np.ndarray, coef: np.ndarray, y: np.ndarray, se: np.ndarray,
             ln_err: np.ndarray, in_ln: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Working values and ln errors at ``coef`` (module docstring); ln points keep theirs."""
    ln_f = X @ coef
    f = np.exp(ln_f)
    safe_y = np.where(in_ln, y, 1.0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):   # checked by the caller
        return (np.where(in_ln, np.log(np.abs(safe_y)), ln_f + (y - f) / f),
                np.where(in_ln, ln_err, se / f))


def _cost(X: np.ndarray, coef: np.ndarray, y: np.ndarray, se: np.ndarray, ln_err: np.ndarray,
          in_ln: np.ndarray) -> float:
    """The fit's chi-square: in y, and in ln y for the ln points."""
    ln_f = X @ coef
    safe_y = np.where(in_ln, y, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        r = np.where(in_ln, (np.log(np.abs(safe_y)) - ln_f) / np.where(in_ln, ln_err, 1.0),
                     (y - np.exp(ln_f)) / se)
        c = float(np.sum(r * r))
    return c if np.isfinite(c) else float("inf")    # a curve overflowing: never a descent
