"""``ionmd run`` again with a longer ``--time`` (nothing else changed) extends its runs
from their end (audit A27): before, it refused the folder ("exists with other settings
(differs in protocol.duration_ps); ... delete it to start over"), though every MD input's
header says a run extended later resumes from its end restart. The extended run is the
run made straight to the longer time (restart files keep velocities): ``ionmd analyze``
gives the same numbers. A shorter ``--time`` is refused, naming what ran and
``--fit-end-ps``; a failed run is not extended; another change is refused as before."""

from __future__ import annotations

import json
import math

import pytest

from ionmd.cli import main
from ionmd.protocols.rundir import RunDir
from run_command_setup import run_inputs

SHORT = ("--set", "discard_ps=0.1", "--set", "dump_every=10", "--set", "thermo_every=10",
         "--set", "restart_every=100", "--set", "relax=false")


def _run(inputs, out, time, *extra):
    structure, model = inputs
    return main(["run", "conductivity-nvt", str(structure), "--model", str(model), "--temps",
                 "600", "--time", time, "--supercell", "none", *SHORT, "--no-progress",
                 "-o", str(out), *extra])


def _folder(out):
    (settings,) = out.rglob("settings.json")
    return settings.parent


def _close(got, want, where="results"):
    """Every number of ``want`` in ``got`` to 1e-9 relative (the same keys)."""
    if isinstance(want, dict):
        assert sorted(got) == sorted(want), where
        for k in want:
            _close(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, list):
        assert len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            _close(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-300) or (
            math.isnan(got) and math.isnan(want)), (where, got, want)
    else:
        assert got == want, where


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("longer_time")
    inputs = run_inputs(tmp)
    assert _run(inputs, tmp / "extended", "0.6ps") == 0
    assert _run(inputs, tmp / "extended", "0.8ps") == 0     # old code: 1, refused
    assert _run(inputs, tmp / "straight", "0.8ps") == 0
    return inputs, tmp, _folder(tmp / "extended"), _folder(tmp / "straight")


def _analysed(run, out):
    """``ionmd analyze RUN``'s results.json, the run's place in it read as the straight
    run's (where each lies is not what it found), its trajectory pieces apart."""
    assert main(["analyze", str(run), "-o", str(out), "--mcmc-samples", "50",
                 "--fit-start-ps", "0.05"]) == 0
    (found,) = out.rglob("results.json")
    text = found.read_text()
    for name in ("extended", "interrupted"):
        text = text.replace(f"/{name}/", "/straight/")
    results = json.loads(text)
    return results, results.pop("trajectory")


def test_a_longer_time_extends_the_run_as_if_run_straight(ran):
    inputs, tmp, ext, ref = ran
    status = RunDir.open(ext).status
    assert status["state"] == "completed" and status["step"] == 800 and status["pieces"] == 2
    assert status["resumed_from"] == "restart.end"
    assert [(c["from_ps"], c["to_ps"], c["at_step"]) for c in status["length_changes"]] == [
        (0.6, 0.8, 600)]
    settings = json.loads((ext / "settings.json").read_text())
    assert settings["protocol"]["duration_ps"] == 0.8
    (got, pieces), (want, one) = _analysed(ext, tmp / "a_ext"), _analysed(ref, tmp / "a_ref")
    assert want["run_length_ps"] == pytest.approx(0.7)      # after the 0.1 ps discard
    assert (pieces, one) == (["traj.0.dcd", "traj.1.dcd"], ["traj.0.dcd"])
    _close(got, want)
    # the same command again: the run is complete at this length, nothing runs
    assert _run(inputs, tmp / "extended", "0.8ps") == 0
    assert RunDir.open(ext).status["pieces"] == 2


def test_a_shorter_time_or_another_setting_is_refused_and_changes_nothing(ran, capsys):
    inputs, tmp, ext, _ = ran
    before = {f.name: f.read_bytes() for f in ext.iterdir() if f.is_file()}
    assert _run(inputs, tmp / "extended", "0.7ps") == 1
    err = capsys.readouterr().err
    assert "a run of 0.8 ps (completed at 0.8 ps)" in err and "--fit-end-ps" in err
    assert _run(inputs, tmp / "extended", "1ps", "--set", "timestep_fs=2") == 1
    err = capsys.readouterr().err
    assert "exists with other settings" in err and "protocol.timestep_fs" in err
    assert {f.name: f.read_bytes() for f in ext.iterdir() if f.is_file()} == before


