"""The studentized-null machinery of the Arrhenius fits where some points' errors were
estimated over few dof (:mod:`ionmd.analysis.arrhenius`'s module doc says why and what it
measured): the scatter test's simulated null (:func:`scatter_p_value`, a parametric
bootstrap on fixed scrambled-Sobol draws, cached per set of points) and the studentized
bootstrap quantile of an estimate (:func:`studentized_quantile`, conditional Monte Carlo on
the same draws), with the fewest dof a point's error may have (:data:`MIN_POINT_DOF`)."""

from __future__ import annotations

import functools

import numpy as np

from ionmd.errors import AnalysisError

NULL_DRAWS, QUANTILE_DRAWS, NULL_SEED = 4096, 1024, 20261206
"""Draws of the scatter test's null distribution where the points' errors were estimated
(:func:`scatter_p_value`): a scrambled Sobol sequence of this many points (a power of 2),
scrambled with this fixed seed (the same data, the same p); :func:`studentized_quantile`
averages a smooth function over the first ``QUANTILE_DRAWS`` of them (also a power of 2:
a balanced part of the sequence): its sd across seeds 0.25-0.35 %, 5x less than the
empirical percentile of 4000 random draws (2.1 %), at the cost of a fit as before
(2048 draws: 0.13 %, 2x the cost)."""

MIN_POINT_DOF = 0.25
"""Fewest degrees of freedom a point's error may have been estimated with: below it the
error says next to nothing about the point (its re-estimates chi2(nu) / nu span decades:
at 0.05 dof the studentized quantile was 3e8, at 1e-3 NaN)."""


def errors_estimated(y_err_dof: np.ndarray | None) -> bool:
    """Whether some point's error was estimated (a finite dof) rather than known."""
    return y_err_dof is not None and bool(np.any(np.isfinite(y_err_dof)))


def scatter_p_value(chi2: float, X: np.ndarray, y_err_ln: np.ndarray,
                    y_err_dof: np.ndarray | None) -> float:
    """p-value of the weighted residual sum ``chi2`` of a straight-line fit (design ``X``)
    whose points' ln errors ``y_err_ln`` were each estimated with ``y_err_dof`` dof.

    Known errors (no dof, or all infinite): chi-square with n - 2 dof, as always. Estimated
    ones: the sum is heavier-tailed than chi-square (each term about F(1, nu) where the
    weight is estimated: read as chi-square, data scattering exactly as their errors said
    were flagged 9.7 % of the time at 3 points over 4 ions, 18 % at 5), so its null
    distribution is simulated, a parametric bootstrap (Efron & Tibshirani 1993, ch. 6):
    normal points about the line with the given errors as the true ones, each error
    re-estimated as ``s^2 chi2(nu) / nu``, refitted with those weights (``NULL_DRAWS``
    draws, fixed seed). Read between ~60 of its quantiles linearly in log p, so p moves
    continuously with ``chi2``; beyond the last (p < 10 / NULL_DRAWS), the log-linear tail
    of the last two is extended."""
    from scipy.stats import chi2 as chi2_dist

    n = X.shape[0]
    if not errors_estimated(y_err_dof):
        return float(chi2_dist.sf(chi2, n - 2))
    sf, knots = _null_knots(*_null_key(X[:, 1], y_err_ln, y_err_dof))
    if chi2 <= knots[-1]:
        return float(np.exp(np.interp(chi2, knots, np.log(sf))))
    slope = np.log(sf[-1] / sf[-2]) / (knots[-1] - knots[-2])
    return float(sf[-1] * np.exp(slope * (chi2 - knots[-1])))


def _null_key(x: np.ndarray, y_err_ln: np.ndarray, y_err_dof: np.ndarray
              ) -> tuple[bytes, bytes, bytes]:
    """The points as the simulated nulls' cache key (float64 bytes, hashable), in one order
    whatever the caller's: by x, then error, then dof. Each column of the seeded draws goes
    to the point in that position, so the same five points gave a studentized quantile of
    2.309 in one order and 2.177 in another; sorted, the draws follow the points."""
    x, err, nu = (np.asarray(a, float).ravel() for a in (x, y_err_ln, y_err_dof))
    order = np.lexsort((nu, err, x))
    return tuple(np.ascontiguousarray(a[order]).tobytes() for a in (x, err, nu))


