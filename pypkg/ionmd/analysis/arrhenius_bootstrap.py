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
    err = err[:, None]
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
    standard normal noise, a row per point (``NULL_DRAWS`` columns: sums over the points
    add rows, 4.6x faster than along rows of 5), from :func:`_sobol_uniforms`. Each row
    depends on its own point's dof alone (cached per point: a Monte-Carlo study varying
    one point's dof redraws one row); read-only, shared."""
    from scipy.special import ndtri

    nu = np.frombuffer(y_err_dof)
    ratio = np.stack([_variance_ratio(nu.size, j, float(d)) for j, d in enumerate(nu)])
    normal = np.ascontiguousarray(ndtri(_sobol_uniforms(nu.size)[:, nu.size:]).T)
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
    residual_dof = np.size(x) - 2 if scaled and np.size(x) > 2 else 0
    draws = _studentized_draws(*_null_key(x, y_err_ln, y_err_dof), residual_dof)
    return draws.quantiles(x0)


@functools.lru_cache(maxsize=64)
def _studentized_draws(x: bytes, y_err_ln: bytes, y_err_dof: bytes,
                       residual_dof: int) -> _StudentizedDraws:
    """:class:`_StudentizedDraws` of one set of points (:func:`_null_key` bytes): a fit's
    Ea, its extrapolation and a later :meth:`ArrheniusFit.quantile_at` share them."""
    ratio, normal = (a[:, :QUANTILE_DRAWS] for a in _null_draws(y_err_dof))
    return _StudentizedDraws(np.frombuffer(x), np.frombuffer(y_err_ln),
                             np.frombuffer(y_err_dof), ratio, normal, residual_dof)


