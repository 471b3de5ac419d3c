"""Two campaign files with one ``output`` folder (docs/sweeps.md: "a second campaign file with
the same output"): X runs 600 and 900 K, Y 700 K, of one structure and model. Before,
``sweep collect X.toml`` took every run folder under the structure/model/protocol folder,
Y's 700 K run among them (a row with ``replicas_planned`` 1 at a temperature X never
planned, in X's Arrhenius fit), and ``collect Y.toml`` wrote the same rows into the same
``<output>/collect``, silently replacing X's tables.

References: the campaign files' own temperatures (what ``status`` lists), the two-point
Arrhenius slope of X's rows by numpy, and the bytes of X's tables."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from ionmd.cli import main
from ionmd.errors import IonmdError
from ionmd.sweep import load_campaign, plan_campaign
from ionmd.sweep.submit import campaign_status
from protocol_setup import fcc_cell
from sweep_setup import KB, brownian_run, campaign_dir, write_campaign

ANALYSIS = "charges = {Li = 1, Cl = -1}\nfit_start_ps = 0.5\nwindow_ps = 5\ncollapse_fraction = 0.01"


@pytest.fixture(scope="module")
def shared(tmp_path_factory, morse):
    """X.toml (600, 900 K) and Y.toml (700 K), both ``output = "runs"``, their runs
    finished (Brownian Li: Ea 0.2 eV, 30 ps)."""
    folder = campaign_dir(tmp_path_factory.mktemp("shared"), morse)
    paths = {name: write_campaign(folder, name=name, temperatures=temps, duration_ps=30,
                                  discard_ps=2, analysis=ANALYSIS)
             for name, temps in (("X", (600, 900)), ("Y", (700,)))}
    runs = {name: plan_campaign(load_campaign(path), create=True)
            for name, path in paths.items()}
    for k, run in enumerate(runs["X"] + runs["Y"]):
        brownian_run(run.rundir, run.temperature, k, 0.2, 1.0)
    return folder, paths, runs


def test_each_campaign_reports_its_own_runs_into_its_own_tables(shared, capsys):
    folder, paths, runs = shared
    tables = folder / "runs" / "collect"
    capsys.readouterr()
    assert main(["sweep", "collect", str(paths["X"]), "--no-progress"]) == 0
    err = capsys.readouterr().err
    doc = json.loads((tables / "results.json").read_text())
    # X's table is X's planned runs, as status lists them (600, 900 K: no 700 K row)
    status = campaign_status(load_campaign(paths["X"]))
    assert [r["run"] for r in doc["runs"]] == [r["run"] for r in status] \
        == [str(r.path) for r in runs["X"]]
    assert [(r["temperature_K"], r["replicas_planned"]) for r in doc["rows"]] == \
        [(600.0, 1), (900.0, 1)]
    # its Ea is the slope through its own two temperatures only
    d = {r["temperature_K"]: r["D_Li"]["value"] for r in doc["rows"]}
    slope = KB * np.log(d[900.0] / d[600.0]) / (1 / 600 - 1 / 900)
    assert doc["rows"][0]["Ea_eV"] == pytest.approx(slope, rel=1e-6)
    # Y's run is named, with its class, and left alone (not analysed into its folder)
    (y_run,) = runs["Y"]
    assert [(r["run"], r["class"]) for r in doc["not_in_campaign"]] == \
        [(str(y_run.path), "completed")]
    assert "1 run folder(s) under" in err and "not planned by X.toml" in err
    assert "fcc/morse/conductivity/T700K/r0 (completed)" in err
    assert not (y_run.path / "analysis").exists()
    assert doc["campaign"] == str(paths["X"].resolve())

    # Y's collect does not replace X's tables: refused, naming both files and the way out
    written = {p.name: p.read_bytes() for p in tables.iterdir()}
    assert main(["sweep", "collect", str(paths["Y"]), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert f"{tables} holds the tables of campaign {paths['X'].resolve()}" in err
    assert f"--output {folder / 'runs' / 'collect-Y'}" in err
    assert {p.name: p.read_bytes() for p in tables.iterdir()} == written
    # in a folder of its own, Y reports its 700 K run and names X's two
    own = folder / "runs" / "collect-Y"
    assert main(["sweep", "collect", str(paths["Y"]), "--no-progress", "-o", str(own)]) == 0
    ydoc = json.loads((own / "results.json").read_text())
    assert [(r["temperature_K"], r["replicas_planned"]) for r in ydoc["rows"]] == [(700.0, 1)]
    assert [r["run"] for r in ydoc["not_in_campaign"]] == [str(r.path) for r in runs["X"]]


def test_tables_of_the_same_campaign_moved_or_copied_are_replaced(shared, tmp_path):
    folder, paths, _ = shared
    copy = tmp_path / "copy"            # the whole folder copied: the tables name the original
    shutil.copytree(folder, copy)
    assert main(["sweep", "collect", str(copy / "X.toml"), "--no-progress"]) == 0
    doc = json.loads((copy / "runs" / "collect" / "results.json").read_text())
    assert doc["campaign"] == str((copy / "X.toml").resolve())
    (copy / "X.toml").rename(copy / "X_renamed.toml")       # the tables' file is gone
    assert main(["sweep", "collect", str(copy / "X_renamed.toml"), "--no-progress"]) == 0
    doc = json.loads((copy / "runs" / "collect" / "results.json").read_text())
    assert doc["campaign"] == str((copy / "X_renamed.toml").resolve())


def test_two_files_of_one_derived_name_are_both_named(tmp_path, morse):
    folder = campaign_dir(tmp_path / "camp", morse)
    for rel in ("a/LiCl.cif", "b/LiCl.cif", "a_LiCl.cif"):
        (folder / rel).parent.mkdir(exist_ok=True)
        fcc_cell().write(folder / rel)
    path = write_campaign(folder, structures='["a/LiCl.cif", "b/LiCl.cif", "a_LiCl.cif"]')
    with pytest.raises(IonmdError) as exc:
        load_campaign(path)
    msg = str(exc.value)
    # before: "two structures are named 'a_LiCl' (lines 3 and 3); give one a name = ..."
    assert ("two structures are named 'a_LiCl' (line 3): a/LiCl.cif (named 'a_LiCl' by its "
            "folder, since more than one listed file has the name 'LiCl') and a_LiCl.cif "
            "(named by its file)") in msg
