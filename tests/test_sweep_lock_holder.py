"""A run's LAMMPS lock (``.lmp.lock``, :mod:`ionmd.sweep.lockrun`) names its holder once
held (pid, host, SLURM job and step, start time), and a refusal names it: before, "another
process runs this run directory (it holds .../.lmp.lock)" left the user to guess which host,
pid or job. The flock alone decides: a dead holder's line left in a free lock refuses
nothing.

The ranks of a SLURM job step (``srun --ntasks N ... lockrun.py --step LOCK lmp``) give up
together with rank 0: before, ranks 1..N-1 started LAMMPS at once, so where rank 0 found
the lock held, rank 1 ran LAMMPS alone on the run's files while another LAMMPS ran the run
(measured on tests/slurm_cluster.py's cluster, MPICH under srun without PMI: a singleton;
its marker file written). References: the holder's pid as :mod:`subprocess` knows it
(``exec`` keeps it), the kernel's flock, files the command would have written, a real
``srun``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from ionmd.protocols.run_lock import lock_holder
from ionmd.sweep.lockrun import BUSY
from ionmd.sweep.worker import LOCKRUN

SLURM_VARS = ("SLURM_JOB_ID", "SLURM_STEP_ID", "SLURM_PROCID", "SLURM_ARRAY_JOB_ID",
              "SLURM_ARRAY_TASK_ID", "SLURM_RESTART_COUNT", "SLURM_SRUN_COMM_PORT")
# lockrun with a short wait for the lock (its 10 s default, for a holder about to let go)
SHORT_WAIT = ("import sys, ionmd.sweep.lockrun as L; L.WAIT_S = 0.3; "
              "L.main(['lockrun.py', *sys.argv[1:]])")
TOUCH = ["sh", "-c", 'touch "ran.${SLURM_PROCID:-x}"']


def _env(**slurm) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SLURM_VARS}
    return {**env, **slurm}


def _wait(cond, timeout: float = 10.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline and not cond():
        time.sleep(0.02)
    return cond()


@pytest.fixture
def holder(tmp_path):
    """A third process holding ``tmp_path/.lmp.lock`` through lockrun (its "LAMMPS": a
    sleep), as a sweep job's LAMMPS holds it."""
    lock = tmp_path / ".lmp.lock"
    proc = subprocess.Popen([sys.executable, str(LOCKRUN), str(lock), "sleep", "60"],
                            env=_env(SLURM_JOB_ID="4242"))
    try:
        assert _wait(lambda: lock_holder(lock) is not None), "the holder took no lock"
        yield proc, lock
    finally:
        proc.kill()
        proc.wait()


def _short_lockrun(args: list[str], cwd, **env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SHORT_WAIT, *args], cwd=cwd,
                            env=_env(**env), stderr=subprocess.PIPE, text=True)


def test_a_refusal_names_the_holder_and_a_dead_one_refuses_nothing(tmp_path, holder):
    proc, lock = holder
    named = f"pid {proc.pid} on {socket.gethostname()}, SLURM job 4242, since "
    assert lock_holder(lock).startswith(named), lock_holder(lock)
    second = _short_lockrun([str(lock), *TOUCH], tmp_path)
    _, err = second.communicate(timeout=30)
    assert second.returncode == BUSY and named in err, err       # old: no pid, no host
    assert not (tmp_path / "ran.x").exists()
    proc.kill()
    proc.wait()
    # its line stays in the free lock file: it informs no one and refuses nothing
    assert lock.read_text().startswith(named) and lock_holder(lock) is None
    third = subprocess.run([sys.executable, str(LOCKRUN), str(lock), *TOUCH], cwd=tmp_path,
                           env=_env(), capture_output=True, text=True, timeout=30)
    assert third.returncode == 0 and (tmp_path / "ran.x").exists(), third.stderr
    assert "pid " in lock.read_text() and named not in lock.read_text()   # replaced


def test_every_rank_of_a_step_gives_up_with_rank_0(tmp_path, holder):
    proc, lock = holder
    step = dict(SLURM_JOB_ID="77", SLURM_STEP_ID="0", SLURM_SRUN_COMM_PORT="4711")
    t0 = time.time()
    ranks = [_short_lockrun(["--step", str(lock), *TOUCH], tmp_path, SLURM_PROCID=r, **step)
             for r in ("1", "0")]
    errs = [r.communicate(timeout=60)[1] for r in ranks]
    assert time.time() - t0 < 20, "the step's ranks did not end promptly"
    assert not list(tmp_path.glob("ran.*"))     # the run's files untouched (old: ran.1)
    assert [r.returncode for r in ranks] == [BUSY, BUSY], errs
    assert all(f"pid {proc.pid} on " in e and "not starting a second LAMMPS" in e
               for e in errs), errs
    assert lock_holder(lock).startswith(f"pid {proc.pid} on ")   # the holder's line kept


def test_a_rank_starts_once_its_rank_0_holds_the_lock(tmp_path):
    """With the lock free, rank 1 waits for its rank 0's line (not a stale one of another
    step), then both run."""
    lock = tmp_path / ".lmp.lock"
    lock.write_text("pid 1 on elsewhere, SLURM job 77 step 0, since 2020-01-01T00:00:00Z\n"
                    "step 77.0..4711\n")        # a requeued job's earlier incarnation
    step = dict(SLURM_JOB_ID="77", SLURM_STEP_ID="0", SLURM_RESTART_COUNT="1",
                SLURM_SRUN_COMM_PORT="4711")
    cmd = [sys.executable, str(LOCKRUN), "--step", str(lock), *TOUCH]
    rank1 = subprocess.Popen(cmd, cwd=tmp_path, env=_env(SLURM_PROCID="1", **step))
    time.sleep(1.0)
    assert rank1.poll() is None and not (tmp_path / "ran.1").exists()   # waits for rank 0
    rank0 = subprocess.run(cmd, cwd=tmp_path, env=_env(SLURM_PROCID="0", **step), timeout=30)
    assert rank0.returncode == 0 and rank1.wait(timeout=30) == 0
    assert (tmp_path / "ran.0").exists() and (tmp_path / "ran.1").exists()


def test_status_and_a_worker_name_the_lammps_that_holds_a_run(tmp_path, morse):
    """``sweep status``'s note on a run its LAMMPS holds, and a worker's 'left alone', name
    the holder as its lock file does (old: the note said nothing while its job lived, and
    the worker said only that the lock is held)."""
    from ionmd.sweep import load_campaign, plan_campaign
    from ionmd.sweep.state import new_token, write_claim
    from ionmd.sweep.submit import campaign_status
    from ionmd.sweep.worker import run_one
    from sweep_setup import campaign_dir, write_campaign

    c = load_campaign(write_campaign(campaign_dir(tmp_path / "c", morse), temperatures=(600,)))
    (run,) = plan_campaign(c, create=True)
    lock = run.path / ".lmp.lock"
    proc = subprocess.Popen([sys.executable, str(LOCKRUN), str(lock), "sleep", "60"],
                            env=_env(SLURM_JOB_ID="31", SLURM_STEP_ID="2"))
    try:
        assert _wait(lambda: lock_holder(lock) is not None)
        named = f"pid {proc.pid} on {socket.gethostname()}, SLURM job 31 step 2, since "
        (row,) = campaign_status(c)
        assert row["class"] == "running" and named in (row["note"] or ""), row
        token = new_token()
        write_claim(run.rundir, token, "local")
        res = run_one(run.path, token)
        assert f"{lock} is held by {named}" in res.get("skipped", ""), res
        assert not (run.path / "in.0.lmp").exists()
    finally:
        proc.kill()
        proc.wait()
