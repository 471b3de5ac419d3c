"""A ramp run whose run.json says so (``temperature_end_K``, as ionmd's stability runs
write it) and whose log echoes the ramp (``fix nvt temp 300 2100``) gets one word on it:
no D nor sigma, and why (``no_transport``, tests/test_analysis_ramp_no_transport.py), not
also the hand-run note that "D and sigma average over the frames' temperatures"
(tests/test_hand_run_ramp_note.py), which says they were analysed. A hand run without
``temperature_end_K`` keeps that note (its frames may be past the ramp)."""

from __future__ import annotations

import json

import test_analysis_foreign_trajectories as foreign
from ionmd.cli import main
from test_analysis_length_units import hand_run


def test_a_declared_ramp_is_said_once(tmp_path, capsys):
    walk = foreign._walk(1000, n_frames=120, n_li=8)
    run = hand_run(tmp_path, "metal", walk)
    log = run / "log.lammps"
    log.write_text(log.read_text().replace("nvt temp 1000 1000 0.1", "nvt temp 300 2100 0.1"))
    meta = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**meta, "temperature_K": 300.0,
                                              "temperature_end_K": 2100.0}))
    assert main(["analyze", str(run), *foreign.POINT_IONS]) == 0
    printed = capsys.readouterr()
    res = json.loads((run / "analysis" / "results.json").read_text())
    assert "ramped from 300 to 2100 K" in res["no_transport"] and res["diffusion"] == []
    assert "settings_notes" not in res, res["settings_notes"]
    assert "average over the frames' temperatures" not in printed.out + printed.err
