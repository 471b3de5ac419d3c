"""The goal's allocator takes a temperature as a point of its fit exactly where collect does.

Low-T replicas often come out positive with their 95 % intervals reaching zero (a few hops
over 8 ions). Where collect combines such replicas in D and finds them not resolved, it
leaves the temperature out of its fit; the allocator, deciding by a copy of collect's rule
(a run below zero among them), fitted them as points anyway. Beside one clear temperature
its model then had a fit and collect none: ``reported_factor`` raised, ``next_step`` with
it, and the goal stopped the series for good as ``no_fit`` with budget left.

Reference: collect's own fit of the same points (``arrhenius_of_points``)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import t as student_t

from ionmd.analysis.aggregate import arrhenius_of_points
from ionmd.sweep.allocate import TemperatureRun, next_step

N_IONS = 8
Q = float(student_t.ppf(0.975, N_IONS - 1))
KB_EV = 8.617333262e-5


def D_of(T: float) -> float:
    return 1e-4 * np.exp(-0.4 / (KB_EV * T))


def run(T: float, D: float, se: float, key: str) -> TemperatureRun:
    """A run over N_IONS ions, its Student t interval clipped at zero."""
    return TemperatureRun(T, 50.0, D, (max(D - Q * se, 0.0), D + Q * se), cost_per_ps=1.0,
                          key=key, quantile=Q, quantity="D", unit="cm^2/s")


@pytest.mark.parametrize("low", [(0.3, 0.2), (0.5, 0.4, 0.6), (0.3, -0.1)])
def test_the_allocator_leaves_out_what_collect_leaves_out(low):
    """1000 K clear, 500 K replicas at ``low`` times their standard error (positive ones
    with intervals reaching zero): the allocator's decision has a choice, extends 500 K
    where collect does not resolve it, and its fit holds a 500 K point only where
    collect's does."""
    se = D_of(500.0)
    runs = [run(1000.0, D_of(1000.0), 0.05 * D_of(1000.0), "T1000")]
    runs += [run(500.0, f * se, se, f"T500/r{k}") for k, f in enumerate(low)]
    collect = arrhenius_of_points([r.point() for r in runs], times_T=False)
    collect_fits_500 = collect is not None and "error" not in collect

    d = next_step(runs, step_ps=50.0, budget_left=1e3)       # before: AnalysisError

    assert d.choice is not None
    if collect_fits_500:
        assert not d.not_resolved and np.isfinite(d.reported_factor)
        assert d.fit is not None
    else:
        assert d.not_resolved and d.not_resolved[0].startswith("not resolved at 500 K")
        assert d.reported_factor == np.inf and d.fit is None
        assert d.choice.action == "extend" and d.choice.temperature_K == 500.0


def test_with_one_temperature_resolved_a_warmer_candidate_is_started():
    """1000 K clear; 500 K's ions did not diffuse (true D 0): its run below zero beyond its
    scatter (left out) or within it (not resolved). Candidates 400, 700 and 800 K are
    untried. Before: left out, ``next_step`` raised (the goal stopped for good as
    ``no_fit``, budget left); not resolved, it extended 500 K round after round (a run
    whose D is 0 only narrows an upper bound). Now the coldest candidate warmer than 500 K
    (700 K) is started: a second point for a fit; 400 K, colder, is no candidate."""
    se = D_of(500.0)
    clear = run(1000.0, D_of(1000.0), 0.05 * D_of(1000.0), "T1000")
    for D_500, why in ((-3.0 * se, "left out"), (-0.5 * se, "not resolved")):
        runs = [clear, run(500.0, D_500, se, "T500")]
        collect = arrhenius_of_points([r.point() for r in runs], times_T=False)
        assert collect is None                      # collect has no fit: one temperature
        d = next_step(runs, step_ps=50.0, budget_left=1e3, candidates_K=(400.0, 800.0, 700.0),
                      discard_ps=10.0)
        assert d.fit is None and d.reported_factor == np.inf, why
        assert (d.choice.action, d.choice.temperature_K) == ("new", 700.0), why
        assert d.choice.cost == pytest.approx(60.0)           # 50 ps analysed + 10 discarded
        assert [o.temperature_K for o in d.options if o.action == "new"] == [700.0, 800.0]
        assert bool(d.not_resolved) == (why == "not resolved")
        assert d.choice.describe().endswith("unpriced (no fit yet)")    # was: factor -> inf
