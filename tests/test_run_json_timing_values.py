"""The time step, frame interval and temperature of a run (``timestep_fs``, ``dump_every``,
``temperature_K``) as run.json, ``ionmd analyze``'s flags or ``load_run_spec``'s overrides
give them were read with ``float()``/``int()``: ``"timestep_fs": true`` analysed an ASE
trajectory at 1 fs (D 2x off for frames 2 fs steps apart), ``"temperature_K": "600"`` was
read, ``--temperature -600`` was recorded as -600 K in results.json (sigma of the wrong sign
and size), ``--temperature nan`` ended in the JSON writer's "bug of ionmd" error, and
``overrides={"temperature_K": "hot"}`` in a ValueError traceback. Each is now refused by the
one rule of analysis.run_json_values, naming where it came from and what to give, before
anything is read or written."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

from ionmd.analysis.run_spec import load_run_spec
from ionmd.cli import main
from ionmd.errors import AnalysisError


@pytest.fixture
def run(tmp_path):
    """An extended XYZ of 40 frames of 8 atoms walking about the sites of a 2x2x2 grid 5 A
    apart (no time info in the file) with a run.json saying its timing."""
    rng = np.random.default_rng(0)
    sites = (np.indices((2, 2, 2)).reshape(3, -1).T + 0.5) * 5.0
    paths = sites + np.cumsum(rng.normal(0, 0.03, (40, 8, 3)), axis=0)
    frames = [Atoms(["Li"] * 4 + ["Cl"] * 4, positions=p, cell=np.eye(3) * 10.0, pbc=True)
              for p in paths]
    folder = tmp_path / "run"
    folder.mkdir()
    write(folder / "md.extxyz", frames)
    (folder / "run.json").write_text(json.dumps(
        {"timestep_fs": 2, "dump_every": 10, "temperature_K": 600}))
    return folder


def _edit(run, **values):
    meta = json.loads((run / "run.json").read_text())
    meta.update(values)
    (run / "run.json").write_text(json.dumps(meta))


BAD_RUN_JSON = [
    ("timestep_fs", True, "is not a time step in fs"),          # was 1 fs, silently
    ("timestep_fs", "2", "is not a time step in fs"),           # was read as 2
    ("timestep_fs", -2, "is not a time step in fs"),
    ("temperature_K", "600", "is not a temperature in K"),      # was read as 600
    ("temperature_K", True, "is not a temperature in K"),       # was 1 K, silently
    ("temperature_K", -600, "is not a temperature in K"),       # was -600 K in results.json
    ("temperature_K", 0, "is not a temperature in K"),
    ("dump_every", True, "is not a number of steps between frames"),   # was 1
    ("dump_every", 2.5, "is not a number of steps between frames"),
    ("dump_every", 0, "is not a number of steps between frames"),
]


@pytest.mark.parametrize("key, value, why", BAD_RUN_JSON)
def test_analyze_refuses_a_timing_value_of_run_json(run, tmp_path, capsys, key, value, why):
    _edit(run, **{key: value})
    assert main(["analyze", str(run), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"ionmd: error: {run / 'run.json'}: "
                          f'"{key}": {json.dumps(value)} {why}; write '), err
    assert not (tmp_path / "out").exists() and not (run / "analysis").exists()


@pytest.mark.parametrize("flag, value, why", [
    ("--temperature", "-600", "is not a temperature in K"),
    ("--temperature", "nan", "is not a temperature in K"),
    ("--temperature", "inf", "is not a temperature in K"),
    ("--timestep-fs", "0", "is not a time step in fs"),
    ("--timestep-fs", "nan", "is not a time step in fs"),
    ("--dump-every", "0", "is not a number of steps between frames"),
])
def test_analyze_refuses_a_timing_flag_naming_the_flag(run, tmp_path, capsys, flag, value, why):
    (run / "run.json").unlink()
    args = {"--temperature": "600", "--timestep-fs": "2", "--dump-every": "10", flag: value}
    cmd = ["analyze", str(run), "-o", str(tmp_path / "out")]
    for k, v in args.items():
        cmd += [k, v]
    assert main(cmd) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    parsed = int(value) if flag == "--dump-every" else float(value)    # as argparse read it
    assert err.startswith(f"ionmd: error: {flag} {parsed} {why}; give "), err
    assert not (tmp_path / "out").exists()


def test_python_overrides_are_refused_naming_the_override(run):
    with pytest.raises(AnalysisError, match=r"--temperature hot is not a temperature in K; .*"
                                            r"overrides\['temperature_K'\] of load_run_spec"):
        load_run_spec(run, {"temperature_K": "hot"})


def test_usable_values_are_read_as_written(run):
    _edit(run, timestep_fs=0.5, dump_every=40.0, temperature_K=900)   # 40.0: a whole number
    spec = load_run_spec(run)
    assert (spec.timestep_fs, spec.dump_every, spec.temperature_K) == (0.5, 40, 900.0)
    spec = load_run_spec(run, {"timestep_fs": 1.0, "dump_every": 20, "temperature_K": 700.0})
    assert (spec.timestep_fs, spec.dump_every, spec.temperature_K) == (1.0, 20, 700.0)


def test_a_null_dump_every_is_not_known_as_before(run):
    """null is no value (a LAMMPS run's dump says its steps): asked for where the files do
    not say it, not refused as a bad value."""
    _edit(run, dump_every=None)
    with pytest.raises(AnalysisError, match=r"does not say dump_every"):
        load_run_spec(run)
