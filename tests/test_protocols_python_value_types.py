"""The Python API takes the values Python code holds (numpy numbers and arrays, ranges,
Paths, a supercell as numbers): 1d2da30 moved the type rules of campaign files into
``ionmd.protocols.checks`` and refused them (``temperatures=np.arange(600, 1001, 200)``:
"must be a list of numbers"; ``replicas=np.int64(2)``: "must be a whole number";
``supercell=(2, 1, 1)``: "must be text"), which ionmd accepted before. Reference: the same
call with plain Python values (what a campaign file gives): the same protocol, and the
same run folders with the same ``settings.json``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ionmd.errors import IonmdError
from ionmd.protocols import get_protocol, plan_runs
from protocol_setup import fcc_cell, frozen_framework_template

BASE = dict(duration_ps=0.5, discard_ps=0.1, dump_every=10, thermo_every=10, restart_every=100,
            supercell=None, tdamp_fs=50.0, pdamp_fs=500.0, temperatures=(600.0,))

# (what Python code holds, the plain value it stands for)
CASES = {
    "temperatures array": (dict(temperatures=np.arange(600, 1001, 200)),
                           dict(temperatures=[600.0, 800.0, 1000.0])),
    "temperatures linspace": (dict(temperatures=np.linspace(600.0, 900.0, 4)),
                              dict(temperatures=[600.0, 700.0, 800.0, 900.0])),
    "temperatures range": (dict(temperatures=range(600, 1001, 200)),
                           dict(temperatures=[600, 800, 1000])),
    "temperatures of numpy ints": (dict(temperatures=[np.int64(600), np.int64(900)]),
                                   dict(temperatures=[600, 900])),
    "replicas np.int64": (dict(replicas=np.int64(2)), dict(replicas=2)),
    "seed np.int64": (dict(seed=np.int64(7)), dict(seed=7)),
    "timestep np.float32": (dict(timestep_fs=np.float32(2.0)), dict(timestep_fs=2.0)),
    "duration np.int64": (dict(duration_ps=np.int64(1)), dict(duration_ps=1)),
    "relax np.bool_": (dict(relax=np.bool_(True)), dict(relax=True)),
    "supercell tuple": (dict(supercell=(2, 1, 1)), dict(supercell=[2, 1, 1])),
    "supercell whole number": (dict(supercell=np.int64(1)), dict(supercell=1)),
    "mobile species array": (dict(mobile_species=np.array(["Li"])), dict(mobile_species=["Li"])),
}


@pytest.mark.parametrize("case", list(CASES))
def test_python_values_plan_as_plain_ones(tmp_path, morse, case):
    held, plain = CASES[case]
    p_held = get_protocol("conductivity", **{**BASE, **held})
    p_plain = get_protocol("conductivity", **{**BASE, **plain})
    assert p_held == p_plain
    runs_held = plan_runs(p_held, fcc_cell(), morse, tmp_path / "held", name="fcc")
    runs_plain = plan_runs(p_plain, fcc_cell(), morse, tmp_path / "plain", name="fcc")
    assert [r.path.relative_to(tmp_path / "held") for r in runs_held] == \
        [r.path.relative_to(tmp_path / "plain") for r in runs_plain]
    for a, b in zip(runs_held, runs_plain):
        assert json.loads((a.path / "settings.json").read_text())["protocol"] == \
            json.loads((b.path / "settings.json").read_text())["protocol"]
    # and a rerun with the plain values reopens the folders (nothing "changed")
    plan_runs(p_plain, fcc_cell(), morse, tmp_path / "held", name="fcc")


def test_template_as_a_path(tmp_path, morse):
    template = frozen_framework_template(tmp_path / "frozen.lmp")
    p_path = get_protocol("conductivity", **BASE, template=template)
    assert p_path == get_protocol("conductivity", **BASE, template=str(template))
    plan_runs(p_path, fcc_cell(), morse, tmp_path / "runs", name="fcc")


@pytest.mark.parametrize("held, says", [
    (dict(replicas=np.float64(2.5)), "replicas must be a whole number"),
    (dict(temperatures=np.array([[600.0]])), "temperatures must be a list of numbers"),
    (dict(relax=np.int64(1)), "relax must be true or false"),
    (dict(supercell=(2.5, 1, 1)), "supercell must be text ('2x2x2', '8A', 'none'), a whole"),
    (dict(template=Path("nothere.lmp")), "input template nothere.lmp not found"),
])
def test_what_stays_refused(tmp_path, morse, held, says):
    with pytest.raises(IonmdError) as exc:
        p = get_protocol("conductivity", **{**BASE, **held})
        plan_runs(p, fcc_cell(), morse, tmp_path / "runs", name="fcc")
    assert says in str(exc.value)
    assert not (tmp_path / "runs").exists()
