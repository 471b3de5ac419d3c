"""A run whose SLURM task was requeued at its walltime and then ``scancel``ed: its reason
still says "the task was requeued ...: it resumes the run from its restart", though the job
is gone (audit A17). ``sweep status`` now says of it what it says of a run that never
started in the same case: the job left the queue (SLURM's state for it), and that
``submit`` resumes it. While the requeued task waits, the note says so as before.

The queue is a stand-in ``squeue`` answering as SLURM did on the audit's cluster: the
task ``PENDING`` after its requeue, then, cancelled, only under ``--states=all``
(``CANCELLED``)."""

from __future__ import annotations

import os
import sys

from ionmd.sweep import load_campaign, plan_campaign
from ionmd.sweep.state import update_claim, write_claim
from ionmd.sweep.submit import campaign_status
from protocol_setup import morse_model
from sweep_setup import campaign_dir, write_campaign

JOB = "123_0"
REQUEUED = (f"timed out: SLURM job {JOB} reached its time limit (walltime); ionmd stopped "
            f"LAMMPS; a run that times out every time needs a longer resources.walltime; the "
            f"task was requeued (submitit: `scontrol requeue`): it resumes the run from its "
            f"restart")
SQUEUE = """\
#!{python}
import sys
state = {state!r}
if "--states=all" in sys.argv or state == "PENDING":
    print("{job}|" + state)
"""


def _fake_squeue(tmp_path, monkeypatch, state: str) -> None:
    bin_dir = tmp_path / f"bin_{state}"
    bin_dir.mkdir()
    squeue = bin_dir / "squeue"
    squeue.write_text(SQUEUE.format(python=sys.executable, state=state, job=JOB))
    squeue.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_a_requeued_then_cancelled_run_left_the_queue(tmp_path, monkeypatch):
    folder = campaign_dir(tmp_path / "camp", morse_model(tmp_path / "morse.pt"))
    path = write_campaign(folder, temperatures=(600,), executor='kind = "slurm"')
    campaign = load_campaign(path, check_resources=False, check_new_runs=False)
    (run,) = plan_campaign(campaign, create=True)
    rd = run.rundir
    rd.set_status("interrupted", resumable=True, pieces=1, step=300, reason=REQUEUED)
    write_claim(rd, "tok", "slurm", JOB)
    update_claim(rd.path, "tok", lambda c: {**c, "ran": {"host": "n1", "slurm_job": JOB}})

    _fake_squeue(tmp_path, monkeypatch, "PENDING")          # requeued, waiting
    (row,) = campaign_status(campaign)
    assert row["class"] == "queued" and f"job {JOB} was requeued (PENDING)" in row["note"]

    _fake_squeue(tmp_path, monkeypatch, "CANCELLED")        # then scancel'ed
    (row,) = campaign_status(campaign)
    assert row["class"] == "interrupted" and row["reason"] == REQUEUED
    note = row["note"] or ""        # old: None, the reason's "it resumes" unanswered
    assert f"job {JOB} left the queue" in note and "SLURM says CANCELLED" in note, row
    assert "`ionmd sweep submit` resumes it" in note
