"""Charges that make sigma NaN, infinite or zero without a word: `ionmd analyze --charges
Li=nan` and a run.json holding NaN (Python's json writes and reads it) or true were taken
as numbers (666bc82 checked a campaign's charges; the command line and run.json now go
through the same check)."""

from __future__ import annotations

import json
import math

import pytest

from ionmd.cli import main
from test_analysis_cli import POINT_IONS, _run_dir


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = tmp_path_factory.mktemp("charges") / "T800"
    _run_dir(path, 800, seed=3)
    return path


@pytest.mark.parametrize("given", ["Li=nan,Cl=-1", "Li=inf,Cl=-1", "Li=0,Cl=-1", "Lii=1,Cl=-1"])
def test_command_line_charges_that_are_no_charges_are_refused(run, tmp_path, capsys, given):
    rc = main(["analyze", str(run), "-o", str(tmp_path / "out"), "--charges", given,
               *POINT_IONS])
    err = capsys.readouterr().err
    assert rc != 0 and "--charges" in err, err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("results.json"))


@pytest.mark.parametrize("value", [math.nan, True])
def test_run_json_charges_that_are_no_numbers_are_the_runs_error(run, tmp_path, capsys, value):
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in run.iterdir():
        (bad / f.name).symlink_to(f)
    meta = json.loads((run / "run.json").read_text())
    (bad / "run.json").unlink()
    (bad / "run.json").write_text(json.dumps({**meta, "charges": {"Li": value, "Cl": -1}}))
    assert json.loads((bad / "run.json").read_text())["charges"]["Li"] is value or \
        math.isnan(json.loads((bad / "run.json").read_text())["charges"]["Li"])
    rc = main(["analyze", str(bad), "-o", str(tmp_path / "out"), *POINT_IONS])
    err = capsys.readouterr().err
    assert rc != 0
    assert "run.json: charges" in err and "Li" in err, err
