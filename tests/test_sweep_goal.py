"""A campaign with a goal, for real on the local executor: the toy superionic conductor of
tests/protocol_setup.py at three temperatures, a small budget in wall hours; `ionmd sweep
submit` extends runs (or adds temperatures) round after round until the goal is met or the
budget is spent, and says which."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ionmd.analysis.arrhenius_problems import NOT_DIFFUSIVE_FLAGS
from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames
from ionmd.cli import main
from ionmd.errors import IonmdError
from ionmd.sweep import load_campaign
from ionmd.sweep.goal import measure, read_goal_state
from ionmd.sweep.goal_state import goal_path
from ionmd.sweep.plan import plan_campaign
from sweep_setup import DIFFUSIVE_K, goal_campaign

def campaign(folder: Path, factor: float, budget: float, extra: str = "", **text) -> Path:
    return goal_campaign(folder, f'sigma_300K_factor = {factor}, budget = "{budget} h", '
                                 f'step = "1ps"{extra}', **text)


def test_budget_is_spent_on_the_runs_that_narrow_sigma(tmp_path, capsys):
    # The budget is wall hours, so it is set from what the three initial runs cost on this
    # machine now (a fixed 0.002 h was spent by them alone on a loaded host): first the
    # initial runs under a goal whose budget they exhaust, then the same campaign with
    # goal.json forgotten and a budget of their cost plus ~10 ps more.
    path = campaign(tmp_path, factor=1.01, budget=1e-9, extra=', temperatures = "1300"')
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    c = load_campaign(path)
    measured, initial = measure(c, plan_campaign(c))
    per_ps = max(m.cost_per_ps for m in measured)
    budget = initial + 10.0 * per_ps
    goal_path(c).unlink()
    text = path.read_text().replace('budget = "1e-09 h"', f'budget = "{budget:.6g} h"')
    assert f"{budget:.6g} h" in text
    path.write_text(text)
    capsys.readouterr()
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    print(out)
    c = load_campaign(path)
    state = read_goal_state(c)["series"]["licl/licl"]
    assert state["stopped"] == "budget_spent"       # a factor of 1.01 is out of reach
    assert "budget_spent" in out.splitlines()[-1]
    rounds = state["rounds"]
    did = [r["did"] for r in rounds if r.get("did")]
    assert did, "no round extended or added a run"
    # what was spent, measured again from the logs: over the budget by at most the last
    # round's own cost (a round is decided while budget is left, then run whole)
    runs = plan_campaign(c)
    measured, spent = measure(c, runs)
    # spent whole, or stopped by the rule of its last step (02e1806): a shortened last
    # step ran, or what was left bought less than a tenth of a step (its round says which)
    assert spent >= float(f"{budget:.6g}") or rounds[-1].get("budget_over"), rounds[-1]
    assert spent <= budget + 1.5 * max(m.cost_per_ps for m in measured) * 1.0   # one round
    assert rounds[-1]["spent"] == pytest.approx(spent, rel=1e-6)
    # the interval narrowed from the first round with a fit (one spanning more than 4
    # decades at 300 K is no result: no factor) to the last
    factors = [r["factor"] for r in rounds if r.get("factor") is not None]
    assert factors and rounds[-1]["factor"] == factors[-1] < factors[0]
    # every run ended whole, extended ones with one continuous trajectory
    for run in runs:
        st = run.rundir.status
        assert st["state"] == "completed" and st["step"] == run.rundir.planned_steps
        spec = load_run_spec(run.path)
        frames, _, _ = read_frames(spec.data_file, spec.trajectory, type_map=spec.type_map)
        np.testing.assert_array_equal(frames.steps, np.arange(0, st["step"] + 1, 20))
    assert any(run.rundir.planned_steps > 1500 for run in runs)
    # status shows the goal without analysing anything
    assert main(["sweep", "status", str(path)]) in (0, None)
    assert "budget_spent" in capsys.readouterr().out
    # a second submit does nothing more
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    assert len(read_goal_state(c)["series"]["licl/licl"]["rounds"]) == len(rounds)


def _li_flags(run_path: Path) -> list[str]:
    """The flags of Li's xyz D in the run's analysis for collect (the goal's too)."""
    res = json.loads((run_path / "analysis" / "sweep_collect.json").read_text())["results"]
    return next(d["flags"] for d in res["diffusion"]
                if d["species"] == "Li" and d["direction"] == "xyz")


def test_goal_met_at_once_runs_nothing_more(tmp_path):
    # The goal is on sigma(target_K), and the 4-decade span is checked there: at 900 K, next
    # to the runs' 1200-1400 K, three short runs' interval is within the factor, while
    # their 300 K extrapolation spans more than 4 decades (collect's NOT A RESULT, which
    # the round says beside the factor). At target_K 300 that span would block the goal, as
    # Ea <= 0 or every temperature not diffusive block it at any target_K. A point flagged
    # not diffusive blocks it too (its run is extended first, 10cf151): the runs are at
    # temperatures where the toy's Li hop enough in 1.5 ps (its 1000 K run does not).
    path = campaign(tmp_path, factor=1e6, budget=1.0, extra=", target_K = 900",
                    temperatures=DIFFUSIVE_K)
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    state = read_goal_state(load_campaign(path))["series"]["licl/licl"]
    assert state["stopped"] == "goal_met" and len(state["rounds"]) == 1
    assert "decades" in state["rounds"][0]["not_a_result_300K"]
    # the premise: no run's Li flagged not diffusive, as collect's analysis of it says
    flags = {r.temperature: _li_flags(r.path) for r in plan_campaign(load_campaign(path))}
    assert sorted(flags) == list(DIFFUSIVE_K)
    assert not {T: f for T, f in flags.items() if set(f) & set(NOT_DIFFUSIVE_FLAGS)}, flags
    assert not state["rounds"][0].get("flagged_points")
    assert all(r.rundir.planned_steps == 1500 for r in plan_campaign(load_campaign(path)))


@pytest.mark.parametrize("goal, says", [
    ('{sigma_300K_factor = 0.5, budget = "1 h"}', "sigma_300K_factor must be a number > 1"),
    ('{sigma_300K_factor = 3, budget = "lots"}', "goal.budget must be an amount with a unit"),
    ('{sigma_300K_factor = 3, budget = "2 GPU-h"}', "resources.gpus is 0"),
    ('{sigma_300K_factor = 3, budget = "1 h", speed = 2}', "unknown key 'goal.speed'"),
])
def test_bad_goal_is_refused_with_its_line(tmp_path, goal, says):
    path = campaign(tmp_path, factor=3, budget=1.0)
    text = path.read_text().splitlines()
    line = next(i for i, t in enumerate(text) if t.startswith("goal ="))
    text[line] = f"goal = {goal}"
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(IonmdError, match=f"line {line + 1}: .*{says}"):
        load_campaign(path)
    assert not (tmp_path / "runs").exists()
    json.dumps(goal)
