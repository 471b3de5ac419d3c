"""A protocol whose template's ``thermo_style`` prints no step (``custom time temp ...``),
run for real (``lmp`` + the plugin, a 32-atom Morse cell): its thermo output gives no MD row,
and the status says so and how to fix it (before: ``interrupted at step 0 (exit status 0)``,
resumable, and every ``ionmd run`` ran it again from the start). The step recorded is
LAMMPS's own (the template's ``IONMD_END`` line after its run); nothing is deleted.
``thermo_style multi`` (a block of ``Name = value`` lines per output) gave no row either
until c3994f5 read it (lammps/thermo_styles.py): such a template now completes."""

from __future__ import annotations

import re

import pytest

from ionmd.protocols import execute, plan_runs
from ionmd.protocols.md_input import INPUTS
from protocol_setup import fcc_cell, morse_model, short


STYLE = "thermo_style    custom step time temp pe ke etotal press vol atoms"
#: thermo_style -> what the status says of it
STYLES = {"custom time temp pe": "has no Step column (header 'Time Temp PotEng')"}


def _run_with_thermo_style(style, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stepless_template")
    template = tmp / "no_step.lmp"
    text = (INPUTS / "md.lmp").read_text()
    assert STYLE in text
    template.write_text(text.replace(STYLE, f"thermo_style    {style}"))
    proto = short("conductivity", temperatures=(600.0,), duration_ps=0.05, discard_ps=0.0,
                  template=str(template))
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp / "morse.pt"), tmp / "out",
                      name="fcc")
    return rd, template, execute(rd), style


@pytest.fixture(scope="module", params=list(STYLES))
def stepless_run(request, tmp_path_factory):
    return _run_with_thermo_style(request.param, tmp_path_factory)


def test_a_multi_thermo_template_completes(tmp_path_factory):
    """``thermo_style multi`` prints '--- Step N ---' blocks, which ionmd reads since c3994f5:
    the run completes at LAMMPS's own last step (before: failed, 'gives no thermo row')."""
    rd, _, status, _ = _run_with_thermo_style("multi", tmp_path_factory)
    log = (rd.path / "log.0.lammps").read_text()
    assert re.search(r"^-+ Step +0 -+ CPU", log.split("Per MPI rank memory", 1)[1], re.M)
    lammps_step = int(re.search(r"^IONMD_END step (\d+)", log, re.M).group(1))
    assert status["state"] == "completed", status.get("reason")
    assert status["step"] == lammps_step == rd.target_step


def test_status_says_why_and_how_to_fix(stepless_run):
    rd, template, status, style = stepless_run
    log = (rd.path / "log.0.lammps").read_text()
    printed = log.split("Per MPI rank memory", 1)[1]               # what LAMMPS printed
    assert "Step" not in printed
    lammps_step = int(re.search(r"^IONMD_END step (\d+)", log, re.M).group(1))
    assert lammps_step == rd.target_step
    assert status["state"] == "failed" and status["resumable"] is False
    assert status["step"] == lammps_step                    # was 0
    assert STYLES[style] in status["reason"] and str(template) in status["reason"]
    assert "use thermo_style custom with 'step' in it" in status["reason"]
    assert (rd.path / "traj.0.dcd").stat().st_size > 0     # nothing deleted


def test_running_it_again_does_not_start_it_over(stepless_run):
    rd, _, status, _ = stepless_run
    log = rd.path / "log.0.lammps"
    before = log.stat().st_mtime_ns
    again = execute(rd)
    assert again["state"] == "failed" and again["reason"] == status["reason"]
    assert log.stat().st_mtime_ns == before and not (rd.path / "log.1.lammps").exists()
