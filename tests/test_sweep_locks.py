"""A run's LAMMPS holds a lock on its run directory for as long as it runs, also after its
submitter died (an orphan): `sweep status` shows it running from a host that cannot see its
process (a login node), and no second worker starts LAMMPS on the same directory (before,
a worker on another host recorded it as interrupted and started a second LAMMPS beside
the first). Two submissions at once never claim the same runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames
from ionmd.cli import main
from ionmd.lammps.process import process_group_alive
from ionmd.sweep import load_campaign, plan_campaign
from ionmd.sweep.state import classify, new_token, read_claim, write_claim
from sweep_setup import campaign_dir, morse_model, wait_for, write_campaign

STEPS, DUMP = 30000, 100


def test_orphaned_lammps_is_running_from_anywhere_and_never_doubled(tmp_path, monkeypatch, capsys):
    folder = campaign_dir(tmp_path / "camp", morse_model(tmp_path / "morse.pt"))
    path = write_campaign(folder, name="orphan", protocol="conductivity-nvt", temperatures=(900,),
                          duration_ps=STEPS / 1000, restart_every=1000,
                          executor='kind = "local"\ncores = 1')
    path.write_text(path.read_text().replace("dump_every = 10", f"dump_every = {DUMP}"))
    (run,) = plan_campaign(load_campaign(path))
    submitter = subprocess.Popen([sys.executable, "-m", "ionmd.cli", "sweep", "submit", str(path),
                                  "--no-progress"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    pid = None
    try:
        wait_for(lambda: run.rundir.status.get("state") == "running"
              and (run.path / "restart.a").is_file(), what="the run to start")
        submitter.kill()                         # the submitter dies, its LAMMPS goes on
        submitter.wait()
        pid = run.rundir.status["pid"]
        assert process_group_alive(pid)
        # seen from another host (a login node; the compute node's processes are invisible)
        monkeypatch.setattr(socket, "gethostname", lambda: "login-node")
        assert classify(run.rundir, {}) == "running"
        capsys.readouterr()
        assert main(["sweep", "status", str(path)]) == 0
        out = capsys.readouterr().out
        assert "1 running (of 1)" in out and "an orphan finishing" in out
        # a later submission's worker on that other host leaves it alone
        from ionmd.sweep.worker import run_one

        token = new_token()
        write_claim(run.rundir, token, "slurm", "99_0")
        res = run_one(run.path, token)
        assert "another process runs it" in res.get("skipped", ""), res
        assert run.rundir.status["pieces"] == 1 and not (run.path / "in.1.lmp").exists()
        assert run.rundir.status["pid"] == pid
        monkeypatch.undo()
        wait_for(lambda: not process_group_alive(pid), 120, "the orphaned LAMMPS to finish")
    finally:
        submitter.kill()
        if pid and process_group_alive(pid):
            os.killpg(pid, 9)
    # it ended unrecorded; the next submit records it: done once, every frame once
    assert classify(run.rundir, {}) == "interrupted"
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    st = run.rundir.status
    assert st["state"] == "completed" and st["pieces"] == 1 and st["step"] == STEPS
    spec = load_run_spec(run.path)
    frames, _, _ = read_frames(spec.data_file, spec.trajectory, type_map=spec.type_map)
    np.testing.assert_array_equal(frames.steps, np.arange(0, STEPS + 1, DUMP))


def test_two_submissions_at_once_claim_each_run_once(tmp_path, monkeypatch):
    # sbatch replaced by a recorder that takes its time: the second submit waits for the
    # first to have claimed and submitted, then finds nothing left (before: both claimed
    # every run and submitted it twice)
    from ionmd.sweep import slurm, submit as submit_mod

    folder = campaign_dir(tmp_path / "camp", morse_model(tmp_path / "morse.pt"))
    path = write_campaign(folder, name="twice", temperatures=(600, 700),
                          executor='kind = "slurm"')
    campaign = load_campaign(path, check_resources=False)
    calls, active = [], {}

    def fake_sbatch(c, paths, token):
        calls.append(list(paths))
        time.sleep(1.0)
        out = [([p], f"{len(calls)}_{i}") for i, p in enumerate(paths)]
        active.update({job: "PENDING" for _, job in out})
        return out

    monkeypatch.setattr(slurm, "submit_slurm", fake_sbatch)
    monkeypatch.setattr(submit_mod, "scheduler_jobs", lambda c: dict(active))
    subs = []
    threads = [threading.Thread(target=lambda: subs.append(submit_mod.submit(campaign)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(calls[0]) == 2
    assert sorted(len(s.submitted) for s in subs) == [0, 2]
    runs = plan_campaign(campaign)
    assert [read_claim(r.rundir)["job_id"] for r in runs] == ["1_0", "1_1"]
    assert [classify(r.rundir, active) for r in runs] == ["queued", "queued"]


if __name__ == "__main__":
    pytest.main([__file__, "-v"])
