"""``ionmd analyze`` fits each model's runs apart: replicas of one series are runs of one
structure under one model (``run.json``'s ``model`` and ``model_hash``; a folder written
before they were recorded says them in its ``settings.json``). It combined two models'
runs of one structure as replicas (Ea 0.263 +- 0.179 eV "fcc" for 0.25 and 0.40 eV, with
2 "replicas" a temperature and no flag).

The runs: Brownian Li of known Arrhenius D (16 ions, as test_collect_analyze_agreement
prepares them), Ea 0.25 eV under one model and 0.40 eV (D 4x smaller at 1000 K) under the
other, one replica a temperature. References: ``ionmd sweep collect``'s separate fits of
the same campaign, scipy's curve_fit of D = A exp(-Ea / kT) in D per model by hand (the
campaign fit is in D since 0b32879; each run's standard error from its own interval by
scipy's Student t: tests/arrhenius_in_d.py), sha256 of the model files by hashlib (the
file's digest, ``settings.json``'s ``model_file_hash``) and the model's identity
(``model_hash`` since 840ed02: ``ionmd.export.model_identity``, which docs/model-contract.md
defines, telling models apart by what they compute).
"""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest
from scipy.constants import Boltzmann, electron_volt

import synthetic_trajectories as st
from arrhenius_in_d import fit_in_y, own_se
from contract_models import MorseEdgeModel, save_contract_model
from ionmd.analysis.run_spec import load_run_spec
from ionmd.export.model_identity import model_identity
from ionmd.cli import main
from protocol_setup import ELEMENTS, MORSE, fcc_cell, short
from sweep_setup import brownian_campaign, brownian_run, campaign_dir, write_campaign

KB = Boltzmann / electron_volt
TEMPERATURES = (600.0, 800.0, 1000.0)
EA = {"morse": (0.25, 0.5), "other": (0.40, 0.125)}     # Ea (eV), D at 1000 K (A^2/ps)
ANALYSIS = "charges = {Li = 1, Cl = -1}\nfit_start_ps = 1.0\nwindow_ps = 15.0\ncollapse_fraction = 0.01"


def analyze(folders, out, *extra) -> dict:
    assert main(["analyze", *map(str, folders), "-o", str(out), "--collapse-fraction", "0.01",
                 *extra]) in (0, None)
    return json.loads((out / "summary.json").read_text())


def own_ea(results: list[dict]) -> float:
    """Ea of scipy's curve_fit in D over one replica a temperature, each run weighted by its
    standard error from its own interval (:func:`arrhenius_in_d.own_se`)."""
    d = [next(x for x in r["diffusion"] if x["direction"] == "xyz") for r in results]
    return fit_in_y([r["temperature_K"] for r in results], [x["D"] for x in d],
                    [own_se(x) for x in d])["Ea"]


def own_results(out, model: str) -> list[dict]:
    """analyze's per-run results.json of one model's runs (by their run folder)."""
    found = [json.loads(f.read_text()) for f in out.rglob("results.json")]
    mine = sorted((r for r in found if f"/fcc/{model}/" in r["run"]),
                  key=lambda r: r["temperature_K"])
    assert len(mine) == len(TEMPERATURES)
    return mine


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, morse):
    """A campaign of one structure under two models ('other.pt': a copy of the file, told
    apart by the campaign's names), its runs, collect's results and analyze's summary."""
    folder = campaign_dir(tmp_path_factory.mktemp("two") / "camp", morse)
    shutil.copy(folder / "morse.pt", folder / "other.pt")
    path = write_campaign(folder, temperatures=TEMPERATURES, replicas=1,
                          models='["morse.pt", "other.pt"]', analysis=ANALYSIS,
                          duration_ps=30, discard_ps=2)     # as long as the Brownian runs
    runs, collected = brownian_campaign(path, EA)
    out = tmp_path_factory.mktemp("analyzed")
    return {"path": path, "runs": runs, "collected": collected, "out": out,
            "summary": analyze([r.path for r in runs], out)}


