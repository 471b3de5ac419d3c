"""Across runs, done once for ``ionmd analyze`` and ``ionmd sweep collect`` alike: each
run's values as points of the Arrhenius series (:func:`series_points`), replicas of one
temperature combined (:mod:`ionmd.analysis.replica_combination`, whose module doc says how
and what it measured), then Arrhenius fits over temperature, in one result shape
(:func:`arrhenius_of_points`, in D itself since Dec 7 2026; the temperatures whose combined
interval reaches zero within the replicas' scatter left out, with why: ``not_resolved``).

Each fit names its runs: ``runs`` (those whose points fed it, also per point) and, from
:func:`fit_series`, ``left_out`` (the others, each with why: failed, analysis error, no
conductivity, not analysed, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ionmd.analysis.arrhenius import dof_from_json, dof_to_json
from ionmd.analysis.arrhenius_kinisi import kinisi_arrhenius
from ionmd.analysis.arrhenius_linear import fit_arrhenius_linear
from ionmd.analysis.arrhenius_problems import FIT_PROBLEM, fit_problem
from ionmd.analysis.conductivity import end_from_json
from ionmd.analysis.interval_errors import interval_quantile
from ionmd.analysis.point_checks import enters, point_problem, usable
from ionmd.analysis.replica_combination import combine_replicas_se
from ionmd.analysis.replica_statistics import interval_dof
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
    """:func:`~ionmd.analysis.replica_combination.combine_replicas` of one temperature's points
    of a series (replicas), each read at its own quantile and level."""
    return combine_points_se(points)[0]


def combine_points_se(points: Sequence[Point]) -> tuple[dict | None, float | None]:
    """:func:`combine_points` and the combined value's standard error in its own unit
    (None, None where no replica enters)."""
    return combine_replicas_se([p.value for p in points], [p.ci95 for p in points],
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
    bootstrap quantile (:func:`ionmd.analysis.arrhenius_bootstrap.studentized_quantile`; their
    Welch-Satterthwaite dof still recorded as ``Ea_dof``, ``extrapolation_dof``).

    Returns ``ArrheniusFit.to_dict()`` plus ``points`` (T, combined value, 95 % interval,
    the flags of the runs behind it),
    ``extrapolated`` and ``extrapolated_ci95`` at ``T_extrapolated`` in the series' own unit
    (for a ``times_T`` series the conductivity, not sigma T; also as
    ``sigma_extrapolated_mS_cm`` / ``sigma_extrapolated_ci95``; the same keys in ``kinisi``,
    with its own ``flags`` and ``fit_problem``), ``not_diffusive_T`` and
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
                      "runs": [p.run for p in by_T[t] if enters(p.value, p.ci95)],
                      # which fitted points are not yet diffusive, and why (a goal is not
                      # met on them: arrhenius_problems.flagged_points)
                      "flags": sorted({f for p in by_T[t] if enters(p.value, p.ci95)
                                       for f in p.flags})}
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
    unit = "mS/cm" if times_T else "cm^2/s"
    _mark_problem(out, T, out["not_diffusive_T"], unit)
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
            # the same problems mark it: a second opinion on numbers that mean nothing
            # is not a result either (its rows and lines were plain numbers before)
            bayes["flags"] = []
            _mark_problem(bayes, T, out["not_diffusive_T"], unit)
        except (AnalysisError, ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
            # an optional second opinion: its sampler failing must not cost the analysis
            out["kinisi"] = {"error": f"kinisi's Bayesian fit failed: {exc}"}
    return out


def _mark_problem(fit: dict, T: np.ndarray, not_diffusive_T: Sequence[float], unit: str) -> None:
    """``fit`` (a least-squares or kinisi entry, with ``Ea_eV``, ``extrapolated_ci95`` in
    ``unit``, ``T_extrapolated`` and ``flags``) marked where it means nothing
    (:func:`~ionmd.analysis.arrhenius_problems.fit_problem`): its ``fit_problem`` (why) and
    the flag ``fit_problem``."""
    problem = fit_problem(fit["Ea_eV"], fit["extrapolated_ci95"], fit["T_extrapolated"], T,
                          not_diffusive_T, unit=unit)
    if problem:         # numbers that mean nothing are marked, not reported as a result
        fit["fit_problem"] = problem
        fit["flags"] = [*fit["flags"], FIT_PROBLEM]


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
            return run.get("no_transport") or "failure check only (no transport analysis)"
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
