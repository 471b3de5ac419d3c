"""Arrhenius fits of D(T) or sigma(T) and extrapolation to room temperature.

``ln y = ln A - Ea / (k_B T)``, fitted by weighted least squares in ``ln y`` against
``1 / T``. The weight of each point is its uncertainty in ``ln y`` (half the width of its
95 % interval in log space / 1.96). For per-point errors that are log-normal this is the
exact Bayesian posterior under flat priors on ``ln A`` and ``Ea`` (the model is linear in
them), so intervals need no sampling. The extrapolation carries the full covariance of
``(ln A, Ea)`` (their correlation is strong: the extrapolation error is far smaller than
with independent errors, and far larger than the fit's scatter at the data).

Campaigns (``analyze``, ``sweep collect``, the goal's allocator through
:func:`ionmd.analysis.aggregate.arrhenius_of_points`) fit in y itself since Dec 7 2026
(:func:`ionmd.analysis.arrhenius_linear.fit_arrhenius_linear`: normal errors in D, the
same intervals on its linearised errors): in ln y the cold runs' noise biased Ea low, ln of
a noisy value being low on average and its ln error smallest where it came out high. 5
temperatures 500-900 K, Ea 0.4 eV, one run of 8 ions each, the coldest run's relative error
0.2 / 0.5 / 0.8 / 1.2 (examples/arrhenius_selection_bias.py, 1000-2000 trials): Ea bias
-0.4 / -1.7 / -4.2 / -5.8 % -> +0.05 / +0.3 / -0.3 / +0.4 %, ln D(300 K) +0.04 / +0.17 /
+0.42 / +0.60 -> -0.01 / -0.03 / +0.03 / -0.05, coverage of Ea 93.4 / 94.7 / 91.9 / 90.7 %
-> 94.1 / 95.1 / 94.4 / 94.0 % (D(300 K) alike); 2-3 replicas at 0.8 -2.0 / -3.0 % ->
-0.4 / -0.6 %, covering 94.8-95.6 % -> 96.9-97.4 %. The ordinary case below (10 % errors
over 8-64 ions, the PDG scale, 2000 trials) covers D(300 K) 93.4-95.5 % in y (Ea
93.8-95.8 %), against 94.8-96.3 % in ln y; on the same draws of 6 temperatures over 8 ions
(two seeds) 94.7 / 94.9 % against 95.2 / 95.4 %.

The intervals stay honest when the per-point errors cannot be trusted:

* no per-point errors: the covariance is estimated from the scatter (``dof = n - 2``)
  and the 95 % intervals use Student's t with ``dof`` degrees of freedom (with 3 points,
  12.7 instead of 1.96);
* per-point errors given with their degrees of freedom (``y_err_dof``: each D's error is
  estimated over few ions, ions - 1, or a Welch-Satterthwaite dof where replicas were
  combined): the covariance is scaled by ``max(1, chi2 / (n - 2))`` whatever the scatter test
  says (the Particle Data Group's scale factor S^2, PDG Review, "Introduction", sec. 5.2.2:
  errors estimated over few ions are themselves uncertain, and residuals beyond them say so),
  and the 95 % intervals of Ea and of ln y at each temperature use the studentized parametric
  bootstrap quantile of that very procedure
  (:func:`~ionmd.analysis.arrhenius_bootstrap.studentized_quantile`: the fit redone on the
  scatter test's null draws, with its weights re-estimated and its scale). Student t at the
  Welch-Satterthwaite dof of the estimate (``Ea_dof``, ``extrapolation_dof``, still recorded)
  took the weights as fixed; estimated from the same data they are not (Meier 1953's effect),
  and the scale at 1 dof of residuals widens by more than it corrects. Coverage of D(300 K),
  nominal 95 %, points with 10 % errors over 8-64 ions (examples/arrhenius_dof_coverage.py,
  2000 trials; 3, 4 and 6 temperatures; measured again 2026-12-07), old -> new: with the PDG
  scale 94.7-96.9 % -> 94.7-95.8 % (6 T over 8 ions 94.7 -> 95.5, 3 T over 64 96.5 -> 95.0;
  over 4 ions 92.2-96.1 -> 94.5-95.6 %), without (``scatter_p=0``) 92.0-96.2 % -> 94.8-96.5 %
  (6 T over 8 ions 92.0 -> 95.7; over 4 ions 86.4-93.6 -> 95.3-96.3 %); Ea alike. The 300 K
  ln half-width narrower where the old one was wide (3 T over 64 ions 0.902 -> 0.850) and
  wider where it was short (6 T over 8 ions 0.788 -> 0.814). Points with 20 % errors still cover 96-98 % either way (their
  ln errors, read from intervals symmetric in D, and ln of a mean of normal values are not
  normal); data scattering 1.4x their errors 89-91 % with the scale (as before);
* per-point errors known (no dof, or all infinite), but the points scatter about the line
  more than they allow (the scatter test's p-value < ``scatter_p``): the intervals grow
  continuously with p, from the errors' own (1.96) at ``scatter_p`` to the covariance
  scaled by the reduced chi-square (Birge ratio) and Student's t at n - 2 dof at a tenth
  of it (:func:`scatter_share`; at most x1.08 a step of 0.0025 errors at 3 points, where
  t(1) = 12.7 is far). PDG's scale at 1.96 instead covered D(300 K) better where the data
  scatter 1.4x their errors (89-91 % against 86-87 %) but worse where 4x (75-85 % against
  77-91 %, 3-5 temperatures), and above nominal where they scatter as said (96-97 %);
* either way, the fit is flagged ``scatter_exceeds_errors`` where the scatter test's
  p-value is below ``scatter_p``
  (:func:`~ionmd.analysis.arrhenius_bootstrap.scatter_p_value`): the data may not follow one
  Arrhenius law, or the D intervals are too small. For estimated errors its null is
  simulated with their dof: read as chi-square, data scattering exactly as their errors
  said were flagged 9.7 % (3 T over 4 ions) to 18 % (5 T) of the time, now 1.3-4.5 %.

:func:`ionmd.analysis.arrhenius_kinisi.kinisi_arrhenius` is the Bayesian alternative of
kinisi (``kinisi.arrhenius``: Gaussian likelihood in y, MCMC by emcee), slower, reported as a
cross-check.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import numpy as np
from scipy.constants import Boltzmann, electron_volt

from ionmd.analysis.arrhenius_bootstrap import (check_min_dof, errors_estimated,
                                                scatter_p_value, studentized_quantile)
from ionmd.errors import AnalysisError

KB_EV = Boltzmann / electron_volt


@dataclass
class ArrheniusFit:
    """Ea in eV, prefactor in the units of y, extrapolated y at ``T_extrapolated``.

    ``quantile`` is the factor from standard errors to 95 % half-widths of the
    extrapolation (1.96, or Student's t when the errors were estimated from the scatter,
    or the studentized bootstrap quantile where some points' errors were estimated over
    few ions, or part of the way to t(n - 2) where known errors were exceeded by the
    scatter);
    ``Ea_quantile`` and ``Ea_dof`` are Ea's (``Ea_quantile`` None: ``quantile``).
    ``point_errors``: ``[T, ln error, dof]`` of each point where their dof were given, for
    :meth:`quantile_at` other temperatures; ``studentized``: how their quantiles were
    calibrated where some errors were estimated (:func:`studentized_quantile`: ``"scaled"``,
    with the PDG scale as the fit, or ``"unscaled"``); None: Student t at the
    Welch-Satterthwaite dof (known errors, and fits written before Dec 7 2026)."""

    Ea_eV: float
    Ea_err_eV: float
    Ea_ci95: tuple[float, float]
    prefactor: float
    ln_prefactor_err: float
    T_extrapolated: float
    y_extrapolated: float
    y_extrapolated_ci95: tuple[float, float]
    covariance: np.ndarray
    n_points: int
    quantile: float = 1.96
    chi2: float | None = None
    dof: int = 0
    method: str = "wls"
    flags: list[str] = field(default_factory=list)
    Ea_quantile: float | None = None
    Ea_dof: float | None = None
    extrapolation_dof: float | None = None
    point_errors: list[list[float]] | None = None
    studentized: str | None = None

    def quantile_at(self, T: np.ndarray) -> np.ndarray:
        """95 % half-width in standard errors of ln y at ``T`` where the points' dof are
        known: the studentized bootstrap quantile of the fitted ln y there
        (:func:`studentized_quantile`) where some error was estimated, Student t at its
        Welch-Satterthwaite dof where all were known (1.96) or the fit predates Dec 7 2026
        (``studentized`` None); else :attr:`quantile`."""
        T = np.asarray(T, float)
        if self.point_errors is None:
            return np.full(T.shape, self.quantile) if T.shape else np.asarray(self.quantile)
        Ti, err, nu = (np.array(c, float) for c in zip(*self.point_errors))
        if self.studentized is not None:
            q = studentized_quantile(_design(T.ravel()), _design(Ti)[:, 1], err, nu,
                                     scaled=self.studentized == "scaled")
            return q.reshape(T.shape)
        dof = [welch_satterthwaite_dof(_design(np.array(t)), self.covariance, _design(Ti), err, nu)
               for t in T.ravel()]
        return np.array([t95(d) for d in dof], float).reshape(T.shape)

    def predict_ln(self, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """ln y at ``T`` and its standard error (full covariance)."""
        X = np.stack([np.ones_like(T, dtype=float), -1.0 / (KB_EV * np.asarray(T, float))], -1)
        mean = X @ np.array([np.log(self.prefactor), self.Ea_eV])
        var = np.einsum("...i,ij,...j->...", X, self.covariance, X)
        return mean, np.sqrt(var)

    def interval(self, T: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """y at ``T`` and its 95 % interval (lower, upper)."""
        mean, se = self.predict_ln(T)
        q = self.quantile_at(T)
        return np.exp(mean), np.exp(mean - q * se), np.exp(mean + q * se)

    @classmethod
    def from_dict(cls, d: dict) -> "ArrheniusFit":
        """The fit back from :meth:`to_dict` (other keys of ``d`` are ignored)."""
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["covariance"] = np.asarray(kw["covariance"], float)
        kw["Ea_ci95"], kw["y_extrapolated_ci95"] = tuple(kw["Ea_ci95"]), tuple(kw["y_extrapolated_ci95"])
        for name in ("Ea_dof", "extrapolation_dof"):
            if name in kw and kw[name] is None and kw.get("point_errors") is not None:
                kw[name] = float("inf")
        if kw.get("point_errors") is not None:
            kw["point_errors"] = [[t, e, dof_from_json(n)] for t, e, n in kw["point_errors"]]
        return cls(**kw)

    def to_dict(self) -> dict:
        """Plain, strict-JSON values: an infinite dof (normal errors) is written as None
        (``json.dumps`` would write ``Infinity``, which strict JSON readers refuse)."""
        out = asdict(self)
        out["covariance"] = np.asarray(self.covariance).tolist()
        out["y_extrapolated_ci95"] = list(self.y_extrapolated_ci95)
        out["Ea_ci95"] = list(self.Ea_ci95)
        out["Ea_dof"], out["extrapolation_dof"] = (dof_to_json(self.Ea_dof),
                                                   dof_to_json(self.extrapolation_dof))
        if self.point_errors is not None:
            out["point_errors"] = [[t, e, dof_to_json(n)] for t, e, n in self.point_errors]
        return out


def dof_to_json(dof: float | None) -> float | None:
    """A dof for JSON: None where infinite (a normal, known error) or absent."""
    return None if dof is None or np.isinf(dof) else float(dof)


def dof_from_json(dof: float | None) -> float:
    """:func:`dof_to_json`'s value back: None is an infinite dof."""
    return float("inf") if dof is None else float(dof)


