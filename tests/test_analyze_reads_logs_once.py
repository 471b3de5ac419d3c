"""``analyze_run`` parses a run's LAMMPS logs once: the failure checks and the note of the
checks a log without a Step column leaves out (``skipped_checks``) read the same parse.
Before, ``skipped_checks_of`` parsed the logs a second time (2 parses per run: ~1.4 s more
on a 200k-row log). Counted at ionmd.lammps.log's one thermo-table builder, which every
parse of thermo rows goes through; what each parse is used for is checked against the
synthetic log's own rows (a runaway written into them, a header without Step)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ionmd.lammps.thermo_log as lammps_log
import synthetic_trajectories as st
from ionmd.analysis.run_analysis import analyze_run
from ionmd.analysis.run_spec import load_run_spec

T = 900.0
N_FRAMES = 60
L = 12.0
# the synthetic ions are points that walk through each other: only a real overlap counts
POINT_IONS = {"collapse_fraction": 0.01}


def _run(folder, temperatures, *, step_column: bool = True):
    rng = np.random.default_rng(7)
    s = st.make(st.brownian_steps(N_FRAMES, 8, [0.1] * 3, 0.1, rng), L=L, rng=rng)
    folder.mkdir()
    st.write_lammps_files(folder, s, temperatures, specorder=["Cl", "Li"],
                          loop_steps=(N_FRAMES - 1) * 50)
    if not step_column:     # as LAMMPS prints thermo_style custom temp vol
        rows = "".join(f"{t:.3f} {L ** 3:.3f}\n" for t in temperatures)
        (folder / "log.lammps").write_text(
            "Per MPI rank memory allocation (min/avg/max) = 3.1 | 3.1 | 3.1 Mbytes\n"
            "   Temp          Volume\n" + rows
            + f"Loop time of 1 on 1 procs for {(N_FRAMES - 1) * 50} steps with 16 atoms\n")
    (folder / "run.json").write_text(json.dumps({
        "schema": "ionmd-run/1", "temperature_K": T, "timestep_fs": 2.0, "dump_every": 50,
        "discard_ps": 0.5, "mobile_species": ["Li"], "charges": {"Li": 1, "Cl": -1},
        "structure": "synthetic"}))
    return load_run_spec(folder)


@pytest.fixture
def thermo_parses(monkeypatch):
    """The number of thermo tables parsed from log texts since the fixture was made."""
    calls = []
    build = lammps_log._run_table

    def counted(texts):
        calls.append(len(texts))
        return build(texts)

    monkeypatch.setattr(lammps_log, "_run_table", counted)
    return calls


def test_a_run_with_steps_parses_its_log_once(tmp_path, thermo_parses):
    spec = _run(tmp_path / "run", np.full(N_FRAMES, T))
    thermo_parses.clear()
    res = analyze_run(spec, tmp_path / "out", failure_options=POINT_IONS)
    assert thermo_parses == [1]
    assert "skipped_checks" not in res and res["diffusion"] and not res["failure"]["failed"]


def test_the_one_parse_feeds_the_failure_checks(tmp_path, thermo_parses):
    """A runaway in the log's rows (3 x the target from frame 40): found from the one parse."""
    temps = np.where(np.arange(N_FRAMES) < 40, T, 3 * T)
    spec = _run(tmp_path / "run", temps)
    thermo_parses.clear()
    res = analyze_run(spec, tmp_path / "out", failure_options=POINT_IONS)
    assert thermo_parses == [1]
    assert "temperature_runaway" in res["failure"]["modes"]


def test_a_log_without_steps_is_parsed_once_and_said(tmp_path, thermo_parses):
    spec = _run(tmp_path / "run", np.full(N_FRAMES, T), step_column=False)
    assert "Step" not in (tmp_path / "run" / "log.lammps").read_text()
    thermo_parses.clear()
    res = analyze_run(spec, tmp_path / "out", failure_options=POINT_IONS)
    assert thermo_parses == [1]
    assert "no Step column" in res["skipped_checks"] and res["diffusion"]
