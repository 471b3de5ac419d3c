"""Survival curves per series AND condition: a series with replicas at 600 K and at 1200 K
(or a heating ramp beside runs held at its start) pooled every replica into one
Kaplan–Meier curve, the survival of no condition. The reference is the product-limit
estimate worked by hand on the reports below (each condition on its own)."""

from __future__ import annotations

import pytest

from ionmd.analysis.failure import FailureEvent, FailureReport
from ionmd.analysis.survival import condition_label, run_condition, survival_by_condition


def failed_at(t_ps: float, end_ps: float = 50.0) -> FailureReport:
    return FailureReport([FailureEvent("framework_melting", int(t_ps * 500), t_ps, 900.0, "")],
                         int(end_ps * 500), end_ps)


def survived(end_ps: float = 50.0) -> FailureReport:
    return FailureReport([], int(end_ps * 500), end_ps)


# 600 K: 3 replicas, one fails at 10 ps: S = 1, 2/3 (censored at 50, 50)
# 1200 K: 2 replicas, fail at 5 and 8 ps: S = 1, 1/2, 0
AT = {600.0: [failed_at(10.0), survived(), survived()],
      1200.0: [failed_at(5.0), failed_at(8.0)]}


def result(name, T, report, k, T_end=None):
    return {"run": f"/runs/{name}/{T:g}K/r{k}", "structure": name, "temperature_K": T,
            "replica": k, "failure": report.to_dict(), "diffusion": [],
            **({"temperature_end_K": T_end} if T_end else {})}


def test_curves_per_condition_match_the_hand_product_limit():
    pairs = [(run_condition(T), r) for T, reps in AT.items() for r in reps]
    curves = survival_by_condition({"LiCl": pairs})
    assert list(curves) == ["LiCl @ 600 K", "LiCl @ 1200 K"]
    cold, hot = curves["LiCl @ 600 K"], curves["LiCl @ 1200 K"]
    assert cold["time_ps"] == [0.0, 10.0] and cold["survival"] == pytest.approx([1, 2 / 3])
    assert cold["censored_ps"] == [50.0, 50.0] and cold["temperature_K"] == 600.0
    assert hot["time_ps"] == [0.0, 5.0, 8.0] and hot["survival"] == pytest.approx([1, 0.5, 0])
    assert hot["series"] == "LiCl" and hot["condition"] == "1200 K"
    # one condition: the series' name, as before, and the condition said in the curve
    (only,) = survival_by_condition({"KCl": [(run_condition(900.0), survived())]}).items()
    assert only[0] == "KCl" and only[1]["temperature_K"] == 900.0


def test_a_ramp_is_not_the_run_held_at_its_start():
    ramp = run_condition(300.0, 2100.0)
    squeeze = run_condition(300.0, None, {"start": 1.0, "end": 5e4, "unit": "bar"})
    assert condition_label(ramp) == "300->2100 K"
    assert condition_label(squeeze) == "300 K, 1->50000 bar"
    assert run_condition(300.0, 300.0) == run_condition(300.0)      # no ramp
    curves = survival_by_condition({"X": [(run_condition(300.0), survived()),
                                          (ramp, failed_at(20.0)), (squeeze, survived(30.0))]})
    assert list(curves) == ["X @ 300 K", "X @ 300 K, 1->50000 bar", "X @ 300->2100 K"]
    assert curves["X @ 300->2100 K"]["survival"] == [1.0, 0.0]
    assert curves["X @ 300 K"]["survival"] == [1.0]


@pytest.mark.parametrize("keyed", ["name", "series_key"])
def test_summary_splits_a_series_by_temperature(tmp_path, keyed):
    """``ionmd analyze``'s summary (reports keyed as the CLI keys them, or by name): the
    series' runs at 600 and 1200 K are two curves, each its replicas' alone."""
    from ionmd.analysis.report import analyze_runs
    from ionmd.analysis.series_identity import series_key

    results = [result("LiCl", T, r, k) for T, reps in AT.items() for k, r in enumerate(reps)]
    results.append(result("LiCl", 300.0, failed_at(30.0), 9, T_end=2100.0))
    reports: dict = {}
    for res in results:
        key = "LiCl" if keyed == "name" else series_key(res)
        reports.setdefault(key, []).append(FailureReport.from_dict(res["failure"]))
    survival = analyze_runs(results, reports, tmp_path)["survival"]
    assert set(survival) == {"LiCl @ 600 K", "LiCl @ 1200 K", "LiCl @ 300->2100 K"}
    assert survival["LiCl @ 600 K"]["survival"] == pytest.approx([1, 2 / 3])
    assert survival["LiCl @ 1200 K"]["survival"] == pytest.approx([1, 0.5, 0])
    assert survival["LiCl @ 300->2100 K"]["time_ps"] == [0.0, 30.0]
    assert (tmp_path / "survival.png").stat().st_size > 1000