def test_campaign_models_are_fitted_apart_as_collect_fits_them(campaign):
    """Two series, fcc/morse and fcc/other (collect's names), each of one replica a
    temperature; their Ea is collect's and statsmodels' of that model's runs alone."""
    summary, collected, out = campaign["summary"], campaign["collected"], campaign["out"]
    assert set(summary["arrhenius"]) == {"fcc/morse", "fcc/other"}
    for model, (ea, _) in EA.items():
        fit = summary["arrhenius"][f"fcc/{model}"]["D_Li"]
        assert [len(p["replicas"]) for p in fit["points"]] == [1, 1, 1]
        ref = collected["arrhenius"][f"fcc/{model}"]["D_Li"]
        assert fit["Ea_eV"] == pytest.approx(ref["Ea_eV"], rel=1e-12)
        assert fit["Ea_eV"] == pytest.approx(own_ea(own_results(out, model)), rel=1e-9)
        assert abs(fit["Ea_eV"] - ea) < 4 * fit["Ea_err_eV"]
        series = summary["series"][f"fcc/{model}"]
        assert (series["structure"], series["model"]) == ("fcc", model)
        assert summary["structures"][f"fcc/{model}"]["model"] == model
        assert "mixed_settings" not in fit["flags"]
    assert summary["warnings"] == []
    # each run records its model: the campaign's name and the model's identity (other.pt,
    # a copy, is the same model); settings.json beside it the file's sha256
    model = campaign["path"].parent / "morse.pt"
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    for run in campaign["runs"]:
        meta = json.loads((run.path / "run.json").read_text())
        settings = json.loads((run.path / "settings.json").read_text())
        assert (meta["model"], meta["model_hash"]) == (run.model, model_identity(model))
        assert settings["model_hash"] == meta["model_hash"]
        assert settings["model_file_hash"] == digest[:16]


def test_printed_fits_name_their_model(campaign, tmp_path, capsys):
    """The printed fits say each model; one model's runs alone: the structure with it."""
    runs = campaign["runs"]
    analyze([r.path for r in runs if r.model == "other"], tmp_path / "one")
    printed = capsys.readouterr().out
    assert "fcc (model other) D_Li: Ea = " in printed
    assert "fcc (model other) sigma: Ea = " in printed


def test_old_folders_are_told_apart_by_their_settings(campaign, tmp_path):
    """Run folders written before run.json named the model (keys taken out): their
    settings.json (model path and hash, the run path's model folder) tells the models
    apart, with the same fits; a campaign reopening them writes the keys back."""
    runs = campaign["runs"]
    for run in runs:
        meta = json.loads((run.path / "run.json").read_text())
        for key in ("model", "model_hash"):
            meta.pop(key, None)
        (run.path / "run.json").write_text(json.dumps(meta))
        assert load_run_spec(run.path).model == run.model
    summary = analyze([r.path for r in runs], tmp_path / "old")
    for model in EA:
        fit = summary["arrhenius"][f"fcc/{model}"]["D_Li"]
        assert fit["Ea_eV"] == pytest.approx(
            campaign["summary"]["arrhenius"][f"fcc/{model}"]["D_Li"]["Ea_eV"], rel=1e-12)
    from ionmd.sweep import load_campaign, plan_campaign

    plan_campaign(load_campaign(campaign["path"]), create=True)
    for run in runs:
        meta = json.loads((run.path / "run.json").read_text())
        settings = json.loads((run.path / "settings.json").read_text())
        assert (meta["model"], meta["model_hash"]) == (run.model, settings["model_hash"])
        assert meta["trajectory"] == ["traj.0.dcd"]          # the rest of the file kept


