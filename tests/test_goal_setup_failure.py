"""A goal run whose setup fails before LAMMPS runs (the worker's error: a file it cannot
write, a runner it cannot start) fails the same way on every hand-out. Before, the local
submitter's claim stayed on the run (its submitter alive): the run read ``queued``, the
goal stopped at "waiting ... 1 run(s) to finish first" without the reason, and ``submit``'s
final wait never ended (on SLURM such runs were handed out ``HAND_OUT_AGAIN`` times before
the goal gave up). Now the worker records the error in the run's claim and lets go of it:
the run is ``pending``, and the goal's first round stops waiting on it, saying why.

The failing setup is a stand-in (the worker's ``execute`` raising what ``launch`` raises
before LAMMPS starts); the goal's analysis too (``measure``): what is checked is what the
worker, ``submit`` and the rounds do with such a run."""

from __future__ import annotations

import pytest

from ionmd.errors import IonmdError

GOAL = ('goal = {temperatures = [600, 1000], sigma_300K_factor = 2, budget = "100 h", '
        'step = "1ps"}')
WHY = "cannot write in.md.0 (stand-in setup failure)"


@pytest.fixture
def campaign(tmp_path, morse, monkeypatch):
    import ionmd.sweep.goal as goal_mod
    import ionmd.sweep.worker as worker_mod
    from ionmd.sweep import load_campaign
    from sweep_setup import campaign_dir, write_campaign

    def setup_fails(rd, **kw):
        raise IonmdError(WHY)

    def measured(campaign, runs):      # nothing completed: no point, nothing spent
        return [], 0.0

    monkeypatch.setattr(worker_mod, "execute", setup_fails)
    monkeypatch.setattr(goal_mod, "measure", measured)
    return load_campaign(write_campaign(campaign_dir(tmp_path / "c", morse),
                                        temperatures=(600, 1000), extra=GOAL))


def test_a_run_whose_setup_failed_is_said_at_once_with_the_reason(campaign):
    from ionmd.sweep.goal import pursue
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.state import classify
    from ionmd.sweep.submit import campaign_status, submit, wait

    sub = submit(campaign, progress=False)              # as `ionmd sweep submit` does first
    assert [r["error"] for r in sub.results] == [WHY, WHY]
    runs = plan_campaign(campaign)
    assert [classify(r.rundir) for r in runs] == ["pending", "pending"]   # before: queued
    counts = wait(campaign, poll_s=0.1, timeout_s=5.0, progress=False)
    assert counts["queued"] == 0                        # before: waited for ever

    calls = []
    all_rounds = list(pursue(campaign, lambda: calls.append(1) or True))
    assert calls == []                                  # not handed out again
    (last,) = all_rounds[-1]
    assert last.state == "waiting" and last.detail.startswith("stopped waiting: 2 run(s) whose "
                                                              "setup failed")
    for r in runs:
        assert f"{r.path}: its setup failed before LAMMPS ran: {WHY}" in last.detail
    notes = [row["note"] for row in campaign_status(campaign)]     # "sweep status says why"
    assert all(n.startswith("its setup failed before LAMMPS ran") and WHY in n for n in notes)


def test_the_next_claim_forgets_the_error(campaign, monkeypatch):
    """The error belongs to the hand-out that met it: once fixed, a new submit claims the
    run afresh (a goal then waits on it as on any run)."""
    import ionmd.sweep.worker as worker_mod
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.state import read_claim
    from ionmd.sweep.submit import setup_failure, submit

    submit(campaign, progress=False)
    runs = plan_campaign(campaign)
    assert all(setup_failure(campaign, r, "pending") for r in runs)
    monkeypatch.setattr(worker_mod, "execute", lambda rd, **kw: dict(rd.status))  # fixed
    submit(campaign, progress=False)
    assert not any(setup_failure(campaign, r, "completed") for r in runs)
    assert all("error" not in read_claim(r.rundir) for r in runs)


# --- every failure before LAMMPS starts, in every path (review of 7555056) -------------
# A missing `lmp` is looked up (find_lammps) before the claim says where the run ran; before,
# that lookup sat outside the worker's `except IonmdError`: the local pool's fut.result()
# re-raised it and the whole submit stopped, the SLURM task left the claim as it was (the
# run handed out again HAND_OUT_AGAIN times). The stand-in finds no lmp on its first call
# only: the pool's other run has one and must still run.

NO_LMP = "LAMMPS executable `lmp` not found (stand-in)"


