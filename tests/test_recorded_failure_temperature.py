"""A failure that only status.json records (LAMMPS stopped the run: fix halt, lost atoms, a
check's post-mortem) is dated where it happened: the temperature the run's thermo printed at
its step, not the thermostat's target there, which ``with_recorded_failure`` reported as
the temperature (a cell heated 300 -> 2100 K that melts at a ramp target of 1380 K while at
1800 K read "T = 1380.0 K, target 1380.0 K"); unknown (None) where no thermo row printed a
temperature; its time from the same origin as the post-mortem's own events. References: the
thermo rows themselves (a real LAMMPS run's log, read here line by line) and the ramp's
linear formula."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import numpy as np
import pytest

from ionmd.analysis.failure import FailureReport, detect_failures
from ionmd.analysis.run_failure import with_recorded_failure
from ionmd.cli import main
import test_recorded_failures as recorded

halted = recorded.halted        # the real run, a fixture of this module too
DT_FS = 2.0
PLANNED = 10_000
MELT_STEP = 6_000


def ramp_spec(status: dict) -> SimpleNamespace:
    """What with_recorded_failure reads of a RunSpec: a 300 -> 2100 K ramp over 10000 steps."""
    return SimpleNamespace(run_status={"planned_steps": PLANNED, **status}, timestep_fs=DT_FS,
                           temperature_K=300.0, temperature_end_K=2100.0)


def melted_status(step: int = MELT_STEP) -> dict:
    target = 300.0 + 1800.0 * step / PLANNED
    return {"state": "failed", "resumable": False, "failed_step": step,
            "failure_mode": "framework_melting", "failed_temperature_K": target,
            "reason": f"post-mortem at the check: framework_melting at step {step}"}


def thermo_rows(first: int = 0) -> dict:
    """Rows every 100 steps: the cell 400 K above its target from step 5000 (it melted)."""
    steps = np.arange(first, PLANNED + 1, 100)
    temp = 300.0 + 1800.0 * steps / PLANNED + np.where(steps >= 5000, 400.0, 0.0) + steps % 7
    return {"Step": steps, "Temp": temp}


def test_the_melt_is_at_the_thermos_temperature_not_the_target():
    thermo = thermo_rows()
    report = detect_failures(steps=thermo["Step"], timestep_fs=DT_FS, thermo=thermo)
    assert not report.failed           # the post-mortem here finds nothing of its own
    (event,) = with_recorded_failure(report, ramp_spec(melted_status()), thermo).events
    row = int(np.flatnonzero(thermo["Step"] == MELT_STEP)[0])
    assert event.temperature_K == pytest.approx(thermo["Temp"][row])
    assert event.temperature_K > 1700.0                  # was the target, 1380 K
    assert event.target_temperature_K == pytest.approx(300.0 + 1800.0 * 0.6)
    assert event.time_ps == pytest.approx(MELT_STEP * DT_FS * 1e-3)
    # between rows: the last one printed before the step
    (event,) = with_recorded_failure(report, ramp_spec(melted_status(6050)), thermo).events
    assert event.temperature_K == pytest.approx(thermo["Temp"][row])
    assert event.target_temperature_K == pytest.approx(300.0 + 1800.0 * 0.605)


def test_without_a_printed_temperature_it_is_unknown():
    report = FailureReport(run_end_step=8000, run_end_ps=8000 * DT_FS * 1e-3)
    (event,) = with_recorded_failure(report, ramp_spec(melted_status()), None).events
    assert event.temperature_K is None
    assert event.target_temperature_K == pytest.approx(1380.0)
    no_temp = {"Step": np.arange(0, 8001, 100)}          # rows without a Temp column
    (event,) = with_recorded_failure(report, ramp_spec(melted_status()), no_temp).events
    assert event.temperature_K is None


def test_its_time_has_the_post_mortems_origin():
    """Frames and rows from step 2000: a post-mortem event and the recorded one at the same
    step are at the same time."""
    thermo = thermo_rows(first=2000)
    thermo["Temp"][thermo["Step"] == MELT_STEP] = np.nan      # the post-mortem's nan_thermo
    report = detect_failures(steps=thermo["Step"], timestep_fs=DT_FS, thermo=thermo)
    (own,) = report.events
    assert own.mode == "nan_thermo" and own.step == MELT_STEP
    events = with_recorded_failure(report, ramp_spec(melted_status()), thermo).events
    recorded = next(e for e in events if e.mode == "framework_melting")
    assert recorded.time_ps == own.time_ps == pytest.approx((MELT_STEP - 2000) * DT_FS * 1e-3)


def test_a_real_halted_run_is_dated_at_its_logs_temperature(halted):
    """The 32-atom cell heated 300 -> 2100 K, halted at |V/V0 - 1| > 4 % mid-ramp
    (tests/test_recorded_failures.py): `ionmd analyze` reports the Temp of the log's row at
    the halt step (fix halt checks as often as thermo prints)."""
    rd, status = halted
    assert main(["analyze", str(rd.path), "--failures-only"]) in (0, None)
    first = json.loads((rd.path / "analysis" / "failure.json").read_text())["first"]
    step = status["failed_step"]
    assert first["mode"] == "volume_change" and first["step"] == step
    text = (rd.path / "log.0.lammps").read_text()
    md = text[text.rindex("   Step "):]            # the MD's block (the minimiser's before)
    header = md.splitlines()[0].split()
    rows = {int(p[0]): float(p[header.index("Temp")])
            for p in (ln.split() for ln in md.splitlines()[1:])
            if len(p) == len(header) and re.fullmatch(r"\d+", p[0])}
    assert first["temperature_K"] == pytest.approx(rows[step], rel=1e-6)
    assert first["target_temperature_K"] == pytest.approx(status["failed_temperature_K"])
    assert abs(rows[step] - status["failed_temperature_K"]) > 1.0     # not the target
