"""`ionmd bench --memory` takes exactly the values of `pair_style ionmd ... memory`: the
reference is the pair style itself, run in LAMMPS (each value of the list accepted, and
its own refusal naming the values it takes)."""

from __future__ import annotations

import json
import re

import pytest

from contract_models import ALPHA, D0, R0, RC, MorseEdgeModel, save_contract_model
from ionmd.bench import MEMORY_MODES, default_cell, run_point, supercell_for
from ionmd.cli import main
from ionmd.errors import IonmdError


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save_contract_model(MorseEdgeModel(D0, ALPHA, R0, RC),
                               tmp_path_factory.mktemp("bench_cmds") / "morse.pt", cutoff=RC,
                               elements=["Cl", "Li"], num_layers=2)


def test_the_memory_modes_are_the_pair_styles(model, tmp_path):
    cell = supercell_for(default_cell(), 64)
    for mode in MEMORY_MODES:        # written out, auto too: the pair style takes each
        point = run_point(model, cell, 1, tmp_path / mode, steps=0, pair_extra=f"memory {mode}")
        assert f"memory {mode}" in (tmp_path / mode / "in.bench").read_text()
        assert point.failed is None
    with pytest.raises(IonmdError):
        run_point(model, cell, 1, tmp_path / "default", steps=0, pair_extra="memory default")
    said = re.search(r"memory must be (.+?), not 'default'",
                     (tmp_path / "default" / "screen.txt").read_text())
    assert said, "the pair style's refusal names the values it takes"
    assert set(re.split(r", | or ", said.group(1))) == set(MEMORY_MODES)


def test_bench_takes_auto_as_lammps_users_write_it(model, tmp_path, capsys):
    # before: `ionmd bench --memory auto` was refused ("give each of default, fast, low")
    out = tmp_path / "b"
    assert main(["bench", str(model), "--atoms", "64", "--np", "1", "--steps", "3",
                 "--memory", "auto,low", "-o", str(out), "--no-progress"]) == 0
    points = json.loads((out / "bench.json").read_text())["points"]
    assert [p["memory"] for p in points] == ["auto", "low"]
    inputs = sorted(out.rglob("in.bench"))
    assert sum("memory low" in f.read_text() for f in inputs) == 1
    assert not any("memory auto" in f.read_text() for f in inputs)   # the plugin's default
    capsys.readouterr()
    # the bench's old word for auto is refused saying what to write, before any run
    assert main(["bench", str(model), "--atoms", "64", "--np", "1", "--memory", "default",
                 "-o", str(tmp_path / "d"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "give each of auto, fast, low" in err and "'default' is called auto" in err
    assert not (tmp_path / "d").exists()
