"""A minimisation after the MD (a template's quench) that loses atoms: the run's status
(execute) says "during a minimisation after the MD's row at step N" and failed_step N
(the MD ran to its end), but the failure report (``detect_failures``, what ``ionmd
analyze`` reports) dated it at step 0 and added "so the MD never started", the words of a
relaxation before the MD. Real ``lmp`` run with the plugin (32-atom Morse cell); the
reference is LAMMPS's own log: its last MD row before the echoed ``minimize``."""

from __future__ import annotations

import numpy as np

from ionmd.analysis.failure import detect_failures
from protocol_setup import run_quench_losing_atoms


def test_a_quench_loss_is_dated_after_the_md_as_the_status_says(tmp_path):
    rd, status, log = run_quench_losing_atoms(tmp_path)
    md_part = log[:log.index("\nminimize")]
    md_rows = [int(p[0]) for p in (ln.split() for ln in md_part.splitlines())
               if len(p) == 9 and p[0].isdigit()]
    assert md_rows[-1] == rd.target_step > 0                 # LAMMPS: the MD ran to its end
    report = detect_failures(steps=np.zeros(0, dtype=int), timestep_fs=2.0, log_text=[log],
                             log_dir=rd.path)
    (event,) = [e for e in report.events if e.mode == "lost_atoms"]
    assert event.step == status["failed_step"] == md_rows[-1]
    assert f"during a minimisation after the MD's row at step {md_rows[-1]}" in event.detail
    assert "never started" not in event.detail
