"""A protocol whose template's ``thermo_style`` prints no step, run for real (``lmp`` + the
plugin, a 32-atom Morse cell): its thermo rows cannot be placed in the run, and the status
says so and how to fix it (before: ``interrupted at step 0 (exit status 0)``, resumable,
and every ``ionmd run`` ran it again from the start). The step recorded is LAMMPS's own
(the template's ``IONMD_END`` line after its run); nothing of the run is deleted."""

from __future__ import annotations

import re

import pytest

from ionmd.protocols import execute, plan_runs
from ionmd.protocols.execute import INPUTS
from protocol_setup import fcc_cell, morse_model, short


@pytest.fixture(scope="module")
def stepless_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stepless_template")
    template = tmp / "no_step.lmp"
    text = (INPUTS / "md.lmp").read_text()
    assert "thermo_style    custom step time temp" in text
    template.write_text(text.replace("custom step time temp", "custom time temp"))
    proto = short("conductivity", temperatures=(600.0,), duration_ps=0.05, discard_ps=0.0,
                  template=str(template))
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp / "morse.pt"), tmp / "out",
                      name="fcc")
    return rd, template, execute(rd)


def test_status_says_why_and_how_to_fix(stepless_run):
    rd, template, status = stepless_run
    log = (rd.path / "log.0.lammps").read_text()
    assert "Step" not in log.split("Per MPI rank memory", 1)[1]    # what LAMMPS printed
    lammps_step = int(re.search(r"^IONMD_END step (\d+)", log, re.M).group(1))
    assert lammps_step == rd.target_step
    assert status["state"] == "failed" and status["resumable"] is False
    assert status["step"] == lammps_step                    # was 0
    assert "has no Step column" in status["reason"] and str(template) in status["reason"]
    assert "add 'step' to its thermo_style" in status["reason"]
    assert (rd.path / "traj.0.dcd").stat().st_size > 0     # nothing deleted


def test_running_it_again_does_not_start_it_over(stepless_run):
    rd, _, status = stepless_run
    log = rd.path / "log.0.lammps"
    before = log.stat().st_mtime_ns
    again = execute(rd)
    assert again["state"] == "failed" and again["reason"] == status["reason"]
    assert log.stat().st_mtime_ns == before and not (rd.path / "log.1.lammps").exists()