def _weighted_line(X: np.ndarray, ln_y: np.ndarray, w: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, float]:
    """Least squares of ``ln_y`` on design ``X`` with weights ``w`` (1 / error): the
    coefficients, their covariance ``(X^T W X)^-1`` and the weighted residual sum. The
    covariance comes from the SVD of the weighted design, not by inverting the normal
    matrix, whose condition is its square: a point with a ln error of 1e-9 among 0.1s
    gave a negative variance of Ea (NaN error) through ``inv``."""
    Xw = X * w[:, None]
    u, s, vt = np.linalg.svd(Xw, full_matrices=False)
    coef = vt.T @ ((u.T @ (ln_y * w)) / s)
    cov = (vt.T / s ** 2) @ vt
    return coef, cov, float(np.sum((ln_y * w - Xw @ coef) ** 2))


def t95(dof: float) -> float:
    """Student t 95 % two-sided quantile at ``dof``; 1.96 (the fits' normal one) at inf.
    scipy's own ``stdtrit``, which ``scipy.stats.t.ppf`` calls after ~50 us of argument
    handling a call (an allocator's Monte-Carlo study makes ~10^4 calls): the same
    values, nan for a dof <= 0 or nan as ``ppf`` gives."""
    from scipy.special import stdtrit

    return 1.96 if np.isinf(dof) else float(stdtrit(dof, 0.975))


