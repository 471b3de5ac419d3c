"""The failure report dates lost atoms in the words of the run's status
(``LostAtoms.when``, as ``ionmd.protocols.execute`` records it), not in its own
"(after step X, found at the next thermo output)". Real LAMMPS runs:

- ``echo none`` and no ``thermo`` command (108-atom LJ cell, one atom shot out through a
  fixed z boundary): the log gives no thermo spacing and no run length, so the output that
  found the loss is unknown (LAMMPS, told to warn, finds it at step 300, the run's end);
  the report said "after step 0, found at the next thermo output", as if at step 1.
- the template's minimisation losing an atom (``lmp`` + the plugin, 32-atom Morse cell):
  the status says "during the minimisation before the MD (after its row at step N), so the
  MD never started" and records step 0; the report said "after step N, found at the next
  thermo output" and dated the failure at the minimiser's step N, as an MD step.
"""

from __future__ import annotations

import re

import numpy as np

from ionmd.analysis.failure import detect_failures
from lammps_runner import run_lmp
from test_runs_lost_unknown_output import SHOT
from test_runs_relaxation_loss import relaxation_loss  # noqa: F401 - the real run, a fixture


def test_unknown_output_is_said_unknown(tmp_path):
    warned = run_lmp(SHOT.format(lost="warn"), tmp_path / "warn").stdout
    assert re.search(r"WARNING: Lost atoms.*\n(?:.*\n)*?\s*300\s", warned)   # LAMMPS: step 300
    run_lmp(SHOT.format(lost="error"), tmp_path / "error", check=False)
    log = (tmp_path / "error" / "log.lammps").read_text()
    report = detect_failures(steps=np.array([0]), timestep_fs=5.0, log_text=log)
    (event,) = report.events
    assert event.mode == "lost_atoms" and event.step == 0
    assert ("after step 0 (the output that found them is unknown: the log gives neither its "
            "thermo spacing nor its run's length)") in event.detail
    assert "found at the next thermo output" not in event.detail


def test_minimisation_loss_reads_as_the_status_says(relaxation_loss):
    rd, status = relaxation_loss
    log = (rd.path / "log.0.lammps").read_text()
    rows = [int(p[0]) for p in (ln.split() for ln in log[log.index("\nminimize"):].splitlines())
            if len(p) == 9 and p[0].isdigit()]
    assert rows[-1] > 0                       # the minimiser's own steps, no MD step
    report = detect_failures(steps=np.zeros(0, dtype=int), timestep_fs=2.0, log_text=[log],
                             log_dir=rd.path)
    (event,) = [e for e in report.events if e.mode == "lost_atoms"]
    when = (f"during the minimisation before the MD (after its row at step {rows[-1]}), "
            f"so the MD never started")
    assert when in status["reason"]                       # the run's status ...
    assert when in event.detail                           # ... and the failure report
    assert event.step == status["failed_step"] == 0
