"""A goal's new temperatures and the run folders: two temperatures are one when they share
a run folder (``T1200K`` for 1200 K and 1200.004 K), which is what the protocol's own check
refuses in a temperature list. Before, the allocator told temperatures apart to 1e-6 K, so
a goal proposed 1200.004 K next to a run at 1200 K, and the campaign was refused from then
on ('temperatures 1200.0 and 1200.004 are one temperature'); a temperature with a failed
run was proposed again (that run reopened)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ionmd.errors import IonmdError
from ionmd.protocols import get_protocol
from ionmd.sweep import load_campaign
from ionmd.sweep.allocate import TemperatureRun, next_step
from ionmd.sweep.plan import plan_campaign
from sweep_setup import campaign_dir, write_campaign

GOAL = 'goal = {{sigma_300K_factor = 1.01, budget = "100 h", temperatures = "{temps}"}}'


def arrhenius_runs(temperatures, room_ps=None) -> list[TemperatureRun]:
    """Runs whose D follows an Arrhenius law (0.3 eV), each with a 30 % interval."""
    out = []
    for T in temperatures:
        D = 1e-4 * np.exp(-0.3 / (8.617e-5 * T))
        out.append(TemperatureRun(T, 10.0, D, (D / 1.3, D * 1.3), cost_per_ps=1.0,
                                  max_time_ps=None if room_ps is None else 10.0 + room_ps))
    return out


def refusal_of(temperatures) -> str | None:
    """The protocol check's word on a temperature list (None: accepted)."""
    try:
        get_protocol("conductivity", temperatures=tuple(temperatures))
    except IonmdError as exc:
        return str(exc)
    return None


def test_no_new_temperature_shares_a_run_folder():
    runs = arrhenius_runs([1000.0, 1200.0, 1400.0], room_ps=0.0)     # nothing to extend
    candidates = [1100.0, 1200.004, 1300.0, 1300.001, 1234.567, 1234.57]
    decision = next_step(runs, step_ps=10.0, candidates_K=candidates)
    new = [o.temperature_K for o in decision.options if o.action == "new"]
    assert new, decision.describe()
    for T in new:       # each one the protocol accepts next to the runs' temperatures
        assert refusal_of([r.temperature_K for r in runs] + [T]) is None, T
    assert refusal_of(new) is None                 # and next to each other
    # a candidate sharing no folder is still offered
    assert {1100.0, 1300.0, 1234.567} <= set(new)
    assert refusal_of([1200.0, 1200.004]) is not None     # the check this is about


@pytest.fixture
def goal_campaign(tmp_path, morse):
    folder = campaign_dir(tmp_path / "c", morse)
    return write_campaign(folder, temperatures=(1000, 1200, 1400),
                          extra=GOAL.format(temps="1200"))


@pytest.fixture(scope="module")
def morse(tmp_path_factory):
    from protocol_setup import morse_model

    return morse_model(tmp_path_factory.mktemp("morse") / "morse.pt")


def test_a_temperature_added_next_to_its_folder_twin_plans(goal_campaign):
    """A goal.json that holds 1200.004 K next to the campaign's 1200 K (written by the
    allocator before): the campaign plans its three runs, not a refusal."""
    c = load_campaign(goal_campaign)
    c.output.mkdir(parents=True, exist_ok=True)
    (c.output / "goal.json").write_text(json.dumps(
        {"series": {"fcc/morse": {"added_K": [1200.004, 1300.0], "rounds": []}}}))
    runs = plan_campaign(c)
    assert sorted(r.temperature for r in runs) == [1000.0, 1200.0, 1300.0, 1400.0]
    assert sorted(r.path.parent.name for r in runs) == ["T1000K", "T1200K", "T1300K",
                                                        "T1400K"]


def test_a_failed_runs_temperature_is_not_added_again(goal_campaign, monkeypatch):
    """The run at 1200 K failed (no D); the goal's only new temperature is 1200 K and the
    other runs cannot grow: nothing is left, the failed run is not reopened."""
    import ionmd.sweep.goal as goal

    c = load_campaign(goal_campaign)
    runs = plan_campaign(c, create=True)
    for r in runs:
        if r.temperature == 1200.0:
            r.rundir.set_status("failed", resumable=False, failed_step=100, step=100,
                                failure_mode="lost_atoms")
        else:
            r.rundir.set_status("completed", resumable=False, step=500)
    measured = arrhenius_runs([1000.0, 1400.0], room_ps=0.0)
    monkeypatch.setattr(goal, "measure", lambda campaign, series_runs: (measured, 1.0))
    failed = next(r for r in runs if r.temperature == 1200.0)
    before = failed.rundir.planned_steps
    result = goal.advance_series(c, "fcc", "morse")
    assert result.state == "nothing_left", result
    assert failed.rundir.status["state"] == "failed"
    assert failed.rundir.planned_steps == before
    assert goal.read_goal_state(c)["series"]["fcc/morse"]["added_K"] == []
