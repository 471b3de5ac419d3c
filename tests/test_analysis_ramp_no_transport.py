"""A run whose thermostat ramps (run.json ``temperature_end_K``: the stability protocol's
300 -> 2100 K heating) gives no D nor sigma: over the ramp they are of no one temperature,
and ``ionmd analyze`` reported them, and fitted them, at the ramp's start (a walk's D
"at 300 K", its Nernst-Einstein sigma 810 mS/cm at 300 K). Its failure post-mortem is
still made; the run is left out of every fit, saying why; a run whose end target is its
start is a run at one temperature, analysed as before."""

from __future__ import annotations

import json

import test_analysis_foreign_trajectories as foreign
from ionmd.cli import main


def run_dir(root, name, T, T_end, walk):
    d = root / name
    foreign._lammps_dir(d, T, *walk)
    meta = json.loads((d / "run.json").read_text())
    (d / "run.json").write_text(json.dumps({**meta, "discard_ps": 1.0,
                                            "temperature_end_K": T_end}))
    return d


def test_a_ramp_gives_no_transport_and_says_why(tmp_path, capsys):
    walk = foreign._walk(1000, n_frames=120, n_li=8)
    ramp = run_dir(tmp_path, "ramp", 300.0, 2100.0, walk)
    held = run_dir(tmp_path, "held", 1000.0, 1000.0, walk)
    assert main(["analyze", str(ramp), str(held), "-o", str(tmp_path / "out"),
                 *foreign.POINT_IONS]) == 0
    out = capsys.readouterr().out
    res = json.loads((tmp_path / "out" / "ramp" / "results.json").read_text())
    assert res["diffusion"] == [] and "conductivity" not in res
    assert res["temperature_K"] == 300.0 and res["temperature_end_K"] == 2100.0
    assert "ramped from 300 to 2100 K" in res["no_transport"]
    assert res["failure"]["failed"] is False                 # the post-mortem still made
    assert not (tmp_path / "out" / "ramp" / "diffusion.csv").exists()
    # the held run (end target = start) is analysed as a run at one temperature
    other = json.loads((tmp_path / "out" / "held" / "results.json").read_text())
    assert other["diffusion"] and "no_transport" not in other
    # left out of the summary's fits, with why, printed
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    why = {x["run"]: x["reason"] for x in summary["structures"]["synthetic"]["left_out"]}
    assert why[str(ramp)] == res["no_transport"]
    assert res["no_transport"] in out
