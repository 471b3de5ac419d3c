"""A model that returns NaN mid-run (its atoms pulled together until an edge is shorter
than it can take) in the stability protocol's heating ramp, run for real (`lmp` + the
plugin, tests/protocol_setup.py): `pair_style ionmd` stops LAMMPS at that step. It is a
failure of the replica at that step, as lost atoms are: in status.json (which the sweep
reads: failed_step), in the post-mortem and in the survival curve. Before, the run was a
"failed" without a step and the post-mortem found no failure: the replica counted as
surviving to its end."""

from __future__ import annotations

import json
import re

import pytest

from contract_models import NonFiniteModel, save_contract_model
from ionmd.cli import main
from ionmd.protocols import execute, plan_runs, run_all
from protocol_setup import ELEMENTS, fcc_cell, short


@pytest.fixture(scope="module")
def exploded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nan")
    model = save_contract_model(NonFiniteModel(1.6), tmp / "nan.pt", cutoff=4.0,
                                elements=ELEMENTS)
    proto = short("stability", temperatures=(300.0,), temperature_end=2100.0, duration_ps=1.0,
                  relax=False, ensemble="nvt", tdamp_fs=50.0, halt_volume_change=None)
    (rd,) = plan_runs(proto, fcc_cell(), model, tmp / "out", name="fcc")
    (status,) = run_all([rd], progress=False)
    error = re.search(r"non-finite energy or force at step (\d+)",
                      (rd.path / "log.0.lammps").read_text())
    return rd, proto, status, int(error.group(1))


def test_status_records_the_step(exploded):
    rd, proto, status, step = exploded
    assert 0 < step < proto.steps(300.0)                 # mid-run: what the test needs
    assert status["state"] == "failed" and status["resumable"] is False
    assert status["failure_mode"] == "nan_model" and status["failed_step"] == step
    assert status["failed_temperature_K"] == pytest.approx(300.0 + 1800.0 * step / 1000.0)
    assert "non-finite energy or force" in status["reason"]
    assert execute(rd)["state"] == "failed" and rd.status["pieces"] == 1   # not rerun


def test_post_mortem_and_survival_count_it(exploded):
    rd, proto, status, step = exploded
    assert main(["analyze", str(rd.path), "--failures-only"]) in (0, None)
    report = json.loads((rd.path / "analysis" / "failure.json").read_text())
    assert report["failed"] and report["first"]["mode"] == "nan_model"
    assert report["first"]["step"] == step
    assert report["first"]["time_ps"] == pytest.approx(step * 1e-3)
    summary = json.loads((rd.path / "analysis" / "summary.json").read_text())
    (curve,) = summary["survival"].values()
    assert curve["survival"] == [1.0, 0.0] and curve["time_ps"] == [0.0, pytest.approx(step * 1e-3)]
