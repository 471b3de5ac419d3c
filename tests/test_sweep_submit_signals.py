"""`ionmd sweep submit` (local) stopped by SIGINT (Ctrl-C) or SIGTERM while two runs go
on (`lmp` + the plugin, a Morse model, 32 atoms): `status` says what is left, a second
`submit` finishes the campaign running nothing twice, and every trajectory equals, bit
for bit, that of the same campaign run without interruption (same seeds)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import numpy as np
import pytest

from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames
from ionmd.cli import main
from ionmd.lammps.process import process_group_alive
from ionmd.sweep import load_campaign, plan_campaign
from sweep_setup import campaign_dir, wait_for, write_campaign

STEPS = 6000
SETTINGS = dict(protocol="conductivity-nvt", temperatures=(2000, 2500, 3000), replicas=1,
                duration_ps=STEPS / 1000, restart_every=200)


def frames_of(path):
    spec = load_run_spec(path)
    frames, _, _ = read_frames(spec.data_file, spec.trajectory, type_map=spec.type_map)
    return frames


def _as_from_a_terminal() -> None:
    """SIGINT as a shell's foreground job has it: a test suite started in the background
    (``make test &``, CI) runs with SIGINT ignored, which its children inherit, so Python
    installs no KeyboardInterrupt handler and the submitter never saw the Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_submitter_loses_nothing_and_runs_nothing_twice(tmp_path, morse, capsys, sig):
    folder = campaign_dir(tmp_path / "camp", morse)
    path = write_campaign(folder, name="stop", output="runs", **SETTINGS)
    ref = write_campaign(folder, name="ref", output="runs_ref", **SETTINGS)
    runs = plan_campaign(load_campaign(path))
    submitter = subprocess.Popen([sys.executable, "-m", "ionmd.cli", "sweep", "submit", str(path),
                                  "--no-progress"], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True,
                                 preexec_fn=_as_from_a_terminal)
    try:
        wait_for(lambda: sum(r.rundir.status.get("state") == "running" for r in runs) == 2,
                 what="two running runs")
        pids = [r.rundir.status["pid"] for r in runs if r.rundir.status.get("state") == "running"]
        submitter.send_signal(sig)
        out, _ = submitter.communicate(timeout=120)
        # SIGINT: the submitter lets the running ones finish and starts no other; SIGTERM
        # ends it at once, its lmp (own sessions) go on alone: wait for them to end
        wait_for(lambda: not any(process_group_alive(p) for p in pids), what="the lmp to end")
    finally:
        submitter.kill()
    assert submitter.returncode == (130 if sig == signal.SIGINT else -signal.SIGTERM), out
    states = sorted(r.rundir.status["state"] for r in runs)
    if sig == signal.SIGINT:
        assert "no new runs start; the running ones finish" in out
        assert states == ["completed", "completed", "pending"]
    else:             # ended after their submitter: not recorded yet, nothing lost
        assert states == ["pending", "running", "running"]
        capsys.readouterr()
        assert main(["sweep", "status", str(path)]) == 0
        status = capsys.readouterr().out
        assert status.startswith("2 interrupted, 1 pending (of 3)")
        assert status.count("`ionmd sweep submit` records it (completed, or resumed") == 2

    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    assert main(["sweep", "submit", str(ref), "--no-progress"]) == 0
    for run, twin in zip(runs, plan_campaign(load_campaign(ref))):
        st = run.rundir.status
        assert st["state"] == "completed" and st["step"] == STEPS, st
        # each run ran once: one piece, one input, no rerun of a finished one
        assert st["pieces"] == 1 and [p.name for p in run.path.glob("in.*.lmp")] == ["in.0.lmp"]
        got, want = frames_of(run.path), frames_of(twin.path)
        np.testing.assert_array_equal(got.steps, np.arange(0, STEPS + 1, 10))
        np.testing.assert_array_equal(got.steps, want.steps)
        np.testing.assert_array_equal(got.positions, want.positions)      # bit for bit
    assert json.loads((run.path / "sweep.json").read_text())["token"]
