"""The refusal of a LAMMPS run whose logs echo lengths not in Å (``units electron``,
tests/test_analysis_length_units.py) names a way on that works: its files converted to Å
are still beside logs that say ``units electron``, which refuse them again, so the message
says to analyse them without the logs (run.json ``"logs": []``, the time step and
temperature given); done as it says, the analysis runs, and its D is the one the same
frames give under ``units metal`` (the reference run). Before, the message said only
"convert the data file and trajectory to Å", after which the same refusal came back."""

from __future__ import annotations

import json

import pytest

import test_analysis_foreign_trajectories as foreign
import test_analysis_length_units as units_test
from ionmd.cli import main


def test_the_refusal_names_a_way_on_that_works(tmp_path, capsys):
    walk = foreign._walk(1000, n_frames=120, n_li=8)
    given = ["--timestep-fs", "2", "--temperature", "1000", *foreign.POINT_IONS]
    bohr = units_test.hand_run(tmp_path, "electron", walk)    # files in Å: as converted
    assert main(["analyze", str(bohr), *given]) != 0
    err = capsys.readouterr().err
    assert '"logs": [] in run.json' in err and "--timestep-fs" in err, err
    meta = json.loads((bohr / "run.json").read_text())
    (bohr / "run.json").write_text(json.dumps({**meta, "logs": []}))
    assert main(["analyze", str(bohr), *given]) == 0
    metal = units_test.hand_run(tmp_path, "metal", walk)
    assert main(["analyze", str(metal), *foreign.POINT_IONS]) == 0
    assert units_test.d_xyz(bohr) == pytest.approx(units_test.d_xyz(metal), rel=1e-12)
