"""The goal is met or not on the points ``ionmd sweep collect`` prints. Before, the goal's
``measure`` took completed runs only while collect also fits a run a physical check stopped
after a usable stretch (failed-physical with the transport of its frames before the
failure), and the goal's fit skipped two of collect's checks: the 4-decade span of the
300 K interval and the runs' not-diffusive flags. So a goal could be met on other points
than collect's, or by a fit collect marks NOT A RESULT. The reference is collect's own
output (results.json) for the same runs' analyses (stand-ins for the cached analysis,
as tests/test_arrhenius_fit_problem.py has them)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.constants import Boltzmann, electron_volt
from scipy.stats import t as student_t

KB = Boltzmann / electron_volt
N_IONS = 8
Q = float(student_t.ppf(0.975, N_IONS - 1))


def results(T: float, rel: float = 0.05, flags=(), n_ions: int = N_IONS, D: float | None = None,
            failed: str | None = None, point: bool = True) -> dict:
    """A run's analysis (``analyze_run``'s keys collect and the goal read): the xyz D of Li
    on an Arrhenius law (0.3 eV) with a Student t interval of relative error ``rel``, its
    Nernst-Einstein sigma (1e5 D), and, where ``failed`` names a mode, a post-mortem that
    found it at 0.3 ps; ``point`` False: the failure report only (no transport)."""
    from dataclasses import asdict

    from ionmd.analysis.failure import FailureEvent, FailureReport

    D = 1e-3 * np.exp(-0.3 / (KB * T)) if D is None else D
    q = float(student_t.ppf(0.975, n_ions - 1))
    lo, hi = D * (1 - q * rel), D * (1 + q * rel)
    events = [FailureEvent(failed, 150, 0.3, T, "stand-in", T)] if failed else []
    out = {"failure": FailureReport(events, 200, 0.4).to_dict(), "run_length_ps": 0.3,
           "complete": True}
    out["failure"]["first"] = asdict(events[0]) if events else None
    if point:
        out["diffusion"] = [{"species": "Li", "direction": "xyz", "D": D, "D_ci95": [lo, hi],
                             "flags": list(flags), "n_ions": n_ions}]
        out["conductivity"] = {"sigma": 1e5 * D, "sigma_ci95": [1e5 * lo, 1e5 * hi]}
        out["charges"] = {"Li": 1.0, "Cl": -1.0}
    return out


def campaign_with(tmp_path, morse, monkeypatch, temps, by_T: dict, classes: dict,
                  factor: float = 2.0, goal: str | None = None):
    """A goal campaign at ``temps`` planned, each run's class ``classes[T]`` and analysis
    ``by_T[T]`` (the classes' own: none for a run not ended), a cost per ps from its
    logs: (campaign, its runs). ``goal``: the inside of its goal table (default: a
    factor ``factor`` at 300 K)."""
    import ionmd.sweep.allocate as allocate_mod
    import ionmd.sweep.collect as collect_mod
    from ionmd.sweep import load_campaign
    from ionmd.sweep.plan import plan_campaign
    from sweep_setup import campaign_dir, patch_classify, write_campaign

    if goal is None:
        goal = f'sigma_300K_factor = {factor:g}, budget = "100 h", step = "1ps"'
    c = load_campaign(write_campaign(campaign_dir(tmp_path / "c", morse), temperatures=temps,
                                     extra=f"goal = {{{goal}}}"))
    runs = plan_campaign(c, create=True)

    def cached(run, campaign, charges, jobs=None):
        cls = classes[float(run.temperature)]
        out = {"class": cls, "run": str(run.path), "replica": run.replica, "status": {}}
        return {**out, **by_T[float(run.temperature)]} if cls in (
            "completed", "failed-physical") else out

    monkeypatch.setattr(collect_mod, "cached_run_results", cached)
    patch_classify(monkeypatch, lambda rd, jobs=None: classes[float(rd.temperature)])
    monkeypatch.setattr(allocate_mod, "cost_per_ps_from_logs", lambda *a, **k: 1e-3)
    return c, runs


def collected(c) -> dict:
    from ionmd.sweep.collect import collect

    return json.loads(json.dumps(collect(c, progress=False)))


def test_goal_and_collect_count_the_same_runs_failed_ones_marked_alike(tmp_path, morse,
                                                                       monkeypatch):
    """600 K completed, 700 K failed-physical after a usable stretch (a melt: collect fits
    its point), 800 K failed-physical without a point (a failure report only), 900 K
    running. Before: the goal's runs were 600 K only, collect's 600 and 700 K."""
    import ionmd.sweep.goal as goal_mod

    temps = (600.0, 700.0, 800.0, 900.0)
    classes = {600.0: "completed", 700.0: "failed-physical", 800.0: "failed-physical",
               900.0: "running"}
    by_T = {600.0: results(600.0), 700.0: results(700.0, failed="framework_melting"),
            800.0: results(800.0, failed="lost_atoms", point=False), 900.0: {}}
    c, runs = campaign_with(tmp_path, morse, monkeypatch, temps, by_T, classes)
    doc = collected(c)
    (key,) = doc["structures"]
    fit = doc["arrhenius"][key]["sigma_T"]
    collect_runs = {str(r) for r in fit["runs"]}
    measured, _ = goal_mod.measure(c, runs)
    points = [m for m in measured if m.usable]
    assert {str(m.key.path) for m in points} == collect_runs       # before: 600 K only
    assert {float(m.temperature_K) for m in points} == {600.0, 700.0}
    # the failed run marked failed on both sides, with the same mode
    row = {r["temperature_K"]: r for r in doc["rows"]}
    assert row[700.0]["replicas_failed"] == 1 and row[700.0]["failure_modes"] == [
        "framework_melting"]
    # the failed run without a point reaches the allocator too (no D: it bounds the
    # candidates, nothing at or above it), marked failed as collect marks it
    failed = {m.temperature_K: m.failed for m in measured}
    assert failed == {600.0: "", 700.0: "failed: framework_melting",
                      800.0: "failed: lost_atoms"}
    # collect's left-out reasons for the runs without a point, said by the goal too
    left = {e["reason"] for e in fit["left_out"]}
    assert "failed: lost_atoms" in left
    (lost,) = [m for m in measured if m.temperature_K == 800.0]
    assert not lost.usable and "T800K" in lost.why_left_out()
    assert "failed: lost_atoms" in lost.why_left_out()
    said = goal_mod.unmeasured(c, runs, measured)
    assert not any("T900K" in s for s in said)      # running: no result yet, on both sides
    # the goal's interval is collect's: the same points, the same 300 K interval
    from ionmd.sweep.allocate import reported_state

    factor, problem = reported_state(measured)
    lo, hi = fit["extrapolated_ci95"]
    assert problem is None and factor == pytest.approx(np.sqrt(hi / lo), rel=1e-9)
    # and the round waits for the running run, as collect counts it incomplete
    assert goal_mod.advance_series(c, "fcc", "morse").state == "waiting"
    assert doc["complete"] is False


def test_goal_is_never_met_where_collect_says_not_a_result(tmp_path, morse, monkeypatch):
    """Two clear runs whose 300 K interval spans more than 4 decades (45 % errors over 3
    ions, as tests/test_arrhenius_fit_problem.py's), a goal of factor 1e6: collect marks
    the fit NOT A RESULT. Before: the goal, blind to the span, stopped as goal_met."""
    import ionmd.sweep.goal as goal_mod

    temps = (600.0, 650.0)
    by_T = wide_runs()
    classes = dict.fromkeys(temps, "completed")
    c, runs = campaign_with(tmp_path, morse, monkeypatch, temps, by_T, classes, factor=1e6)
    doc = collected(c)
    (srec,) = doc["structures"].values()
    assert "decades" in srec["fit_problem"]         # collect: NOT A RESULT
    lo, hi = doc["arrhenius"]["fcc/morse"]["sigma_T"]["extrapolated_ci95"]
    assert np.log10(hi / lo) > 4 and np.sqrt(hi / lo) < 1e6     # met by the old goal
    result = goal_mod.advance_series(c, "fcc", "morse")
    assert result.state != "goal_met", result                  # before: goal_met
    assert result.factor is None
    assert "NOT A RESULT" in result.detail and "decades" in result.detail
    # in collect's words and unit: sigma(300 K) in mS/cm (before: sigma T's, in mS K/cm)
    assert f"NOT A RESULT: {srec['fit_problem']}" in result.detail


def test_a_fit_collect_marks_not_diffusive_does_not_meet_the_goal(tmp_path, morse,
                                                                    monkeypatch):
    """Narrow intervals, every temperature's carrier flagged too_few_hops: collect marks
    the fit NOT A RESULT (not diffusive). Before: the goal passed no flags and was met."""
    import ionmd.sweep.goal as goal_mod

    temps = (600.0, 700.0, 800.0)
    by_T = {T: results(T, flags=["too_few_hops"]) for T in temps}
    c, runs = campaign_with(tmp_path, morse, monkeypatch, temps, by_T,
                            dict.fromkeys(temps, "completed"), factor=100)
    doc = collected(c)
    (srec,) = doc["structures"].values()
    assert "not diffusive" in srec["fit_problem"]
    result = goal_mod.advance_series(c, "fcc", "morse")
    assert result.state != "goal_met", result                  # before: goal_met
    assert "NOT A RESULT" in result.detail and "not diffusive" in result.detail


def wide_runs() -> dict:
    """Two clear runs whose 300 K interval spans more than 4 decades (0.1 D .. 1.9 D over 3
    ions): collect's NOT A RESULT."""
    rel = 0.9 / float(student_t.ppf(0.975, 2))
    return {600.0: results(600.0, D=1e-6, rel=rel, n_ions=3),
            650.0: results(650.0, D=1.5e-6, rel=rel, n_ions=3)}


def test_a_goal_met_by_an_older_ionmds_checks_is_looked_at_again(tmp_path, morse, monkeypatch):
    """goal.json of an older ionmd says goal_met (its round records no met_checks) on runs
    whose fit collect prints as NOT A RESULT (4-decade span). Before: kept as goal_met
    for good, and status said so. Now status says it is looked at again, and the next
    round does not stop as met; a goal met by today's checks is recorded so and kept."""
    import ionmd.sweep.goal as goal_mod

    temps = (600.0, 650.0)
    c, runs = campaign_with(tmp_path, morse, monkeypatch, temps, wide_runs(),
                            dict.fromkeys(temps, "completed"), factor=1e6)
    old = {"time": "2026-01-01T00:00:00", "factor": 6.65e4, "spent": 0.0, "choice": None,
           "stopped": "goal_met"}
    goal_mod.write_goal_state(c, {"series": {"fcc/morse": {
        "added_K": [], "stopped": "goal_met", "factor": 6.65e4, "spent": 0.0,
        "rounds": [old]}}})
    (line,) = [x for x in goal_mod.goal_summary(c) if "fcc/morse" in x]
    assert "looked at again" in line and not line.split(": ")[1].startswith("goal_met: ")
    result = goal_mod.advance_series(c, "fcc", "morse")
    assert result.state != "goal_met", result                  # before: goal_met, kept
    assert "NOT A RESULT" in result.detail and "decades" in result.detail


def test_a_goal_met_now_is_recorded_with_its_checks_and_kept(tmp_path, morse, monkeypatch):
    import ionmd.sweep.collect as collect_mod
    import ionmd.sweep.goal as goal_mod

    temps = (600.0, 700.0, 800.0)
    c, runs = campaign_with(tmp_path, morse, monkeypatch, temps,
                            {T: results(T, rel=0.01) for T in temps},
                            dict.fromkeys(temps, "completed"), factor=3)
    assert goal_mod.advance_series(c, "fcc", "morse").state == "goal_met"
    series = goal_mod.read_goal_state(c)["series"]["fcc/morse"]
    assert series["rounds"][-1]["met_checks"] == goal_mod.MET_CHECKS
    assert not goal_mod.met_by_older_checks(series)

    def unread(*args, **kwargs):
        raise AssertionError("a series met by today's checks is not analysed again")

    monkeypatch.setattr(collect_mod, "cached_run_results", unread)
    assert goal_mod.advance_series(c, "fcc", "morse").state == "goal_met"
