"""A stopping rule's first check came at the first check step past the *protocol's*
discard, while its checks (and the later analysis) read the run through run.json, whose
discard a user may edit (kept since 1554cd9): with a longer discard the first check found
no frames past it (a check spent on nothing), with a shorter one the rule checked later
than its analysis could. The first target now follows the discard the analysis uses,
also when the edit came after the target was set (it is set again at the launch)."""

import json

import numpy as np
import pytest

from ionmd.analysis.run_spec import load_run_spec
from ionmd.protocols import plan_runs, run_all
from protocol_setup import frozen_framework_template, rocksalt_cell, short, superionic_model


@pytest.fixture(autouse=True)
def _one_torch_thread(monkeypatch):
    """The in-process runner's pair style on one thread (without OMP_NUM_THREADS it starts
    one per core, and on a 2-core host shared with another test worker its two threads
    wait on each other: 2-8x the time, helper B7's measurement on test_atstop_analysis)."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")

NEVER = "hops>=1000000"          # a rule that never holds: the run checks until its maximum


@pytest.fixture(scope="module")
def superionic(tmp_path_factory):
    d = tmp_path_factory.mktemp("superionic")
    return superionic_model(d / "licl.pt"), frozen_framework_template(d / "frozen.lmp")


def _rule_run(root, superionic, duration_ps):
    model, template = superionic
    protocol = short("conductivity-nvt", temperatures=(1200.0,), duration_ps=duration_ps,
                     discard_ps=0.1, until=NEVER, check_every_ps=0.1, restart_every=100,
                     dump_every=10, fit_start_ps=0.02, template=str(template))
    (rd,) = plan_runs(protocol, rocksalt_cell(), model, root, name="licl")
    return rd


def _edit_discard(rd, discard_ps):
    record = json.loads((rd.path / "run.json").read_text())
    (rd.path / "run.json").write_text(json.dumps({**record, "discard_ps": discard_ps}))


def _check_steps_past(discard_ps, rd):
    """The check steps a rule run past ``discard_ps`` has (independently: numpy)."""
    p = rd.protocol
    every = int(round(p.check_every_ps * 1000 / p.timestep_fs))
    steps = np.arange(every, rd.planned_steps + 1, every)
    return steps[steps * p.timestep_fs / 1000 > discard_ps].tolist()


def test_the_rule_checks_past_the_edited_discard(tmp_path, superionic):
    rd = _rule_run(tmp_path, superionic, duration_ps=0.3)
    assert rd.status["target_step"] == 200           # past the protocol's 0.1 ps
    _edit_discard(rd, 0.2)                           # edited after the target was set
    (status,) = run_all([rd], progress=False, runner="module")
    discard = load_run_spec(rd.path).discard_ps       # what the analysis uses
    assert discard == 0.2
    checks = status["checks"]
    assert [c["step"] for c in checks] == _check_steps_past(discard, rd) == [300]
    # each check had frames past the discard to analyse (the old first check at 200 had
    # none: "not yet past the discard", its values unknown)
    for c in checks:
        assert c["values"]["time_ps"] == pytest.approx(c["time_ps"] - discard)
        assert c["values"]["hops"] is not None
    assert status["state"] == "completed" and status["stop_reason"] == "max_time"


def test_a_reset_and_a_new_length_target_the_edited_discard(tmp_path, superionic):
    rd = _rule_run(tmp_path, superionic, duration_ps=0.6)
    _edit_discard(rd, 0.0)
    rd.reset()                                       # a failed run retried
    assert rd.status["target_step"] == _check_steps_past(0.0, rd)[0] == 100
    _edit_discard(rd, 0.25)
    rd.set_length(600)                               # a budget's new length, not started
    assert rd.status["target_step"] == _check_steps_past(0.25, rd)[0] == 300
