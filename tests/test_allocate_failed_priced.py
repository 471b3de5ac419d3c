"""Failed runs in the allocator's priced path. Before, a 1000 K run whose framework melted
but that still had a point fed the model's fit, and the priced choice was a new run at
1250 K, above the melted temperature; where every run failed without a point the round
stopped as no_fit telling each melted run "the ions did not diffuse ... run it longer or
hotter", never naming the failure."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import t as student_t

from ionmd.errors import AnalysisError
from ionmd.sweep.allocate import TemperatureRun, next_step

Q = float(student_t.ppf(0.975, 7))          # 8 ions
KB_EV = 8.617333262e-5
CANDIDATES = tuple(float(t) for t in range(650, 1300, 50))


def D_of(T: float) -> float:
    return 1e-4 * np.exp(-0.4 / (KB_EV * T))


def run(T: float, D: float, se: float, key, failed: str = "") -> TemperatureRun:
    return TemperatureRun(T, 0.4, D, (D - Q * se, D + Q * se), cost_per_ps=1e-3,
                          quantile=Q, key=key, **({"failed": failed} if failed else {}))


def clear(T):
    return run(T, D_of(T), 0.05 * D_of(T), f"T{T:g}")


def no_point(T, failed=""):
    se = 0.1 * D_of(T)
    return run(T, -4.0 * se, se, f"T{T:g}", failed)   # below zero beyond its scatter


def test_no_candidate_at_or_above_a_melted_temperature_and_its_point_is_not_fitted():
    melted = run(1000.0, D_of(1000.0), 0.05 * D_of(1000.0), "T1000", "failed: framework_melting")
    d = next_step([clear(600.0), melted], step_ps=1.0, candidates_K=CANDIDATES, budget_left=1.0)
    temps = [o.temperature_K for o in d.options if o.action == "new"]
    assert temps and max(temps) < 1000.0, temps         # before: the choice was 1250 K
    assert d.choice.temperature_K < 1000.0
    assert d.fit is None                                # one clear temperature: no model fit
    assert not any(o.action == "extend" and o.temperature_K == 1000.0 for o in d.options)
    # priced: three clear runs and the melted one; no candidate above it, none extends it
    d = next_step([clear(600.0), clear(700.0), clear(800.0), melted], step_ps=1.0,
                  candidates_K=CANDIDATES, budget_left=1.0)
    assert d.fit is not None and sorted(t for t, _, _ in d.fit.point_errors) == [600, 700, 800]
    temps = [o.temperature_K for o in d.options]
    assert temps and max(temps) < 1000.0, temps
    assert any("framework_melting" in why for why in d.ignored_why)


def test_every_run_failed_without_a_point_colder_candidates_or_the_failures_named():
    runs = [no_point(1000.0, "failed: framework_melting")]
    d = next_step(runs, step_ps=1.0, candidates_K=CANDIDATES, budget_left=1.0)
    assert (d.choice.action, d.choice.temperature_K) == ("new", 950.0)   # before: raised
    assert "framework_melting" in d.choice.describe()
    runs = [no_point(600.0, "failed: temperature_runaway"),
            no_point(1000.0, "failed: framework_melting")]
    with pytest.raises(AnalysisError) as info:          # no candidate below 600 K
        next_step(runs, step_ps=1.0, candidates_K=CANDIDATES, budget_left=1.0)
    text = str(info.value)
    assert "framework_melting" in text and "temperature_runaway" in text
    assert "did not diffuse" not in text and "hotter" not in text   # before: both, per run


def test_a_failed_run_colder_than_a_clear_one_bounds_nothing():
    """lost atoms at 600 K while 1000 K ran clear: the heat was not the cause."""
    d = next_step([no_point(600.0, "failed: lost_atoms"), clear(1000.0)], step_ps=1.0,
                  candidates_K=CANDIDATES, budget_left=1.0)
    assert (d.choice.action, d.choice.temperature_K) == ("new", 1050.0)
