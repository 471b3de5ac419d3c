"""run.json's ``"timestep_fs": null`` / ``"temperature_K": null`` / ``"dump_every": null``
are no value, as the key left out: the run's files say it. c1bc000 checked these keys'
values and refused null for the time step and temperature (647d7d8 took dump_every's
null back), so an ASE .traj run whose run.json wrote null, read from its header before,
was refused. References: the header the test writes (2 fs, 50 steps a frame, 1000 K), and
for a LAMMPS run without a log the answer of the same run.json without the key."""

from __future__ import annotations

import json

import pytest

import test_analysis_foreign_trajectories as foreign
from ionmd.analysis.run_spec import load_run_spec
from ionmd.errors import AnalysisError

KEYS = ("timestep_fs", "temperature_K", "dump_every")


@pytest.fixture(scope="module")
def walk():
    return foreign._walk(1000, n_frames=20, n_li=4)


def _set(run, **values):
    meta = json.loads((run / "run.json").read_text())
    for key, value in values.items():
        if value is ...:
            meta.pop(key, None)
        else:
            meta[key] = value
    (run / "run.json").write_text(json.dumps(meta))


def test_null_timing_of_an_ase_run_is_read_from_its_header(tmp_path, walk):
    run = tmp_path / "traj"
    foreign._foreign_dir(run, 1000, *walk, "traj")
    _set(run, **dict.fromkeys(KEYS))
    spec = load_run_spec(run)
    assert (spec.timestep_fs, spec.dump_every, spec.temperature_K) == (
        foreign.DT_FS, foreign.EVERY, 1000.0)


def _read(run):
    """What the analysis makes of a run: its timing, or its refusal's words."""
    try:
        spec = load_run_spec(run)
    except AnalysisError as exc:
        return str(exc).replace(str(run), "RUN")
    return spec.timestep_fs, spec.dump_every, spec.temperature_K


@pytest.mark.parametrize("key", KEYS)
def test_null_is_the_key_left_out(tmp_path, walk, key):
    """A LAMMPS run without a log (its dump says the steps, nothing says the time step nor
    the temperature): the same timing, or the value asked for in the same words."""
    read = {}
    for how, value in (("null", None), ("left_out", ...)):
        run = tmp_path / how
        foreign._lammps_dir(run, 1000, *walk)
        _set(run, **{key: value})
        read[how] = _read(run)
    assert read["null"] == read["left_out"]
