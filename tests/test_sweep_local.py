"""The local executor for real (`lmp` + the plugin, a Morse model, 32 atoms): a campaign
whose submitter and one running `lmp` are killed mid-run is resubmitted and completes
with every run done once (restarts and frames counted), and its collected table equals
that of the same campaign run without interruption (same seeds)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames
from ionmd.cli import main
from ionmd.lammps.process import process_group_alive
from ionmd.lammps.thermo_log import parse_thermo
from ionmd.sweep import load_campaign, plan_campaign
from sweep_setup import campaign_dir, wait_for, write_campaign

STEPS, DUMP, RESTART = 1600, 10, 200
SETTINGS = dict(protocol="conductivity-nvt", temperatures=(2000, 2500, 3000), replicas=1,
                duration_ps=STEPS / 1000, restart_every=RESTART)


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def test_killed_campaign_resumes_and_equals_uninterrupted(tmp_path, morse):
    folder = campaign_dir(tmp_path / "camp", morse)
    path = write_campaign(folder, name="kill", output="runs", **SETTINGS)
    ref_path = write_campaign(folder, name="ref", output="runs_ref", **SETTINGS)
    runs = plan_campaign(load_campaign(path))
    started = []
    submitter = subprocess.Popen([sys.executable, "-m", "ionmd.cli", "sweep", "submit", str(path),
                                  "--no-progress"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    try:
        # two at once (2 cores, 1 rank each): wait until both run and one wrote a restart
        def two_running():
            st = [r.rundir.status for r in runs]
            return sum(s.get("state") == "running" for s in st) == 2 and any(
                (r.path / "restart.a").is_file() for r in runs if r.rundir.status.get("state") == "running")

        wait_for(two_running, what="two running runs with a restart file")
        submitter.kill()                      # the submitter dies ...
        submitter.wait()
        live = [r for r in runs if r.rundir.status.get("state") == "running"]
        started = [r.rundir.status["pid"] for r in live]
        victim = next(r for r in live if (r.path / "restart.a").is_file())
        orphan = next(r for r in live if r is not victim)
        _kill_group(victim.rundir.status["pid"])          # ... and so does one running lmp
        wait_for(lambda: not process_group_alive(victim.rundir.status["pid"]), what="the killed lmp to end")
        pending = [r for r in runs if r not in live]
        assert len(pending) == 1 and pending[0].rundir.status["state"] == "pending"
        assert process_group_alive(orphan.rundir.status["pid"])      # the other lmp outlived its submitter
        killed_step = victim.rundir.status.get("step", 0)

        assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
        assert main(["sweep", "submit", str(ref_path), "--no-progress"]) == 0
    finally:
        submitter.kill()
        for pid in started:
            _kill_group(pid)

    for r in runs:
        st = r.rundir.status
        assert st["state"] == "completed" and st["step"] == STEPS, st
        spec = load_run_spec(r.path)
        frames, _, _ = read_frames(spec.data_file, spec.trajectory, type_map=spec.type_map)
        # every step done once: the stitched frames are the full grid, no gap, no duplicate
        np.testing.assert_array_equal(frames.steps, np.arange(0, STEPS + 1, DUMP))
        inputs = sorted(r.path.glob("in.*.lmp"))
        resumed = [f for f in inputs if re.search(r"^read_restart", f.read_text(), re.M)]
        if r is victim:
            assert st["pieces"] == 2 and len(resumed) == 1 and len(inputs) == 2
            first = parse_thermo(spec.logs[1].read_text())["Step"][0]
            assert first % RESTART == 0 and killed_step <= STEPS
        else:        # the orphan was waited for, not rerun; the pending one ran once
            assert st["pieces"] == 1 and not resumed and len(inputs) == 1
        log_steps = np.concatenate([parse_thermo(p.read_text())["Step"] for p in spec.logs])
        assert log_steps.max() == STEPS

    # a third submit has nothing left to do
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    assert all(r.rundir.status["pieces"] == (2 if r is victim else 1) for r in runs)

    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    assert main(["sweep", "collect", str(ref_path), "--no-progress"]) == 0
    got = json.loads((folder / "runs" / "collect" / "results.json").read_text())["rows"]
    ref = json.loads((folder / "runs_ref" / "collect" / "results.json").read_text())["rows"]
    assert len(got) == len(ref) == 3
    # each run's own D (negative for these short, caged runs: not in the rows' fits)
    d_got, d_ref = ([m["D"] for r in json.loads((folder / name / "collect" / "results.json")
                                                 .read_text())["runs"] for m in r["mobile"]]
                    for name in ("runs", "runs_ref"))
    assert len(d_got) == len(d_ref) == 3
    rel = [abs(a / b - 1) for a, b in zip(d_got, d_ref)]
    print(f"interrupted vs uninterrupted: max relative difference of D {max(rel):.2e}")
    assert max(rel) < 1e-3
    for a, b in zip(got, ref):
        assert a.keys() == b.keys()
        for key in a:
            if isinstance(a[key], dict):
                assert a[key]["value"] == pytest.approx(b[key]["value"], rel=1e-3), key
                assert a[key]["ci95"] == pytest.approx(b[key]["ci95"], rel=1e-3), key
            elif isinstance(a[key], float):
                assert a[key] == pytest.approx(b[key], rel=1e-3), key
            elif key == "left_out":     # '<run folder>: <why, with its D>': same runs left out
                assert ([w.split(": ")[0].split("/runs")[-1] for w in a[key]]
                        == [w.split(": ")[0].split("/runs_ref")[-1] for w in b[key]]), key
            else:
                assert a[key] == b[key], key


def test_failed_runs_rerun_only_when_asked(tmp_path, morse, capsys):
    folder = campaign_dir(tmp_path / "camp", morse)
    path = write_campaign(folder, name="retry", temperatures=(600,), replicas=2, duration_ps=0.3)
    runs = plan_campaign(load_campaign(path))
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    assert [r.rundir.status["state"] for r in runs] == ["completed", "completed"]
    error, physical = runs[0].rundir, runs[1].rundir
    # as LAMMPS leaves them: an input error, and a fix halt on the volume (a result)
    error.set_status("failed", resumable=False, reason="ERROR: Unknown pair style")
    physical.set_status("failed", resumable=False, failed_step=120, reason="volume changed (fix halt)")
    capsys.readouterr()
    assert main(["sweep", "status", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1 failed-error, 1 failed-physical (of 2)" in out and "Unknown pair style" in out
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 3   # as `ionmd run`
    assert "1 run(s) stopped on an error and were left alone" in capsys.readouterr().out
    assert error.status["state"] == "failed"
    mtime = (error.path / "traj.0.dcd").stat().st_mtime_ns
    # the physical failure (a result, not rerun) still makes it 3
    assert main(["sweep", "submit", str(path), "--retry-failed", "--no-progress"]) == 3
    st = error.status
    assert st["state"] == "completed" and st["pieces"] == 1 and "reason" not in st
    assert (error.path / "traj.0.dcd").stat().st_mtime_ns != mtime    # rerun from scratch
    assert sorted(p.name for p in error.path.glob("in.*.lmp")) == ["in.0.lmp"]
    assert physical.status["state"] == "failed" and physical.status["failed_step"] == 120


def test_stability_campaign_survival_curve(tmp_path, morse):
    # heating 300 -> 2100 K over 0.4 ps with a 4 % volume limit: fix halt trips mid-ramp
    folder = campaign_dir(tmp_path / "camp", morse)
    path = write_campaign(folder, name="stab", protocol="stability", temperatures=(300,),
                          replicas=3, duration_ps=0.4, discard_ps=0.0,
                          extra="", analysis="charges = {Li = 1, Cl = -1}\n"
                                             "fit_start_ps = 0.05")    # the fit ends at 0.2 ps
    text = path.read_text().replace("pdamp_fs = 500.0", "pdamp_fs = 200.0\nhalt_volume_change = 0.04")
    path.write_text(text)
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 3   # runs halted: failed
    runs = plan_campaign(load_campaign(path))
    statuses = [r.rundir.status for r in runs]
    halted = [s for s in statuses if s["state"] == "failed"]
    assert halted and all("fix halt" in s["reason"] and not s["resumable"] for s in halted)
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    doc = json.loads((folder / "runs" / "collect" / "results.json").read_text())
    (row,) = doc["rows"]
    assert row["replicas_done"] == 3 and row["replicas_failed"] == len(halted)
    assert row["failure_modes"] == ["volume_change"]
    # Kaplan-Meier by hand: a drop of 1/3 at each step where LAMMPS halted a replica (1 fs);
    # replicas that reached the end are censored there
    ends = sorted(s.get("failed_step", s["step"]) for s in statuses)
    curve = doc["survival"]["fcc/morse"]
    fails = sorted(s["failed_step"] for s in halted)
    assert curve["time_ps"] == pytest.approx([0.0] + sorted({f * 1e-3 for f in fails}))
    alive, want = 1.0, [1.0]
    for f in sorted(set(fails)):
        at_risk = sum(e >= f for e in ends)
        alive *= 1 - fails.count(f) / at_risk
        want.append(alive)
    assert curve["survival"] == pytest.approx(want)
    temps = [s["failed_temperature_K"] for s in halted]
    assert row["failure_temperature_K_mean"] == pytest.approx(np.mean(temps))
    assert (folder / "runs" / "collect" / "survival.png").is_file()
