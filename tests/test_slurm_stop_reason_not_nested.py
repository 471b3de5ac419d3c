"""A SLURM task stopped before its LAMMPS started (scancel or the walltime warning right
after a requeue) raises with the status an earlier job left: its reason ("timed out:
SLURM job 7 ...; stopped by SIGTERM after step ...") was wrapped whole inside the new
job's, one more "timed out: SLURM job" per requeue. Now the run's own account is kept only
where this stop's LAMMPS wrote it ("stopped by SIG...", as
:func:`ionmd.protocols.outcome._finish` does).

Reference: the job ids and the count of each job's text in the recorded reason.
"""

from __future__ import annotations

from ionmd.sweep.worker import JobStop, _why_stopped

OWN = ("stopped by SIGTERM after step 0, its last thermo row (its trajectory reached step "
       "930); run again to resume from restart.b (step 800)")
EARLIER_JOB = ("timed out: SLURM job 7 reached its time limit (walltime); ionmd stopped LAMMPS "
               "and asked SLURM to requeue the task (else `ionmd sweep submit` resumes it); "
               f"{OWN}; a run that times out every time needs a longer resources.walltime")


def _time_limit_stop() -> JobStop:
    stop = JobStop()
    stop.time_limit = True
    return stop


def test_stop_before_lammps_started_does_not_nest_the_earlier_jobs_reason(monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "8")
    monkeypatch.delenv("SLURM_ARRAY_JOB_ID", raising=False)
    earlier = {"state": "interrupted", "stopped_by": "SIGTERM", "reason": EARLIER_JOB}
    why = _why_stopped(_time_limit_stop(), earlier)
    assert why.startswith("timed out: SLURM job 8 reached its time limit")
    assert why.count("SLURM job") == 1 and "job 7" not in why, why     # was: both jobs'
    assert why.count("needs a longer resources.walltime") == 1, why


def test_own_account_of_this_stop_is_kept_after_the_jobs(monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "8")
    monkeypatch.delenv("SLURM_ARRAY_JOB_ID", raising=False)
    fresh = {"state": "interrupted", "stopped_by": "SIGTERM", "reason": OWN}
    timed_out = _why_stopped(_time_limit_stop(), fresh)
    assert f"; {OWN};" in timed_out and timed_out.count("SLURM job 8") == 1
    cancelled = _why_stopped(JobStop(), fresh)
    assert cancelled.startswith("stopped by SLURM job 8 (") and cancelled.endswith(
        f"; {OWN}; `ionmd sweep submit` resumes it"), cancelled
