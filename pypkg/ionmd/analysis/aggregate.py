"""Across runs, done once for ``ionmd analyze`` and ``ionmd sweep collect`` alike: replicas
of one temperature combined, then Arrhenius fits over temperature, in one result shape.

Replicas are combined in D itself (or sigma T): a run's D, an MSD slope summed over its
ions, is close to normal, and the mean of replicas' D is unbiased; their mean in ln D, a
geometric mean, is below the arithmetic one by about ``exp(-se_rel^2 / 2)`` at a run's
relative error ``se_rel`` (0.88-0.94x the true D at 0.7-2 standard errors of a run, 0.96-0.98x
at 30 % errors). The Arrhenius fit is in D too since Dec 7 2026 (:func:`arrhenius_of_points`,
each point weighted by its combined standard error in D); ``ln_err``, the delta method's
(standard error over value), is still reported, and weighs collective sigma points, fitted in
ln (their errors follow their values). Each replica's standard
error is its interval's half-width (its upper half where clipped at zero: :func:`linear_se`)
read with the interval's own quantile (Student t over the ions for D and the
Nernst-Einstein sigma, at 99 % for a run stopped by its D-interval rule: :func:`d_quantile`),
with the degrees of freedom that quantile was built with (ions - 1); a collective sigma's,
wider above, is solved for the standard error it was built with (:func:`collective_se`).
Replicas of one temperature are alike by design (same cell, protocol and length
or stopping rule), so they are averaged with equal weights; only where their standard
errors differ beyond chance (a run extended, one that did not converge) are they weighted
by inverse variance, with Meier's correction for weights estimated from the same data
(between the two, over a decade of the F test's p-value, a blend: a tiny change of data
moves the result a little). The combined interval is Student t at the Welch-Satterthwaite
degrees of freedom of the replicas' variances, widened by Welch's F where the replicas
disagree beyond their errors (Welch's test of equal means, 5 %; part of the way from 50 %),
its degrees of freedom then moving toward the replicas' own, k - 1, by the same share
(:func:`widened_dof`), log-normal in shape about the mean where its relative error is small (:data:`LOG_SHAPE`).
A temperature with one replica keeps that run's own value and interval (its ``ln_err``
read from it: :func:`~ionmd.analysis.arrhenius.ln_error_from_interval`).

Replicas below zero. Where the true D is small against a run's noise (low T: 1-2
standard errors), a replica's D comes out below zero with its interval reaching above
it (:func:`within_scatter`): noise, not a failed run, combined with the others (leaving
it out kept the lucky high replicas only: 1.13-1.47x the true D at 0.7-1 standard errors).
Where the combined 95 % interval then reaches zero the temperature is not resolved:
reported with its value and interval (lower end clipped at zero, the upper one an upper
bound), left out of the Arrhenius fit with why (``not_resolved``: taken in, in D, such
temperatures pulled the fitted curve's cold end down, Ea up to 3 % high; left out, within
0.6 %: :func:`arrhenius_of_points`), and the goal's allocator
extends its runs (:mod:`ionmd.sweep.allocate`). Replicas all positive enter the fit
whatever their combined interval, as one replica does (an interval reaching zero read as a
run's is). A replica whose interval is all at zero, its MSD falling beyond its scatter, is
left out with why: its error is unknown and its cause is not noise.

Measured (examples/replica_coverage.py --trials 2000; per-ion D normal or log-normal (skewed),
the combined D over the true one, mean, and the coverage of the true D at the reported
level; before: the same estimator in ln D): 2-3 replicas of 8-16 ions at 10-30 % errors
0.994-1.005x (before 0.960-1.001x), covering 93.3-96.7 % (normal) and 95.2-96.8 % (log-normal
at 10 %); one replica 4x or 25x longer 0.983-0.996x, 96.2-97.6 %; runs stopped by their rule
0.997-1.002x, 98.4-99.1 % at 99 %; low T (0.7-2 standard errors, 2-3 replicas of 8-16
ions) 0.984-1.017x (before 0.88-0.94x; the mean's own noise 0.006-0.022), covering
94.1-97.2 % (59-94 % resolved). Skewed per-ion D at 30 % errors: 0.985-0.987x over 8 ions
covering 92.6-93.8 %, and over 16 ions 0.958x covering 90.0-90.4 % (before 0.957x, 93.1 %), where
one run's own interval covers 87-89 %: its Student t interval is too narrow for skewed
ions, and the inverse-variance weights, estimated from errors that grow with the value,
favour the low replica (equal weights there: 1.010x); one of two replicas 25x longer
0.962x (before 0.957x). Intervals symmetric in D throughout covered the skewed ones
87-94 % and the normal ones at 30 % errors 96 % (with :data:`LOG_SHAPE`: 90-94 %, 93-95 %).
A switch to ln D where every replica's relative error is below 15 % (the example's ``sw``)
gave the same within 0.6 % there and nothing at larger errors, where the bias is: no
regime needs ln space (the skewed one is as biased in it, and covers 93-95 % there only
by its interval's shape, which :data:`LOG_SHAPE` gives in D). Since the widened error is
read at its own dof (:func:`widened_dof`; ``--trials 1000``, binomial sd 0.7 %): normal
replicas at 10-30 % 94.9-97.2 %, log-normal at 10 % 94.9-97.1 %, low T 94.4-97.6 %, skewed at
30 % 93.3-94.1 % (8 ions) and 91.7-94.1 % (16 ions), one run longer 96.3-97.7 %, stopped
runs 98.8-99.6 % at 99 %; the means as before within their noise.

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

Each fit names its runs: ``runs`` (those whose points fed it, also per point) and, from
:func:`fit_series`, ``left_out`` (the others, each with why: failed, analysis error, no
conductivity, not analysed, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm
from scipy.stats import t as student_t

from ionmd.analysis.conductivity import (collective_interval, end_from_json, lower_end_turn)
from ionmd.analysis.point_checks import (enters, point_problem, usable,  # noqa: F401 (re-exported)
                                         within_scatter)
from ionmd.analysis.replica_statistics import (  # noqa: F401 (re-exported)
    ALIKE_ALPHA, BLEND_SPAN, SCATTER_ALPHA, WEIGHTS, _f_ppf, _f_sf, chi_square_dof,
    interval_dof, inverse_variance_share, scatter_share, weighted_mean_ln, welch_anova,
    widened_dof)
from ionmd.analysis.arrhenius import (dof_from_json, dof_to_json,
                                      interval_quantile, kinisi_arrhenius,
                                      ln_error_from_interval)
from ionmd.analysis.arrhenius_linear import fit_arrhenius_linear
from ionmd.analysis.arrhenius_problems import FIT_PROBLEM, fit_problem
from ionmd.errors import AnalysisError

SIGMA_SERIES = {"conductivity": "sigma_T", "conductivity_collective": "sigma_collective_T"}
"""Per-run result key -> Arrhenius series of that conductivity times T."""

SIGMA_NAMES = {"conductivity": "the Nernst-Einstein sigma",
               "conductivity_collective": "the collective sigma"}
"""Per-run result key -> the conductivity's name in messages."""


