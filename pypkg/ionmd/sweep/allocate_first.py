"""Too few resolved temperatures for an Arrhenius fit: what the allocator
(:func:`ionmd.sweep.allocate.next_step`) does before it has a fit to price options by.
Temperatures whose runs collect combines in D itself (a run below zero within its scatter:
:func:`scattered_temperatures`), new runs warmer than those that gave no point
(:func:`warmer_candidates`), and the decision between them (:func:`resolve_first`)."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Callable, Sequence

import numpy as np

from ionmd.analysis.aggregate import combine_points, not_resolved_entry
from ionmd.protocols.checks import temperature_folder
from ionmd.sweep.allocate_runs import Decision, Option, TemperatureRun

@dataclass
class ScatteredTemperature:
    """A temperature whose runs collect combines in D itself (one below zero within its
    scatter, :attr:`TemperatureRun.within_scatter`): its runs that collect combines (indices), their
    combination in D (:func:`ionmd.analysis.aggregate.combine_points`: ``resolved`` or
    not) and, where not resolved, why the fit leaves it out."""

    temperature_K: float
    runs: list[int]
    combined: dict
    reason: str = ""

    def linear_var(self, runs: Sequence[TemperatureRun], extended: int | None = None,
                   dt: float = 0.0) -> float:
        """The error model's variance of the equal-weight mean of the runs' D, with run
        ``extended`` ``dt`` ps longer (each run's variance falling as ``1 / t``)."""
        v = [runs[i].linear_var * (runs[i].time_ps / (runs[i].time_ps + dt) if i == extended
                                   else 1.0) for i in self.runs]
        return float(sum(v)) / len(v) ** 2



def scattered_temperatures(runs: Sequence[TemperatureRun]) -> list[ScatteredTemperature]:
    """The temperatures whose runs collect combines in D itself (a run below zero within
    its scatter among them: module docstring of :mod:`ionmd.analysis.replica_combination`), combined
    as collect combines them. Collect's own combination decides (its ``space``), not a
    second copy of its rule here: where the two differed, the model fitted a temperature
    that collect left out as not resolved, :func:`reported_factor` found no fit and the
    goal stopped the series for good (``no_fit``) with budget left."""
    out = []
    for T in sorted({float(r.temperature_K) for r in runs}):
        idx = [i for i, r in enumerate(runs)
               if float(r.temperature_K) == T and (r.usable or r.within_scatter)
               and not r.failed]            # a failed run's point is no point of the model
        points = [runs[i].point() for i in idx]
        combined = combine_points(points) if points else None
        if not combined or combined.get("space") != "linear":
            continue                # a lone run, or replicas combined in ln D: points
        reason = ("" if combined.get("resolved") else
                  not_resolved_entry(T, combined, points)["reason"])
        out.append(ScatteredTemperature(T, idx, combined, reason))
    return out


def failed_below(runs: Sequence[TemperatureRun]) -> float:
    """The coldest temperature of a failed run (:attr:`TemperatureRun.failed`: melted, lost
    atoms, ...) warmer than every run that did not fail, inf where there is none: no new run
    starts at or above it (a framework that melted at 1000 K melts at 1250 K too), priced
    (:func:`ionmd.sweep.allocate.next_step`) or not (:func:`warmer_candidates`). A failed
    run colder than one that did not fail is no bound (the heat was not the cause)."""
    clear = max((float(r.temperature_K) for r in runs if not r.failed), default=-np.inf)
    return min((float(r.temperature_K) for r in runs if r.failed
                and float(r.temperature_K) > clear), default=float("inf"))


def run_cost_per_ps(runs: Sequence[TemperatureRun]) -> float:
    """What a new run costs per ps: the median of the runs' costs that are known (a failed
    run without a finished MD loop has none: NaN), NaN where none is."""
    known = [r.cost_per_ps for r in runs if np.isfinite(r.cost_per_ps)]
    return median(known) if known else float("nan")


def failed_text(runs: Sequence[TemperatureRun]) -> str:
    """``"at <T> K (<why>), ..."`` of the failed runs, for messages ("" where none failed)."""
    failed = sorted({(float(r.temperature_K), r.failed) for r in runs if r.failed})
    return "at " + ", ".join(f"{T:g} K ({why})" for T, why in failed) if failed else ""


def warmer_candidates(runs: Sequence[TemperatureRun], fitted_K: np.ndarray,
                      candidates_K: Sequence[float], step_ps: float,
                      budget_left: float | None, discard_at: Callable[[float], float]
                      ) -> list[Option]:
    """New runs at the candidate temperatures above every temperature of ``runs`` that gave
    no point (``fitted_K``: those that did), coldest first: where too few temperatures are
    resolved for a fit, a warmer run is the likeliest second point (its ions hop more),
    and a colder one gives more leverage toward the target. A failed run
    (:attr:`TemperatureRun.failed`) says nothing of its temperature's ions: it is passed
    over as a temperature without a point (before, a failed hot run put every candidate
    below it out of reach, and the series stopped as ``no_fit`` with them untried), but no
    candidate at or above the coldest failed temperature is taken (:func:`failed_below`:
    before, a run at 1250 K was started above one that melted at 1000 K); where no run is
    left without a point (the others failed, or gave the caller nothing), the candidates
    above the fitted temperatures; where none of those is left (every run failed), the
    candidates colder than the failed runs, warmest first. Unpriced (no fit to price by):
    ``ln_var_after``, ``factor_after`` and ``gain_per_cost`` are inf; ``why`` says why
    there."""
    fitted = sorted({float(T) for T in fitted_K})
    no_point = sorted({float(r.temperature_K) for r in runs
                       if not np.isin(r.temperature_K, fitted_K) and not r.failed})
    cap, failed = failed_below(runs), failed_text(runs)
    if not runs:
        return []
    if no_point or fitted:
        above = max(no_point or fitted)
        why = (f"the coldest candidate warmer than {above:g} K, " + (
            "where the runs gave no point: a second point for a fit" if no_point else
            "the one temperature fitted: a second point for a fit"))
        chosen = [Tc for Tc in sorted({float(t) for t in candidates_K}) if above < Tc < cap]
    else:
        chosen = []
    if not chosen and failed:     # every run failed (or nothing warmer below them)
        why = (f"the warmest candidate colder than {cap:g} K, where a run failed: a "
               f"temperature it may not fail at" if np.isfinite(cap) else
               # no bound: a run warmer than every failed one did not fail (before:
               # "colder than inf K, where a run failed")
               f"the warmest candidate not yet run: none is warmer than {above:g} K, and "
               f"a run warmer than the failed ones did not fail")
        chosen = sorted({float(t) for t in candidates_K if float(t) < cap}, reverse=True)
    if failed:
        why += f"; the failed runs {failed} say nothing of how ions move there"
    taken = {temperature_folder(r.temperature_K) for r in runs}
    cost_per_ps = run_cost_per_ps(runs)
    options = []
    for Tc in chosen:
        if temperature_folder(Tc) in taken:
            continue
        taken.add(temperature_folder(Tc))
        dt, discard = step_ps, discard_at(Tc)
        if budget_left is not None:
            dt = min(dt, budget_left / cost_per_ps - discard)
        if dt > 0:
            options.append(Option("new", Tc, dt, (dt + discard) * cost_per_ps, np.inf, np.inf,
                                  np.inf, why=why if not options else ""))
    return options


def resolve_first(runs: Sequence[TemperatureRun], unresolved: list[ScatteredTemperature],
                   step_ps: float, budget_left: float | None, target_K: float,
                   ignored: list, ignored_why: list[str], warmer: Sequence[Option] = ()
                   ) -> Decision:
    """Too few resolved temperatures for a fit: nothing to price by. A new run at the
    coldest candidate temperature warmer than those without a point comes first
    (``warmer``, :func:`warmer_candidates`): extending a run whose ions barely move (a
    species that does not diffuse there) only narrows an upper bound, and once such a run
    fell below its scatter the series stopped as ``no_fit`` with the candidates untried.
    Else the runs not resolved are extended, the one that narrows its temperature's
    interval of D the most (relative to now) per cost first."""
    options = list(warmer)
    for g in unresolved:
        now = g.linear_var(runs)
        for i in g.runs:
            r = runs[i]
            dt = min(step_ps, r.room_ps)
            if budget_left is not None:
                dt = min(dt, budget_left / r.cost_per_ps)
            if dt <= 0:
                continue
            cost = dt * r.cost_per_ps
            options.append(Option("extend", r.temperature_K, dt, cost, np.inf, np.inf,
                                  (1 - g.linear_var(runs, extended=i, dt=dt) / now) / cost,
                                  i, r.key))
    options[len(warmer):] = sorted(options[len(warmer):], key=lambda o: -o.gain_per_cost)
    return Decision(target_K=float(target_K), D_target=float("nan"), ln_var=np.inf,
                    factor=np.inf, choice=options[0] if options else None, options=options,
                    ignored=ignored, ignored_why=ignored_why, reported_factor=np.inf,
                    not_resolved=[g.reason for g in unresolved])