def _design(T: np.ndarray) -> np.ndarray:
    """Rows ``(1, -1 / k_B T)``: ln y = ln A - Ea / k_B T is their product with (ln A, Ea)."""
    T = np.asarray(T, float)
    return np.stack([np.ones_like(T), -1.0 / (KB_EV * T)], -1)


def welch_satterthwaite_dof(x0: np.ndarray, cov: np.ndarray, X: np.ndarray,
                            y_err_ln: np.ndarray, y_err_dof: np.ndarray) -> float:
    """Degrees of freedom of the weighted least-squares estimate ``x0 . coef`` (``cov``:
    the fit's covariance ``(X^T W X)^-1``, ``W = 1 / y_err_ln^2``) whose points' variances
    were each estimated with ``y_err_dof``: the estimate is ``sum a_i ln y_i`` with
    ``a = x0^T cov X^T W``, so ``nu = (sum a^2 s^2)^2 / sum (a^2 s^2)^2 / nu_i``
    (Welch-Satterthwaite; points with infinite dof add nothing; inf if none is finite)."""
    err = np.asarray(y_err_ln, float)
    a = x0 @ cov @ (X / err[:, None] ** 2).T
    part = (a * err) ** 2
    spread = float(np.sum(part ** 2 / np.asarray(y_err_dof, float)))
    return float(part.sum() ** 2 / spread) if spread > 0 else float("inf")


