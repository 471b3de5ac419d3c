"""A campaign model's run folder is found from what the output folder holds: the folder
whose runs' settings.json record the model's file, then its model (identity or digest);
a model with no runs there gets a name that no folder holds and no other listed model
claims, never a folder holding another model's runs. Review R3's repros of 53ca42e: a
new ``q/y/model.pt`` was given ``y_model`` (``p/y/model.pt``'s runs) where ``y_model`` was
the first name ``unique_names`` gave it, and a renamed file (``x/model.pt`` ->
``x/m2.pt``) did not find its runs in ``model/``, where a new ``q/model.pt`` then landed
among them: plan refused with an untrue "campaign changed", or the runs were orphaned.

The truth is what each test put where: which file (and so which model: Morse wells of
distinct depth) each folder's runs were written for."""

from __future__ import annotations

import json

import pytest

from ionmd.export.model_identity import model_identity
from sweep_setup import campaign_dir, deeper_morse as model, planned_models as planned


@pytest.fixture
def three(tmp_path, morse):
    """A campaign folder with three models of one stem: x/model.pt, p/y/model.pt,
    q/y/model.pt (three models), and their identities."""
    folder = campaign_dir(tmp_path / "c", morse)
    files = {rel: model(folder, rel, d) for rel, d in
             (("x/model.pt", 1.0), ("p/y/model.pt", 2.0), ("q/y/model.pt", 3.0))}
    return folder, {rel: model_identity(p) for rel, p in files.items()}


def test_a_new_model_is_not_given_a_folder_that_holds_another_models_runs(three):
    folder, ids = three
    assert planned(folder, ["x/model.pt"], create=True) == {
        "model": ("model", ids["x/model.pt"])}
    assert planned(folder, ["x/model.pt", "p/y/model.pt"], create=True) == {
        "model": ("model", ids["x/model.pt"]), "y_model": ("y_model", ids["p/y/model.pt"])}
    # before: y_model (p/y's runs): refused as a changed campaign
    assert planned(folder, ["q/y/model.pt"], create=True) == {
        "q_y_model": ("q_y_model", ids["q/y/model.pt"])}
    assert planned(folder, ["p/y/model.pt", "x/model.pt", "q/y/model.pt"]) == {
        "y_model": ("y_model", ids["p/y/model.pt"]), "model": ("model", ids["x/model.pt"]),
        "q_y_model": ("q_y_model", ids["q/y/model.pt"])}


def test_a_model_listed_beside_one_whose_stem_it_shares_skips_folders_on_disk(three):
    folder, ids = three
    assert planned(folder, ["x/model.pt", "p/y/model.pt"], create=True) == {
        "x_model": ("x_model", ids["x/model.pt"]), "y_model": ("y_model", ids["p/y/model.pt"])}
    # before: q/y was renamed y_model as well, among p/y's runs
    assert planned(folder, ["x/model.pt", "q/y/model.pt"], create=True) == {
        "x_model": ("x_model", ids["x/model.pt"]),
        "q_y_model": ("q_y_model", ids["q/y/model.pt"])}


def test_a_renamed_model_file_finds_its_runs_and_a_new_one_is_kept_apart(tmp_path, morse):
    folder = campaign_dir(tmp_path / "c", morse)
    x = model(folder, "x/model.pt", 1.0)
    model(folder, "q/model.pt", 3.0)
    x_id, q_id = model_identity(x), model_identity(folder / "q/model.pt")
    assert planned(folder, ["x/model.pt"], create=True) == {"model": ("model", x_id)}
    first = sorted((folder / "runs").rglob("settings.json"))
    x.rename(folder / "x" / "m2.pt")
    # before: m2 planned anew in m2/, q/model.pt in model/ (x's runs): refused. The renamed
    # file keeps its runs' folder name too: its goal series and table rows go on under it
    assert planned(folder, ["x/m2.pt", "q/model.pt"], create=True) == {
        "model": ("model", x_id), "q_model": ("q_model", q_id)}
    assert [p for p in sorted((folder / "runs").rglob("settings.json"))
            if "q_model" not in p.parts] == first
    recorded = json.loads(first[0].read_text())["model"]
    assert recorded == str(folder / "x" / "m2.pt")      # its worker finds the file
