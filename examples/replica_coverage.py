"""Replicas combined: does the combined interval of a temperature's replicas cover the true D?

Each replica is a run's D over its ions: the mean of ``n`` per-ion D's with its Student t
interval over them (clipped at zero), as :func:`ionmd.analysis.diffusion.slope_over_ions`
reports it. Per-ion D's are drawn (true D = 1) as

* ``normal``: normal, relative standard error of a run's D ``rel``;
* ``lognormal``: log-normal with the same mean and spread (skewed, as per-ion MSD slopes);
* ``unequal xK``: as lognormal/normal, one replica K times longer (its spread / sqrt(K));
* ``stopped``: MSD-like per-ion D's (chi-square over 3 x blocks, one block per check, a
  skewed estimate that narrows with time), every replica checked and stopped by
  ``D_rel_ci<=r`` at the first check where its 95 % interval is that narrow, reporting
  its 99 % interval (:data:`ionmd.analysis.convergence.STOPPED_LEVEL`), or at the last
  check (16) its 95 % one.

Printed per setting: the coverage of the true D by one replica's own interval, by the
combined interval as reported before (``old``: inverse-variance mean in ln D, error
sqrt(max(1, reduced chi-square)) / sqrt(sum w), normal quantile; kept here as
:func:`old_combination`) and now (``new``: :func:`ionmd.analysis.replica_combination.combine_replicas`),
at the reported level (99 % where a replica was stopped by its rule; ``new@95``: the
combined 95 % interval of those), the median width of new over old, and how often the new
one weighted the replicas by inverse variance in part or in full (their precision unlike,
``inverse_variance_share`` > 0) rather than alike.

First, the bias: per setting, and in the low-temperature regime (normal per-ion D's whose
true D is 0.7-2 standard errors of a run, so that replicas come out below zero), the mean
of the combined D over the true one (and that mean's standard error) and the coverage of
the true D, combined in ln D as before (:func:`ln_combination`: a geometric mean) and in D
(:func:`ionmd.analysis.replica_combination.combine_replicas`), and by a switch between the two on
the replicas' relative errors (``sw``: :data:`SWITCH_REL`), and how often the point enters the
fits (``resolved``; else its interval reaches zero with a replica below zero, an upper
bound). ``--low-t``: that regime only. Not a test (minutes):
``.venv/bin/python examples/replica_coverage.py --trials 20000``; ``--trials 2000``: 4 min
on a busy machine, ``--low-t --trials 2000``: 30 s; ``--collective``: collective sigma
replicas instead (scaled chi-square sigmas at 10-40 % errors). Its numbers: the module docstring
of :mod:`ionmd.analysis.replica_combination`.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import norm
from scipy.stats import t as student_t

from ionmd.analysis.convergence import STOPPED_LEVEL
from ionmd.analysis.interval_errors import ln_error_from_interval
from ionmd.analysis.point_checks import usable, within_scatter
from ionmd.analysis.replica_combination import combine_replicas, linear_se
from ionmd.analysis.replica_statistics import (_f_sf, inverse_variance_share, interval_dof,
                                               scatter_share, weighted_mean_ln, welch_anova)

CHECKS = 16
SWITCH_REL = 0.15
"""The switch compared (``sw``): replicas combined in ln D where every one's relative
standard error is below this, in D elsewhere."""


def runs_of(per_ion: np.ndarray, level: np.ndarray | float = 0.95):
    """Each replica's D (mean over its ions, last axis) and Student t interval at ``level``,
    clipped at zero; and the interval's quantile."""
    n = per_ion.shape[-1]
    m = per_ion.mean(-1)
    se = per_ion.std(-1, ddof=1) / np.sqrt(n)
    q = student_t.ppf(0.5 + np.asarray(level) / 2, n - 1) * np.ones_like(m)
    return m, np.maximum(m - q * se, 0.0), m + q * se, q


def per_ion_draws(rng, shape, rel: float, kind: str) -> np.ndarray:
    """Per-ion D's (mean 1) with a run's relative standard error ``rel`` over ``shape[-1]``
    ions."""
    spread = rel * np.sqrt(shape[-1])
    if kind == "normal":
        return rng.normal(1.0, spread, shape)
    s = np.sqrt(np.log1p(spread ** 2))
    return rng.lognormal(-s * s / 2, s, shape)


