"""A run with a stopping rule whose post-mortem at a check finds a failure (the 32-atom
Morse cell of tests/protocol_setup.py melting at 5000 K, run for real): status.json says
where and at which temperature, as for the failures LAMMPS stops a run for, and agrees with
`ionmd analyze`."""

from __future__ import annotations

import json

from ionmd.cli import main
from ionmd.protocols import plan_runs, run_all
from protocol_setup import fcc_cell, morse_model, short


def test_rule_run_failure_is_recorded_with_its_step_and_temperature(tmp_path):
    proto = short("conductivity-nvt", temperatures=(5000.0,), duration_ps=3.0, discard_ps=0.1,
                  until="D_rel_ci<=0.001", check_every_ps=1.0, fit_start_ps=0.2, tdamp_fs=50.0)
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp_path / "m.pt"), tmp_path / "out",
                      name="fcc")
    (status,) = run_all([rd], progress=False)
    assert status["state"] == "failed" and status["stop_reason"] == "failed", status
    assert main(["analyze", str(rd.path), "--failures-only"]) in (0, None)
    first = json.loads((rd.path / "analysis" / "failure.json").read_text())["first"]
    assert (status["failure_mode"], status["failed_step"]) == (first["mode"], first["step"])
    assert first["step"] < status["step"] == 1000               # found at the first check
    assert f"{first['mode']} at step {first['step']}" in status["reason"]
    # was missing: the sweep's failure temperatures read it
    assert status["failed_temperature_K"] == 5000.0 == first["target_temperature_K"]
