"""A campaign model listed through a link (``sevennet.pt -> exports/morse.pt``) has its
runs under the link target's stem (``morse``: where ionmd always put them) but is named
``sevennet`` in the campaign's tables (``ionmd sweep collect``'s ``fcc/sevennet``). Its
runs' ``run.json`` recorded ``model = "morse"`` (06fc03a took the folder's name), so
``ionmd analyze`` of the same runs fitted ``fcc/morse`` beside collect's ``fcc/sevennet``:
one model, two names. Now run.json records the campaign's name, and a folder written with
the folder's name gets the campaign's on the next submit.

The campaign: one structure, that linked model and a copy of the file listed as
``other.pt``, one replica a temperature of Brownian Li of known Arrhenius D (Ea 0.25 and
0.40 eV; as tests/test_analysis_series_by_model.py makes them). References: the link's own
stem (os.path), statsmodels' WLS of each model's runs (scipy's Student t errors), and
analyze and collect giving the same names and numbers."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from ionmd.sweep import load_campaign, plan_campaign
from sweep_setup import brownian_campaign, campaign_dir, write_campaign
from test_analysis_series_by_model import ANALYSIS, EA, TEMPERATURES, analyze, own_ea

EA_OF = {"sevennet": EA["morse"], "other": EA["other"]}


@pytest.fixture(scope="module")
def linked(tmp_path_factory, morse):
    """The campaign's path, runs, collect's results.json, analyze's out folder and
    summary.json."""
    folder = campaign_dir(tmp_path_factory.mktemp("link") / "camp", morse)
    (folder / "exports").mkdir()
    shutil.copy(folder / "morse.pt", folder / "other.pt")
    os.replace(folder / "morse.pt", folder / "exports" / "morse.pt")
    os.symlink(folder / "exports" / "morse.pt", folder / "sevennet.pt")
    path = write_campaign(folder, temperatures=TEMPERATURES, replicas=1,
                          models='["sevennet.pt", "other.pt"]', analysis=ANALYSIS,
                          duration_ps=30, discard_ps=2)     # as long as the Brownian runs
    runs, collected = brownian_campaign(path, EA_OF)
    out = tmp_path_factory.mktemp("analyzed")
    return {"path": path, "runs": runs, "collected": collected, "out": out,
            "summary": analyze([r.path for r in runs], out)}


def test_run_json_names_the_model_as_the_campaign_does(linked):
    """run.json's model is the link's own stem (the campaign's name), its runs still under
    the target's stem."""
    link_stem = os.path.splitext(os.path.basename(linked["path"].parent / "sevennet.pt"))[0]
    mine = [r for r in linked["runs"] if r.model == link_stem]
    assert len(mine) == len(TEMPERATURES)
    for run in linked["runs"]:
        meta = json.loads((run.path / "run.json").read_text())
        assert meta["model"] == run.model
    assert {r.path.parts[-4] for r in mine} == {"morse"}


def test_analyze_and_collect_name_and_fit_the_series_alike(linked):
    """The same series names in both, the same Ea, its error and interval, and the same
    300 K value; each Ea is statsmodels' of that model's runs and near the true one."""
    summary, collected = linked["summary"], linked["collected"]
    names = {f"fcc/{m}" for m in EA_OF}
    assert set(summary["arrhenius"]) == set(collected["arrhenius"]) == names
    assert set(summary["structures"]) == set(collected["structures"]) == names
    found = [json.loads(f.read_text()) for f in linked["out"].rglob("results.json")]
    for name in names:
        for key in ("D_Li", "sigma_T"):
            a, c = summary["arrhenius"][name][key], collected["arrhenius"][name][key]
            for field in ("Ea_eV", "Ea_err_eV", "y_extrapolated"):
                assert a[field] == pytest.approx(c[field], rel=1e-12), (name, key, field)
            assert a["Ea_ci95"] == pytest.approx(c["Ea_ci95"], rel=1e-12)
        assert (summary["structures"][name]["sigma_300K_mS_cm"]
                == pytest.approx(collected["structures"][name]["sigma_300K_mS_cm"], rel=1e-12))
        model = name.split("/")[1]
        mine = sorted((r for r in found if r.get("model") == model),
                      key=lambda r: r["temperature_K"])
        fit = summary["arrhenius"][name]["D_Li"]
        assert fit["Ea_eV"] == pytest.approx(own_ea(mine), rel=1e-9)
        assert abs(fit["Ea_eV"] - EA_OF[model][0]) < 4 * fit["Ea_err_eV"]


def test_a_folder_written_with_the_folder_name_gets_the_campaign_name(linked):
    """A run.json written with the target's stem (as 06fc03a wrote it) is given the
    campaign's name on the next submit; the rest of the file is kept."""
    run = next(r for r in linked["runs"] if r.model == "sevennet")
    meta = json.loads((run.path / "run.json").read_text())
    (run.path / "run.json").write_text(json.dumps({**meta, "model": "morse"}))
    plan_campaign(load_campaign(linked["path"]), create=True)
    again = json.loads((run.path / "run.json").read_text())
    assert again["model"] == "sevennet" and again == meta
