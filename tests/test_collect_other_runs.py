"""``ionmd sweep collect`` reports only the campaign's own runs. Before, it read every run
folder under the campaign's structure/model/protocol folder as it was on disk: after the
model file was replaced by another model, ``status`` refused the campaign ("model_hash")
while collect exited 0 with the old model's runs as the new file's; and a copy of a run
folder (``cp -a T900K/r0 T900K/r0.bak``) took the place of the run whose
(temperature, replica) its settings.json names, by listdir order.

References: what ``status`` (the campaign's own check of each folder's settings) says of
the same folders, the folder the campaign plans for each (temperature, replica), and the
files' bytes (a re-export of the same model has other bytes, one identity)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from contract_models import MorseEdgeModel, save_contract_model
from ionmd.cli import main
from ionmd.sweep import load_campaign, plan_campaign
from protocol_setup import ELEMENTS, MORSE, fcc_cell
from sweep_setup import brownian_run, write_campaign
from test_model_identity import digest, reexported

ANALYSIS = ("charges = {Li = 1, Cl = -1}\nfit_start_ps = 0.5\nwindow_ps = 5\n"
            "collapse_fraction = 0.01")


@pytest.fixture
def done(folder):
    """A finished campaign (600, 900 K; Brownian Li, Ea 0.2 eV) and its runs."""
    path = write_campaign(folder, duration_ps=30, discard_ps=2, analysis=ANALYSIS)
    runs = plan_campaign(load_campaign(path), create=True)
    for k, run in enumerate(runs):
        brownian_run(run.rundir, run.temperature, k, 0.2, 1.0)
    return path, runs


def collected(path, capsys, *args) -> tuple[int, dict, str]:
    capsys.readouterr()
    code = main(["sweep", "collect", str(path), "--no-progress", *args])
    out = path.parent / "runs" / "collect" if not args else Path(args[-1])
    return code, json.loads((out / "results.json").read_text()), capsys.readouterr().err


def test_runs_of_a_replaced_model_are_not_the_new_files(done, capsys):
    """morse.pt replaced by another Morse model (d0 0.35 for 0.3): status refuses the
    campaign for model_hash; collect (into a folder of the user's, as the refusal of a
    shared tables folder suggests) lists the old model's runs apart with why and exits 1,
    their values in no row or fit."""
    path, runs = done
    save_contract_model(MorseEdgeModel(**{**MORSE, "d0": 0.35}), path.parent / "morse.pt",
                        cutoff=MORSE["rc"], elements=ELEMENTS)
    capsys.readouterr()
    assert main(["sweep", "status", str(path)]) == 1
    assert "model_hash" in capsys.readouterr().err
    code, doc, err = collected(path, capsys, "-o", str(path.parent / "mytables"))
    assert code == 1
    assert doc["runs"] == [] and doc["rows"] == [] and not doc["complete"]
    apart = {r["run"]: r for r in doc["not_in_campaign"]}
    assert sorted(apart) == sorted(str(r.path) for r in runs)
    for r in apart.values():
        assert r["class"] == "completed" and "differs in model_hash" in r["why"]
    assert "ionmd: error: 2 run folder(s)" in err and "differs in model_hash" in err
    assert "fcc/morse/conductivity/T600K/r0 (completed)" in err


def test_a_reexport_of_the_same_model_is_still_this_model(done, tmp_path, capsys):
    """The same model saved again (another ``created``: other bytes, one identity):
    collected as before, both runs in the table, nothing apart."""
    path, runs = done
    model = path.parent / "morse.pt"
    again = reexported(model, tmp_path / "again" / "morse.pt")
    assert digest(again) != digest(model)
    shutil.copy(again, model)
    code, doc, err = collected(path, capsys)
    assert code == 0 and doc["complete"]
    assert [r["run"] for r in doc["runs"]] == [str(r.path) for r in runs]
    assert doc["not_in_campaign"] == [] and "other_settings" not in doc
    assert [(r["temperature_K"], r["replicas_done"]) for r in doc["rows"]] == \
        [(600.0, 1), (900.0, 1)]


def test_a_copy_of_a_run_folder_never_replaces_the_run(done, capsys):
    """``cp -a T900K/r0 T900K/r0.bak`` of a copy that is unfinished (interrupted), the
    run itself completed: status counts 2 completed; collect analyses T900K/r0 and names
    the copy apart, as a copy of that run, never in its place."""
    path, runs = done
    hot = next(r for r in runs if r.temperature == 900)
    bak = hot.path.with_name("r0.bak")
    shutil.copytree(hot.path, bak, symlinks=True)
    status = json.loads((bak / "status.json").read_text())
    (bak / "status.json").write_text(json.dumps({**status, "state": "interrupted",
                                                 "resumable": True}))
    capsys.readouterr()
    assert main(["sweep", "status", str(path), "--json"]) in (0, None)
    rows = json.loads(capsys.readouterr().out)
    assert [(r["run"], r["class"]) for r in rows] == [(str(r.path), "completed") for r in runs]
    code, doc, err = collected(path, capsys)
    assert code == 0 and doc["complete"]
    assert [(r["run"], r["class"]) for r in doc["runs"]] == [(r["run"], r["class"])
                                                             for r in rows]
    [copy] = doc["not_in_campaign"]
    assert (copy["run"], copy["class"]) == (str(bak), "interrupted")
    assert "T900K/r0:" in copy["why"] and "copy" in copy["why"]
    assert "T900K/r0.bak (interrupted)" in err


def test_runs_of_another_structure_are_not_the_campaigns(done, capsys):
    """fcc.cif replaced by another cell (a = 3.75 A for 3.68): status refuses the campaign
    for structure_hash; collect lists both runs apart with that reason and exits 1."""
    path, runs = done
    fcc_cell(a=3.75).write(path.parent / "fcc.cif")
    capsys.readouterr()
    assert main(["sweep", "status", str(path)]) == 1
    assert "structure_hash" in capsys.readouterr().err
    code, doc, err = collected(path, capsys)
    assert code == 1 and doc["runs"] == [] and doc["rows"] == []
    assert [(r["run"], "differs in structure_hash" in r["why"]) for r in
            doc["not_in_campaign"]] == [(str(r.path), True) for r in runs]
