"""The statistics behind combining replicas of one temperature: the F test of their
errors (equal or inverse-variance weights, :func:`inverse_variance_share`), Welch's test of
their means (:func:`welch_anova`, :func:`scatter_share`), the weighted mean with Meier's
correction (:func:`weighted_mean_ln`) and the degrees of freedom of the result (used by
:mod:`ionmd.analysis.replica_combination`, whose module doc gives the measured behaviour)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.optimize import brentq
from scipy.stats import chi2
from scipy.stats import f as f_dist
from scipy.stats import norm
from scipy.stats import t as student_t


ALIKE_ALPHA = 0.001
"""Level of the F test of equal standard errors below which replicas' weights move from
equal toward inverse-variance ones (all the way at a tenth of it, :data:`BLEND_SPAN`;
examples/replica_coverage.py): replicas alike by design differ
this much by chance once in a thousand (skewed per-ion D at a 30 % error: 4-19 %), a run 4
times longer than its sibling is found in 3-8 % (equal weights lose little there), 25
times longer in 46-65 % (where equal weights made the interval 1.7-3x wider)."""


BLEND_SPAN = 10.0
"""Between the F test's p-values ``ALIKE_ALPHA`` and ``ALIKE_ALPHA / BLEND_SPAN``, the weights
go from equal to inverse-variance ones linearly in log p (:func:`inverse_variance_share`); a
hard switch at ``ALIKE_ALPHA`` moved a combination wildly on a tiny change of data (one
replica's error 0.01 % larger: value 1.140 -> 1.011, ln error 0.122 -> 0.050)."""


WEIGHTS = {0.0: "equal", 1.0: "inverse-variance"}
"""``combine_replicas``' ``weights`` by its ``inverse_variance_share`` (else ``"blend"``)."""


SCATTER_ALPHA = 0.05
"""Level of Welch's test of equal means beyond which the replicas' scatter widens the
combined error (by Welch's F: their spread, not their own errors, is then the measure);
from ``BLEND_SPAN`` times it on, part of the way (:func:`scatter_share`): a hard switch at
5 % widened an interval 2.1-fold on a replica's D 1e-5 larger (1.27840 -> 1.27841)."""


def scatter_share(p: float) -> float:
    """How much of Welch's F widens the combined error at Welch's p-value ``p``: 1 at or below
    ``SCATTER_ALPHA``, 0 from ``BLEND_SPAN`` times it, linear in log p between."""
    if p <= SCATTER_ALPHA:
        return 1.0
    return float(np.clip(np.log(BLEND_SPAN * SCATTER_ALPHA / p) / np.log(BLEND_SPAN), 0.0, 1.0))


def _f_sf(F: float, df1: float, df2: float) -> float:
    """F distribution's survival function, with its chi-square limits for infinite degrees
    of freedom (both infinite: 0 above 1, known variances are alike only where equal)."""
    if np.isinf(df1) and np.isinf(df2):
        return 0.0 if F > 1 else 1.0
    if np.isinf(df1):
        return float(chi2.cdf(df2 / F, df2)) if F > 0 else 1.0
    return float(chi2.sf(F * df1, df1) if np.isinf(df2) else f_dist.sf(F, df1, df2))


def _f_ppf(q: float, df1: float, df2: float) -> float:
    """F distribution's quantile, with its chi-square limits for infinite degrees of freedom
    (both infinite: 1, known variances are alike only where equal)."""
    if np.isinf(df1) and np.isinf(df2):
        return 1.0
    if np.isinf(df2):
        return float(chi2.ppf(q, df1) / df1)
    if np.isinf(df1):
        return float(df2 / chi2.ppf(1 - q, df2))
    return float(f_dist.ppf(q, df1, df2))


@lru_cache(maxsize=256)
def interval_dof(quantile: float, level: float = 0.95) -> float:
    """The Student t degrees of freedom an interval's ``quantile`` (half-width in standard
    errors) was built with at ``level`` (ions - 1 for a D); inf for a normal quantile."""
    if quantile <= norm.ppf(0.5 + level / 2) * (1 + 1e-4):
        return float("inf")
    return float(brentq(lambda nu: student_t.ppf(0.5 + level / 2, nu) - quantile, 0.05, 1e7,
                        xtol=1e-10, rtol=1e-12))


def widened_dof(dof: float, df1: float, share: float, F: float) -> float:
    """Degrees of freedom of a combined error widened by Welch's F (``err^2 (1 + share (F -
    1))``): Welch-Satterthwaite over its two parts, the replicas' own errors ``err^2 (1 -
    share)`` at ``dof`` and their spread ``share F err^2`` at Welch's ``df1`` (k - 1). Read at
    the runs' own dof, a fully widened interval covered 78.9-88.8 % where runs' true errors
    were 2-3x their reported ones (2-4 replicas); the spread is then what sets the error,
    known to k - 1 dof, as in the classical replicate interval (94.4-95.7 %)."""
    own, spread = 1 - share, share * F
    parts = (own ** 2 / dof if own > 0 else 0.0) + spread ** 2 / df1
    return float((own + spread) ** 2 / parts)


def chi_square_dof(rel: np.ndarray) -> np.ndarray:
    """Degrees of freedom of collective sigmas at relative errors ``rel``: their scaled
    chi-square's ``2 / rel^2``, with which their errors are compared (:func:`inverse_variance_share`):
    a relative error comes from the same charge path as its sigma and varies by chance
    (40 ps x 16 ions: 4 %, 20 ps: 13 %, higher sigma lower error, correlation -0.54); compared as
    known errors (infinite dof) any difference weighted by inverse variance, and the high
    replica dominated (3 x 20 ps: 1.016x the truth, the plain mean 0.993x)."""
    return 2.0 / rel ** 2


def inverse_variance_share(se: np.ndarray, dof: np.ndarray, alpha: float = ALIKE_ALPHA) -> float:
    """How far replicas' standard errors ``se`` (each with ``dof``) are from alike, as the
    share of inverse-variance weights in theirs (0: equal weights, 1: inverse-variance):
    from the F test of the largest variance over the smallest, two-sided and shared by the
    pairs, 0 at p >= ``alpha``, 1 at p <= ``alpha / BLEND_SPAN``, linear in log p between
    (equal weights, the cautious ones, wherever the errors are within chance at ``alpha``)."""
    i, j = int(np.argmax(se)), int(np.argmin(se))
    pairs = len(se) * (len(se) - 1) / 2
    p = min(1.0, 2 * pairs * _f_sf(float((se[i] / se[j]) ** 2), dof[i], dof[j]))
    if p >= alpha:
        return 0.0
    if p <= alpha / BLEND_SPAN:         # also known errors (normal quantiles) not equal: p 0
        return 1.0
    return float(np.log(alpha / p) / np.log(BLEND_SPAN))


def weighted_mean_ln(y: np.ndarray, se: np.ndarray, dof: np.ndarray, *,
                     share: float) -> tuple[float, float, float]:
    """Mean of ``y`` (ln values; the values themselves in :func:`combine_linear`) by weights ``share`` of the way from equal to inverse-
    variance ones, its standard error and Welch-Satterthwaite degrees of freedom (from
    ``se``, each with ``dof``). Inverse-variance weights estimated from the data make
    ``1 / sum(w)`` too small: Meier's (1953) first-order correction, ``1 + 4 sum(p (1 - p)
    / dof)`` (p: the normalised weights), times ``share``."""
    w = 1.0 / se ** 2
    p = (1 - share) / len(se) + share * w / w.sum()
    part = (p * se) ** 2
    var = float(part.sum())
    spread = float(np.sum(part ** 2 / dof))        # normal replicas (dof inf) add none
    dof_eff = var ** 2 / spread if spread > 0 else float("inf")
    var *= 1 + 4 * share * float(np.sum(p * (1 - p) / dof))
    return float(np.sum(p * y)), float(np.sqrt(var)), dof_eff


def welch_anova(y: np.ndarray, se: np.ndarray, dof: np.ndarray) -> tuple[float, float, float]:
    """Welch's (1951) test of equal means from means ``y`` with standard errors ``se``
    (each with ``dof``): the F statistic and its two degrees of freedom."""
    k = len(y)
    w = 1.0 / se ** 2
    mean = np.sum(w * y) / np.sum(w)
    between = np.sum(w * (y - mean) ** 2) / (k - 1)
    lam = float(np.sum((1 - w / w.sum()) ** 2 / dof))
    F = float(between / (1 + 2 * (k - 2) * lam / (k ** 2 - 1)))
    return F, float(k - 1), float((k ** 2 - 1) / (3 * lam)) if lam > 0 else float("inf")