class _StudentizedDraws:
    """The first ``QUANTILE_DRAWS`` null draws of one set of points (truth 0, weights from
    their re-estimated errors) reduced to what any estimate's quantile needs, and the
    quantiles solved on them so far (by estimate ``(c0, c1)``).

    A draw's weights and centred abscissae do not depend on the estimate, nor do the
    residuals of its noise: an estimate costs its own direction alone, and all of a call's
    estimates are solved together (:meth:`quantiles`). Arrays hold a row per point, a
    column per draw (sums over the points add rows)."""

    MEMO = 4096
    """Quantiles kept per set of points (a scan over many temperatures forgets the oldest)."""

    def __init__(self, x: np.ndarray, err: np.ndarray, dof: np.ndarray, ratio: np.ndarray,
                 normal: np.ndarray, residual_dof: int):
        self.x, self.err, self.dof, self.normal = x, err, dof, normal
        self.residual_dof, self.memo = residual_dof, {}
        self.w = 1.0 / (err[:, None] ** 2 * ratio)
        self.total = self.w.sum(axis=0)
        self.dx = self._centred(x[:, None])
        self.sxx = (self.w * self.dx ** 2).sum(axis=0)
        self.normal_residuals = self._residuals(normal * err[:, None])

    def _centred(self, y: np.ndarray) -> np.ndarray:
        """``y`` (points, draws: the last two axes) less its weighted mean in each draw,
        taken by differences to the draw's heaviest point: under one weight 1e32 times the
        rest (an error re-estimated over 0.25 dof: chi2(0.25) / 0.25 reaches 1e-32), ``y -
        mean`` left that point the mean's rounding, times its huge weight an O(1) residual
        that is not there (alpha, beta, gamma of such a draw 10-80 % off, the quantile
        4e-4). Each point's difference to the others' weighted mean is the same sum, but
        over all pairs it held points x points x draws per estimate (2.7 GiB for 100
        estimates of 40 points: review RV7)."""
        return centred_on_heaviest(y, self.w, self.total)

    def _residuals(self, y: np.ndarray) -> np.ndarray:
        """Weighted residuals (times the square root of the weight) of each draw's weighted
        line fit to ``y``, the draws' noise (points, draws: the last two axes)."""
        dy = self._centred(y)
        slope = (self.w * self.dx * dy).sum(axis=-2, keepdims=True) / self.sxx
        return (dy - slope * self.dx) * np.sqrt(self.w)

    def quantiles(self, x0: np.ndarray) -> np.ndarray:
        """The quantile of each row ``(c0, c1)`` of ``x0``; those not yet known solved
        together (:func:`_solve_quantiles`)."""
        rows = [(float(c0), float(c1)) for c0, c1 in x0]
        known = {row: self.memo[row] for row in rows if row in self.memo}
        new = [row for row in dict.fromkeys(rows) if row not in known]
        if new:
            found = _solve_quantiles(*self._conditional_parts(np.array(new)),
                                     self.residual_dof, self._points_text)
            known.update(zip(new, found.tolist()))
            if len(self.memo) + len(new) > self.MEMO:
                self.memo.clear()
            self.memo.update(zip(new, found.tolist()))
        return np.array([known[row] for row in rows])

    def _points_text(self) -> str:
        return f"ln errors {self.err.tolist()} over dof {self.dof.tolist()}"

    def _conditional_parts(self, x0: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per estimate ``c0 ln A + c1 Ea`` (rows of ``x0``) and draw (columns): the ratio
        ``r`` of its standard error as the fit computes it (unscaled) to its true sd given
        the weights, and the weighted residual sum as the quadratic ``alpha z^2 + 2 beta z
        + gamma`` of ``z``, the noise along the estimate (standard normal, independent of
        the rest, which the draw fixes)."""
        c0, c1 = x0[:, :1], x0[:, 1:]
        # c1 - c0 (weighted mean x): a weighted mean, no difference to round
        lever = ((c1 - c0 * self.x)[:, :, None] * self.w).sum(axis=-2) / self.total
        b = (c0[..., None] * self.w / self.total
             + lever[:, None, :] * self.w * self.dx / self.sxx) * self.err[:, None]
        b_norm = np.sqrt((b * b).sum(axis=-2))           # the estimate's error is b . noise
        r = np.sqrt(c0 ** 2 / self.total + lever ** 2 / self.sxx) / b_norm
        if self.residual_dof == 0:
            return r, None, None, None
        along = b / b_norm[:, None, :]
        p = self._residuals(along * self.err[:, None])
        q = self.normal_residuals - (self.normal * along).sum(axis=-2, keepdims=True) * p
        return r, (p * p).sum(-2), (p * q).sum(-2), (q * q).sum(-2)


LEVEL = 0.05
"""Two-sided level of the studentized quantile: it is the 95 % one."""

MAX_QUANTILE = 3.0 ** 25
"""Largest quantile solved (8.5e11: the last bracket the root search before Dec 7 2026 tried,
by factors of 3 from 3, below 1e12); above it the points have too few dof to bound it."""

ROOT_TOLERANCE = 1e-6
"""Newton's step in ln q at which its result is taken as the quantile: converging
quadratically (or, at a kink of one draw's term, fast and linearly), it is then within
~1e-10 relative (tests/test_arrhenius_quantile_solver.py; scipy's brentq before: within
1e-9 + 1e-6 q)."""


def _solve_quantiles(r: np.ndarray, alpha: np.ndarray | None, beta: np.ndarray | None,
                     gamma: np.ndarray | None, residual_dof: int, describe) -> np.ndarray:
    """The root in ``q`` of :func:`_exceedance` = ``LEVEL`` of each row (an estimate; the
    columns are its draws), all rows at once: Newton's method on ``ln P`` against ``ln q``
    (nearly straight: a power law in the tails of few dof, a parabola in the normal's), from
    q = 2, kept inside the bracket of the values it has seen (a step out of it bisects it,
    or moves by a factor of 3 while one side is open). ``P`` falls strictly with ``q``, so
    the root is the one the bracketed brentq per estimate found before, now in 3-5
    evaluations of all rows together instead of ~10 of each."""
    rows = r.shape[0]
    t = np.full(rows, np.log(2.0))
    lo, hi = np.full(rows, -np.inf), np.full(rows, np.inf)
    done = np.zeros(rows, bool)
    for step in range(200):
        p, dp = _exceedance(np.exp(t), r, alpha, beta, gamma, residual_dof)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            g = np.log(p / LEVEL)
            newton = t - g / (np.exp(t) * dp / p)
        above = g > 0                       # the quantile lies beyond t
        lo, hi = np.where(above, t, lo), np.where(above | (g == 0), hi, t)
        if np.any(~done & (lo >= np.log(MAX_QUANTILE))):
            raise AnalysisError(
                f"the studentized quantile exceeds 1e12 for points with {describe()}: too "
                f"few dof to bound it")
        bracket = np.where(np.isinf(hi), t + np.log(3.0),
                           np.where(np.isinf(lo), t - np.log(3.0), 0.5 * (lo + hi)))
        inside = (np.isfinite(newton) & (newton > lo) & (newton < hi) & (step < 50)
                  & (newton < np.log(3.0 * MAX_QUANTILE)))
        close = np.isfinite(newton) & (np.abs(newton - t) <= ROOT_TOLERANCE)
        new = np.where(inside | close, newton, bracket)
        settled = (g == 0) | close | (hi - lo <= 1e-12)     # bisected to nothing
        t = np.where(done | (g == 0), t, new)
        done |= settled
        if done.all():
            break
    else:
        raise AnalysisError(f"the studentized quantile did not converge for points with "
                            f"{describe()}")
    if np.any(t > np.log(MAX_QUANTILE)):
        raise AnalysisError(f"the studentized quantile exceeds 1e12 for points with "
                            f"{describe()}: too few dof to bound it")
    return np.exp(t)


def _normal_density_times(u: np.ndarray, du: np.ndarray) -> np.ndarray:
    """phi(u) du, 0 where phi(u) is (a root at infinity: its du is inf or nan)."""
    with np.errstate(invalid="ignore", over="ignore"):
        density = np.exp(-0.5 * u * u) * (1.0 / np.sqrt(2.0 * np.pi))
        return np.where(density > 0, density * du, 0.0)


def _exceedance(q: np.ndarray, r: np.ndarray, alpha: np.ndarray | None,
                beta: np.ndarray | None, gamma: np.ndarray | None, residual_dof: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Per row (an estimate, its draws the columns), the probability that |estimate error|
    / its standard error exceeds ``q`` (one per row), the normal noise along the estimate
    (``z``) integrated exactly in each draw: ``|z| > c`` with ``c = q r``, and where scaled
    (``residual_dof`` > 0) also ``residual_dof z^2 > c^2 chi2(z)``, a quadratic inequality
    ``A z^2 + B z + C > 0`` (PDG scale ``max(1, chi2 / residual_dof)``); and its derivative
    in ``q``: a root z of the quadratic moves as ``dz/dq = 2 residual_dof z^2 / (q (2 A z +
    B))``, and ``2 A z + B`` is -+ the square root of its discriminant."""
    from scipy.special import ndtr

    q = q[:, None]
    c = q * r
    if residual_dof == 0:
        return (np.mean(2.0 * ndtr(-c), axis=1),
                np.mean(-2.0 * _normal_density_times(c, r), axis=1))
    c2 = c * c
    a = residual_dof - c2 * alpha
    a[a == 0.0] = -1e-300
    b, cc = -2.0 * c2 * beta, -c2 * gamma
    root = np.sqrt(np.maximum(b * b - 4.0 * a * cc, 0.0))
    r1, r2 = (-b - root) / (2 * a), (-b + root) / (2 * a)
    lo, hi = np.minimum(r1, r2), np.maximum(r1, r2)
    up = a > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        k = np.where(up, 2.0, -2.0) * residual_dof / (q * root)
        d_lo, d_hi = -k * lo * lo, k * hi * hi
    # A > 0: z < lo or z > hi (lo <= 0 <= hi, as C <= 0); A < 0: lo < z < hi. Either way
    # z in (left_from, left_to) below -c, or in (right_from, right_to) above c: one formula,
    # no draws picked out by case
    inner_lo, inner_hi = np.where(up, lo, hi), np.where(up, hi, lo)
    d_inner_lo, d_inner_hi = np.where(up, d_lo, d_hi), np.where(up, d_hi, d_lo)
    left_from, right_to = np.where(up, -np.inf, lo), np.where(up, np.inf, hi)
    left_to, right_from = np.minimum(inner_lo, -c), np.maximum(inner_hi, c)
    left = ndtr(left_to) - ndtr(left_from)
    right = ndtr(-right_from) - ndtr(-right_to)
    d_left = (_normal_density_times(left_to, np.where(inner_lo < -c, d_inner_lo, -r))
              - _normal_density_times(left_from, d_lo))
    d_right = (_normal_density_times(right_to, d_hi)
               - _normal_density_times(right_from, np.where(inner_hi > c, d_inner_hi, r)))
    p = np.maximum(left, 0.0) + np.maximum(right, 0.0)
    dp = np.where(left > 0, d_left, 0.0) + np.where(right > 0, d_right, 0.0)
    return p.mean(axis=1), dp.mean(axis=1)


def _line_residual_sums(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted residual sum of squares of the straight-line fit of each column of ``y``
    (a row per point; weights: the columns of ``w``, 1 / variance) on ``x``, from weighted
    means: no normal matrix to solve, whose condition under one dominant weight (an error
    re-estimated near zero over dof < 1: chi2(0.3) / 0.3 draws reach 1e-24) made it
    singular."""
    total = w.sum(axis=0)
    dx, dy = (centred_on_heaviest(v, w, total) for v in (x[:, None], y))
    w_dx = w * dx
    slope = (w_dx * dy).sum(axis=0) / (w_dx * dx).sum(axis=0)
    res = dy - slope * dx
    return (w * res * res).sum(axis=0)


def centred_on_heaviest(y: np.ndarray, w: np.ndarray, total: np.ndarray) -> np.ndarray:
    """``y`` (points, draws: the last two axes) less its weighted mean (weights ``w``, their
    sums ``total``) in each draw, by differences to the draw's heaviest point: ``y - mean``
    leaves a point weighing 1e32 times the rest the mean's rounding, which its weight
    turns into an O(1) residual that is not there."""
    y = np.broadcast_to(y, np.broadcast_shapes(y.shape, w.shape))
    heaviest = y[..., w.argmax(axis=0), np.arange(w.shape[1])][..., None, :]
    d = y - heaviest
    return d - (w * d).sum(axis=-2, keepdims=True) / total


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

