"""A launcher that fails before LAMMPS starts (srun refusing a step, mpirun missing a
library): the run stays resumable, and its reason carries what the launcher said (before:
"interrupted at step 0 (exit status 1)", the cause only in screen.0.txt)."""

from __future__ import annotations

from ionmd.protocols import plan_runs
from ionmd.protocols.execute import execute
from protocol_setup import fcc_cell, morse_model, short

SAID = "srun: error: Unable to create step for job 12: Job/step already completing"


def test_launcher_failure_names_what_the_launcher_said(tmp_path):
    proto = short("conductivity", temperatures=(600.0,), duration_ps=0.05, discard_ps=0.0)
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp_path / "morse.pt"), tmp_path / "out",
                      name="fcc")
    launcher = ["sh", "-c", f"echo '{SAID}' >&2; exit 1", "sh"]
    status = execute(rd, launcher=launcher)
    assert status["state"] == "interrupted" and status["resumable"] is True
    assert status["returncode"] == 1
    assert status["reason"].startswith("LAMMPS did not start (exit status 1; no log.0.lammps)")
    assert SAID in status["reason"]
    # the same run then starts as usual
    assert execute(rd)["state"] == "completed"
