"""A hand run whose logs echo ``units`` with lengths not in Å is refused for its units
(tests/test_analysis_length_units.py) before anything about its time step or temperature:
the units are the real problem, and a user who passes --timestep-fs (in fs, as asked) was
told instead that it contradicts the logs' time step (``units nano``: ``timestep 2e-6`` ns),
or asked for a --timestep-fs (``units lj``), and got the units refusal only once that was
settled. Reference: LAMMPS's units page (nano: nm and ns; lj: reduced sigma and tau)."""

from __future__ import annotations

import pytest

import test_analysis_foreign_trajectories as foreign
import test_analysis_length_units as units_test
from ionmd.cli import main


@pytest.fixture(scope="module")
def walk():
    return foreign._walk(1000, n_frames=40, n_li=4)


@pytest.mark.parametrize("units, length, flags", [
    ("nano", "nm", ["--timestep-fs", "1"]),       # logs: 2e-6 ns = 2 fs, contradicted
    ("electron", "Bohr", ["--timestep-fs", "1"]),  # logs: 2 fs, contradicted
    ("lj", "σ", []),                               # time in tau: was asked for --timestep-fs
    ("lj", "σ", ["--timestep-fs", "2"]),           # temperature then unknown: asked for first
])
def test_units_refusal_comes_before_timing(tmp_path, walk, capsys, units, length, flags):
    run = units_test.hand_run(tmp_path, units, walk)
    if units == "lj" and flags:
        log = run / "log.lammps"
        log.write_text(log.read_text().replace("fix 1 all nvt temp 1000 1000 0.1\n", ""))
    assert main(["analyze", str(run), *foreign.POINT_IONS, *flags]) != 0
    err = capsys.readouterr().err
    assert f"units {units}: {length}" in err and "lengths not in Å" in err, err
    assert "contradicts" not in err and "is unknown" not in err, err
    assert not (run / "analysis" / "results.json").exists()
