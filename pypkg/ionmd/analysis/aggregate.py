"""Across runs, done once for ``ionmd analyze`` and ``ionmd sweep collect`` alike: replicas
of one temperature combined, then Arrhenius fits over temperature, in one result shape.

Replicas are combined in log space: each replica's D (or sigma) has a standard error of
``ln D`` from its 95 % interval (read with the interval's own quantile: Student t over the
ions for D and the Nernst-Einstein sigma, at 99 % for a run stopped by its D-interval rule:
:func:`d_quantile`; normal for the collective sigma); the combined value is their inverse-variance weighted
mean, its error inflated by the replicas' scatter when that exceeds the intervals
(``sqrt`` of the reduced chi-square, as in the Particle Data Group's scale factor). A
temperature with one replica keeps that run's own value and interval.

Each fit names its runs: ``runs`` (those whose points fed it, also per point) and, from
:func:`fit_series`, ``left_out`` (the others, each with why: failed, analysis error, no
conductivity, not analysed, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy.stats import norm

from ionmd.analysis.arrhenius import (fit_arrhenius, interval_quantile, kinisi_arrhenius,
                                      ln_error_from_interval)
from ionmd.errors import AnalysisError

SIGMA_SERIES = {"conductivity": "sigma_T", "conductivity_collective": "sigma_collective_T"}
"""Per-run result key -> Arrhenius series of that conductivity times T."""


def point_problem(value: float, interval: Sequence[float]) -> str | None:
    """Why a value with its 95 % interval cannot enter a replica combination or a fit (in
    log space, weighted by ``1 / se(ln)^2``); None when it can. A value or upper end that
    is not positive has no logarithm; an interval of zero width (or upside down) has no
    error: its weight would be infinite, and the combined value and interval NaN."""
    lo, hi = (float(v) for v in interval)
    if not np.isfinite([value, lo, hi]).all():
        return f"value or interval not finite ({value:.3g} [{lo:.3g}, {hi:.3g}])"
    if not (value > 0 and hi > 0):
        return f"value or interval not positive ({value:.3g} [{lo:.3g}, {hi:.3g}])"
    if not hi > lo:
        return (f"interval of zero width ({value:.3g} [{lo:.3g}, {hi:.3g}]): no error, it "
                f"would get an infinite weight; look at the run's analysis (a D from one "
                f"ion, or from too few frames?) and analyse it again")
    return None


def usable(value: float, interval: Sequence[float]) -> bool:
    """Whether a value with its 95 % interval can enter a fit (:func:`point_problem`)."""
    return point_problem(value, interval) is None


def run_label(run: dict) -> str:
    """A run's name in the lists of runs behind a fit: its directory (``"run"``), else its
    temperature."""
    return str(run.get("run") or f"{run['temperature_K']:g} K")


def combine_replicas(values: Sequence[float], intervals: Sequence[tuple[float, float]],
                     quantiles: Sequence[float] | None = None,
                     levels: Sequence[float] | None = None,
                     unwidened: Sequence[tuple[float, float] | None] | None = None) -> dict | None:
    """``{"value", "ln_err", "ci95", "replicas"}`` of replicas' values with 95 % intervals
    (see the module docstring; ``quantiles``: each interval's half-width in standard
    errors, default 1.96); None when none is usable (:func:`point_problem`: a replica
    with no positive value, or with an interval of zero width, is left out).

    One usable replica keeps its own value and interval (its Student t one over its ions,
    at its own level): there is nothing to combine, and rebuilding it as 1.96 of its
    standard error made it narrower than the run says (8 ions: 1.96 for 2.36, 17 %).

    ``levels``: each interval's level (0.95; 0.99 for a run stopped by its D-interval
    rule). Where a usable replica's is higher, ``ci95`` is at that level too (normal
    quantile; one replica: its own), marked ``interval_level`` with ``ci95_unwidened``
    beside it (``unwidened``: each replica's own 95 % interval, where it has one): the
    standard errors of runs stopped by their rule are small by selection, and the combined
    95 % interval of such replicas covered in 93 % (examples/atstop_fit_coverage.py).
    ``ln_err`` (what fits weight by) is the same either way."""
    n = len(values)
    quantiles = [1.96] * n if quantiles is None else quantiles
    levels = [0.95] * n if levels is None else levels
    unwidened = [None] * n if unwidened is None else unwidened
    replicas = [r for r in zip(values, intervals, quantiles, levels, unwidened)
                if usable(r[0], r[1])]
    if not replicas:
        return None
    ln = np.log([r[0] for r in replicas])
    se = np.array([ln_error_from_interval(*iv, quantile=q) for _, iv, q, _, _ in replicas])
    w = 1.0 / se ** 2
    mean = float(np.sum(w * ln) / np.sum(w))
    err = float(1.0 / np.sqrt(np.sum(w)))
    if len(replicas) > 1:
        chi2r = float(np.sum(w * (ln - mean) ** 2) / (len(replicas) - 1))
        err *= float(np.sqrt(max(1.0, chi2r)))
    if len(replicas) == 1:
        return _one_replica(replicas[0], err)
    level = max(r[3] for r in replicas)

    def around(z: float) -> list[float]:
        return [float(np.exp(mean - z * err)), float(np.exp(mean + z * err))]

    out = {"value": float(np.exp(mean)), "ln_err": err, "ci95": around(1.96),
           "replicas": [float(r[0]) for r in replicas]}
    if level != 0.95:
        out.update(ci95=around(float(norm.ppf(0.5 + level / 2))), interval_level=level,
                   ci95_unwidened=out["ci95"])
    return out


def _one_replica(replica: tuple, ln_err: float) -> dict:
    """:func:`combine_replicas` of one usable replica ``(value, interval, quantile, level,
    unwidened)``: its own value and interval, at its own level."""
    value, interval, _, level, unwidened = replica
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


def combine_points(points: Sequence[Point]) -> dict | None:
    """:func:`combine_replicas` of one temperature's points of a series (replicas), each
    read at its own quantile and level."""
    return combine_replicas([p.value for p in points], [p.ci95 for p in points],
                            [p.quantile for p in points], [p.level for p in points],
                            [p.ci95_unwidened for p in points])


def d_quantile(d: dict) -> float:
    """The quantile of a D's reported interval (one of a run's ``diffusion`` dicts): Student
    t over its ions at the interval's level, 95 %, or ``interval_level`` where the run's
    stopping rule stopped it (99 %, ``ionmd.analysis.report.widened_at_stop``). Read at
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
        flags = list(dict.fromkeys(f for d in xyz for f in d["flags"]))   # as found
        for key, name in SIGMA_SERIES.items():
            if key in r:
                c = r[key]
                series.setdefault(name, []).append(
                    Point(T, c["sigma"] * T, tuple(v * T for v in c["sigma_ci95"]), flags,
                          complete, label,
                          nernst_einstein_quantile(r) if key == "conductivity" else 1.96,
                          c.get("interval_level", 0.95),
                          _times(c.get("sigma_ci95_unwidened"), T)))
    return series


