"""Spending a whole budget by the allocator's rule (:func:`ionmd.sweep.allocate.next_step`)
round after round (:func:`spend_budget`): on real runs through a callback, or on the error
model's expectation of them (:func:`predict_outcome`): a plan."""

from __future__ import annotations

from dataclasses import dataclass, replace
from statistics import median
from typing import Callable, Sequence

import numpy as np

from ionmd.analysis.arrhenius import ArrheniusFit, t95
from ionmd.errors import AnalysisError
from ionmd.sweep.allocate_runs import Decision, Option, TemperatureRun

def predict_outcome(runs: Sequence[TemperatureRun], option: Option,
                    decision: Decision) -> list[TemperatureRun]:
    """The runs after ``option`` as the error model expects them: D unchanged (a new run:
    the fit's D; a run below zero within its scatter: the fit's D there, where the model
    has a fit), its variance in D narrowed to ``var * t / (t + dt)`` (a new run: a relative
    variance ``K / (D t)`` with :func:`new_run_K`), its interval Student t symmetric in D
    about it (clipped at zero), as a run's is and as collect reads it. The default
    ``execute`` of :func:`spend_budget`: a plan."""
    from ionmd.sweep.allocate import new_run_K    # allocate imports this module

    runs = list(runs)
    if option.action == "extend":
        r = runs[option.run]
        t = r.time_ps + option.step_ps
        D = r.D if decision.fit is None or not r.within_scatter else float(
            np.exp(decision.fit.predict_ln(np.array(r.temperature_K))[0]))
        sd = np.sqrt(r.linear_var * r.time_ps / t)
        runs[option.run] = replace(r, time_ps=t, D_ci95=_symmetric(D, r.quantile, sd), D=D)
    else:
        D = _expected_D(runs, option.temperature_K, decision.fit)
        sd = D * np.sqrt(new_run_K(runs, option.temperature_K) / (D * option.step_ps))
        q = t95(float(np.median([r.dof for r in runs])))   # over the same ions as the others
        runs.append(TemperatureRun(option.temperature_K, option.step_ps, D,
                                   _symmetric(D, q, sd),
                                   cost_per_ps=median(r.cost_per_ps for r in runs),
                                   key=f"new:{option.temperature_K:g}K", quantile=q))
    return runs


def _symmetric(D: float, q: float, sd: float) -> tuple[float, float]:
    """A run's interval of D with standard error ``sd``: ``D +- q sd``, clipped at zero
    (its variance read back from it, :func:`ionmd.analysis.replica_combination.linear_se`, is
    ``sd^2`` either way)."""
    return (max(D - q * sd, 0.0), D + q * sd)


def _expected_D(runs: Sequence[TemperatureRun], temperature_K: float,
                fit: ArrheniusFit | None) -> float:
    """The D a plan expects of a new run: the fit's there; without a fit (too few
    temperatures resolved) the nearest usable run's, as nothing says how D moves with T."""
    if fit is not None:
        return float(np.exp(fit.predict_ln(np.array(float(temperature_K)))[0]))
    usable_runs = [r for r in runs if r.usable]
    if not usable_runs:
        raise AnalysisError("no usable run to expect a new run's D from")
    return min(usable_runs, key=lambda r: abs(r.temperature_K - temperature_K)).D


@dataclass
class BudgetOutcome:
    """What :func:`spend_budget` did: the rounds' decisions, the runs at the end, why it stopped."""

    runs: list[TemperatureRun]
    decisions: list[Decision]       # one per round, the last one with the final state
    spent: float
    budget: float
    stopped: str                    # "goal_met", "budget_spent", "nothing_left", "max_rounds"

    @property
    def factor(self) -> float:
        """Interval factor at the end (from the runs' intervals)."""
        return self.decisions[-1].factor

    @property
    def reported_factor(self) -> float:
        """Interval factor at the end as ``collect`` reports it (the goal's check)."""
        return self.decisions[-1].reported_factor

    def describe(self) -> str:
        lines = []
        for n, d in enumerate(self.decisions[:-1], 1):
            lines.append(f"round {n}: factor {d.factor:.4g}; {d.choice.describe(d.fit_problem)}")
        lines.append(f"stopped ({self.stopped}) at factor {self.reported_factor:.4g}, spent "
                     f"{self.spent:.4g} of {self.budget:.4g}")
        return "\n".join(lines)


def spend_budget(runs: Sequence[TemperatureRun], *, budget: float, step_ps: float,
                 goal_factor: float | None = None, target_K: float = 300.0,
                 candidates_K: Sequence[float] = (),
                 discard_ps: float | Callable[[float], float] = 0.0,
                 execute: Callable[[list[TemperatureRun], Option, Decision], Sequence[TemperatureRun]]
                 = predict_outcome, max_rounds: int = 10_000) -> BudgetOutcome:
    """Apply :func:`next_step` round after round until the goal or the budget is reached.

    Parameters
    ----------
    runs : sequence of TemperatureRun
        The runs so far (their cost is not counted in ``budget``).
    budget : float
        Cost units to spend from now on; the last step is shortened to what is left.
    goal_factor : float, optional
        Stop once sigma(target_K) is known within this factor either way (e.g. 1.5).
    execute : callable
        ``execute(runs, option, decision) -> runs``: carries out the chosen option and
        returns every run as it stands afterwards (analysed again). The default,
        :func:`predict_outcome`, applies the error model instead: the result is a plan.
    step_ps, target_K, candidates_K, discard_ps
        As :func:`next_step`.

    Returns
    -------
    BudgetOutcome
        ``stopped`` is ``"goal_met"`` (the factor of the interval ``collect`` reports,
        :func:`reported_factor`, is at most ``goal_factor``), ``"budget_spent"``, or ``"nothing_left"`` (every run at its
        ``max_time_ps`` and no candidate temperature left); ``"max_rounds"`` if
        ``max_rounds`` rounds did not get there.
    """
    from ionmd.sweep.allocate import next_step    # allocate imports this module

    runs, decisions, spent = list(runs), [], 0.0
    kw = dict(step_ps=step_ps, target_K=target_K, candidates_K=candidates_K, discard_ps=discard_ps)
    for _ in range(max_rounds):
        left = budget - spent
        d = next_step(runs, budget_left=max(left, 0.0), **kw)
        decisions.append(d)
        # a fit that means nothing (Ea <= 0, ...) meets no goal, however narrow, nor one
        # with a point flagged not diffusive (its run is extended first: next_step)
        if (goal_factor is not None and d.reported_factor <= goal_factor
                and not d.fit_problem and not d.flagged_points):
            stopped = "goal_met"
            break
        if left <= 1e-9 * max(budget, 1.0):
            stopped = "budget_spent"
            break
        if d.choice is None:
            stopped = "nothing_left"
            break
        runs = list(execute(runs, d.choice, d))
        spent += d.choice.cost
    else:
        stopped = "max_rounds"
    return BudgetOutcome(runs, decisions, spent, float(budget), stopped)
