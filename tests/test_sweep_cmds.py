"""Campaign models named by their folders when two files share a stem, found again by a
rerun and by collect; and the campaign's run list planned once (every run checked, then
written). References: each run's own settings.json (the model file it was written for),
and the folders on disk."""

from __future__ import annotations

import json
import shutil

import pytest

import ionmd.protocols.plan as protocols_plan
import ionmd.protocols.rundir as rundir
from ionmd.errors import IonmdError
from ionmd.sweep import load_campaign, plan_campaign
from ionmd.sweep.collect import runs_to_collect
from sweep_setup import write_campaign


@pytest.fixture
def two_exports(folder):
    """runs/a/model.pt and runs/b/model.pt: one export per training run."""
    for sub in ("a", "b"):
        (folder / "train" / sub).mkdir(parents=True)
        shutil.copy(folder / "morse.pt", folder / "train" / sub / "model.pt")
    return folder


def test_two_model_files_of_one_stem_both_run_under_their_folders(two_exports, folder):
    # before: refused ("two models share the name 'model' ... rename one")
    path = write_campaign(folder, temperatures=(600,),
                          models='["train/a/model.pt", "train/b/model.pt", "morse.pt"]')
    campaign = load_campaign(path)
    assert [m.name for m in campaign.models] == ["a_model", "b_model", "morse"]
    runs = plan_campaign(campaign, create=True)
    assert [r.model for r in runs] == ["a_model", "b_model", "morse"]
    for run in runs:
        recorded = json.loads((run.path / "settings.json").read_text())["model"]
        model_folder = run.path.relative_to(folder / "runs").parts[1]
        assert model_folder == run.model
        assert recorded == str({"a_model": folder / "train/a/model.pt",
                                "b_model": folder / "train/b/model.pt",
                                "morse": folder / "morse.pt"}[run.model])
    # a rerun (and collect) finds the same folders: nothing new, nothing outside the plan
    again = plan_campaign(load_campaign(path), create=True)
    assert [r.path for r in again] == [r.path for r in runs]
    collected = runs_to_collect(load_campaign(path))
    assert [(r.path, r.in_campaign) for r in collected] == [(r.path, True) for r in runs]
    assert sorted(p.name for p in (folder / "runs" / "fcc").iterdir()) == [
        "a_model", "b_model", "morse"]


def test_a_second_model_of_one_stem_leaves_the_first_ones_runs_where_they_are(two_exports,
                                                                              folder):
    # before: adding train/b/model.pt renamed train/a/model.pt's folders to a_model, so its
    # runs (written under model/) started again from nothing
    path = write_campaign(folder, temperatures=(600,), models='["train/a/model.pt"]')
    [first] = plan_campaign(load_campaign(path), create=True)
    assert first.model == "model"
    path = write_campaign(folder, temperatures=(600,),
                          models='["train/a/model.pt", "train/b/model.pt"]')
    campaign = load_campaign(path)
    assert [m.name for m in campaign.models] == ["model", "b_model"]
    runs = plan_campaign(campaign, create=True)
    assert runs[0].path == first.path
    recorded = {r.model: json.loads((r.path / "settings.json").read_text())["model"]
                for r in runs}
    assert recorded == {"model": str(folder / "train/a/model.pt"),
                        "b_model": str(folder / "train/b/model.pt")}
    # a fresh campaign folder (no runs yet) names both by their folders
    fresh = write_campaign(folder, name="fresh", temperatures=(600,), output="fresh_runs",
                           models='["train/a/model.pt", "train/b/model.pt"]')
    assert [m.name for m in load_campaign(fresh).models] == ["a_model", "b_model"]