@pytest.fixture
def lmp_once_missing(campaign, monkeypatch):
    """``campaign`` whose worker finds no ``lmp`` the first time it looks, and whose
    ``execute`` completes the run (a stand-in for LAMMPS) and notes which it ran."""
    import threading

    import ionmd.sweep.worker as worker_mod

    lock, looked, ran = threading.Lock(), [], []

    def find_lammps(nprocs=1):
        with lock:
            looked.append(1)
            if len(looked) == 1:
                raise IonmdError(NO_LMP)
        return ["lmp"]

    def execute(rd, **kw):
        ran.append(str(rd.path))
        return rd.set_status("completed", step=rd.planned_steps)

    monkeypatch.setattr(worker_mod, "find_lammps", find_lammps)
    monkeypatch.setattr(worker_mod, "execute", execute)
    return campaign, ran


def test_lmp_not_found_is_recorded_and_the_pool_goes_on(lmp_once_missing, capsys):
    from ionmd.cli import main
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.state import classify, read_claim
    from ionmd.sweep.submit import setup_failure

    campaign, ran = lmp_once_missing
    assert main(["sweep", "submit", str(campaign.path), "--no-progress"]) == 4  # before: raised
    runs = {str(r.path): r for r in plan_campaign(campaign)}
    (failed,) = [p for p in runs if p not in ran]
    assert len(ran) == 1                                    # the other run of the pool ran
    claim = read_claim(runs[failed].rundir)
    assert claim["error"] == NO_LMP and claim["job_id"] is None
    assert claim["ran"]["job_id"].startswith("local:")      # the hand-out it failed in
    assert classify(runs[failed].rundir) == "pending"
    assert NO_LMP in setup_failure(campaign, runs[failed], "pending")
    out = capsys.readouterr().out
    assert "ran 1 run(s): 1 completed\n1 run(s) did not start" in out   # before: not said
    assert f"  {failed}: {NO_LMP}" in out
    assert f"{failed}: its setup failed before LAMMPS ran: {NO_LMP}" in out   # the goal's


@pytest.mark.parametrize("launcher", ["mpirun", "srun"])
def test_a_slurm_task_records_the_lookup_failure(campaign, monkeypatch, launcher):
    """The array task's path (run_group -> run_one), ``srun`` finding lmp itself
    (lammps_command) as ``mpirun`` does (find_lammps)."""
    import ionmd.sweep.worker as worker_mod
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.state import classify, new_token, read_claim, write_claim

    def no_lmp(nprocs=1):
        raise IonmdError(NO_LMP)

    monkeypatch.setattr(worker_mod, "find_lammps", no_lmp)
    runs = plan_campaign(campaign, create=True)
    token = new_token()
    for r in runs:
        write_claim(r.rundir, token, "slurm", "123_0")
    results = worker_mod.run_group([str(r.path) for r in runs], token, launcher=launcher)
    assert [r["error"] for r in results] == [NO_LMP, NO_LMP]     # both tried: before, raised
    for r in runs:
        claim = read_claim(r.rundir)
        assert claim["error"] == NO_LMP and claim["ran"]["job_id"] == "123_0"
        assert classify(r.rundir, {}) == "pending"


def test_a_run_folder_it_cannot_open_is_recorded(campaign):
    """RunDir.open refusing a run.json edited after submit checked it (the SLURM queue
    wait): said in the claim as the other failures are."""
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.state import new_token, read_claim, write_claim
    from ionmd.sweep.submit import setup_failure
    from ionmd.sweep.worker import run_one

    run = plan_campaign(campaign, create=True)[0]
    token = new_token()
    write_claim(run.rundir, token, "slurm", "124_0")
    (run.path / "run.json").write_text("{not json")
    res = run_one(run.path, token, launcher="srun")
    assert "is not valid JSON" in res["error"]
    claim = read_claim(run.rundir)
    assert claim["error"] == res["error"] and claim["job_id"] is None   # before: no error
    assert "run.json is not valid JSON" in setup_failure(campaign, run, "pending")


