"""Charges given to the Python API's plan_runs went into run.json unchecked: a NaN (sigma
NaN) and True (read as 1) were written as {'Cl': 1.0, 'Li': nan}. They go through the check
campaigns and `ionmd analyze` use (structures.charge_values); good charges are kept."""

from __future__ import annotations

import json
import math

import pytest

from ionmd.errors import IonmdError
from ionmd.protocols import plan_runs
from protocol_setup import fcc_cell, morse_model, short


@pytest.fixture(scope="module")
def morse(tmp_path_factory):
    return morse_model(tmp_path_factory.mktemp("m") / "morse.pt")


@pytest.mark.parametrize("charges", [{"Li": math.nan, "Cl": -1}, {"Li": 1, "Cl": True},
                                     {"Li": 0, "Cl": -1}])
def test_charges_that_are_no_charges_are_refused_before_any_folder(morse, tmp_path, charges):
    with pytest.raises(IonmdError, match="charges"):
        plan_runs(short("conductivity-nvt"), fcc_cell(), morse, tmp_path / "runs", name="fcc",
                  charges=charges)
    assert not (tmp_path / "runs").exists()


def test_good_charges_are_written_as_given(morse, tmp_path):
    runs = plan_runs(short("conductivity-nvt"), fcc_cell(), morse, tmp_path / "runs",
                     name="fcc", charges={"Li": 1, "Cl": -1})
    meta = json.loads((runs[0].path / "run.json").read_text())
    assert meta["charges"] == {"Li": 1.0, "Cl": -1.0} and meta["charges_guessed"] is False
