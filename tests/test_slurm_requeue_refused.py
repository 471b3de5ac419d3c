"""A SLURM array task at its walltime: the run records whether submitit requeued the task.
submitit requeues it at most ``max_num_timeout`` (3) times; at the 4th time limit its
handler refuses ("Job not requeued because: timed-out too many times."), yet the run's
reason said "ionmd stopped LAMMPS and asked SLURM to requeue the task" every time, so
``sweep status`` promised a requeue that never came.

Reference: submitit's own ``USR2`` handler (``SignalHandler.checkpoint_and_try_requeue``),
installed as submitit installs it in a job, for a task that ran its whole walltime: it
refuses with no timeouts left and requeues (``scontrol requeue``, recorded here) with some.
The worker's run is stood in for by one that stops as LAMMPS stopped at the time limit does
(the worker's reason written, RunInterrupted raised)."""

from __future__ import annotations

import signal
import time

import pytest
from submitit.core.job_environment import SignalHandler
from submitit.core.utils import DelayedSubmission, JobPaths, UncompletedJobError
from submitit.slurm.slurm import SlurmJobEnvironment

from ionmd.errors import RunInterrupted
from ionmd.protocols import plan_runs
from ionmd.protocols.rundir import RunDir
from ionmd.sweep import worker
from ionmd.sweep.slurm import RunGroupJob
from protocol_setup import fcc_cell, morse_model, short

WALLTIME_MIN = 10


@pytest.fixture
def task(tmp_path, monkeypatch):
    """A run folder, the environment of array task 40_1, and a run that stops at the walltime."""
    (rd,) = plan_runs(short("conductivity-nvt"), fcc_cell(), morse_model(tmp_path / "m.pt"),
                      tmp_path / "runs")
    monkeypatch.setenv("SLURM_JOB_ID", "41")
    monkeypatch.setenv("SLURM_ARRAY_JOB_ID", "40")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "1")
    monkeypatch.delenv("SLURM_PROCID", raising=False)

    def stopped_at_time_limit(path, *args, stop=None, **kw):
        stop.time_limit = True          # USR2 came; LAMMPS stopped and the worker recorded it
        run = RunDir.open(path)
        run.set_status("interrupted", reason=worker._why_stopped(stop, run.status))
        raise RunInterrupted("stopped by SIGTERM", signal.SIGTERM)

    monkeypatch.setattr(worker, "run_one", stopped_at_time_limit)
    requeued = []
    monkeypatch.setattr(SlurmJobEnvironment, "_requeue",
                        lambda self, countdown: requeued.append(self.job_id))
    return rd, requeued, tmp_path / "slurm"


def run_task_with_submitit_handler(rd, folder, timeouts_left: int):
    """``run_group`` of ``rd`` under submitit's USR2 handler for a task that ran its whole
    walltime with ``timeouts_left`` requeues left."""
    folder.mkdir(exist_ok=True)
    delayed = DelayedSubmission(RunGroupJob(), [str(rd.path)], "token", 1, 1, "srun", [])
    delayed.set_timeout(WALLTIME_MIN, timeouts_left)
    handler = SignalHandler(SlurmJobEnvironment(), JobPaths(folder, "40_1"), delayed)
    handler._start_time = time.time() - WALLTIME_MIN * 60       # timed out, as submitit sees it
    before = signal.signal(signal.SIGUSR2, handler.checkpoint_and_try_requeue)
    try:
        worker.run_group([str(rd.path)], "token", launcher="srun")
    finally:
        signal.signal(signal.SIGUSR2, before)


def test_fourth_time_limit_says_the_task_was_not_requeued(task):
    rd, requeued, folder = task
    with pytest.raises(UncompletedJobError, match="timed-out too many times"):
        run_task_with_submitit_handler(rd, folder, timeouts_left=0)
    assert requeued == []
    reason = rd.status["reason"]
    assert reason.startswith("timed out: SLURM job 40_1 reached its time limit"), reason
    assert "requeue the task" not in reason, reason          # was: "asked SLURM to requeue"
    assert "the task was not requeued (submitit: Job not requeued because: timed-out too " \
           "many times.)" in reason, reason
    assert rd.status["state"] == "interrupted"


def test_a_requeued_task_says_so(task):
    rd, requeued, folder = task
    with pytest.raises(SystemExit):             # submitit exits after `scontrol requeue`
        run_task_with_submitit_handler(rd, folder, timeouts_left=2)
    assert requeued == ["40_1"]
    reason = rd.status["reason"]
    assert reason.count("SLURM job 40_1") == 1 and "the task was requeued" in reason, reason


@pytest.mark.parametrize("timeouts_left, outcome", [(2, SystemExit), (0, UncompletedJobError)])
def test_a_note_it_cannot_write_leaves_submitit_its_word(task, timeouts_left, outcome):
    """The run's folder unreadable when the note is added (its run.json edited into no
    JSON object meanwhile): submitit's exit after the requeue, or its refusal, still ends
    the task (before: the folder's error replaced it, and submitit took a requeued task
    for one that failed)."""
    rd, requeued, folder = task
    stop_at_limit = worker.run_one

    def and_run_json_broken(path, *args, **kw):
        try:
            stop_at_limit(path, *args, **kw)
        finally:
            (rd.path / "run.json").write_text("[]")
    worker.run_one = and_run_json_broken          # restored by monkeypatch (task)
    with pytest.raises(outcome):
        run_task_with_submitit_handler(rd, folder, timeouts_left=timeouts_left)
    assert requeued == (["40_1"] if outcome is SystemExit else [])
