"""`ionmd analyze` of a run whose resumed piece lost atoms at its setup (the run of
tests/test_protocols_resumed_setup_loss.py: a real `lmp` run, killed at step 1500 after its
restart at 1000, resumed from that restart and lost an atom before its first row).

status.json dates the loss at the restart's step, as LAMMPS restores it; the post-mortem,
reading the logs of both pieces, dated it after the killed piece's last row (1500) and let
the run end there. Now the post-mortem agrees with status.json and LAMMPS.
"""

from __future__ import annotations

import test_protocols_resumed_setup_loss as setup_loss

from ionmd.analysis.run_failure import failures_of
from ionmd.analysis.run_spec import load_run_spec

KILLED_AT = setup_loss.KILLED_AT
lammps_restart_step = setup_loss.lammps_restart_step
lost_at_setup = setup_loss.lost_at_setup      # the run, made once for this module too


def test_post_mortem_dates_the_loss_at_the_restart(lost_at_setup):
    rd, _, _, status = lost_at_setup
    start = lammps_restart_step(rd.path, status["resumed_from"])
    spec = load_run_spec(rd.path)
    report = failures_of(spec)
    (lost,) = [e for e in report.events if e.mode == "lost_atoms"]
    assert lost.step == start < KILLED_AT
    assert report.run_end_step == start
    assert lost.target_temperature_K == status["failed_temperature_K"]
    assert lost.temperature_K == status["temperature_now_K"]
    assert lost.time_ps == status["failed_step"] * spec.timestep_fs * 1e-3
    assert all(e.step <= start for e in report.events)