def fit_arrhenius(T: np.ndarray, y: np.ndarray, y_err_ln: np.ndarray | None = None, *,
                  T_extrapolate: float = 300.0, scatter_p: float = 0.05,
                  y_err_dof: np.ndarray | None = None) -> ArrheniusFit:
    """Fit ``y(T) = A exp(-Ea / k_B T)``.

    Parameters
    ----------
    T : array
        Temperatures, K (at least 2 distinct; 3 without per-point errors).
    y : array
        D or sigma (or sigma T), positive.
    y_err_ln : array, optional
        Standard error of ``ln y`` per point; without it the errors come from the
        scatter (Student's t intervals).
    T_extrapolate : float
        Temperature for the extrapolation (300 K).
    scatter_p : float
        Level of the scatter test (:func:`scatter_p_value`): below it the fit is flagged;
        with known errors its intervals grow towards the Birge-scaled ones, all of the way
        at ``scatter_p / SCATTER_SPAN`` (see module doc); 0: no test, no correction, no
        scale (the errors read as given, as the run allocator's model does).
    y_err_dof : array, optional
        Degrees of freedom of each ``y_err_ln`` (ions - 1 for a D over few ions, inf for a
        known error). Where some are finite, Ea's and ln y's intervals use the studentized
        bootstrap quantile of this fit (:func:`studentized_quantile`) instead of 1.96, the
        covariance is scaled by ``max(1, chi2 / (n - 2))`` and the scatter test's null
        knows the errors were estimated (see module doc); their Welch-Satterthwaite dof are
        recorded (``Ea_dof``, ``extrapolation_dof``).
    """
    T = np.asarray(T, float)
    y = np.asarray(y, float)
    if T.shape != y.shape:      # said as such, not as too few temperatures
        raise AnalysisError(f"Arrhenius fit needs one value per temperature: {y.size} "
                            f"values for {T.size} temperatures ({T.tolist()} K)")
    if T.size < 2 or len(np.unique(T)) < 2:
        raise AnalysisError("Arrhenius fit needs D or sigma at >= 2 distinct temperatures")
    # a NaN temperature passed ``T <= 0`` and ended in numpy's "SVD did not converge"
    if np.any(y <= 0) or not np.all(T > 0) or not np.all(np.isfinite(y) & np.isfinite(T)):
        raise AnalysisError(f"Arrhenius fit needs positive finite values, got {y.tolist()} "
                            f"at {T.tolist()} K (a run not yet diffusive?)")
    return fit_ln_line(T, np.log(y), y_err_ln, T_extrapolate=T_extrapolate,
                       scatter_p=scatter_p, y_err_dof=y_err_dof)