def test_a_run_handed_out_again_meanwhile_keeps_its_new_claim(campaign, monkeypatch):
    """A worker whose setup fails after a later submission claimed the run (its token
    replaced) leaves that claim alone: it is the later job's."""
    import ionmd.sweep.worker as worker_mod
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.state import new_token, read_claim, write_claim

    run = plan_campaign(campaign, create=True)[0]
    old, later = new_token(), new_token()
    write_claim(run.rundir, old, "slurm", "125_0")

    def claimed_again_then_fails(rd, **kw):
        write_claim(rd, later, "slurm", "126_0")
        raise IonmdError(WHY)

    monkeypatch.setattr(worker_mod, "execute", claimed_again_then_fails)
    res = worker_mod.run_one(run.path, old, launcher="mpirun")
    claim = read_claim(run.rundir)
    assert claim["token"] == later and claim["job_id"] == "126_0"   # before: job_id None
    assert "error" not in claim
    assert res["error"].startswith(WHY) and "left as it is" in res["error"]


def test_only_the_series_whose_setup_failed_stops(tmp_path, morse, monkeypatch):
    """Two series (two structures): a's runs fail their setup, b's first hand-out is left
    by a job that died (its claim gone: pending). The rounds hand b's runs out again and b
    goes on until it stops (no_fit: the stand-in analysis gives no points); a's are said
    at once and not handed out again. Before, the first round stopped every series."""
    import ionmd.sweep.goal as goal_mod
    import ionmd.sweep.worker as worker_mod
    from ionmd.sweep import load_campaign
    from ionmd.sweep.goal import pursue
    from ionmd.sweep.state import release_claim
    from ionmd.sweep.submit import submit
    from sweep_setup import campaign_dir, write_campaign

    folder = campaign_dir(tmp_path / "c", morse)
    (folder / "b.cif").write_bytes((folder / "fcc.cif").read_bytes())
    (folder / "fcc.cif").rename(folder / "a.cif")
    campaign = load_campaign(write_campaign(folder, temperatures=(600, 1000), extra=GOAL,
                                            structures='["a.cif", "b.cif"]'))
    calls: dict[str, int] = {}

    def execute(rd, **kw):
        calls[str(rd.path)] = calls.get(str(rd.path), 0) + 1
        if "/a/" in str(rd.path):
            raise IonmdError(WHY)
        if calls[str(rd.path)] == 1:
            release_claim(rd)                   # its job died before running it
            return dict(rd.status)
        return rd.set_status("completed", step=rd.planned_steps)

    monkeypatch.setattr(worker_mod, "execute", execute)
    monkeypatch.setattr(goal_mod, "measure", lambda campaign, runs: ([], 0.0))
    submit(campaign, progress=False)
    rounds = list(pursue(campaign, lambda: submit(campaign, progress=False) and True))
    a_runs = [p for p in calls if "/a/" in p]
    b_runs = [p for p in calls if "/b/" in p]
    assert len(a_runs) == len(b_runs) == 2
    assert [calls[p] for p in a_runs] == [1, 1]             # not handed out again
    assert [calls[p] for p in b_runs] == [2, 2]             # before: 1, 1 (stopped)
    first = {r.series: r for r in rounds[0]}
    assert first["a/morse"].detail.startswith("stopped waiting: 2 run(s) whose setup failed")
    assert WHY in first["a/morse"].detail
    assert first["b/morse"].detail == "2 run(s) to finish first"
    last = {r.series: r for r in rounds[-1]}
    assert last["b/morse"].state == "no_fit"      # its runs ended (no points: the stand-in)
    assert last["a/morse"].state == "waiting" and "said in an earlier round" in \
        last["a/morse"].detail


def test_an_error_after_lammps_started_is_no_setup_failure(tmp_path, morse, monkeypatch):
    """An I/O error once a piece of the run had started (review of ee0b41e): it was recorded
    as a setup failure ('did not start'), which stops the series for good; the run is one
    that stopped on an error, resumed by the next submit, and the summary says so."""
    import errno

    import ionmd.sweep.worker as worker_mod
    from ionmd.sweep import load_campaign
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.submit import setup_failure, submit
    from sweep_setup import campaign_dir, write_campaign

    def ran_then_io_error(rd, **kw):            # LAMMPS started a piece, then an I/O error
        rd.set_status("interrupted", pieces=1, step=50, resumable=True)
        raise OSError(errno.EIO, "Input/output error", str(rd.path / "log.lammps"))

    monkeypatch.setattr(worker_mod, "execute", ran_then_io_error)
    c = load_campaign(write_campaign(campaign_dir(tmp_path / "c", morse),
                                     temperatures=(600, 1000)))
    summary = submit(c, progress=False).ran_summary()
    assert "did not start" not in summary
    assert "2 run(s) stopped on an error" in summary and "Input/output error" in summary
    for run in plan_campaign(c):
        assert setup_failure(c, run, "interrupted") is None
