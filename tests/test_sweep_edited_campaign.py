"""A campaign edited between submits: a run written with other settings (another model
file of the same name, another structure) is refused before anything is written or
started, and the refusal leaves no run folder behind that the reverted campaign would
count as never finished."""

from __future__ import annotations

import json

import pytest

from contract_models import MorseEdgeModel, save_contract_model
from ionmd.cli import main
from ionmd.sweep import load_campaign, plan_campaign
from protocol_setup import MORSE, fcc_cell
from sweep_setup import write_campaign

TWO = '["fcc.cif", "other.cif"]'


@pytest.fixture
def folder(folder):
    fcc_cell().write(folder / "other.cif")
    return folder


def run_folders(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.glob("runs/*/*/*/T*K/r*"))


def test_a_refused_edit_writes_no_run_folder(folder, capsys):
    path = write_campaign(folder, temperatures=(600,), structures=TWO)
    plan_campaign(load_campaign(path), create=True)
    before = run_folders(folder)
    # another temperature, and the second structure replaced by another cell
    fcc_cell(a=3.75).write(folder / "other.cif")
    write_campaign(folder, temperatures=(600, 900), structures=TWO)
    capsys.readouterr()
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 1
    assert "structure_hash: the structure (or its order settings) changed" in capsys.readouterr().err
    # before: fcc's T900K folder was written before other's T600K was refused; reverted,
    # the campaign's collect then counted it incomplete for ever (submit never plans it)
    assert run_folders(folder) == before
    fcc_cell().write(folder / "other.cif")
    write_campaign(folder, temperatures=(600,), structures=TWO)
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    rows = json.loads((folder / "runs" / "collect" / "results.json").read_text())["rows"]
    assert [r["temperature_K"] for r in rows] == [600.0, 600.0]


def test_a_model_replaced_by_another_file_of_its_name_is_not_resumed(folder, capsys):
    path = write_campaign(folder, temperatures=(600,), duration_ps=0.2, discard_ps=0.05)
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    (run,) = plan_campaign(load_campaign(path))
    status = (run.path / "status.json").read_text()
    other = dict(MORSE, d0=0.35)             # another model, saved under the same name
    save_contract_model(MorseEdgeModel(**other), folder / "morse.pt", cutoff=other["rc"],
                        elements=["Li", "Cl"])
    capsys.readouterr()
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert f"run directory {run.path} has other settings" in err
    assert "model_hash: the model file's contents changed" in err
    assert (run.path / "status.json").read_text() == status        # untouched
    assert sorted(p.name for p in run.path.glob("in.*.lmp")) == ["in.0.lmp"]


def test_an_unfinished_run_taken_out_of_the_campaign_is_named_not_awaited(folder, capsys):
    # 900 K was interrupted, then taken out of the campaign file: status and submit no
    # longer see it; before, collect kept a 900 K row "0/1 done" and said "partial ...
    # collect again when they have ended" for ever
    path = write_campaign(folder, temperatures=(600, 900), duration_ps=0.3, discard_ps=0.05)
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    hot = next(r for r in plan_campaign(load_campaign(path)) if r.temperature == 900)
    hot.rundir.set_status("interrupted", reason="killed")
    write_campaign(folder, temperatures=(600,), duration_ps=0.3, discard_ps=0.05)
    stale = folder / "runs" / "collect" / "survival.png"     # an earlier collect's curves
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"png")
    capsys.readouterr()
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    printed = capsys.readouterr()
    doc = json.loads((folder / "runs" / "collect" / "results.json").read_text())
    assert doc["complete"] and doc["classes"] == {"completed": 1}
    assert [r["run"] for r in doc["runs"]] == [
        str(r.path) for r in plan_campaign(load_campaign(path))]
    assert [r["temperature_K"] for r in doc["rows"]] == [600.0]
    assert [r["run"] for r in doc["not_in_campaign"]] == [str(hot.path)]
    assert "T900K/r0 (interrupted)" in printed.err and "not planned by c.toml" in printed.err
    assert "partial" not in printed.out
    assert not stale.exists()               # no run failed: no survival curves shown
    # finished, it is still not this file's to report (another file's run would look the
    # same): named with its class, not in the table or its fits
    hot.rundir.set_status("completed", reason=None)
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    doc = json.loads((folder / "runs" / "collect" / "results.json").read_text())
    assert [r["temperature_K"] for r in doc["rows"]] == [600.0]
    assert [(r["run"], r["class"]) for r in doc["not_in_campaign"]] == [
        (str(hot.path), "completed")]


@pytest.mark.parametrize("left", [["struct.data"], ["struct.data", "settings.json.tmp"]])
def test_a_submit_killed_while_writing_a_run_directory_does_not_block_the_next(folder, capsys,
                                                                              left):
    # RunDir.create writes the data file, then settings.json (atomically: a .tmp renamed);
    # before, what a kill between the two left made every later submit refuse the whole
    # campaign: "... exists, is not empty and is no ionmd run directory"
    path = write_campaign(folder, temperatures=(600,), duration_ps=0.2, discard_ps=0.05)
    (run,) = plan_campaign(load_campaign(path))
    run.path.mkdir(parents=True)
    for name in left:
        (run.path / name).write_text("half")
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    assert run.rundir.status["state"] == "completed"
    # anything else in a folder without settings.json is still never touched
    other = folder / "runs" / "fcc" / "morse" / "conductivity" / "T900K" / "r0"
    other.mkdir(parents=True)
    (other / "notes.txt").write_text("mine")
    write_campaign(folder, temperatures=(600, 900), duration_ps=0.2, discard_ps=0.05)
    capsys.readouterr()
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 1
    assert "is not empty and is no ionmd run directory" in capsys.readouterr().err
    assert (other / "notes.txt").read_text() == "mine"


def test_run_killed_while_writing_its_directory_does_not_block_ionmd_run(tmp_path, morse):
    # the same for a single `ionmd run` (RunDir.create is the one place that clears it)
    from ionmd.protocols import plan_runs
    from protocol_setup import short

    proto = short("conductivity", temperatures=(600.0,), duration_ps=0.05, discard_ps=0.0)
    (rd,) = plan_runs(proto, fcc_cell(), morse, tmp_path / "out", name="fcc", create=False)
    rd.path.mkdir(parents=True)
    (rd.path / "struct.data").write_text("half")
    (created,) = plan_runs(proto, fcc_cell(), morse, tmp_path / "out", name="fcc", create=True)
    assert created.status["state"] == "pending"
    assert "half" not in (created.path / "struct.data").read_text()
