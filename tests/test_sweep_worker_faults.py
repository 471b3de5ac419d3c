"""Faults met by the sweep's workers lose no run and misreport none (review of the local
pool, the array task and the claims).

The runs' LAMMPS is a stand-in (the worker's ``execute``): what is checked is what the
worker, the local pool, ``submit``'s summary and the claims do around it.

- a bug (an exception no one expected) in one run ended the whole local submission: the
  other runs' results were not reported, the queued runs never started; an array task
  dropped the rest of its group the same way;
- runs the pool left alone (another process held them, a later submission claimed them)
  were counted as "ran", and their claim kept the local submitter as their job: the run
  read ``queued`` for as long as the submitter lived, whose final wait never ended;
- a run folder deleted while queued was said to be "claimed by a later submission";
- a claim read and replaced by a worker while ``submit`` claimed the run again lost the
  new claim (the later job then skipped the run)."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import socket
import threading

import pytest

STAND_IN_BUG = "stand-in bug"


@pytest.fixture
def campaign(tmp_path, morse):
    """Three runs, one at a time (``cores = 1``): the pool has queued runs behind each."""
    from ionmd.sweep import load_campaign
    from sweep_setup import campaign_dir, write_campaign

    return load_campaign(write_campaign(campaign_dir(tmp_path / "c", morse),
                                        temperatures=(600, 700, 800),
                                        executor='kind = "local"\ncores = 1'))


def _completes(rd) -> dict:
    return rd.set_status("completed", step=rd.planned_steps)


@pytest.mark.parametrize("when", ["before its LAMMPS", "after its LAMMPS started"])
def test_a_bug_in_one_run_ends_no_local_submission(campaign, monkeypatch, capsys, when):
    import ionmd.sweep.worker as worker_mod
    from ionmd.cli import main
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.state import classify, read_claim
    from ionmd.sweep.submit import setup_failure

    calls = []

    def execute(rd, **kw):
        calls.append(str(rd.path))
        if len(calls) == 1:
            if when != "before its LAMMPS":     # a piece ran, then the bug
                rd.set_status("interrupted", pieces=1, step=50, resumable=True)
            raise KeyError(STAND_IN_BUG)
        return _completes(rd)

    monkeypatch.setattr(worker_mod, "execute", execute)
    assert main(["sweep", "submit", str(campaign.path), "--no-progress"]) == 4  # before: raised
    out, err = capsys.readouterr()
    assert len(calls) == 3                              # the queued runs still ran
    bad = next(r for r in plan_campaign(campaign) if str(r.path) == calls[0])
    assert ("ran 2 run(s): 2 completed" if when == "before its LAMMPS" else "ran 3 run(s)") in out
    assert f"KeyError: '{STAND_IN_BUG}'" in err and "Traceback" in err    # for a bug report
    claim = read_claim(bad.rundir)
    if when == "before its LAMMPS":
        assert claim["job_id"] is None                  # let go of: not queued under us
        assert "1 run(s) did not start" in out and f"  {bad.path}: KeyError: " in out
        assert "KeyError" in claim["error"] and classify(bad.rundir) == "pending"
        assert "KeyError" in setup_failure(campaign, bad, "pending")
    else:             # it ran: no setup failure (which stops a goal's series), resumed later
        assert "1 run(s) stopped on an error" in out and f"  {bad.path}: after its LAMMPS " \
                                                        f"started (piece 1): KeyError" in out
        assert "error" not in claim and classify(bad.rundir) == "interrupted"
    # the next submit runs it: nothing lost
    assert main(["sweep", "submit", str(campaign.path), "--no-progress"]) == 0
    assert calls[3:] == [str(bad.path)]


def test_a_bug_in_one_run_ends_no_array_task(campaign, monkeypatch):
    """The SLURM task's path (run_group): the rest of its group still runs."""
    import ionmd.sweep.worker as worker_mod
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.state import classify, new_token, read_claim, write_claim

    def execute(rd, **kw):
        if rd.temperature == 600:
            raise TypeError(STAND_IN_BUG)
        return _completes(rd)

    monkeypatch.setattr(worker_mod, "execute", execute)
    runs = plan_campaign(campaign, create=True)
    token = new_token()
    for r in runs:
        write_claim(r.rundir, token, "slurm", "123_0")
    results = worker_mod.run_group([str(r.path) for r in runs], token, launcher="mpirun")
    assert [r.get("state") for r in results[1:]] == ["completed", "completed"]  # before: raised
    assert results[0]["error"].startswith(f"TypeError: {STAND_IN_BUG}")
    assert read_claim(runs[0].rundir)["job_id"] is None and classify(runs[0].rundir, {}) == \
        "pending"


