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
def run_and_D(tmp_path_factory):
    """A synthetic run (Brownian Li, its true D in cm^2/s)."""
    path = tmp_path_factory.mktemp("charges") / "T800"
    return path, _run_dir(path, 800, seed=3)


@pytest.fixture(scope="module")
def run(run_and_D):
    return run_and_D[0]


def _with_charges(run, folder, **fields):
    """``folder``: ``run``'s files with its run.json's fields replaced by ``fields``."""
    folder.mkdir()
    for f in run.iterdir():
        if f.name != "run.json":
            (folder / f.name).symlink_to(f)
    meta = json.loads((run / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**meta, **fields}))
    return folder


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


def test_a_guessed_zero_charge_of_an_elemental_metal_keeps_the_runs_D(run_and_D, tmp_path, capsys):
    """ionmd's guess for Li metal is Li 0 (run.json {"Li": 0.0}, charges_guessed true, as
    `ionmd run` and campaigns with charges = "auto" write it): refusing it lost the run's D;
    D is the Brownian truth's, sigma 0 is left out of fits as before."""
    run, true_D = run_and_D
    metal = _with_charges(run, tmp_path / "metal", charges={"Li": 0.0, "Cl": -1.0},
                          charges_guessed=True)
    rc = main(["analyze", str(metal), "-o", str(tmp_path / "out"), *POINT_IONS])
    assert rc == 0, capsys.readouterr().err
    res = json.loads((tmp_path / "out" / "metal" / "results.json").read_text())
    [d] = [d for d in res["diffusion"] if d["direction"] == "xyz" and d["species"] == "Li"]
    assert 0.6 < d["D"] / true_D < 1.6


def test_run_json_charges_that_are_no_table_are_the_runs_error(run, tmp_path, capsys):
    """A campaign's spelling copied into run.json ("charges": "auto") raised AttributeError."""
    bad = _with_charges(run, tmp_path / "auto", charges="auto")
    rc = main(["analyze", str(bad), "-o", str(tmp_path / "out"), *POINT_IONS])
    err = capsys.readouterr().err
    assert rc != 0
    assert "run.json: charges" in err and "'auto'" in err and "Li = 1" in err, err


@pytest.mark.parametrize("guessed", [True, None])
def test_collects_guessed_zero_charge_of_an_elemental_metal_is_taken(run, tmp_path, guessed):
    """collect hands load_run_spec the campaign's charges for the structure (charges =
    "auto": ionmd's guess, Li 0 for Li metal, charges_guessed true); a run.json written before
    charges_guessed has no key. Neither may lose the run; --charges Li=0 is still refused."""
    from ionmd.analysis.run_spec import load_run_spec
    from ionmd.errors import IonmdError

    fields = {"charges": {"Li": 0.0, "Cl": -1.0}}
    if guessed:
        spec = load_run_spec(run, {**fields, "charges_guessed": True})
    else:
        spec = load_run_spec(_with_charges(run, tmp_path / "old", **fields))
    assert spec.charges == {"Li": 0.0, "Cl": -1.0}
    with pytest.raises(IonmdError, match="--charges: the charge of the mobile species Li is 0"):
        load_run_spec(run, fields)