def fixed_runs(rng, trials, n, replicas, rel, kind, longer=1.0):
    """Replicas of fixed length; with ``longer`` > 1 the first one that many times longer."""
    x = per_ion_draws(rng, (trials, replicas, n), rel, kind)
    if longer != 1.0:
        x[:, 0] = per_ion_draws(rng, (trials, n), rel / np.sqrt(longer), kind)
    m, lo, hi, q = runs_of(x)
    return m, lo, hi, q, np.full(m.shape, 0.95)


def stopped_runs(rng, trials, n, replicas, rule):
    """Replicas stopped by ``D_rel_ci<=rule``: the reported D, interval, quantile, level."""
    sums = np.zeros((trials, replicas, n))
    done = np.zeros((trials, replicas), bool)
    out = [np.zeros((trials, replicas)) for _ in range(4)] + [np.full((trials, replicas), 0.95)]
    for k in range(1, CHECKS + 1):
        sums += rng.chisquare(3, sums.shape)
        x = sums / (3 * k)
        m, _, hi, _ = runs_of(x)
        rel_ci = (hi - m) / m
        stop = ~done & (rel_ci <= rule)
        last = ~done & ~stop & (k == CHECKS)
        for chosen, level in ((stop, STOPPED_LEVEL), (last, 0.95)):
            if chosen.any():
                mm, lo, hh, q = runs_of(x[chosen], level)
                for arr, v in zip(out, (mm, lo, hh, q, level)):
                    arr[chosen] = v
        done |= stop
    return tuple(out)


def old_combination(values, intervals, quantiles, levels) -> tuple[float, float, float] | None:
    """ionmd's combination before: (value, lo, hi) of the inverse-variance mean of ln D,
    its error scaled by sqrt(max(1, reduced chi-square)), at the normal quantile of the
    highest level (one replica: its own interval)."""
    keep = [i for i, (v, iv) in enumerate(zip(values, intervals)) if usable(v, iv)]
    if not keep:
        return None
    if len(keep) == 1:
        i = keep[0]
        return values[i], intervals[i][0], intervals[i][1]
    ln = np.log([values[i] for i in keep])
    # the old reading too: a clipped lower end put at hi / 1000
    se = np.array([np.log(intervals[i][1] / (intervals[i][0] if intervals[i][0] > 0
                                             else intervals[i][1] * 1e-3))
                   / (2 * quantiles[i]) for i in keep])
    w = 1 / se ** 2
    mean = np.sum(w * ln) / np.sum(w)
    chi2r = np.sum(w * (ln - mean) ** 2) / (len(keep) - 1)
    err = np.sqrt(max(1.0, chi2r) / np.sum(w))
    z = norm.ppf(0.5 + max(levels[i] for i in keep) / 2)
    return np.exp(mean), np.exp(mean - z * err), np.exp(mean + z * err)


def coverage(runs) -> dict:
    """Coverage of D = 1 by one replica, the old and the new combination; median widths."""
    m, lo, hi, q, level = runs
    one, old, new, new95, w_old, w_new, inverse = [], [], [], [], [], [], []
    for i in range(len(m)):
        ivs = list(zip(lo[i], hi[i]))
        one.append(lo[i, 0] <= 1.0 <= hi[i, 0])
        o = old_combination(m[i], ivs, q[i], level[i])
        c = combine_replicas(m[i], ivs, q[i], level[i], ivs)
        old.append(o is not None and o[1] <= 1.0 <= o[2])
        new.append(c is not None and c["ci95"][0] <= 1.0 <= c["ci95"][1])
        if c is not None:
            inverse.append(c.get("inverse_variance_share", 0.0) > 0)
            lo95, hi95 = c.get("ci95_unwidened", c["ci95"])
            new95.append(lo95 <= 1.0 <= hi95)
        if o is not None and c is not None:
            with np.errstate(divide="ignore"):       # a lower end at zero: infinitely wide
                w_old.append(np.log(np.float64(o[2]) / o[1]))
                w_new.append(np.log(np.float64(c["ci95"][1]) / c["ci95"][0]))
    return {"one": np.mean(one), "old": np.mean(old), "new": np.mean(new),
            "new95": np.mean(new95), "width": np.exp(np.median(w_new) - np.median(w_old)),
            "stopped": float(np.mean(level > 0.95)), "inverse": np.mean(inverse)}


