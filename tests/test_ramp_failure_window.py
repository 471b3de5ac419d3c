"""A ramp run that failed (the stability protocol's 300 -> 2100 K heating, stopped by fix
halt) keeps the transport of its frames before the failure for a careful look (in no fit),
and that window, like a whole ramp run (tests/test_analysis_ramp_no_transport.py), is of no
one temperature: its ``caveat`` says the targets the thermostat ramped through over those
frames (the ramp's linear formula over status.json's planned steps), and the results name
the ramp's end (``temperature_end_K``). Before, the window's D and sigma came without a
word, the results without the ramp's end, as if measured at the 300 K of ``temperature_K``."""

from __future__ import annotations

import json

import pytest

import test_analysis_foreign_trajectories as foreign
from ionmd.cli import main
from test_analysis_ramp_no_transport import run_dir

FRAMES = 120
HALT_FRAME = 90


def ramp_target(step: int, planned: int) -> float:
    return 300.0 + (2100.0 - 300.0) * step / planned


@pytest.mark.parametrize("T_end", [2100.0, 300.0])
def test_a_failed_ramps_window_says_it_ramped(tmp_path, capsys, T_end):
    walk = foreign._walk(1000, n_frames=FRAMES, n_li=8)
    run = run_dir(tmp_path, "halted", 300.0, T_end, walk)
    planned, halt = (FRAMES - 1) * foreign.EVERY, HALT_FRAME * foreign.EVERY
    (run / "status.json").write_text(json.dumps({
        "state": "failed", "resumable": False, "step": halt, "planned_steps": planned,
        "failed_step": halt, "failure_mode": "volume_change",
        "failed_temperature_K": ramp_target(halt, planned) if T_end != 300.0 else 300.0,
        "reason": f"fix halt: volume changed by more than 50 % at step {halt}"}))
    assert main(["analyze", str(run), *foreign.POINT_IONS]) in (0, None)
    out = capsys.readouterr().out
    res = json.loads((run / "analysis" / "results.json").read_text())
    assert res["failure"]["failed"] and res["diffusion"] == []
    window = res["before_failure"]
    assert window["diffusion"], window               # the window is still analysed
    if T_end == 300.0:                               # held at one temperature: no word
        assert "caveat" not in window and "temperature_end_K" not in res
        return
    assert res["temperature_end_K"] == 2100.0
    lo = ramp_target(window["first_step"], planned)
    hi = ramp_target(window["last_step"], planned)
    assert hi - lo > 500.0                           # frames over hundreds of kelvin
    assert f"the thermostat ramped over these frames ({lo:g} -> {hi:g} K)" in window["caveat"]
    assert window["caveat"] in out                   # printed beside the window's D