def _times(interval: Sequence[float] | None, factor: float) -> tuple[float, float] | None:
    """An interval times ``factor`` (sigma's times T), None where there is none."""
    return None if interval is None else tuple(v * factor for v in interval)


def arrhenius_of_points(points: Sequence[Point], *, times_T: bool, kinisi: bool = False,
                        n_samples: int = 400, seed: int = 0) -> dict | None:
    """Replicas combined per temperature, then a weighted Arrhenius fit over temperature.

    Returns ``ArrheniusFit.to_dict()`` plus ``points`` (T, combined value, 95 % interval),
    ``extrapolated`` and ``extrapolated_ci95`` at ``T_extrapolated`` in the series' own unit
    (for a ``times_T`` series the conductivity, not sigma T; also as
    ``sigma_extrapolated_mS_cm`` / ``sigma_extrapolated_ci95``; the same keys in ``kinisi``), ``not_diffusive_T`` and
    ``incomplete_T`` (temperatures with a flagged or unfinished run), ``runs`` (the
    :attr:`Point.run` of every point that fed the fit, also per point); ``{"error": ...}``
    when the fit fails; None with fewer than two temperatures.
    """
    by_T: dict[float, list[Point]] = {}
    for p in points:
        by_T.setdefault(float(p.temperature_K), []).append(p)
    combined = {T: combine_points(ps) for T, ps in sorted(by_T.items())}
    combined = {T: c for T, c in combined.items() if c}
    if len(combined) < 2:
        return None
    T = np.array(list(combined))
    y = np.array([c["value"] for c in combined.values()])
    err = np.array([c["ln_err"] for c in combined.values()])
    try:
        fit = fit_arrhenius(T, y, err)
    except AnalysisError as exc:
        return {"error": str(exc)}
    out = fit.to_dict()
    out["points"] = [{"temperature_K": float(t), **c,
                      "runs": [p.run for p in by_T[t] if usable(p.value, p.ci95)]}
                     for t, c in combined.items()]
    out["runs"] = [run for q in out["points"] for run in q["runs"]]
    scale = 1.0 / fit.T_extrapolated if times_T else 1.0
    out["extrapolated"] = fit.y_extrapolated * scale
    out["extrapolated_ci95"] = [v * scale for v in fit.y_extrapolated_ci95]
    if times_T:
        out["sigma_extrapolated_mS_cm"] = out["extrapolated"]
        out["sigma_extrapolated_ci95"] = out["extrapolated_ci95"]
    out["not_diffusive_T"] = sorted({float(t) for t in T for p in by_T[float(t)] if p.flags})
    out["incomplete_T"] = sorted({float(t) for t in T for p in by_T[float(t)] if not p.complete})
    if kinisi:
        # Gaussian errors in y for kinisi: half the width / 1.96 of the log-normal 95 %
        # interval of each combined value's standard error (whatever interval is reported)
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
    if key.startswith("D_"):
        d = next((d for d in run["diffusion"]
                  if d["direction"] == "xyz" and d["species"] == key[2:]), None)
        if d is None:
            return f"no xyz D of {key[2:]}"
        value, interval = d["D"], d["D_ci95"]
    else:
        source = next((k for k, name in SIGMA_SERIES.items() if name == key), None)
        if source not in run:
            return ("no conductivity (charges of the mobile species unknown)"
                    if source == "conductivity" else f"no {key}")
        value, interval = run[source]["sigma"], run[source]["sigma_ci95"]
    return point_problem(value, interval)


def left_out(runs: Sequence[dict], key: str, fed: Sequence[str],
             otherwise: str = "no fit") -> list[dict]:
    """``[{"run", "reason"}]`` for each run not in ``fed`` (labels, :func:`run_label`):
    :func:`why_left_out`, or ``otherwise`` for a run with a usable point (its series had
    no fit)."""
    fed = set(fed)
    return [{"run": run_label(r), "reason": why_left_out(r, key) or otherwise}
            for r in runs if run_label(r) not in fed]


def fit_series(runs: Sequence[dict], key: str, *, kinisi: bool = False, n_samples: int = 400,
               seed: int = 0) -> dict | None:
    """:func:`arrhenius_of_points` of series ``key`` of runs' results (per-run dicts with
    ``temperature_K``; runs without results are welcome: they are listed as left out),
    plus ``left_out`` (:func:`left_out`) when the fit succeeded."""
    entry = arrhenius_of_points(series_points(runs).get(key, []), times_T=key.startswith("sigma"),
                                kinisi=kinisi, n_samples=n_samples, seed=seed)
    if entry is not None and "error" not in entry:
        entry["left_out"] = left_out(runs, key, entry["runs"])
    return entry