@functools.lru_cache(maxsize=64)
def _null_knots(x: bytes, y_err_ln: bytes, y_err_dof: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Survival levels and quantiles of :func:`scatter_p_value`'s simulated null for one
    set of points (arguments: float64 bytes, hashable): a fit scanned over its data's
    size, or the same points fitted again, simulates it once."""
    x, err = np.frombuffer(x), np.frombuffer(y_err_ln)
    ratio, normal = _null_draws(y_err_dof)
    null = _line_residual_sums(x, normal * err, 1.0 / (err ** 2 * ratio))
    sf = np.geomspace(1.0, 10.0 / NULL_DRAWS, 60)
    knots = np.quantile(null, 1.0 - sf)
    sf.flags.writeable = knots.flags.writeable = False
    return sf, knots


@functools.lru_cache(maxsize=16)
def _sobol_uniforms(n: int) -> np.ndarray:
    """``NULL_DRAWS`` rows of 2 n scrambled-Sobol uniforms (fixed seed): the first n re-estimate
    the points' errors, the last n are their normal noise. Fixed per (draw, point) whatever
    the dof, so the draws move continuously with them; quasi-random, so their averages of
    smooth functions carry far less noise than random draws (Owen 1997)."""
    from scipy.stats import qmc

    m = int(np.ceil(np.log2(NULL_DRAWS)))
    u = qmc.Sobol(2 * n, scramble=True, seed=NULL_SEED).random_base2(m)
    u = np.clip(u, 1e-12, 1.0 - 1e-12)
    u.flags.writeable = False
    return u


@functools.lru_cache(maxsize=256)
def _variance_ratio(n: int, point: int, dof: float) -> np.ndarray:
    """The ``point``-th error's re-estimated variance ratio chi2(nu) / nu in each draw, from
    its fixed uniforms by the inverse distribution (-> 1 as nu -> inf; exactly 1 at inf)."""
    from scipy.special import gammaincinv

    u = _sobol_uniforms(n)[:, point]
    ratio = np.ones_like(u) if np.isinf(dof) else 2.0 * gammaincinv(dof / 2.0, u) / dof
    ratio.flags.writeable = False
    return ratio


@functools.lru_cache(maxsize=16)
def _null_draws(y_err_dof: bytes) -> tuple[np.ndarray, np.ndarray]:
    """The null's draws: each error's variance ratio chi2(nu) / nu (1 where nu is inf) and
    standard normal noise, ``NULL_DRAWS`` rows, from :func:`_sobol_uniforms`. Each column
    depends on its own point's dof alone (cached per point: a Monte-Carlo study varying
    one point's dof redraws one column); read-only, shared."""
    from scipy.special import ndtri

    nu = np.frombuffer(y_err_dof)
    ratio = np.stack([_variance_ratio(nu.size, j, float(d)) for j, d in enumerate(nu)], 1)
    normal = ndtri(_sobol_uniforms(nu.size)[:, nu.size:])
    ratio.flags.writeable = normal.flags.writeable = False
    return ratio, normal


def studentized_quantile(x0: np.ndarray, x: np.ndarray, y_err_ln: np.ndarray,
                         y_err_dof: np.ndarray, *, scaled: bool) -> np.ndarray:
    """95 % half-widths, in the fit's standard errors, of the estimates ``x0 . (ln A, Ea)``
    (rows of ``x0``) of a line fitted on ``x`` (-1 / k_B T) to points whose ln errors
    ``y_err_ln`` were estimated with ``y_err_dof`` dof: the studentized parametric bootstrap
    (bootstrap-t, Efron & Tibshirani 1993, ch. 12) on :func:`scatter_p_value`'s null draws.

    Each draw refits normal points about a line with the given errors as the true ones,
    weighted by their re-estimates (``s^2 chi2(nu) / nu``) as the fit weights by its own,
    and divides the estimate's error by its standard error as the fit computes it (times
    the PDG scale ``max(1, chi2 / (n - 2))`` where ``scaled``); the quantile is the 95th
    percentile of its size. Student t at the Welch-Satterthwaite dof assumes the weights
    fixed: estimated from the same data, the points read as most precise are those whose
    errors came out small, so the fit's variance is too small (Meier 1953's effect on a
    weighted mean): with 6 temperatures over 8 ions the unscaled fit covered D(300 K)
    91.7 %, over 4 ions 85 %; the PDG scale hid part of it but at 3 temperatures (1 dof of
    residuals) widened beyond 95 % (96.1-96.8 % over 16-64 ions; module doc).

    The noise's share along the estimate is integrated exactly in each draw (conditional
    Monte Carlo, :func:`_exceedance`), the rest averaged over quasi-random draws: with 4000
    random draws and an empirical percentile the quantile's sd across seeds was 2.1 %, and
    which points had a finite dof laid the draws out (one dof 1e9 -> inf: 2.056 -> 1.959).
    The quantile depends on the errors and dof alone (not on the data's values): continuous
    in them, the same for the same points in any order (:func:`_null_key`)."""
    x0 = np.atleast_2d(np.asarray(x0, float))
    check_min_dof(np.asarray(y_err_dof, float))
    key = _null_key(x, y_err_ln, y_err_dof)
    residual_dof = np.size(x) - 2 if scaled and np.size(x) > 2 else 0
    return np.array([_quantile_of(*key, float(c0), float(c1), residual_dof) for c0, c1 in x0])


@functools.lru_cache(maxsize=256)
def _quantile_of(x: bytes, y_err_ln: bytes, y_err_dof: bytes, c0: float, c1: float,
                 residual_dof: int) -> float:
    """:func:`studentized_quantile` of one estimate ``c0 ln A + c1 Ea`` (the points as
    :func:`_null_key` bytes): the root of :func:`_exceedance` - 0.05, bracketed from 4 up."""
    from scipy.optimize import brentq

    parts = _conditional_parts(x, y_err_ln, y_err_dof, c0, c1)

    def excess(q):
        return _exceedance(q, *parts, residual_dof) - 0.05

    lo, hi = 1.5, 3.0    # brackets the quantile of most designs
    while excess(hi) > 0:
        lo, hi = hi, hi * 3.0
        if hi > 1e12:
            raise AnalysisError(
                f"the studentized quantile exceeds 1e12 for points with ln errors "
                f"{np.frombuffer(y_err_ln).tolist()} over dof {np.frombuffer(y_err_dof).tolist()}: "
                f"too few dof to bound it")
    if lo == 1.5 and excess(lo) < 0:
        lo = 0.0
    return float(brentq(excess, lo, hi, xtol=1e-9, rtol=1e-6))


@functools.lru_cache(maxsize=64)
def _conditional_parts(x: bytes, y_err_ln: bytes, y_err_dof: bytes, c0: float, c1: float
                       ) -> tuple[np.ndarray, ...]:
    """Per draw of :func:`_null_draws` (truth 0, weights from its re-estimated errors), for
    the estimate ``c0 ln A + c1 Ea``: the ratio ``r`` of its standard error as the fit
    computes it (unscaled) to its true sd given the weights, and the weighted residual sum
    as the quadratic ``alpha z^2 + 2 beta z + gamma`` of ``z``, the noise along the estimate
    (standard normal, independent of the rest, which the draw fixes)."""
    x, err = np.frombuffer(x), np.frombuffer(y_err_ln)
    ratio, normal = (a[:QUANTILE_DRAWS] for a in _null_draws(y_err_dof))
    w = 1.0 / (err ** 2 * ratio)
    total = w.sum(axis=1, keepdims=True)
    dx = x - (w * x).sum(axis=1, keepdims=True) / total
    sxx = (w * dx ** 2).sum(axis=1, keepdims=True)
    lever = c1 - c0 * ((w * x).sum(axis=1, keepdims=True) / total)
    b = (c0 * w / total + lever * w * dx / sxx) * err     # the estimate is b . noise
    b_norm = np.sqrt((b ** 2).sum(axis=1, keepdims=True))
    along = b / b_norm
    rest = normal - (normal * along).sum(axis=1, keepdims=True) * along

    def residuals(z):
        y = z * err
        dy = y - (w * y).sum(axis=1, keepdims=True) / total
        res = dy - (w * dx * dy).sum(axis=1, keepdims=True) / sxx * dx
        return res * np.sqrt(w)

    p, q = residuals(along), residuals(rest)
    se = np.sqrt(c0 ** 2 / total + lever ** 2 / sxx)[:, 0]
    out = (se / b_norm[:, 0], (p * p).sum(1), (p * q).sum(1), (q * q).sum(1))
    for a in out:
        a.flags.writeable = False
    return out


def _exceedance(q: float, r: np.ndarray, alpha: np.ndarray, beta: np.ndarray,
                gamma: np.ndarray, residual_dof: int) -> float:
    """Probability that |estimate error| / its standard error exceeds ``q``, the normal
    noise along the estimate (``z``) integrated exactly in each draw: ``|z| > c`` with
    ``c = q r``, and where scaled (``residual_dof`` > 0) also ``residual_dof z^2 > c^2
    chi2(z)``, a quadratic inequality ``A z^2 + B z + C > 0`` (PDG scale
    ``max(1, chi2 / residual_dof)``)."""
    from scipy.special import ndtr

    c = q * r
    if residual_dof == 0:
        return float(np.mean(2.0 * ndtr(-c)))
    c2 = c * c
    a = residual_dof - c2 * alpha
    a[a == 0.0] = -1e-300
    b, cc = -2.0 * c2 * beta, -c2 * gamma
    root = np.sqrt(np.maximum(b * b - 4.0 * a * cc, 0.0))
    r1, r2 = (-b - root) / (2 * a), (-b + root) / (2 * a)
    lo, hi = np.minimum(r1, r2), np.maximum(r1, r2)
    # A > 0: z < lo or z > hi (lo <= 0 <= hi, as C <= 0); A < 0: lo < z < hi
    up = a > 0
    if up.all():
        return float(np.mean(ndtr(np.minimum(lo, -c)) + ndtr(-np.maximum(hi, c))))
    total = np.sum(ndtr(np.minimum(lo[up], -c[up])) + ndtr(-np.maximum(hi[up], c[up])))
    lo, hi, c = lo[~up], hi[~up], c[~up]
    total += np.sum(np.maximum(ndtr(np.minimum(hi, -c)) - ndtr(lo), 0.0)
                    + np.maximum(ndtr(-np.maximum(lo, c)) - ndtr(-hi), 0.0))
    return float(total / r.size)


def _line_residual_sums(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted residual sum of squares of the straight-line fit of each row of ``y``
    (weights: the rows of ``w``, 1 / variance) on ``x``, from weighted means: no normal
    matrix to solve, whose condition under one dominant weight (an error re-estimated
    near zero over dof < 1: chi2(0.3) / 0.3 draws reach 1e-24) made it singular."""
    total = w.sum(axis=1, keepdims=True)
    dx = x - (w * x).sum(axis=1, keepdims=True) / total
    dy = y - (w * y).sum(axis=1, keepdims=True) / total
    slope = (w * dx * dy).sum(axis=1, keepdims=True) / (w * dx ** 2).sum(axis=1, keepdims=True)
    return np.sum(w * (dy - slope * dx) ** 2, axis=1)


def check_min_dof(dof: np.ndarray, T: np.ndarray | None = None) -> None:
    """Refuse a point's error estimated over fewer than :data:`MIN_POINT_DOF` dof."""
    few = dof < MIN_POINT_DOF
    if np.any(few):
        where = "" if T is None else f" at {np.asarray(T)[few].tolist()} K"
        raise AnalysisError(
            f"per-point errors estimated over {dof[few].tolist()} degrees of freedom{where}: "
            f"at least {MIN_POINT_DOF} are needed (below it an error's own uncertainty spans "
            f"decades and the interval says nothing); leave those points out, or give their "
            f"errors the dof they were estimated over (ions - 1)")

