"""A hand-written run.json with ``"charges_guessed": "yes"`` was refused as "run.json:
'charges_guessed' must be true or false, got 'yes'": which of the runs analysed (ionmd
analyze takes a folder of runs), and what the flag means, it did not say. It now names
the run's file and the meaning; true and false still give the guess's note and the
user's (transport_note)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk
from ase.io import write

from ionmd.analysis.run_spec import load_run_spec
from ionmd.errors import AnalysisError


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flag") / "LiSi"
    folder.mkdir()
    cell = bulk("NaCl", "rocksalt", a=5.0, cubic=True)
    cell.symbols[cell.symbols == "Na"] = "Li"
    cell.symbols[cell.symbols == "Cl"] = "Si"
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(4):
        atoms = cell.copy()
        atoms.positions += rng.normal(0, 0.1, atoms.positions.shape)
        frames.append(atoms)
    write(folder / "md.extxyz", frames, format="extxyz")
    return folder


def _with(folder, value) -> None:
    meta = {"temperature_K": 800, "timestep_fs": 2, "dump_every": 50,
            "charges": {"Li": 1, "Si": -1}}
    if value is not None:
        meta["charges_guessed"] = value
    (folder / "run.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("value", ["yes", 1, [True]])
def test_a_flag_not_true_or_false_names_the_file_and_its_meaning(run, value):
    _with(run, value)
    with pytest.raises(AnalysisError) as err:
        load_run_spec(run)
    said = str(err.value)
    assert str(run / "run.json") in said
    assert json.dumps(value) in said and "ionmd's guess" in said and "yours" in said


@pytest.mark.parametrize("value, guessed", [(True, True), (False, False), (None, False)])
def test_true_false_and_absent_still_read(run, value, guessed):
    _with(run, value)
    assert load_run_spec(run).charges_guessed is guessed
    _with(run, "yes")           # --charges: the user's, the file's flag not read
    assert load_run_spec(run, {"charges": {"Li": 1.0, "Si": -1.0}}).charges_guessed is False