def test_failed_interrupted_and_unstarted_runs(tmp_path, capsys):
    """Dry runs (nothing of LAMMPS): a failed run keeps its length and settings, an
    interrupted one resumes to the new length, one not started starts with it."""
    inputs = run_inputs(tmp_path)
    outs = {}
    for state in ("failed", "interrupted", "pending"):
        out = outs[state] = tmp_path / state
        assert _run(inputs, out, "0.6ps", "--dry-run") == 0
        rd = RunDir.open(_folder(out))
        if state != "pending":
            rd.set_status(state, step=300, pieces=1, reason="test")
        capsys.readouterr()
        assert _run(inputs, out, "0.8ps", "--dry-run") == 0
        notes = capsys.readouterr().err
        rd = RunDir.open(_folder(out))
        if state == "failed":
            assert "failed (test): not extended to 0.8 ps" in notes
            assert rd.protocol.duration_ps == 0.6 and rd.status["planned_steps"] == 600
            assert rd.status["state"] == "failed"
        else:
            assert rd.protocol.duration_ps == 0.8 and rd.planned_steps == 800
            assert rd.status["state"] == state and rd.status["planned_steps"] == 800
            assert "0.6 ps -> 0.8 ps" in notes


def test_a_longer_maximum_of_a_rule_run(tmp_path, capsys):
    """With ``--until`` the time is the most a run may last (dry runs): a run its rule
    stopped (converged) is kept, one stopped at the old maximum goes straight to the new
    one (RunDir.set_length: checked there once, stop_reason extended)."""
    inputs = run_inputs(tmp_path)
    rule = ("--until", "hops>=1000", "--check-every", "0.2ps")
    for reason in ("converged", "max_time"):
        out = tmp_path / reason
        assert _run(inputs, out, "0.6ps", "--dry-run", *rule) == 0
        rd = RunDir.open(_folder(out))
        rd.set_status("completed", step=400 if reason == "converged" else 600, pieces=2,
                      stop_reason=reason, target_step=600)
        capsys.readouterr()
        assert _run(inputs, out, "1ps", "--dry-run", *rule) == 0
        notes = capsys.readouterr().err
        rd = RunDir.open(_folder(out))
        assert rd.protocol.duration_ps == 1.0           # the same command again: as it is
        if reason == "converged":
            assert "complete at the longer maximum 1 ps" in notes
            assert rd.status["state"] == "completed" and "length_steps" not in rd.status
        else:
            assert "checked there once" in notes
            st = rd.status
            assert (st["state"], st["target_step"], st["length_steps"]) == ("pending", 1000, 1000)
            assert st["extended_from_step"] == 600 and st["stop_reason"] is None


def test_a_run_going_on_is_not_lengthened(tmp_path, capsys):
    """A LAMMPS running the run (here: this test's live process group) would end it at its
    old length: refused, nothing written."""
    import os
    import socket

    inputs = run_inputs(tmp_path)
    assert _run(inputs, tmp_path / "o", "0.6ps", "--dry-run") == 0
    rd = RunDir.open(_folder(tmp_path / "o"))
    rd.set_status("running", step=300, pieces=1, pid=os.getpgrp(), host=socket.gethostname(),
                  runner="subprocess")
    before = (rd.path / "settings.json").read_bytes(), (rd.path / "status.json").read_bytes()
    assert _run(inputs, tmp_path / "o", "0.8ps", "--dry-run") == 1
    assert "is running (pid" in capsys.readouterr().err
    assert ((rd.path / "settings.json").read_bytes(),
            (rd.path / "status.json").read_bytes()) == before


def test_an_interrupted_run_resumes_to_the_longer_time(ran, capsys):
    """A 0.6 ps run recorded interrupted (its ionmd killed after LAMMPS wrote its last
    step: status.json says so, the files are a finished piece's) resumes to 0.8 ps with
    the longer --time, the run made straight to 0.8 ps."""
    inputs, tmp, _, ref = ran
    assert _run(inputs, tmp / "interrupted", "0.6ps") == 0
    rd = RunDir.open(_folder(tmp / "interrupted"))
    rd.set_status("interrupted", resumable=True, reason="killed")
    capsys.readouterr()
    assert _run(inputs, tmp / "interrupted", "0.8ps") == 0
    assert "(interrupted at 0.6 ps: resumes from its restart file)" in capsys.readouterr().err
    st = rd.status
    assert (st["state"], st["step"], st["pieces"]) == ("completed", 800, 2)
    (got, pieces), (want, _) = (_analysed(rd.path, tmp / "a_int"),
                                _analysed(ref, tmp / "a_ref2"))
    assert pieces == ["traj.0.dcd", "traj.1.dcd"]
    _close(got, want)