def run_label(run: dict) -> str:
    """A run's name in the lists of runs behind a fit: its directory (``"run"``), else its
    temperature."""
    return str(run.get("run") or f"{run['temperature_K']:g} K")


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
    (:func:`point_problem`: a replica with no positive value, or with an interval of zero
    width, is left out). Where a replica is below zero within its scatter
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
    n = len(values)
    quantiles = [1.96] * n if quantiles is None else quantiles
    levels = [0.95] * n if levels is None else levels
    unwidened = [None] * n if unwidened is None else unwidened
    collective = [False] * n if collective is None else collective
    rows = list(zip(values, intervals, quantiles, levels, unwidened, collective))
    replicas = [r for r in rows if enters(r[0], r[1])]
    if not replicas:
        return None
    return _combined_with_se(replicas)[0]


def _combined_with_se(replicas: Sequence[tuple]) -> tuple[dict, float]:
    """:func:`combine_replicas` of the replicas that enter (rows ``(value, interval,
    quantile, level, unwidened, collective)``) and the combined value's standard error in
    its own unit (what a fit in D weighs it by: :func:`arrhenius_of_points`)."""
    if len(replicas) == 1 and usable(replicas[0][0], replicas[0][1]):
        v, iv, q, lvl, _, c = replicas[0]
        return (_one_replica(replicas[0], ln_error_from_interval(*iv, quantile=q, value=v)),
                replica_se(v, iv, q, lvl, c))
    return _combine_linear(replicas)


