"""What a run stopped by its SLURM job is told: a job requeued (``scontrol requeue``,
preemption) resumes the run by itself once SLURM starts it again. Before, the reason
ended "`ionmd sweep submit` resumes it" alone, which after a requeue is not what happens
(the audit: the requeued job resumed it at step 8000 with no submit)."""

from __future__ import annotations

from ionmd.sweep.worker import JobStop, _why_stopped


def test_a_requeue_is_said_to_resume_the_run_by_itself(monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "8")
    monkeypatch.delenv("SLURM_ARRAY_JOB_ID", raising=False)
    why = _why_stopped(JobStop(), {"state": "interrupted", "stopped_by": "SIGTERM",
                                   "reason": "stopped by SIGTERM after step 8000"})
    assert "a requeued job resumes the run by itself when SLURM starts it again" in why, why
    assert why.endswith("`ionmd sweep submit` resumes it"), why
