"""A run whose SLURM job died hard (its node failed) while its LAMMPS ran: status.json still
says ``running``, no LAMMPS holds its lock, the job is gone (``NODE_FAIL``). Nothing recorded
how it ended (it may have completed) and its status has no requeue reason, so ``sweep
status`` says that ``submit`` records how it ended, not that the job "left the queue without
resuming the run ... whatever its reason says of a requeued task" (which 80a0b51 gave it:
its job did run it, and the run may need no resuming).

The queue is the stand-in ``squeue`` of test_status_requeued_then_cancelled (the job known
only under ``--states=all``, here as ``NODE_FAIL``)."""

from __future__ import annotations

from ionmd.sweep import load_campaign, plan_campaign
from ionmd.sweep.state import update_claim, write_claim
from ionmd.sweep.submit import campaign_status
from protocol_setup import morse_model
from sweep_setup import campaign_dir, write_campaign
from test_status_requeued_then_cancelled import JOB, _fake_squeue


def test_a_running_run_whose_job_died_is_not_said_to_have_left_the_queue(tmp_path,
                                                                        monkeypatch):
    folder = campaign_dir(tmp_path / "camp", morse_model(tmp_path / "morse.pt"))
    path = write_campaign(folder, temperatures=(600,), executor='kind = "slurm"')
    campaign = load_campaign(path, check_resources=False, check_new_runs=False)
    (run,) = plan_campaign(campaign, create=True)
    rd = run.rundir
    # as the job's node left it: running, on a host that is gone, no LAMMPS holds its lock
    rd.set_status("running", pieces=1, step=300, pid=999999, host="n1-gone")
    write_claim(rd, "tok", "slurm", JOB)
    update_claim(rd.path, "tok", lambda c: {**c, "ran": {"host": "n1", "slurm_job": JOB}})
    _fake_squeue(tmp_path, monkeypatch, "NODE_FAIL")

    (row,) = campaign_status(campaign)
    assert row["class"] == "interrupted", row
    note = row["note"] or ""        # old: "job 123_0 left the queue without resuming ..."
    assert "left the queue" not in note and "requeued" not in note, note
    assert "how it ended is not recorded yet" in note and "`ionmd sweep submit` records" in note
