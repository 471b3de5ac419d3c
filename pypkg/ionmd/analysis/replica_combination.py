"""Replicas of one temperature combined into one point (value, 95 % interval, ``ln_err``,
dof), done once for ``ionmd analyze`` and ``ionmd sweep collect`` alike
(:mod:`ionmd.analysis.aggregate` builds the series and fits them over temperature).

Replicas are combined in D itself (or sigma T): a run's D, an MSD slope summed over its ions,
is close to normal, and the mean of replicas' D is unbiased; their mean in ln D, a geometric
mean, is below the arithmetic one by about ``exp(-se_rel^2 / 2)`` at a run's relative error
``se_rel`` (0.88-0.94x the true D at 0.7-2 standard errors of a run, 0.96-0.98x at 30 %
errors). The Arrhenius fit is in D too since Dec 7 2026
(:func:`~ionmd.analysis.aggregate.arrhenius_of_points`, each point weighted by its combined
standard error in D); ``ln_err``, the delta method's (standard error over value), is still
reported, and weighs collective sigma points, fitted in ln (their errors follow their values).
Each replica's standard error is its interval's half-width (its upper half where clipped at
zero: :func:`linear_se`) read with the interval's own quantile (Student t over the ions for D
and the Nernst-Einstein sigma, at 99 % for a run stopped by its D-interval rule:
:func:`~ionmd.analysis.aggregate.d_quantile`), with the degrees of freedom that quantile was
built with (ions - 1); a collective sigma's, wider above, is solved for the standard error it
was built with (:func:`collective_se`). Replicas of one temperature are alike by design (same
cell, protocol and length or stopping rule), so they are averaged with equal weights; only
where their standard errors differ beyond chance (a run extended, one that did not converge)
are they weighted by inverse variance, with Meier's correction for weights estimated from the
same data (between the two, over a decade of the F test's p-value, a blend: a tiny change of
data moves the result a little). The combined interval is Student t at the Welch-Satterthwaite
degrees of freedom of the replicas' variances, widened by Welch's F where the replicas
disagree beyond their errors (Welch's test of equal means, 5 %; part of the way from 50 %),
its degrees of freedom then moving toward the replicas' own, k - 1, by the same share
(:func:`widened_dof`), log-normal in shape about the mean where its relative error is small
(:data:`LOG_SHAPE`). A temperature with one replica keeps that run's own value and interval
(its ``ln_err`` read from it: :func:`~ionmd.analysis.interval_errors.ln_error_from_interval`).

Replicas below zero. Where the true D is small against a run's noise (low T: 1-2
standard errors), a replica's D comes out below zero with its interval reaching above
it (:func:`within_scatter`): noise, not a failed run, combined with the others (leaving
it out kept the lucky high replicas only: 1.13-1.47x the true D at 0.7-1 standard errors).
Where the combined 95 % interval then reaches zero the temperature is not resolved:
reported with its value and interval (lower end clipped at zero, the upper one an upper
bound), left out of the Arrhenius fit with why (``not_resolved``: taken in, in D, such
temperatures pulled the fitted curve's cold end down, Ea up to 3 % high; left out, within
0.6 %: :func:`~ionmd.analysis.aggregate.arrhenius_of_points`), and the goal's allocator
extends its runs (:mod:`ionmd.sweep.allocate`). Replicas all positive enter the fit
whatever their combined interval, as one replica does (an interval reaching zero read as a
run's is). A replica whose interval is all at zero, its MSD falling beyond its scatter, is
left out with why: its error is unknown and its cause is not noise.

Measured (examples/replica_coverage.py --trials 2000; per-ion D normal or log-normal (skewed),
the combined D over the true one, mean, and the coverage of the true D at the reported level;
before: the same estimator in ln D; re-measured 2026-12-07): 2-3 replicas of 8-16 ions at 10-30
% errors 0.994-1.005x (before 0.960-1.001x), covering 94.0-96.9 % (normal) and 96.1-96.5 %
(log-normal at 10 %); one replica 4x or 25x longer 0.983-0.996x, 97.4-98.0 %; runs stopped by
their rule 0.997-1.002x, 98.7-99.2 % at 99 %; low T (0.7-2 standard errors, 2-3 replicas of
8-16 ions) 0.984-1.017x (before 0.88-0.94x; the mean's own noise 0.006-0.022), covering
94.6-97.5 % (59-94 % resolved). Skewed per-ion D at 30 % errors: 0.985-0.987x over 8 ions
covering 93.8-94.8 %, and over 16 ions 0.958x covering 92.8-92.9 % (before 0.957x, 93.1 %),
where one run's own interval covers 87-89 %: its Student t interval is too narrow for skewed
ions, and the inverse-variance weights, estimated from errors that grow with the value, favour
the low replica (equal weights there: 1.010x); one of two replicas 25x longer 0.962x (before
0.957x). Intervals symmetric in D throughout covered the skewed ones 87-94 % and the normal
ones at 30 % errors 96 % (with :data:`LOG_SHAPE`: 90-94 %, 93-95 %). A switch to ln D where
every replica's relative error is below 15 % (the example's ``sw``) gave the same within 0.6 %
there and nothing at larger errors, where the bias is: no regime needs ln space (the skewed one
is as biased in it, and covers 93-95 % there only by its interval's shape, which
:data:`LOG_SHAPE` gives in D). Since the widened error is read at its own dof
(:func:`widened_dof`; ``--trials 1000``, binomial sd 0.7 %): normal replicas at 10-30 %
94.9-97.2 %, log-normal at 10 % 94.9-97.1 %, low T 94.4-97.6 %, skewed at 30 % 93.3-94.1 % (8
ions) and 91.7-94.1 % (16 ions), one run longer 96.3-97.7 %, stopped runs 98.8-99.6 % at 99 %;
the means as before within their noise.

Collective sigma replicas (their errors proportional to their values) are weighted by
their relative errors (:func:`combine_linear`); weighted by their standard errors as known
ones, the low replica dominated. Seeded Brownian runs, 16 Li (a referee's scripts, Dec 7
2026, 500 trials): 2 x 40 ps 0.997x the truth covering 98.0 % (before 0.967x, 99.6 %), 3 x 20
ps 0.994x, 98.6 % (before 1.016x or 0.957x), the plain mean 0.997x / 0.993x; one run's own
collective interval is wide there (its standard error 8-9 % above the runs' spread).
Scaled chi-square draws (the interval's own model, 2-3 replicas at 10-40 % errors, 1500
trials; examples/replica_coverage.py --collective): 0.996-0.999x covering 93.5-97.1 %
(before 0.82-0.99x). Where the runs' true errors
are 2-3x their reported ones (8 ions, 2-4 replicas, 3000 trials) the interval covers 84.8-92.6 %
(before, the widened one read at the runs' own dof: 78.9-88.8 %); short of the classical
replicate interval's 94.4-95.7 % where Welch's test does not find the spread.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm
from scipy.stats import t as student_t

from ionmd.analysis.conductivity import collective_interval, lower_end_turn
from ionmd.analysis.interval_errors import ln_error_from_interval
from ionmd.analysis.point_checks import enters, usable
from ionmd.analysis.replica_statistics import (WEIGHTS, _f_sf, chi_square_dof, interval_dof,
                                               inverse_variance_share, scatter_share,
                                               weighted_mean_ln, welch_anova, widened_dof)


def combine_replicas(values: Sequence[float], intervals: Sequence[tuple[float, float]],
                     quantiles: Sequence[float] | None = None,
                     levels: Sequence[float] | None = None,
                     unwidened: Sequence[tuple[float, float] | None] | None = None,
                     collective: Sequence[bool] | None = None) -> dict | None:
    """``{"value", "ln_err", "ci95", "replicas", "dof", "weights"}`` of replicas' values with
    95 % intervals (see the module docstring; ``quantiles``: each interval's half-width in
    standard errors, default 1.96; ``dof``: the Student t degrees of freedom of the combined
    interval; ``weights``: ``"equal"``, ``"inverse-variance"`` or ``"blend"``, with
    ``inverse_variance_share`` (:func:`inverse_variance_share`); ``scatter_F``: Welch's F
    where the replicas' scatter widened it, fully at Welch's p <= 5 %, else by
    ``sqrt(1 + s (F - 1))``, ``s`` from :func:`scatter_share`); None when none is usable
    (:func:`~ionmd.analysis.point_checks.point_problem`: a replica with no positive value, or
    with an interval of zero width, is left out). Where a replica is below zero within its scatter
    (:func:`within_scatter`), all are combined in D itself instead (:func:`combine_linear`:
    ``space`` ``"linear"``, ``resolved``; no ``ln_err`` where not resolved).

    One usable replica keeps its own value and interval (its Student t one over its ions,
    at its own level): there is nothing to combine, and rebuilding it as 1.96 of its
    standard error made it narrower than the run says (8 ions: 1.96 for 2.36, 17 %).

    ``levels``: each interval's level (0.95; 0.99 for a run stopped by its D-interval
    rule). Where a usable replica's is higher, ``ci95`` is at that level too (Student t;
    one replica: its own), marked ``interval_level`` with ``ci95_unwidened`` beside it
    (``unwidened``: each replica's own 95 % interval, where it has one): the standard
    errors of runs stopped by their rule are small by selection (examples/
    atstop_fit_coverage.py). ``ln_err`` (what fits weight by) is the same either way.

    ``collective``: whether each interval is a collective sigma's
    (:func:`~ionmd.analysis.conductivity.collective_interval`, wider above): its standard
    error is then read by inverting that interval (:func:`replica_se`), and replicas all
    positive are weighted by their relative errors (:func:`combine_linear`)."""
    return combine_replicas_se(values, intervals, quantiles, levels, unwidened, collective)[0]


def combine_replicas_se(values: Sequence[float], intervals: Sequence[tuple[float, float]],
                        quantiles: Sequence[float] | None = None,
                        levels: Sequence[float] | None = None,
                        unwidened: Sequence[tuple[float, float] | None] | None = None,
                        collective: Sequence[bool] | None = None
                        ) -> tuple[dict | None, float | None]:
    """:func:`combine_replicas` and the combined value's standard error in its own unit (what
    a fit in D weighs it by: :func:`~ionmd.analysis.aggregate.arrhenius_of_points`); None,
    None where no replica enters."""
    n = len(values)
    quantiles = [1.96] * n if quantiles is None else quantiles
    levels = [0.95] * n if levels is None else levels
    unwidened = [None] * n if unwidened is None else unwidened
    collective = [False] * n if collective is None else collective
    rows = list(zip(values, intervals, quantiles, levels, unwidened, collective))
    replicas = [r for r in rows if enters(r[0], r[1])]
    return _combined_with_se(replicas) if replicas else (None, None)


def _combined_with_se(replicas: Sequence[tuple]) -> tuple[dict, float]:
    """:func:`combine_replicas` of the replicas that enter (rows ``(value, interval,
    quantile, level, unwidened, collective)``) and the combined value's standard error in
    its own unit (what a fit in D weighs it by: :func:`combine_replicas_se`)."""
    if len(replicas) == 1 and usable(replicas[0][0], replicas[0][1]):
        v, iv, q, lvl, _, c = replicas[0]
        return (_one_replica(replicas[0], ln_error_from_interval(*iv, quantile=q, value=v)),
                replica_se(v, iv, q, lvl, c))
    return _combine_linear(replicas)


def combine_linear(replicas: Sequence[tuple]) -> dict:
    """:func:`combine_replicas` of replicas ``(value, interval, quantile, level, unwidened,
    collective)``: the estimator in D itself (module docstring), each replica's standard
    error :func:`replica_se`, the interval shaped by :func:`interval_ends`.

    Collective sigma replicas all positive have errors proportional to their values (the
    error model takes its variances from the fitted line): weighted by those errors, the low
    replica dominated (2 x 40 ps: 0.968x the truth). They are weighted by their relative
    errors instead, each standard error taken as its relative error times the replicas'
    equal-weight mean (:func:`value_free_se`). Where Welch's F widens the error, its
    degrees of freedom move toward the replicas' own (k - 1) by the same share
    (:func:`widened_dof`).

    ``space`` is ``"linear"``; ``resolved`` whether the point enters a fit: where the
    combined 95 % interval excludes zero, with the delta method's ``ln_err`` (the combined
    standard error over the value); where it reaches zero with every replica positive,
    with the ``ln_err`` a run's interval reaching zero is read with
    (:func:`~ionmd.analysis.interval_errors.ln_error_from_interval`: one replica or several,
    alike); else, a replica below zero within its scatter, the interval's upper end is an
    upper bound and there is no ``ln_err``: no fit can take the point. An interval
    reaching zero has its lower end clipped there."""
    return _combine_linear(replicas)[0]


def _combine_linear(replicas: Sequence[tuple]) -> tuple[dict, float]:
    """:func:`combine_linear` and the combined standard error (widened where it is)."""
    value = np.array([float(r[0]) for r in replicas])
    se = np.array([replica_se(v, iv, q, lvl, c) for v, iv, q, lvl, _, c in replicas])
    dof = np.array([interval_dof(q, lvl) for _, _, q, lvl, _, _ in replicas])
    alike_dof = dof
    collective = any(r[5] for r in replicas)
    if collective and (value > 0).all():
        alike_dof = chi_square_dof(se / value)
        se = value_free_se(value, se)
    level = max(r[3] for r in replicas)
    share = inverse_variance_share(se, alike_dof) if len(se) > 1 else 0.0
    if collective and not (value > 0).all():
        # errors proportional to the values cannot be weighed by (the lowest replica would
        # dominate: [0.3, 1.5, -0.2] gave 0.317 for a mean of 0.533), nor made value-free
        # around a mean that may be below zero: equal weights, as replicas alike by design
        share = 0.0
    mean, err, dof_eff = weighted_mean_ln(value, se, dof, share=share)
    F, df1, df2 = welch_anova(value, se, dof) if len(se) > 1 else (0.0, 0.0, 0.0)
    widening = scatter_share(_f_sf(F, df1, df2)) if len(se) > 1 else 0.0
    widened = widening > 0 and F > 1
    # ln_err is read at the runs' own quantile: at Welch's 1-3 dof a widened interval reaches
    # zero, and read from its upper half its ln error would shrink as it widened
    z_ln = float(student_t.ppf(0.975, dof_eff))
    if widened:
        dof_eff = widened_dof(dof_eff, df1, widening, F)
        err *= float(np.sqrt(1 + widening * (F - 1)))

    def around(lvl: float) -> list[float]:
        return interval_ends(mean, err, float(student_t.ppf(0.5 + lvl / 2, dof_eff)))

    z95 = float(student_t.ppf(0.975, dof_eff))
    clear = mean - z95 * err > 0
    # replicas all positive: a point for the fits whatever its interval, as one replica is
    resolved = clear or all(usable(r[0], r[1]) for r in replicas)
    ci95 = around(0.95)
    ln_err = err / mean if mean - z_ln * err > 0 else ln_error_from_interval(
        0.0, mean + z_ln * err, quantile=z_ln, value=mean) if resolved else None
    out = {"value": mean, **({"ln_err": ln_err} if resolved else {}),
           "ci95": ci95 if clear else _clipped(ci95), "replicas": [float(v) for v in value],
           "dof": float(dof_eff), "weights": WEIGHTS.get(share, "blend"),
           "inverse_variance_share": share, "space": "linear", "resolved": resolved}
    if widened:
        out["scatter_F"] = float(F)
    if level != 0.95:
        at_level = around(level)
        out.update(ci95=_clipped(at_level), interval_level=level,
                   ci95_unwidened=out["ci95"])
    if len(replicas) == 1:          # a lone replica keeps its own interval (_one_replica)
        _, interval, _, _, unwidened, _ = replicas[0]
        out["ci95"] = [float(v) for v in interval]
        if level != 0.95 and unwidened is not None:
            out["ci95_unwidened"] = [float(v) for v in unwidened]
    return out, float(err)


LOG_SHAPE = (0.2, 0.3)
"""Combined relative errors (``ln_err``) up to the first of which a combination's interval
is log-normal in shape about its value, ``value * exp(+-z ln_err)`` (as the fits read the
point), from the second on symmetric in D, the ends moving linearly between. Skewed
per-ion D (log-normal, a run's error 30 %) make a run's D skewed, with its error growing
with it: there the symmetric interval covered 87-94 %, the log-normal one 90-96 %; at
larger errors (low T, 1-2 standard errors) the log-normal shape covered 90 % (2 replicas
of 8 ions at 0.7 standard errors), the symmetric one 96 % (examples/replica_coverage.py)."""


def interval_ends(mean: float, err: float, z: float) -> list[float]:
    """The interval ``mean +- z err`` of a combination in D, shaped by :data:`LOG_SHAPE`
    where it is clear of zero, and moving to the symmetric shape as its lower end goes below
    half the mean."""
    lo, hi = mean - z * err, mean + z * err
    if not lo > 0:
        return [lo, hi]
    rel = err / mean
    s = float(np.clip((LOG_SHAPE[1] - rel) / (LOG_SHAPE[1] - LOG_SHAPE[0]), 0.0, 1.0))
    # and symmetric as its lower end nears zero (at low dof z is large: 2 replicas
    # widened by Welch's F, 12.7), where the log-normal end would jump to the symmetric one
    s *= float(np.clip(2 * lo / mean, 0.0, 1.0))
    return [(1 - s) * lo + s * mean * float(np.exp(-z * rel)),
            (1 - s) * hi + s * mean * float(np.exp(z * rel))]


def _clipped(interval: Sequence[float]) -> list[float]:
    """An interval of D (or sigma) with its lower end clipped at zero, as runs report it."""
    return [max(float(interval[0]), 0.0), float(interval[1])]


def replica_se(value: float, interval: Sequence[float], quantile: float, level: float,
               collective: bool) -> float:
    """A replica's standard error in its own unit: :func:`collective_se` for a positive
    collective sigma, else :func:`linear_se`."""
    if collective and value > 0:
        return collective_se(value, interval, level)
    return linear_se(value, interval, quantile)


def collective_se(sigma: float, interval: Sequence[float], level: float = 0.95) -> float:
    """The standard error a positive collective sigma's interval was built with, found by
    solving :func:`~ionmd.analysis.conductivity.collective_interval` for it: from its lower
    end where that is on its falling branch (a relative error below :func:`lower_end_turn`,
    told by the upper end, which rises with the error at every error), else from its finite
    upper end. Read as the upper half-width over 1.96, it came out 1.6-2x the run's own
    (wider above): two identical replicas at a 27 % error gave a ln error of 0.304 (0.19 is
    right) and an interval reaching zero at 40 %. Beyond the turn the lower end is held (a
    chi-square interval's own turned back up there): solved from the lower end alone, a 95 %
    interval built with 10x sigma (a sigma within its noise, as near-zero collective sigmas
    are) gave 1.32x, one at 4.2-5x a brentq ValueError."""
    lo, hi = (float(v) for v in interval)
    turn = lower_end_turn(level)
    lowest, highest = collective_interval(sigma, turn * sigma, level)
    if lowest < lo < sigma and hi < highest:
        end, observed, top = 0, lo, turn
    elif sigma < hi < np.inf:
        end, observed, top = 1, hi, 1.0
    else:               # nothing to solve from: as a normal interval's
        return linear_se(sigma, interval, float(norm.isf((1 - level) / 2)))

    def miss(rel: float) -> float:      # in logs: the upper end spans hundreds of decades
        return float(np.log(collective_interval(sigma, rel * sigma, level)[end] / observed))

    while end == 1 and miss(top) < 0 and top < 1e4:
        top *= 4
    return float(brentq(miss, 1e-9, top, xtol=1e-12, rtol=1e-10)) * sigma


def value_free_se(value: np.ndarray, se: np.ndarray) -> np.ndarray:
    """Standard errors that do not follow their replicas' values: each relative error
    times the equal-weight mean (for errors proportional to the value, as a collective
    sigma's; weighted by ``se`` itself the low replica dominates)."""
    return se / value * float(np.mean(value))


def linear_se(value: float, interval: Sequence[float], quantile: float) -> float:
    """A replica's standard error in its own unit (for comparing replicas' precision): its
    upper half-width over the quantile where the lower end was clipped at zero."""
    lo, hi = interval
    return max(hi - value, (hi - lo) / 2) / quantile


def _one_replica(replica: tuple, ln_err: float) -> dict:
    """:func:`combine_replicas` of one usable replica ``(value, interval, quantile, level,
    unwidened)``: its own value and interval, at its own level."""
    value, interval, _, level, unwidened = replica[:5]
    out = {"value": float(value), "ln_err": ln_err, "ci95": [float(v) for v in interval],
           "replicas": [float(value)]}
    if level != 0.95:
        out.update(interval_level=level,
                   ci95_unwidened=[float(v) for v in unwidened] if unwidened is not None
                   else [float(value * np.exp(-1.96 * ln_err)),
                         float(value * np.exp(1.96 * ln_err))])
    return out