def test_a_moved_campaign_keeps_its_first_models_runs_by_the_files_contents(two_exports,
                                                                            folder, tmp_path):
    # the runs record the model's old absolute path: after the campaign folder moved, the
    # file with the contents they record keeps the stem (by path alone both would be renamed)
    from contract_models import MorseEdgeModel, save_contract_model
    from protocol_setup import ELEMENTS, MORSE

    path = write_campaign(folder, temperatures=(600,), models='["train/a/model.pt"]')
    [first] = plan_campaign(load_campaign(path), create=True)
    moved = tmp_path / "moved"
    shutil.copytree(folder, moved)
    save_contract_model(MorseEdgeModel(**{**MORSE, "d0": 2 * MORSE["d0"]}),
                        moved / "train" / "b" / "model.pt", cutoff=MORSE["rc"], elements=ELEMENTS)
    path = write_campaign(moved, temperatures=(600,), models='["train/b/model.pt", '
                                                               '"train/a/model.pt"]')
    campaign = load_campaign(path)
    assert [m.folder for m in campaign.models] == ["b_model", "model"]
    runs = plan_campaign(campaign, create=True)
    assert runs[1].path == moved / first.path.relative_to(folder)


def test_a_second_structure_of_one_stem_leaves_the_first_ones_runs_where_they_are(folder):
    # before: adding sub/fcc.cif renamed fcc.cif's run folders by its parent folder, so its
    # runs (written under fcc/) started again from nothing
    from ase.io import read, write

    path = write_campaign(folder, temperatures=(600,))
    [first] = plan_campaign(load_campaign(path), create=True)
    strained = read(folder / "fcc.cif")
    strained.set_cell(strained.cell * 1.02, scale_atoms=True)
    (folder / "sub").mkdir()
    write(folder / "sub" / "fcc.cif", strained)
    path = write_campaign(folder, temperatures=(600,), structures='["sub/fcc.cif", "fcc.cif"]')
    campaign = load_campaign(path)
    assert [s.name for s in campaign.structures] == ["sub_fcc", "fcc"]
    runs = plan_campaign(campaign, create=True)
    assert runs[1].path == first.path and runs[0].path.parts[-5] == "sub_fcc"
    hashes = [json.loads((r.path / "settings.json").read_text())["structure_hash"] for r in runs]
    assert hashes[0] != hashes[1]
    # a fresh output folder names both by their folders
    fresh = write_campaign(folder, name="fresh", temperatures=(600,), output="fresh_runs",
                           structures='["sub/fcc.cif", "fcc.cif"]')
    assert [s.name for s in load_campaign(fresh).structures] == ["sub_fcc",
                                                                  f"{folder.name}_fcc"]


def test_the_campaign_is_planned_once(folder, monkeypatch):
    # before: plan_campaign(create=True) planned everything twice (a check pass, then a
    # write pass): each (structure, model) was laid out and checked two times
    calls, hashed = [], []
    check, file_hash = protocols_plan.check_protocol, rundir.file_hash
    monkeypatch.setattr(protocols_plan, "check_protocol",
                        lambda p: calls.append(p.name) or check(p))
    monkeypatch.setattr(rundir, "file_hash", lambda f: hashed.append(f) or file_hash(f))
    (folder / "other.cif").write_bytes((folder / "fcc.cif").read_bytes())
    path = write_campaign(folder, structures='["fcc.cif", "other.cif"]')
    runs = plan_campaign(load_campaign(path), create=True)
    assert len(calls) == 2 and len(runs) == 4
    assert len(hashed) == 4         # the model file read once per run, checked and written
    assert all((r.path / "settings.json").is_file() for r in runs)


def test_a_refused_campaign_writes_no_run(folder):
    # the second structure's T900K was written with another seed: refused before the
    # first structure's runs are written (collect would count them)
    (folder / "other.cif").write_bytes((folder / "fcc.cif").read_bytes())
    plan_campaign(load_campaign(write_campaign(folder, name="old", structures='["other.cif"]',
                                               temperatures=(900,), extra="seed = 7")),
                  create=True)
    path = write_campaign(folder, structures='["fcc.cif", "other.cif"]')
    with pytest.raises(IonmdError, match="the campaign changed after its runs were written"):
        plan_campaign(load_campaign(path), create=True)
    assert not (folder / "runs" / "fcc").exists()
    assert [p.name for p in (folder / "runs" / "other").rglob("T*K")] == ["T900K"]