def combine_points_se(points: Sequence[Point]) -> tuple[dict | None, float | None]:
    """:func:`combine_points` and the combined value's standard error in its own unit
    (None, None where no replica enters)."""
    rows = [(p.value, p.ci95, p.quantile, p.level, p.ci95_unwidened, p.collective)
            for p in points]
    replicas = [r for r in rows if enters(r[0], r[1])]
    return _combined_with_se(replicas) if replicas else (None, None)


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
    (:func:`~ionmd.analysis.arrhenius.ln_error_from_interval`: one replica or several,
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


@dataclass
class Point:
    """One run's value of a series at its temperature (``flags``: not yet diffusive;
    ``run``: :func:`run_label` of the run it comes from)."""

    temperature_K: float
    value: float
    ci95: tuple[float, float]
    flags: list[str] = field(default_factory=list)
    complete: bool = True
    run: str = ""
    quantile: float = 1.96     # the interval's half-width in standard errors
    level: float = 0.95        # the interval's level (0.99: a run stopped by its rule)
    ci95_unwidened: tuple[float, float] | None = None   # its 95 % one where level is not
    collective: bool = False   # a collective sigma's interval (wider above): replica_se


def combine_points(points: Sequence[Point]) -> dict | None:
    """:func:`combine_replicas` of one temperature's points of a series (replicas), each
    read at its own quantile and level."""
    return combine_replicas([p.value for p in points], [p.ci95 for p in points],
                            [p.quantile for p in points], [p.level for p in points],
                            [p.ci95_unwidened for p in points],
                            [p.collective for p in points])


def d_quantile(d: dict) -> float:
    """The quantile of a D's reported interval (one of a run's ``diffusion`` dicts): Student
    t over its ions at the interval's level, 95 %, or ``interval_level`` where the run's
    stopping rule stopped it (99 %, ``ionmd.analysis.run_analysis.widened_at_stop``). Read at
    it, the interval gives back the run's own standard error: the fits weight by it and
    treat such a run as no more uncertain than it is (docs/convergence.md)."""
    from ionmd.analysis.convergence import interval_quantile_at

    level = d.get("interval_level", 0.95)
    return interval_quantile(d.get("n_ions")) if level == 0.95 else interval_quantile_at(
        d.get("n_ions"), level)


def nernst_einstein_quantile(run: dict) -> float:
    """The quantile of a run's Nernst-Einstein sigma interval: that of its D over the fewest
    ions (a sum over species is dominated by no rule; the widest is the cautious choice),
    at the level of its D intervals (:func:`d_quantile`)."""
    xyz = [d for d in run.get("diffusion", []) if d["direction"] == "xyz"]
    return max((d_quantile(d) for d in xyz), default=1.96)


def series_points(runs: Sequence[dict]) -> dict[str, list[Point]]:
    """Points of each Arrhenius series in per-run results (``analyze_run``'s dicts):
    ``D_<species>`` (xyz), ``sigma_T`` and ``sigma_collective_T`` (conductivity times T)."""
    series: dict[str, list[Point]] = {}
    for r in runs:
        if not r.get("diffusion"):
            continue
        T, complete, label = r["temperature_K"], r.get("complete") is not False, run_label(r)
        xyz = [d for d in r["diffusion"] if d["direction"] == "xyz"]
        for d in xyz:
            series.setdefault(f"D_{d['species']}", []).append(
                Point(T, d["D"], tuple(d["D_ci95"]), list(d["flags"]), complete, label,
                      d_quantile(d), d.get("interval_level", 0.95),
                      _times(d.get("D_ci95_unwidened"), 1.0)))
        flags = carriers_flags(xyz, r.get("charges"))
        for key, name in SIGMA_SERIES.items():
            if key in r:
                c = r[key]
                series.setdefault(name, []).append(
                    Point(T, c["sigma"] * T, tuple(end_from_json(v) * T
                                                   for v in c["sigma_ci95"]), flags,
                          complete, label,
                          nernst_einstein_quantile(r) if key == "conductivity" else 1.96,
                          c.get("interval_level", 0.95),
                          _times(c.get("sigma_ci95_unwidened"), T),
                          key == "conductivity_collective"))
    return series


CARRIER_SHARE = 0.1
"""A mobile species whose Nernst-Einstein part is under this share of the sum does not carry
the conductivity: its flags do not make sigma's point not diffusive."""


def carriers_flags(xyz: Sequence[dict], charges: dict | None) -> list[str]:
    """The flags of a run's sigma point: those of the mobile species' D (xyz) that carry
    it, each part ``q^2 n D`` at least :data:`CARRIER_SHARE` of their sum. A species
    declared mobile that stays frozen (a framework's too_few_hops) adds next to nothing to
    sigma, and its flags would mark every temperature of the sigma fit not diffusive
    (``fit_problem``: NOT A RESULT) while the carrier's D is clear. All species' flags
    where the charges or a positive sum are missing (as found)."""
    parts = ([charges[d["species"]] ** 2 * d["n_ions"] * max(d["D"], 0.0) for d in xyz]
             if charges and all(d["species"] in charges for d in xyz) else None)
    total = sum(parts) if parts else 0.0
    carriers = ([d for d, part in zip(xyz, parts) if part >= CARRIER_SHARE * total]
                if total > 0 else xyz)
    return list(dict.fromkeys(f for d in carriers for f in d["flags"]))


def _times(interval: Sequence[float] | None, factor: float) -> tuple[float, float] | None:
    """An interval times ``factor`` (sigma's times T), None where there is none."""
    return None if interval is None else tuple(v * factor for v in interval)


def point_dof(combined: dict, points: Sequence[Point]) -> float:
    """Degrees of freedom of a temperature's ``ln_err`` (:func:`combine_points`' ``combined``
    of ``points``): the replicas' Welch-Satterthwaite dof, or a lone usable replica's own
    (:func:`interval_dof`: ions - 1 for a D; inf for a normal interval).

    A collective sigma's point keeps dof inf (its relative error read as known), though its
    replicas are compared at the chi-square dof 2/r^2: over 2000 scaled chi-square draws per
    setting (one replica a temperature at 3 or 4 of 500-800 K, r 0.15/0.3/0.5), dof inf
    covers Ea by 94.2-95.4 % and sigma(300 K) by 94.0-95.3 %; 2/r^2 gave 94.2-97.2 % and
    94.0-96.9 % (its studentized quantile and Birge scaling over-cover as r grows). With two
    replicas a temperature (1000 draws, r 0.3/0.5) dof inf covers 95.6-97.0 %, 2k/r^2
    95.6-96.7 %: no gain worth the change."""
    if "dof" in combined:
        return dof_from_json(combined["dof"])
    lone = next(p for p in points if usable(p.value, p.ci95))
    return interval_dof(lone.quantile, lone.level)


def arrhenius_of_points(points: Sequence[Point], *, times_T: bool, kinisi: bool = False,
                        n_samples: int = 400, seed: int = 0) -> dict | None:
    """Replicas combined per temperature, then a weighted Arrhenius fit over temperature, in
    D itself (:func:`ionmd.analysis.arrhenius_linear.fit_arrhenius_linear`; a collective
    sigma's points in ln, by their ``ln_err``), the temperatures not resolved left out.

    Why in D: in ln D (before Dec 7 2026) a cold run's noise biased Ea low (ln of a noisy
    value is low on average, and its ln error is smallest where it came out high), and
    leaving out the temperatures not resolved kept those that came out high. Measured
    (examples/arrhenius_selection_bias.py; 5 temperatures 500-900 K, Ea 0.4 eV, runs of 8
    ions, the coldest run's relative error 0.8 / 1.2, 1000-2000 trials): Ea -4.2 / -5.8 %
    in ln; in D +0.6 / +3.2 % with the temperatures not resolved taken in (their values
    near or below zero pull the curve's cold end down: the exponential's nonlinearity),
    -0.3 / +0.4 % with them left out (-0.4 / -0.6 % with 3 replicas of 8 ions or 2 of 64);
    so they stay out.

    The fit reads each temperature's ln error with its dof (:func:`point_dof`): where some
    were estimated over few ions, Ea and the extrapolation get the fit's studentized
    bootstrap quantile (:func:`ionmd.analysis.arrhenius.studentized_quantile`; their
    Welch-Satterthwaite dof still recorded as ``Ea_dof``, ``extrapolation_dof``).

    Returns ``ArrheniusFit.to_dict()`` plus ``points`` (T, combined value, 95 % interval),
    ``extrapolated`` and ``extrapolated_ci95`` at ``T_extrapolated`` in the series' own unit
    (for a ``times_T`` series the conductivity, not sigma T; also as
    ``sigma_extrapolated_mS_cm`` / ``sigma_extrapolated_ci95``; the same keys in ``kinisi``), ``not_diffusive_T`` and
    ``incomplete_T`` (temperatures with a flagged or unfinished run), ``fit_problem`` (why
    the fit means nothing, with the flag ``fit_problem``: Ea <= 0, an extrapolation
    spanning decades, or only points flagged not diffusive; absent where it may be read:
    :func:`ionmd.analysis.arrhenius_problems.fit_problem`), ``runs`` (the
    :attr:`Point.run` of every point that fed the fit, also per point), ``not_resolved``
    (where a temperature's replicas combined reach zero within their scatter: each one's
    linear value, interval, runs and why the fit leaves it out, :func:`not_resolved_entry`;
    absent where there is none); ``{"error": ...}``
    when the fit fails; None with fewer than two temperatures.
    """
    by_T: dict[float, list[Point]] = {}
    for p in points:
        by_T.setdefault(float(p.temperature_K), []).append(p)
    both = {T: combine_points_se(ps) for T, ps in sorted(by_T.items())}
    both = {T: cs for T, cs in both.items() if cs[0]}
    unresolved = {T: c for T, (c, _) in both.items() if c.get("resolved") is False}
    fitted = {T: cs for T, cs in both.items() if T not in unresolved}
    combined = {T: c for T, (c, _) in fitted.items()}
    if len(combined) < 2:
        return None
    T = np.array(list(combined))
    y = np.array([c["value"] for c in combined.values()])
    se = np.array([s for _, s in fitted.values()])
    dof = np.array([point_dof(c, by_T[t]) for t, c in combined.items()])
    # a collective sigma's error follows its value (weighted by it in D, the low replica
    # would dominate, as in combine_linear): its points enter in ln, value-free
    in_ln = np.array([all(p.collective for p in by_T[t]) for t in combined])
    ln_err = np.where(in_ln, [c["ln_err"] for c in combined.values()], np.nan)
    try:
        fit = fit_arrhenius_linear(T, y, se, y_err_dof=dof, y_err_ln=ln_err)
    except AnalysisError as exc:
        return {"error": str(exc)}
    out = fit.to_dict()
    out["points"] = [{"temperature_K": float(t), **c,
                      **({"dof": dof_to_json(c["dof"])} if "dof" in c else {}),   # strict JSON
                      "runs": [p.run for p in by_T[t] if enters(p.value, p.ci95)]}
                     for t, c in combined.items()]
    out["runs"] = [run for q in out["points"] for run in q["runs"]]
    if unresolved:
        out["not_resolved"] = [not_resolved_entry(t, c, by_T[t]) for t, c in unresolved.items()]
    scale = 1.0 / fit.T_extrapolated if times_T else 1.0
    out["extrapolated"] = fit.y_extrapolated * scale
    out["extrapolated_ci95"] = [v * scale for v in fit.y_extrapolated_ci95]
    if times_T:
        out["sigma_extrapolated_mS_cm"] = out["extrapolated"]
        out["sigma_extrapolated_ci95"] = out["extrapolated_ci95"]
    out["not_diffusive_T"] = sorted({float(t) for t in T for p in by_T[float(t)] if p.flags})
    out["incomplete_T"] = sorted({float(t) for t in T for p in by_T[float(t)] if not p.complete})
    problem = fit_problem(fit.Ea_eV, out["extrapolated_ci95"], fit.T_extrapolated, T,
                          out["not_diffusive_T"], unit="mS/cm" if times_T else "cm^2/s")
    if problem:         # numbers that mean nothing are marked, not reported as a result
        out["fit_problem"] = problem
        out["flags"] = [*out["flags"], FIT_PROBLEM]
    if kinisi:
        # Gaussian errors in y for kinisi: half the width / 1.96 of the log-normal 95 %
        # interval of each combined value's standard error (whatever interval is reported)
        err = np.array([c["ln_err"] for c in combined.values()])
        y_std = y * np.sinh(1.96 * err) / 1.96
        try:
            out["kinisi"] = kinisi_arrhenius(T, y, y_std,
                                             n_samples=n_samples, seed=seed)
            # in the series' own unit as the least-squares entry (its y_* are sigma T)
            bayes = out["kinisi"]
            bayes["extrapolated"] = bayes["y_extrapolated"] * scale
            bayes["extrapolated_ci95"] = [v * scale for v in bayes["y_extrapolated_ci95"]]
            if times_T:
                bayes["sigma_extrapolated_mS_cm"] = bayes["extrapolated"]
                bayes["sigma_extrapolated_ci95"] = bayes["extrapolated_ci95"]
        except (AnalysisError, ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
            # an optional second opinion: its sampler failing must not cost the analysis
            out["kinisi"] = {"error": f"kinisi's Bayesian fit failed: {exc}"}
    return out


def not_resolved_entry(T: float, combined: dict, points: Sequence[Point]) -> dict:
    """A temperature whose replicas' combined interval reaches zero (:func:`combine_linear`),
    as a fit lists it in ``not_resolved``: its linear value and interval, the runs behind it
    and why the fit leaves it out (measured: :func:`arrhenius_of_points`)."""
    runs = [p.run for p in points if enters(p.value, p.ci95)]
    lo, hi = combined["ci95"]
    level = combined.get("interval_level", 0.95)
    what = "its run gives" if len(runs) == 1 else f"its {len(runs)} replicas combined give"
    reason = (f"not resolved at {T:g} K: {what} {combined['value']:.3g} ({level * 100:g} % "
              f"interval [{lo:.3g}, {hi:.3g}]), not clear of zero within the scatter: "
              f"{hi:.3g} is an upper bound. The Arrhenius fit (in D itself) leaves this "
              f"temperature out: a value this close to zero pulls the fitted curve's cold end "
              f"down by the fit's nonlinearity (with such temperatures in, Ea came out up to "
              f"3 % high; without, within 0.4 %); run longer, or add replicas")
    return {"temperature_K": float(T), "value": combined["value"], "ci95": [lo, hi],
            "runs": runs, "reason": reason}


def why_left_out(run: dict, key: str) -> str | None:
    """Why a run's results (``analyze_run``'s dict, or a run that was not analysed) give
    no usable point to series ``key``; None when they give one."""
    failure = run.get("failure") or {}
    if failure.get("failed"):
        return f"failed: {', '.join(failure.get('modes', [])) or 'see its failure report'}"
    if run.get("analysis_error"):
        return f"analysis error: {run['analysis_error']}"
    if not run.get("diffusion"):
        if "failure" in run:
            return "failure check only (no transport analysis)"
        return f"not analysed: {run['class']}" if run.get("class") else "not analysed"
    at = f" at {run['temperature_K']:g} K" if run.get("temperature_K") is not None else ""
    if key.startswith("D_"):
        d = next((d for d in run["diffusion"]
                  if d["direction"] == "xyz" and d["species"] == key[2:]), None)
        if d is None:
            return f"no xyz D of {key[2:]}"
        return point_problem(d["D"], d["D_ci95"], quantity=f"D of {key[2:]}{at}",
                             unit="cm^2/s", level=d.get("interval_level", 0.95))
    source = next((k for k, name in SIGMA_SERIES.items() if name == key), None)
    if source not in run:       # the analysis's own reason (a metal's), where it gave one
        why = run.get("no_conductivity") or no_sigma_reason(run)
        return f"no conductivity ({why})" if source == "conductivity" else f"no {key}"
    c = run[source]
    return point_problem(c["sigma"], c["sigma_ci95"], quantity=f"{SIGMA_NAMES[source]}{at}",
                         unit="mS/cm", level=c.get("interval_level", 0.95))


def no_sigma_reason(run: dict) -> str:
    """Why results without their analysis's own reason (``no_conductivity``, written by
    ionmd since it computes sigma from the xyz D whatever directions are asked) have no
    sigma: an older analysis of other directions only had no xyz D to make it from, one
    with an xyz D lacked the mobile species' charges."""
    if not any(d["direction"] == "xyz" for d in run["diffusion"]):
        return ("sigma needs the xyz D, which this analysis of other directions lacks: "
                "re-run `ionmd analyze` (it adds the xyz D for sigma)")
    return "charges of the mobile species unknown"


def left_out(runs: Sequence[dict], key: str, fed: Sequence[str],
             otherwise: str = "no fit", reasons: dict[str, str] | None = None) -> list[dict]:
    """``[{"run", "reason"}]`` for each run not in ``fed`` (labels, :func:`run_label`):
    ``reasons``' (a run of a temperature not resolved: :func:`not_resolved_entry`), else
    :func:`why_left_out`, or ``otherwise`` for a run with a usable point (its series had
    no fit)."""
    fed, reasons = set(fed), reasons or {}
    return [{"run": run_label(r),
             "reason": reasons.get(run_label(r)) or why_left_out(r, key) or otherwise}
            for r in runs if run_label(r) not in fed]


def fit_series(runs: Sequence[dict], key: str, *, kinisi: bool = False, n_samples: int = 400,
               seed: int = 0) -> dict | None:
    """:func:`arrhenius_of_points` of series ``key`` of runs' results (per-run dicts with
    ``temperature_K``; runs without results are welcome: they are listed as left out),
    plus ``left_out`` (:func:`left_out`) when the fit succeeded."""
    entry = arrhenius_of_points(series_points(runs).get(key, []), times_T=key.startswith("sigma"),
                                kinisi=kinisi, n_samples=n_samples, seed=seed)
    if entry is not None and "error" not in entry:
        unresolved = {run: t["reason"] for t in entry.get("not_resolved", []) for run in t["runs"]}
        entry["left_out"] = left_out(runs, key, entry["runs"], reasons=unresolved)
    return entry