def fit_ln_line(T: np.ndarray, ln_y: np.ndarray, y_err_ln: np.ndarray | None = None, *,
                T_extrapolate: float = 300.0, scatter_p: float = 0.05,
                y_err_dof: np.ndarray | None = None, method: str = "wls") -> ArrheniusFit:
    """:func:`fit_arrhenius` of values given by their logarithms ``ln_y`` (any real
    numbers: :func:`ionmd.analysis.arrhenius_linear.fit_arrhenius_linear` passes its
    working values, which a point far above the line would overflow as ``exp``);
    ``method`` is recorded in the fit."""
    from scipy.stats import t as student_t

    T = np.asarray(T, float)
    ln_y = np.asarray(ln_y, float)
    dof = T.size - 2
    if y_err_ln is None:
        if dof < 1:
            raise AnalysisError("without per-point errors the Arrhenius fit needs >= 3 temperatures")
        w = np.ones_like(ln_y)
    else:
        y_err_ln = np.asarray(y_err_ln, float)
        if y_err_ln.shape != ln_y.shape:
            raise AnalysisError(f"per-point errors of ln y must be one per temperature: "
                                f"{y_err_ln.size} for {ln_y.size} points")
        bad = ~(np.isfinite(y_err_ln) & (y_err_ln > 0))
        if np.any(bad):
            raise AnalysisError(
                f"per-point errors of ln y must be positive and finite: {y_err_ln[bad].tolist()} "
                f"at {T[bad].tolist()} K (an interval of zero width has no error and would "
                f"weigh infinitely); leave those points out or give them their intervals")
        w = 1.0 / y_err_ln
        y_err_dof = _checked_dof(y_err_dof, T)
    X = _design(T)
    coef, cov, chi2 = _weighted_line(X, ln_y, w)
    quantile, flags, share = 1.96, [], 0.0
    if y_err_ln is None:
        cov = cov * chi2 / dof
        quantile = float(student_t.ppf(0.975, dof))
    elif dof >= 1 and scatter_p > 0:
        p = scatter_p_value(chi2, X, y_err_ln, y_err_dof)
        if p < scatter_p:
            flags.append("scatter_exceeds_errors")
        if errors_estimated(y_err_dof):
            cov = cov * max(1.0, chi2 / dof)          # PDG's scale factor S^2, whatever p
        else:
            share = scatter_share(p, scatter_p)
    Ea_q = ws = studentized = None
    if y_err_ln is not None and y_err_dof is not None:
        # the same dof on the scaled covariance: a constant factor cancels in them
        x0 = np.stack([[0.0, 1.0], _design(np.array(T_extrapolate))])
        ws = {"Ea": welch_satterthwaite_dof(x0[0], cov, X, y_err_ln, y_err_dof),
              "extrapolation": welch_satterthwaite_dof(x0[1], cov, X, y_err_ln, y_err_dof)}
        Ea_q, quantile = t95(ws["Ea"]), t95(ws["extrapolation"])
        if errors_estimated(y_err_dof):
            scaled = dof >= 1 and scatter_p > 0
            studentized = "scaled" if scaled else "unscaled"
            Ea_q, quantile = (float(q) for q in studentized_quantile(
                x0, X[:, 1], y_err_ln, y_err_dof, scaled=scaled))
    if share > 0:
        # known errors: part of the way to the Birge scale and t(n - 2), linearly in the
        # quantile: continuous in the data
        q_scatter = t95(dof)
        Ea_q = (1 - share) * (quantile if Ea_q is None else Ea_q) + share * q_scatter
        quantile = (1 - share) * quantile + share * q_scatter
        cov = cov * (1 + share * max(chi2 / dof - 1, 0.0))
        ws = studentized = None
    Ea, Ea_err = float(coef[1]), float(np.sqrt(cov[1, 1]))
    q_Ea = quantile if Ea_q is None else Ea_q
    fit = ArrheniusFit(Ea_eV=Ea, Ea_err_eV=Ea_err,
                       Ea_ci95=(Ea - q_Ea * Ea_err, Ea + q_Ea * Ea_err),
                       prefactor=float(np.exp(coef[0])), ln_prefactor_err=float(np.sqrt(cov[0, 0])),
                       T_extrapolated=float(T_extrapolate), y_extrapolated=0.0,
                       y_extrapolated_ci95=(0.0, 0.0), covariance=cov, n_points=int(T.size),
                       quantile=quantile, chi2=chi2 if y_err_ln is not None else None, dof=dof,
                       method=method, flags=flags, Ea_quantile=Ea_q,
                       Ea_dof=None if ws is None else ws["Ea"],
                       extrapolation_dof=None if ws is None else ws["extrapolation"],
                       point_errors=None if ws is None else
                       [[float(t), float(e), float(n)] for t, e, n in zip(T, y_err_ln, y_err_dof)],
                       studentized=studentized)
    value, lo, hi = fit.interval(np.array(T_extrapolate))
    fit.y_extrapolated = float(value)
    fit.y_extrapolated_ci95 = (float(lo), float(hi))
    return fit


