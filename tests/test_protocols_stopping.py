"""Runs with a stopping rule, for real with `lmp` + the plugin: a toy superionic conductor
(Li bound weakly in a frozen Cl lattice, tests/protocol_setup.py) at 1200 K stops by
itself once D is known well enough, and a run killed in the middle of a piece resumes and
stops at the same decision as an uninterrupted one."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from scipy.stats import t as student_t

from ionmd.analysis.convergence import check_run, parse_rule, rule_holds
from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames
from ionmd.errors import IonmdError
from ionmd.lammps.process import kill_run
from ionmd.protocols import execute, launch, plan_runs, run_all
from ionmd.protocols.execute import wait_run
from protocol_setup import frozen_framework_template, rocksalt_cell, short, superionic_model


@pytest.fixture(autouse=True)
def _one_torch_thread(monkeypatch):
    """The in-process runner's pair style on one thread (without OMP_NUM_THREADS it starts
    one per core, and on a 2-core host shared with another test worker its two threads
    wait on each other: 2-8x the time, helper B7's measurement on test_atstop_analysis)."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


RULE = "hops>=120,D_rel_ci<=0.3"


@pytest.fixture(scope="module")
def superionic(tmp_path_factory):
    d = tmp_path_factory.mktemp("superionic")
    return superionic_model(d / "licl.pt"), frozen_framework_template(d / "frozen.lmp")


def protocol(template, **overrides):
    base = dict(temperatures=(1200.0,), duration_ps=6.0, discard_ps=0.5, until=RULE,
                check_every_ps=0.5, restart_every=500, dump_every=20, fit_start_ps=0.1,
                template=str(template))
    return short("conductivity-nvt", **{**base, **overrides})


def test_run_stops_by_itself_when_converged(tmp_path, superionic):
    model, template = superionic
    (rd,) = plan_runs(protocol(template), rocksalt_cell(), model, tmp_path, name="licl")
    assert rd.status["target_step"] == 1000        # first check: the first 0.5 ps past the discard
    (status,) = run_all([rd], progress=False, runner="module")
    checks = status["checks"]
    print(json.dumps([{k: c["values"][k] for k in ("time_ps", "hops", "D_rel_ci")}
                      for c in checks]))
    assert status["state"] == "completed" and status["stop_reason"] == "converged"
    stop = status["step"]
    assert stop < rd.planned_steps                  # it ended before its maximum
    assert [c["step"] for c in checks] == list(range(1000, stop + 1, 500))
    assert [c["met"] for c in checks] == [False] * (len(checks) - 1) + [True]
    assert status["pieces"] == len(checks)          # one LAMMPS piece per check
    # the last check, redone independently on the run as it ended, holds; it is what was
    # recorded (checks are deterministic), and the rule did not hold one check earlier
    again = check_run(rd.path, fit_start_ps=0.1)
    assert rule_holds(parse_rule(RULE), again)
    assert again["D_rel_ci"] == pytest.approx(checks[-1]["values"]["D_rel_ci"], rel=1e-12)
    assert again["hops"] == checks[-1]["values"]["hops"]
    assert not rule_holds(parse_rule(RULE), checks[-2]["values"])
    # a stop by the rule reports as D's 95 % interval its 99 % one: the 95 % one (unclipped here)
    # widened by the ratio of scipy's Student t quantiles, about the same D
    li = checks[-1]["values"]["species"]["Li"]
    (lo, hi), (lo95, hi95) = status["D_ci95_at_stop"]["Li"], li["D_ci95"]
    dof = li["n_ions"] - 1
    assert lo95 > 0 and (lo + hi) / 2 == pytest.approx(li["D"], rel=1e-9)
    assert (hi - lo) / (hi95 - lo95) == pytest.approx(
        student_t.ppf(0.995, dof) / student_t.ppf(0.975, dof), rel=1e-9)
    # the pieces make one trajectory, every frame once
    spec = load_run_spec(rd.path)
    frames, _, _ = read_frames(spec.data_file, spec.trajectory, type_map=spec.type_map)
    np.testing.assert_array_equal(frames.steps, np.arange(0, stop + 1, 20))


def test_killed_run_resumes_to_the_same_decision(tmp_path, superionic):
    model, template = superionic
    proto = protocol(template)
    (ref,) = plan_runs(proto, rocksalt_cell(), model, tmp_path / "ref", name="licl")
    reference = execute(ref)
    (rd,) = plan_runs(proto, rocksalt_cell(), model, tmp_path / "killed", name="licl")
    first = wait_run(rd, launch(rd))                # piece 0 and its check
    assert first["state"] == "pending" and first["target_step"] == 1500
    proc = launch(rd)                               # piece 1, killed half-way
    deadline = time.time() + 60
    while (not (rd.path / "traj.1.dcd").is_file()
           or (rd.path / "traj.1.dcd").stat().st_size < 4000) and time.time() < deadline:
        time.sleep(0.01)
    kill_run(proc)
    assert rd.status["state"] == "running"          # its runner is gone: status is stale
    status = execute(rd)
    assert status["pieces"] > reference["pieces"]   # the killed piece was redone
    assert (status["state"], status["stop_reason"], status["step"]) == \
        (reference["state"], reference["stop_reason"], reference["step"])
    assert [(c["step"], c["met"]) for c in status["checks"]] == \
        [(c["step"], c["met"]) for c in reference["checks"]]
    for mine, theirs in zip(status["checks"], reference["checks"]):
        assert mine["values"]["hops"] == theirs["values"]["hops"]
        assert mine["values"]["D_rel_ci"] == pytest.approx(theirs["values"]["D_rel_ci"],
                                                            rel=1e-6)


def test_rule_settings_refused_with_a_fix(tmp_path, superionic):
    model, template = superionic
    with pytest.raises(IonmdError, match="multiple of restart_every"):
        plan_runs(protocol(template, restart_every=300), rocksalt_cell(), model, tmp_path)
    with pytest.raises(IonmdError, match="cannot end a ramp early"):
        plan_runs(protocol(template, temperature_end=1200.0), rocksalt_cell(), model, tmp_path)
    with pytest.raises(IonmdError, match="unknown quantity"):
        plan_runs(protocol(template, until="sigma<=0.1"), rocksalt_cell(), model, tmp_path)
    assert not any(tmp_path.iterdir())              # nothing written