def test_runs_left_alone_are_not_counted_as_ran_nor_waited_on(campaign, monkeypatch):
    """Run 2's worker lock is held by another process (a worker of another submission
    setting it up); run 3 is claimed by a later submission while run 1 runs."""
    import ionmd.sweep.worker as worker_mod
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.state import WORKER_LOCK, classify, new_token, read_claim, write_claim
    from ionmd.sweep.submit import submit, wait

    runs = plan_campaign(campaign, create=True)
    later = new_token()

    def execute(rd, **kw):
        if rd.path == runs[0].path:
            write_claim(runs[2].rundir, later, "slurm", "9_0")
        return _completes(rd)

    monkeypatch.setattr(worker_mod, "execute", execute)
    fd = os.open(runs[1].path / WORKER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        sub = submit(campaign, progress=False)
        summary = sub.ran_summary()
        # before: "ran 3 run(s): 1 completed, 2 pending"
        assert summary.startswith("ran 1 run(s): 1 completed\n2 run(s) left alone"), summary
        assert f"  {runs[1].path}: another process runs it" in summary
        assert f"  {runs[2].path}: claimed by a later submission" in summary
        # before: run 2 stayed claimed by this (live) submitter: queued, waited on for ever
        assert classify(runs[1].rundir) == "pending"
        counts = wait(campaign, poll_s=0.05, timeout_s=2.0, progress=False)
        assert counts["queued"] == 0
        assert read_claim(runs[2].rundir)["token"] == later      # the later claim kept
    finally:
        os.close(fd)


def test_a_run_folder_deleted_while_queued(campaign, monkeypatch, capsys):
    import ionmd.sweep.worker as worker_mod
    from ionmd.cli import main
    from ionmd.sweep.plan import plan_campaign

    runs = plan_campaign(campaign, create=True)
    gone = runs[1].path

    def execute(rd, **kw):
        if rd.path == runs[0].path:
            shutil.rmtree(gone)                 # removed by hand while it waited its turn
        return _completes(rd)

    monkeypatch.setattr(worker_mod, "execute", execute)
    assert main(["sweep", "submit", str(campaign.path), "--no-progress"]) == 4
    out = capsys.readouterr().out
    assert "ran 2 run(s): 2 completed\n1 run(s) did not start" in out
    (line,) = [ln for ln in out.splitlines() if ln.startswith(f"  {gone}: ")]
    assert "later submission" not in line and "its run folder is gone" in line, line
    assert main(["sweep", "submit", str(campaign.path), "--no-progress"]) == 0   # written again
    assert runs[1].rundir.status["state"] == "completed"


def test_a_claim_replaced_meanwhile_is_not_overwritten(campaign, monkeypatch):
    """A worker records its end in the claim (read, changed, replaced) while ``submit``
    claims the run again (its job looked gone): the later claim stands. Then the same on
    a file system without locks (Lustre without ``-o flock``): claims still work."""
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.state import new_token, read_claim, update_claim, write_claim

    rd = plan_campaign(campaign, create=True)[0].rundir
    old, later = new_token(), new_token()
    write_claim(rd, old, "slurm", "1_0")
    read_done, let_go = threading.Event(), threading.Event()

    def change(claim):                  # the worker, between reading and replacing
        read_done.set()
        let_go.wait(5)
        return {**claim, "job_id": None}

    worker = threading.Thread(target=update_claim, args=(rd.path, old, change))
    worker.start()
    assert read_done.wait(5)
    resubmit = threading.Thread(target=write_claim, args=(rd, later, "slurm", "2_0"))
    resubmit.start()
    resubmit.join(0.5)                  # with the claim locked it waits for the worker
    let_go.set()
    worker.join(5)
    resubmit.join(5)
    assert read_claim(rd)["token"] == later and read_claim(rd)["job_id"] == "2_0"  # before: old

    def no_locks(fd, how):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    write_claim(rd, old, "slurm", "3_0")
    assert update_claim(rd.path, old, lambda claim: {**claim, "job_id": "3_1"})
    assert not update_claim(rd.path, later, lambda claim: {})
    assert read_claim(rd)["job_id"] == "3_1"


def test_a_run_whose_end_could_not_be_recorded_is_not_waited_on(campaign, monkeypatch):
    """Its LAMMPS ran and ended, then recording how it ended failed (an I/O error writing
    its status): the status still says ``running`` (a pid no longer alive). The run is
    this submitter's no longer: ``interrupted``, which the next submit records. Before,
    the live local submitter's claim made it ``running``: the final wait never ended."""
    import subprocess

    import ionmd.sweep.worker as worker_mod
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.state import classify
    from ionmd.sweep.submit import submit, wait

    ended = subprocess.Popen(["true"], start_new_session=True)
    ended.wait()
    calls = []

    def execute(rd, **kw):
        calls.append(str(rd.path))
        if len(calls) == 1:
            rd.set_status("running", pieces=1, step=0, pid=ended.pid, host=socket.gethostname())
            raise OSError(errno.EIO, "Input/output error", str(rd.path / "status.json"))
        return _completes(rd)

    monkeypatch.setattr(worker_mod, "execute", execute)
    summary = submit(campaign, progress=False).ran_summary()
    assert "1 run(s) stopped on an error" in summary and "Input/output error" in summary
    bad = next(r for r in plan_campaign(campaign) if str(r.path) == calls[0])
    assert classify(bad.rundir) == "interrupted"                   # before: running
    assert wait(campaign, poll_s=0.05, timeout_s=2.0, progress=False)["running"] == 0
    submit(campaign, progress=False)                               # resumed, recorded
    assert calls[3:] == [str(bad.path)] and bad.rundir.status["state"] == "completed"


def test_runs_a_ctrl_c_leaves_unstarted_are_pending_at_once(campaign, monkeypatch):
    """Ctrl-C while the pool runs: the runs not started are no longer this submitter's,
    which lives on while its running ones finish: ``pending`` (a second ``submit`` runs
    them), not ``queued`` under it (before: they were, and that ``submit`` left them)."""
    import time

    import ionmd.sweep.local as local_mod
    import ionmd.sweep.worker as worker_mod
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.state import classify, read_claim
    from ionmd.sweep.submit import submit
    from sweep_setup import wait_for

    calls, real = [], local_mod.as_completed

    def ctrl_c_after_the_first(futures):
        it = real(futures)
        yield next(it)
        raise KeyboardInterrupt

    def execute(rd, **kw):
        calls.append(str(rd.path))
        if len(calls) == 2:
            time.sleep(0.5)                     # running when Ctrl-C comes
        return _completes(rd)

    monkeypatch.setattr(local_mod, "as_completed", ctrl_c_after_the_first)
    monkeypatch.setattr(worker_mod, "execute", execute)
    with pytest.raises(KeyboardInterrupt):
        submit(campaign, progress=False)
    runs = plan_campaign(campaign)
    wait_for(lambda: len(calls) == 2 and runs[1].rundir.status.get("state") == "completed",
             10, "the running run to finish")
    assert [classify(r.rundir) for r in runs] == ["completed", "completed", "pending"]
    assert read_claim(runs[2].rundir)["job_id"] is None


@pytest.mark.parametrize("text", ["{", "[]"])
def test_a_damaged_claim_is_said_with_the_way_on(campaign, capsys, text):
    """A sweep.json that is no JSON object (edited by hand, damaged): status and submit say
    which file and what to do (before: a JSONDecodeError or AttributeError traceback)."""
    from ionmd.cli import main
    from ionmd.sweep.plan import plan_campaign

    runs = plan_campaign(campaign, create=True)
    (runs[0].path / "sweep.json").write_text(text)
    for command in ("status", "submit"):
        extra = ["--no-progress"] if command == "submit" else []
        assert main(["sweep", command, str(campaign.path), *extra]) == 1
        err = capsys.readouterr().err
        assert f"{runs[0].path / 'sweep.json'} is no JSON object" in err and "remove it" in err
        assert runs[0].rundir.status.get("state") == "pending"         # nothing run


def test_a_claim_damaged_while_queued_ends_only_its_run(campaign, monkeypatch):
    """sweep.json of a queued run replaced by a JSON list: that run did not start and says
    so; the others ran (before: update_claim's AttributeError escaped the worker's every
    guard, and the local pool's)."""
    import ionmd.sweep.worker as worker_mod
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.submit import submit

    runs = plan_campaign(campaign, create=True)

    def execute(rd, **kw):
        if rd.path == runs[0].path:
            (runs[1].path / "sweep.json").write_text("[]")
        return _completes(rd)

    monkeypatch.setattr(worker_mod, "execute", execute)
    summary = submit(campaign, progress=False).ran_summary()
    assert summary.startswith("ran 2 run(s): 2 completed\n1 run(s) did not start"), summary
    assert f"  {runs[1].path}: {runs[1].path / 'sweep.json'} is no JSON object" in summary
