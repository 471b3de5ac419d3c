"""A hand run whose frames were all written under a thermostat ramp (``fix nvt temp 300
1000``) analysed at a temperature given within it: the temperature is accepted, but no D
nor sigma are (``no_transport``, naming the ramp, which runs to the frames' end: no
discard leaves it out; tests/test_hand_run_ramps_discard.py: a ramp inside the discarded
start). Before, a note only said D and sigma average over the ramp;
before that, D and sigma were reported "at 1000 K" from frames spanning 300-1000 K without
a word. The reference is the log itself: a run held at 1000 K is analysed as before."""

from __future__ import annotations

import json

import test_analysis_foreign_trajectories as foreign
from ionmd.cli import main
from test_analysis_length_units import hand_run


def test_a_temperature_given_within_a_ramp_is_noted(tmp_path, capsys):
    walk = foreign._walk(1000, n_frames=120, n_li=8)
    runs = {}
    for name, fix in (("ramp", "nvt temp 300 1000 0.1"), ("held", "nvt temp 1000 1000 0.1")):
        (tmp_path / name).mkdir()
        run = hand_run(tmp_path / name, "metal", walk)
        log = run / "log.lammps"
        log.write_text(log.read_text().replace("nvt temp 1000 1000 0.1", fix))
        assert main(["analyze", str(run), "--temperature", "1000", *foreign.POINT_IONS]) == 0
        runs[name] = (json.loads((run / "analysis" / "results.json").read_text()),
                      capsys.readouterr().err)
    res, err = runs["ramp"]
    assert res["temperature_K"] == 1000.0 and res["diffusion"] == []
    assert "log.lammps: thermostat ramped from 300 to 1000 K to the frames' end" in \
        res["no_transport"]
    assert "discard_ps" not in res["no_transport"]      # none would leave it out
    res, err = runs["held"]
    assert res["diffusion"] and "settings_notes" not in res and "ramped" not in err
