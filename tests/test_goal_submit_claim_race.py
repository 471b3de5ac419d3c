"""A SLURM array task may start between sbatch returning and ``submit`` recording the job
id in each claim (a free node, a short queue). Before, ``submit`` then wrote the claim
whole again (review R1's claim_race.py): a task whose setup failed lost its ``error`` (the
run read ``queued`` under a job already gone, and a goal waited on it) and a running
task lost its ``ran``. Now the job id is set under the claim's lock, what the task wrote
kept, and a run the task let go of stays let go of (the job id kept in ``ran``)."""

from __future__ import annotations

from ionmd.sweep import load_campaign, plan_campaign
from ionmd.sweep.state import classify, read_claim, update_claim
from ionmd.sweep.worker import setup_failed
from sweep_setup import campaign_dir, morse_model, write_campaign


def test_a_task_that_wrote_its_claim_before_submit_recorded_the_job_keeps_it(tmp_path,
                                                                            monkeypatch):
    from ionmd.sweep import slurm, submit as submit_mod

    folder = campaign_dir(tmp_path / "camp", morse_model(tmp_path / "morse.pt"))
    path = write_campaign(folder, name="race", temperatures=(600, 700),
                          executor='kind = "slurm"')
    campaign = load_campaign(path, check_resources=False)
    ran = {"host": "n02", "command": ["lmp"], "slurm_job": "7_1"}

    def sbatch_then_tasks_start(c, paths, token):
        # task 7_0 fails at once on its node, task 7_1 starts its LAMMPS: both before
        # sbatch's answer reaches submit
        assert setup_failed(paths[0], token, "lmp not found on node n01")
        assert update_claim(paths[1], token, lambda claim: {**claim, "ran": ran})
        return [([p], f"7_{i}") for i, p in enumerate(paths)]

    monkeypatch.setattr(slurm, "submit_slurm", sbatch_then_tasks_start)
    monkeypatch.setattr(submit_mod, "scheduler_jobs", lambda c: {})
    sub = submit_mod.submit(campaign)
    assert sub.jobs == ["7_0", "7_1"]
    failed, running = (read_claim(r.rundir) for r in plan_campaign(campaign))
    # the failed task's record kept, the run no longer held by a job (before: error gone,
    # job_id "7_0": queued under a job that had left)
    assert failed["error"] == "lmp not found on node n01", failed
    assert failed["job_id"] is None and failed["ran"]["job_id"] == "7_0"
    assert "lmp not found on node n01" in submit_mod.setup_failure(
        campaign, plan_campaign(campaign)[0], "pending")
    # the running task's record kept, and the job holding it named (before: ran gone)
    assert running["ran"] == ran and running["job_id"] == "7_1", running
    runs = plan_campaign(campaign)
    assert [classify(r.rundir, {"7_1": "RUNNING"}) for r in runs] == ["pending", "queued"]