def ln_combination(values, intervals, quantiles, levels) -> tuple[float, float, float] | None:
    """ionmd's combination before it was made in D: (value, lo, hi) of the same estimator
    in ln D (equal weights unless the errors differ beyond chance, Student t at the
    Welch-Satterthwaite dof, Welch's F), each replica's ln error from its interval; a
    geometric mean. Where a replica is below zero within its scatter, or one only is
    usable, as now (:func:`combine_replicas`)."""
    rows = [r for r in zip(values, intervals, quantiles, levels) if usable(r[0], r[1])]
    if len(rows) < 2 or any(within_scatter(v, iv) for v, iv in zip(values, intervals)):
        c = combine_replicas(values, intervals, quantiles, levels, intervals)
        return None if c is None else (c["value"], *c["ci95"])
    se = np.array([ln_error_from_interval(*iv, quantile=q, value=v) for v, iv, q, _ in rows])
    ln = np.log([r[0] for r in rows])
    dof = np.array([interval_dof(q, lvl) for _, _, q, lvl in rows])
    share = inverse_variance_share(np.array([linear_se(v, iv, q) for v, iv, q, _ in rows]), dof)
    mean, err, dof_eff = weighted_mean_ln(ln, se, dof, share=share)
    F, df1, df2 = welch_anova(ln, se, dof)
    widening = scatter_share(_f_sf(F, df1, df2))
    if widening > 0 and F > 1:
        err *= np.sqrt(1 + widening * (F - 1))
    z = student_t.ppf(0.5 + max(r[3] for r in rows) / 2, dof_eff)
    return np.exp(mean), np.exp(mean - z * err), np.exp(mean + z * err)


def bias_and_coverage(runs) -> dict:
    """Mean of the combined D over the true one (1) and coverage of it at the reported
    level, in ln D (:func:`ln_combination`) and in D (:func:`combine_replicas`: how often
    ``resolved``); each over the trials where it gave a value."""
    m, lo, hi, q, level = runs
    ln, lin, ln_in, lin_in, resolved, sw, sw_in = [], [], [], [], [], [], []
    for i in range(len(m)):
        ivs = list(zip(lo[i], hi[i]))
        o = ln_combination(m[i], ivs, q[i], level[i])
        c = combine_replicas(m[i], ivs, q[i], level[i], ivs)
        if o is not None:
            ln.append(o[0])
            ln_in.append(o[1] <= 1.0 <= o[2])
        if c is not None:
            lin.append(c["value"])
            lin_in.append(c["ci95"][0] <= 1.0 <= c["ci95"][1])
            resolved.append(c.get("resolved", True))
            # the switch: in ln D where every replica's relative error is below SWITCH_REL
            rel = max(linear_se(v, iv, qq) / abs(v) for v, iv, qq in zip(m[i], ivs, q[i]))
            lo_hi = o[1:] if o is not None and rel < SWITCH_REL else c["ci95"]
            sw.append(o[0] if o is not None and rel < SWITCH_REL else c["value"])
            sw_in.append(lo_hi[0] <= 1.0 <= lo_hi[1])
    return {"ln_mean": np.mean(ln), "ln_cov": np.mean(ln_in), "mean": np.mean(lin),
            "cov": np.mean(lin_in), "resolved": np.mean(resolved),
            "noise": np.std(lin) / np.sqrt(len(lin)), "sw_mean": np.mean(sw),
            "sw_cov": np.mean(sw_in)}


def low_t_settings():
    """Normal per-ion D's (a run's D can be negative), true D 1-2 standard errors."""
    for n, reps, rel in ((8, 2, 1.4), (8, 2, 1.0), (8, 2, 0.7), (8, 3, 1.0), (8, 3, 0.5),
                         (16, 2, 1.0), (16, 2, 0.6), (16, 3, 0.5)):
        yield (f"normal {n} ions x{reps}, D = {1 / rel:.2g} se",
               lambda rng, t, n=n, reps=reps, rel=rel: fixed_runs(rng, t, n, reps, rel, "normal"))