def test_two_run_outputs_of_models_sharing_a_name(tmp_path):
    """Two `ionmd run` outputs, each with its own 'morse.pt' (other Morse parameters):
    one name, two files, told apart by their identities (their sha256 differ too); each Ea
    is curve_fit's of its runs."""
    from ionmd.protocols import plan_runs

    protocol = short("conductivity", temperatures=TEMPERATURES)
    folders, digests, sha256 = {}, {}, {}
    for k, (label, (ea, d_1000)) in enumerate(EA.items()):
        model = save_contract_model(MorseEdgeModel(**{**MORSE, "d0": 0.3 + 0.05 * k}),
                                    tmp_path / label / "morse.pt", cutoff=MORSE["rc"],
                                    elements=ELEMENTS)
        digests[label] = model_identity(model)
        sha256[label] = hashlib.sha256(model.read_bytes()).hexdigest()[:16]
        runs = plan_runs(protocol, fcc_cell(), model, tmp_path / label / "out", name="fcc",
                         charges={"Li": 1, "Cl": -1})
        for j, rd in enumerate(runs):
            brownian_run(rd, rd.temperature, 10 * k + j, ea, d_1000)
        folders[label] = [rd.path for rd in runs]
    assert digests["morse"] != digests["other"] and sha256["morse"] != sha256["other"]
    out = tmp_path / "an"
    summary = analyze(folders["morse"] + folders["other"], out)
    names = {label: f"fcc/morse@{digests[label][:8]}" for label in EA}
    assert set(summary["arrhenius"]) == set(names.values())
    for label, (ea, _) in EA.items():
        fit = summary["arrhenius"][names[label]]["D_Li"]
        assert [len(p["replicas"]) for p in fit["points"]] == [1, 1, 1]
        found = (json.loads(f.read_text()) for f in out.rglob("results.json"))
        mine = sorted((r for r in found if r["run"].startswith(str(tmp_path / label))),
                      key=lambda r: r["temperature_K"])
        assert len(mine) == 3
        assert fit["Ea_eV"] == pytest.approx(own_ea(mine), rel=1e-9)
        assert abs(fit["Ea_eV"] - ea) < 4 * fit["Ea_err_eV"]
        assert summary["series"][names[label]]["model_hash"] == digests[label]
        for folder in folders[label]:
            settings = json.loads((folder / "settings.json").read_text())
            assert settings["model_file_hash"] == sha256[label]


def hand_run(folder, T: float, seed: int, pair_coeff: str) -> None:
    """A run written by hand: files, a log echoing its pair_style and pair_coeff, and a
    run.json of its own without a model."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    D = 0.5 * np.exp(-0.25 / KB * (1 / T - 1 / 1000))
    s = st.make(st.brownian_steps(300, 16, [D] * 3, 0.1, rng), L=12.0, rng=rng)
    st.write_lammps_files(folder, s, [T] * len(s.true.boxes), specorder=["Li", "Cl"])
    log = folder / "log.lammps"
    log.write_text(f"pair_style ionmd\n{pair_coeff}\n" + log.read_text())
    (folder / "run.json").write_text(json.dumps({
        "temperature_K": T, "timestep_fs": 2.0, "dump_every": 50, "discard_ps": 2.0,
        "dump_unwrapped": True, "type_map": {"1": "Li", "2": "Cl"},
        "charges": {"Li": 1, "Cl": -1}, "structure": "LiCl"}))


def test_hand_runs_of_other_potentials_are_said_to_be_mixed(tmp_path, capsys):
    """Runs by hand record no model: one series as before, but where their logs echo other
    potentials the summary, the fits' flags and stderr say the series mixes them; the same
    potential throughout says nothing."""
    folders = []
    for k, (T, model) in enumerate([(600.0, "a.pt"), (800.0, "a.pt"), (1000.0, "b.pt")]):
        folders.append(tmp_path / "runs" / f"{T:g}K")
        hand_run(folders[-1], T, k, f"pair_coeff * * {model} Li Cl")
    summary = analyze(folders, tmp_path / "an")
    assert set(summary["arrhenius"]) == {"LiCl"}
    assert summary["series"]["LiCl"]["model"] is None
    said = summary["series"]["LiCl"]["mixed_settings"]
    assert "a.pt" in said and "b.pt" in said and said in summary["warnings"]
    assert "mixed_settings" in summary["arrhenius"]["LiCl"]["D_Li"]["flags"]
    assert "different potentials" in capsys.readouterr().err
    same = analyze(folders[:2], tmp_path / "same", "--failures-only")
    assert same["warnings"] == [] and "mixed_settings" not in same["series"]["LiCl"]


def test_stopped_by_survives_into_the_run_status(campaign):
    """status.json's stopped_by (an interrupted run's 'timer timeout') is kept as a field."""
    rd = campaign["runs"][0].rundir
    before = rd.status
    try:
        rd.set_status("interrupted", stopped_by="timer timeout", resumable=True,
                      reason="stopped at step 4800 by LAMMPS's own timer")
        assert load_run_spec(rd.path).run_status["stopped_by"] == "timer timeout"
    finally:
        rd.write_json("status.json", before)