SCATTER_SPAN = 10.0
"""Known errors: the scatter correction grows from none at the scatter test's level
``scatter_p`` to full at a ``SCATTER_SPAN``-th of it (linear in log p,
:func:`scatter_share`): fits the test passes are read as the errors say, and a tiny change
of data moves no interval far."""


def scatter_share(p: float, alpha: float = 0.05) -> float:
    """How much of the scatter correction applies at the scatter test's p-value ``p``: none at
    or above ``alpha``, all from ``alpha / SCATTER_SPAN`` down, linear in log p between."""
    if alpha <= 0 or p >= alpha:
        return 0.0
    if p <= alpha / SCATTER_SPAN:
        return 1.0
    return float(np.log(alpha / p) / np.log(SCATTER_SPAN))


def _checked_dof(y_err_dof: np.ndarray | None, T: np.ndarray) -> np.ndarray | None:
    """``y_err_dof`` as an array, one positive dof (inf allowed) per point, or None."""
    if y_err_dof is None:
        return None
    dof = np.asarray(y_err_dof, float)
    if dof.shape != T.shape or np.any(np.isnan(dof)) or np.any(dof <= 0):
        raise AnalysisError(f"degrees of freedom of the per-point errors must be one positive "
                            f"number (or inf) per temperature: got {dof.tolist()} for "
                            f"{T.size} points at {T.tolist()} K")
    check_min_dof(dof, T)
    return dof