def settings():
    for kind in ("normal", "lognormal"):
        for rel in (0.1, 0.3):
            for n, reps in ((8, 2), (8, 3), (16, 2)):
                yield (f"{kind} {n} ions x{reps}, se {rel:.0%}",
                       lambda rng, t, n=n, reps=reps, rel=rel, kind=kind:
                       fixed_runs(rng, t, n, reps, rel, kind))
    for kind in ("normal", "lognormal"):
        for longer in (4.0, 25.0):
            yield (f"{kind} 8 ions x2, se 30%, one x{longer:g} longer",
                   lambda rng, t, kind=kind, longer=longer:
                   fixed_runs(rng, t, 8, 2, 0.3, kind, longer))
    for rule in (0.2, 0.3):
        for n, reps in ((8, 2), (8, 3), (16, 2)):
            yield (f"stopped D_rel_ci<={rule:g}, {n} ions x{reps}",
                   lambda rng, t, n=n, reps=reps, rule=rule: stopped_runs(rng, t, n, reps, rule))


def collective_study(rng: np.random.Generator, trials: int) -> None:
    """Collective sigma replicas: each run's sigma / truth a scaled chi-square ``chi2_k / k``,
    ``k = 2 / r^2`` (the model of :func:`ionmd.analysis.conductivity.collective_interval`),
    its interval that function's at standard error ``r sigma`` (proportional to the value),
    combined as the series does (``collective``): mean over the truth and coverage."""
    from ionmd.analysis.conductivity import collective_interval

    print(f"{trials} trials per setting; collective sigma replicas (scaled chi-square)")
    for reps in (2, 3):
        for rel in (0.1, 0.2, 0.3, 0.4):
            k = 2 / rel ** 2
            rows = []
            for sigmas in rng.chisquare(k, (trials, reps)) / k:
                c = combine_replicas(list(sigmas), [collective_interval(s, rel * s) for s in sigmas],
                                     [1.96] * reps, collective=[True] * reps)
                rows.append((c["value"], c["ci95"][0] <= 1.0 <= c["ci95"][1]))
            a = np.array(rows, float)
            print(f"collective x{reps}, se {rel:.0%}: mean {a[:, 0].mean():.3f} "
                  f"+- {a[:, 0].std() / np.sqrt(trials):.3f}, coverage {a[:, 1].mean():.3f}",
                  flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--low-t", action="store_true",
                    help="only the low-temperature regime (replicas below zero): bias")
    ap.add_argument("--collective", action="store_true",
                    help="only collective sigma replicas (scaled chi-square): bias, coverage")
    args = ap.parse_args(argv)
    start = time.time()
    rng = np.random.default_rng(args.seed)
    if args.collective:
        collective_study(rng, args.trials)
        print(f"({time.time() - start:.0f} s)")
        return
    print(f"{args.trials} trials per setting; combined D / true D (mean; its standard error "
          f"'+-') and coverage of the true D at the reported level, in ln D (before) and in D")
    print(f"{'setting':<42s} {'ln mean':>7s} {'ln cov':>6s} {'D mean':>6s} {'+-':>5s} "
          f"{'D cov':>6s} {'sw mean':>7s} {'sw cov':>6s} {'resolved':>8s}")
    for name, make in [*low_t_settings(), *([] if args.low_t else settings())]:
        b = bias_and_coverage(make(rng, args.trials))
        print(f"{name:<42s} {b['ln_mean']:7.3f} {b['ln_cov']:6.3f} {b['mean']:6.3f} "
              f"{b['noise']:5.3f} {b['cov']:6.3f} {b['sw_mean']:7.3f} {b['sw_cov']:6.3f} "
              f"{b['resolved']:8.0%}", flush=True)
    if args.low_t:
        print(f"({time.time() - start:.0f} s)")
        return
    print(f"{args.trials} trials per setting; coverage of the true D at the reported level "
          f"(99 % where the rule stopped a replica)")
    print(f"{'setting':<42s} {'stopped':>7s} {'one':>6s} {'old':>6s} {'new':>6s} "
          f"{'new@95':>6s} {'width new/old':>13s} {'IV weights':>10s}")
    for name, make in settings():
        c = coverage(make(rng, args.trials))
        print(f"{name:<42s} {c['stopped']:>7.0%} {c['one']:6.3f} {c['old']:6.3f} "
              f"{c['new']:6.3f} {c['new95']:6.3f} {c['width']:>13.2f} {c['inverse']:>10.0%}",
              flush=True)
    print(f"({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
