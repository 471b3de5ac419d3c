"""Campaign files: validation errors that name the line (TOML and YAML), the run list
(paths, seeds), and ``collect`` on prepared run directories whose trajectories have a
known diffusion coefficient (Brownian motion with an Arrhenius D(T))."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

from ionmd.cli import main
from ionmd.protocols.rundir import velocity_seed
from ionmd.sweep import CampaignError, load_campaign, plan_campaign
from ionmd.sweep.campaign import parse_walltime
from ionmd.sweep.source import read_source
from sweep_setup import brownian_run, campaign_dir, line_of, write_campaign

KB = 8.617333262e-5


@pytest.fixture
def folder(tmp_path, morse):
    return campaign_dir(tmp_path / "camp", morse)


def errors_of(path) -> str:
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    return str(exc.value)


@pytest.mark.parametrize("change, marker, message", [
    (dict(protocol="conductivity-xyz"), 'name = "conductivity-xyz"', "unknown protocol 'conductivity-xyz'"),
    (dict(protocol="ev-scan"), 'name = "ev-scan"', "'ev-scan' is not an MD protocol"),
    (dict(structures='["fcc.cif",\n  "missing.cif"]'), '"missing.cif"', "structure file 'missing.cif' does not exist"),
    (dict(structures='["fcc.cif", "cells/*.vasp"]'), "cells/*.vasp", "matches no file"),
    (dict(structures='["Li6PS5Cl"]'), "Li6PS5Cl", "partially occupied sites"),
    (dict(models='["morse.pt", "other.pt"]'), "other.pt", "model file 'other.pt' not found"),
    (dict(resources="ranks = 64"), "ranks = 64", "64 cores but the local executor has 2"),
    (dict(resources='walltime = "0:00:00"'), "walltime =", "walltime must be > 0"),
    (dict(resources="threads = 0"), "threads = 0", "resources.threads must be an integer >= 1"),
    (dict(executor='kind = "pbs"'), 'kind = "pbs"', "unknown executor 'pbs'"),
    (dict(executor='kind = "slurm"\nlauncher = "srun"', resources="ranks = 2"), 'launcher = "srun"',
     "srun starts 2 independent copies of lmp"),
    (dict(extra="timestep = 2"), "timestep = 2", "unknown key 'timestep'"),
    (dict(duration_ps=0.05), "duration_ps = 0.05", "nothing would be left to analyse"),
])
def test_bad_campaign_names_the_line(folder, change, marker, message):
    path = write_campaign(folder, **change)
    err = errors_of(path)
    assert f"line {line_of(path, marker)}: " in err, err
    assert message in err, err


def test_unknown_element_names_structure_and_model_lines(folder):
    write(folder / "NaCl.cif", Atoms("NaCl", scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]],
                                     cell=[4.0] * 3, pbc=True))
    path = write_campaign(folder, structures='[\n  "fcc.cif",\n  "NaCl.cif",\n]')
    err = errors_of(path)
    assert f"line {line_of(path, 'NaCl.cif')}: structure 'NaCl' contains Na" in err
    assert f"model 'morse' (line {line_of(path, 'morse.pt')}) does not know (it knows Li Cl)" in err


def test_all_problems_at_once_and_nothing_written(folder, capsys):
    path = write_campaign(folder, protocol="nope", resources="ranks = 64",
                          models='["absent.pt"]')
    assert main(["sweep", "submit", str(path)]) == 1
    err = capsys.readouterr().err
    assert "3 problem(s)" in err and "nothing was submitted" in err
    assert not (folder / "runs").exists()


def test_yaml_lines(folder):
    path = folder / "c.yaml"
    path.write_text("structures:\n  - fcc.cif\n  - gone.cif\nmodels: [morse.pt]\n"
                    "temperatures: [600]\nprotocol:\n  name: conductivity\n  time_step: 2\n"
                    "resources:\n  walltime: -5\n")
    err = errors_of(path)
    assert f"line {line_of(path, 'gone.cif')}: structure file 'gone.cif' does not exist" in err
    assert f"line {line_of(path, 'time_step')}: protocol 'conductivity' has no parameter 'time_step'" in err
    assert f"line {line_of(path, 'walltime')}: walltime must be > 0" in err


@pytest.mark.parametrize("executor", ["slurm", "[slurm]"])
def test_an_executor_written_as_a_kind_is_refused_on_its_line(folder, executor):
    """`executor: slurm` is a string, not a table: it was a ValueError traceback
    ("dictionary update sequence element #0") instead of an error on the key's line."""
    path = folder / "c.yaml"
    path.write_text("structures: [fcc.cif]\nmodels: [morse.pt]\ntemperatures: [600]\n"
                    f"protocol:\n  name: conductivity\nexecutor: {executor}\n")
    err = errors_of(path)
    assert f"line {line_of(path, 'executor:')}: executor must be a table" in err, err
    assert "executor: {kind: slurm}" in err


def test_toml_scanner_matches_tomllib(folder):
    # every value tomllib reads has a line, and that line holds the value's text
    path = write_campaign(folder, structures='[\n  "fcc.cif", # a comment, with [brackets]\n'
                                             '  {path = "fcc.cif", name = "b"},\n]')
    src = read_source(path)
    lines = path.read_text().splitlines()
    assert src.data["structures"][1] == {"path": "fcc.cif", "name": "b"}
    assert 'name = "b"' in lines[src.line("structures", 1, "name") - 1]
    assert "fcc.cif" in lines[src.line("structures", 0) - 1]
    assert "tdamp_fs" in lines[src.line("protocol", "tdamp_fs") - 1]
    assert "mcmc_samples" in lines[src.line("analysis", "mcmc_samples") - 1]


def test_walltime_formats():
    assert parse_walltime(90) == 90
    assert parse_walltime("2h") == 120
    assert parse_walltime("1-02:30:00") == 1440 + 150
    assert parse_walltime("45:30") == pytest.approx(45.5)
    assert parse_walltime("0:10:00") == 10
    with pytest.raises(ValueError):
        parse_walltime("soon")


def test_plan_lists_runs_and_seeds_without_writing(folder, capsys):
    write(folder / "fcc2.cif", Atoms("LiCl", scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]],
                                     cell=[3.2] * 3, pbc=True))
    path = write_campaign(folder, structures='["fcc*.cif"]', temperatures=(600, 700, 800),
                          replicas=3, extra="seed = 100")
    c = load_campaign(path)
    runs = plan_campaign(c)
    assert len(runs) == 2 * 3 * 3
    assert [(r.structure, r.temperature, r.replica) for r in runs[:4]] == [
        ("fcc", 600.0, 0), ("fcc", 600.0, 1), ("fcc", 600.0, 2), ("fcc", 700.0, 0)]
    assert [r.seed for r in runs] == [velocity_seed(100, r.temperature, r.replica)
                                      for r in runs]
    assert len({r.seed for r in runs if r.structure == "fcc"}) == 9
    assert len({r.path for r in runs}) == len(runs)
    assert runs[8].path == folder / "runs" / "fcc" / "morse" / "conductivity" / "T800K" / "r2"
    assert not (folder / "runs").exists()
    assert main(["sweep", "plan", str(path)]) == 0
    out = capsys.readouterr().out
    assert "2 structure(s) x 1 model(s) x 3 temperature(s) x 3 replica(s) = 18 runs" in out
    assert out.count(" new") == 18


def test_a_glob_of_files_that_share_a_name_names_them_by_their_folders(folder):
    """mp-*/POSCAR (every file is called POSCAR): the folders tell the structures apart,
    as in `ionmd screen`, instead of a refusal that no name = ... could fix for a glob."""
    for i, a in enumerate((3.2, 3.4), 1):
        (folder / f"mp-{i}").mkdir()
        write(folder / f"mp-{i}" / "POSCAR", Atoms("LiCl", scaled_positions=[[0, 0, 0], [0.5] * 3],
                                                 cell=[a] * 3, pbc=True), format="vasp")
    c = load_campaign(write_campaign(folder, structures='["mp-*/POSCAR"]'))
    assert [s.name for s in c.structures] == ["mp-1_POSCAR", "mp-2_POSCAR"]
    assert [s.atoms.cell[0, 0] for s in c.structures] == pytest.approx([3.2, 3.4])


def test_more_replicas_and_a_moved_campaign_reopen_the_runs_they_have(folder):
    """A campaign given more replicas keeps its run directories (only new ones are added);
    a campaign folder copied elsewhere resumes there (the model and the input template are
    recognised by their contents, and the copy's records then point to the copy); a
    template whose content changed is still refused."""
    import shutil

    from ionmd.errors import IonmdError

    from ionmd.protocols.md_input import INPUTS

    (folder / "md.lmp").write_text((INPUTS / "md.lmp").read_text())
    path = write_campaign(folder, replicas=1, temperatures=(600,))
    path.write_text(path.read_text().replace('supercell = "none"',
                                             'supercell = "none"\ntemplate = "md.lmp"'))
    first = plan_campaign(load_campaign(path), create=True)
    path.write_text(path.read_text().replace("replicas = 1", "replicas = 2"))
    more = plan_campaign(load_campaign(path), create=True)
    assert [r.path for r in more][:1] == [first[0].path] and len(more) == 2
    copy = folder.parent / "elsewhere"
    shutil.copytree(folder, copy)
    moved = plan_campaign(load_campaign(copy / path.name), create=True)
    assert len(moved) == 2
    record = json.loads((moved[0].path / "settings.json").read_text())
    assert record["model"] == str((copy / "morse.pt").resolve())
    assert record["protocol"]["template"] == str((copy / "md.lmp").resolve())
    (copy / "md.lmp").write_text((copy / "md.lmp").read_text() + "\n# changed\n")
    with pytest.raises(IonmdError, match="template_hash"):
        plan_campaign(load_campaign(copy / path.name), create=True)


def test_submit_exits_as_ionmd_run_does(folder, capsys):
    """A local campaign whose run stops on a LAMMPS error: `sweep submit` exits 3 (as
    `ionmd run`), also the next time, when the failed run is left alone."""
    from ionmd.protocols.md_input import INPUTS

    (folder / "bad.lmp").write_text((INPUTS / "md.lmp").read_text() + "\nthis_is_no_command\n")
    path = write_campaign(folder, temperatures=(600,), duration_ps=0.1, discard_ps=0.01,
                          analysis="charges = {Li = 1, Cl = -1}\n"
                                   "fit_start_ps = 0.01")   # the fit: 0.01-0.045 ps, 4 frames
    path.write_text(path.read_text().replace('supercell = "none"',
                                             'supercell = "none"\ntemplate = "bad.lmp"'))
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 3
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 3
    assert "left alone" in capsys.readouterr().out
    main(["sweep", "collect", str(path), "--no-progress"])
    (row,) = json.loads((folder / "runs" / "collect" / "results.json").read_text())["rows"]
    assert row["replicas_error"] == 1 and row["incomplete"] == 1 and row["replicas_failed"] == 0


def test_plan_warns_when_a_run_outlasts_its_walltime(folder, capsys):
    """The cost per atom-step comes from the campaign's own LAMMPS logs ('Loop time');
    without one there is no estimate and no warning."""
    path = write_campaign(folder, temperatures=(600, 700), resources='walltime = "0:10:00"')
    c = load_campaign(path)
    runs = plan_campaign(c, create=True)
    assert main(["sweep", "plan", str(path)]) == 0
    assert "warning" not in capsys.readouterr().err
    # 2 s per step of 32 atoms measured in one run; 500 planned steps: 1000 s > 10 min
    (runs[0].path / "log.0.lammps").write_text(
        "Loop time of 200 on 1 procs for 100 steps with 32 atoms\n")
    assert runs[0].rundir.planned_steps == 500
    assert main(["sweep", "plan", str(path)]) == 0
    err = capsys.readouterr().err
    assert err.count("warning") == 2 and "about 0.278 h" in err and "2 submissions" in err


# ---- collect on prepared run directories ----------------------------------------------
EA, D_1000 = 0.25, 0.15    # eV; A^2/ps at 1000 K


def _prepare(rd, T, seed):
    """Replace the run's files by a Brownian trajectory of known D (A^2/ps -> cm^2/s)."""
    return brownian_run(rd, T, seed, EA, D_1000) * 1e-4


def test_collect_aggregates_replicas_and_fits_arrhenius(folder, capsys):
    path = write_campaign(folder, temperatures=(600, 800, 1000), replicas=2,
                          analysis="charges = {Li = 1, Cl = -1}\nmcmc_samples = 100\n"
                                   "fit_start_ps = 1.0\nwindow_ps = 15.0\ncollapse_fraction = 0.01",
                          duration_ps=30, discard_ps=2)     # as long as the Brownian runs
    c = load_campaign(path)
    runs = plan_campaign(c, create=True)
    truth = {}
    for k, run in enumerate(runs):
        if (run.temperature, run.replica) == (800.0, 1):
            continue                    # left pending: counted as incomplete
        truth[run.temperature] = _prepare(run.rundir, run.temperature, seed=k)
    halted = next(r for r in runs if (r.temperature, r.replica) == (1000.0, 1))
    halted.rundir.set_status("failed", resumable=False, failed_step=6000,
                             reason="volume changed (fix halt)")
    log = halted.path / "log.0.lammps"
    rows = log.read_text().splitlines()
    i = next(j for j, line in enumerate(rows) if line.split()[:1] == ["6000"])
    rows[i] = f"{6000:10d} 1000.0 {1.7 * 12.0 ** 3:.3f}"    # |V/V0 - 1| = 0.7 in the log
    log.write_text("\n".join(rows) + "\n")

    # one run ended by a stopping rule: its status.json says why and after which checks
    ruled = next(r for r in runs if (r.temperature, r.replica) == (600.0, 1))
    checks = [{"step": 10000, "time_ps": 20.0, "values": {"D_rel_ci": 0.3, "hops": 9.0},
               "met": False},
              {"step": 15000, "time_ps": 30.0, "values": {"D_rel_ci": 0.18, "hops": 14.0},
               "met": True}]
    ruled.rundir.set_status("completed", step=15000, pieces=1, resumable=False,
                            stopping={"until": "D_rel_ci<=0.2,hops>=10", "check_every_ps": 10.0,
                                      "max_time_ps": 2000.0},
                            checks=checks, stop_reason="converged")

    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    doc = json.loads((folder / "runs" / "collect" / "results.json").read_text())
    print(printed)
    _check_what_decided(doc, runs, halted, ruled, checks, printed)
    rows = {r["temperature_K"]: r for r in doc["rows"]}
    assert [rows[T]["replicas_done"] for T in (600, 800, 1000)] == [2, 1, 2]
    assert rows[800]["incomplete"] == 1
    assert rows[1000]["replicas_failed"] == 1 and rows[1000]["failure_modes"] == ["volume_change"]
    for T, D in truth.items():
        d = rows[T]["D_Li"]
        assert len(d["replicas"]) == (1 if T == 1000 else rows[T]["replicas_done"])
        assert d["ci95"][0] < d["value"] < d["ci95"][1]
        assert 0.6 < d["value"] / D < 1.6, (T, d, D)
    # two replicas combined: tighter than either alone (in log space)
    from ionmd.analysis.interval_errors import ln_error_from_interval

    res = [json.loads((r.path / "analysis" / "results.json").read_text())["diffusion"][0]
           for r in runs if r.temperature == 600.0]
    alone = max(ln_error_from_interval(*x["D_ci95"], value=x["D"]) for x in res)
    assert rows[600]["D_Li"]["ln_err"] <= alone + 1e-12
    fit = doc["arrhenius"]["fcc/morse"]["D_Li"]
    assert abs(fit["Ea_eV"] - EA) < 3 * fit["Ea_err_eV"] and fit["Ea_err_eV"] < 0.06
    assert rows[600]["Ea_eV"] == fit["Ea_eV"]
    # sigma(300 K) from sigma*T: Nernst-Einstein of the fitted D at 300 K (same Ea, H_R = 1)
    from ionmd.analysis.conductivity import nernst_einstein

    D300 = fit["prefactor"] * np.exp(-fit["Ea_eV"] / (KB * 300.0))
    sig300 = nernst_einstein(D300, 16, 1.0, 12.0 ** 3, 300.0)
    assert 0.5 < rows[600]["sigma_300K"] / sig300 < 2.0
    lo, hi = rows[600]["sigma_300K_ci95"]
    assert lo < rows[600]["sigma_300K"] < hi
    # survival of the 1000 K replicas alone (not pooled with 600/800 K): one of two
    # fails at 6000 steps x 2 fs
    curve = doc["survival"]["fcc/morse @ 1000 K"]
    assert curve["time_ps"][1] == pytest.approx(12.0)
    assert curve["survival"][1] == pytest.approx(1 - 1 / 2)
    assert (folder / "runs" / "collect" / "survival.png").is_file()
    csv_text = (folder / "runs" / "collect" / "results.csv").read_text().splitlines()
    assert csv_text[0].startswith("structure,model,protocol,temperature_K")
    assert "D_Li_cm2_s" in csv_text[0] and "sigma_300K_mS_cm" in csv_text[0]
    assert len(csv_text) == 4


def test_collect_keeps_going_past_a_run_json_it_cannot_read(folder, capsys):
    """A run.json of another schema (written by a newer ionmd) stopped the whole collect;
    now that run's record says why and the other replicas are collected."""
    path = write_campaign(folder, temperatures=(800,), replicas=2,
                          analysis="charges = {Li = 1, Cl = -1}\nmcmc_samples = 100\n"
                                   "fit_start_ps = 1.0\nwindow_ps = 15.0\n"
                                   "collapse_fraction = 0.01",
                          duration_ps=30, discard_ps=2)     # as long as the Brownian runs
    runs = plan_campaign(load_campaign(path), create=True)
    for k, run in enumerate(runs):
        _prepare(run.rundir, run.temperature, seed=k)
    newer = runs[1].rundir
    meta = newer.read_json("run.json")
    newer.write_json("run.json", {**meta, "schema": "ionmd-run/99"})
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    doc = json.loads((folder / "runs" / "collect" / "results.json").read_text())
    (row,) = doc["rows"]
    assert len(row["D_Li"]["replicas"]) == 1 and "analysis_error" in row["flags"]
    record = next(r for r in doc["runs"] if r["run"] == str(newer.path))
    assert "ionmd-run/99" in record["analysis_error"]
    # fixed, the run counts: the error is not cached
    newer.write_json("run.json", meta)
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    doc = json.loads((folder / "runs" / "collect" / "results.json").read_text())
    assert len(doc["rows"][0]["D_Li"]["replicas"]) == 2


def _check_what_decided(doc, runs, halted, ruled, checks, printed):
    """collect's record of each run (results.json "runs", runs.csv) against the run's own
    analysis, and the runs behind sigma(300 K)."""
    import csv

    by_path = {r["run"]: r for r in doc["runs"]}
    assert sorted(by_path) == sorted(str(r.path) for r in runs)
    pending = next(r for r in runs if (r.temperature, r.replica) == (800.0, 1))
    fed = []
    for run in runs:
        rec = by_path[str(run.path)]
        assert (rec["temperature_K"], rec["replica"], rec["model"]) == (run.temperature,
                                                                         run.replica, "morse")
        if run in (pending, halted):
            assert rec["mobile"] == [] and rec["run_length_ps"] is None
            continue
        fed.append(str(run.path))
        res = json.loads((run.path / "analysis" / "results.json").read_text())
        d = res["diffusion"][0]
        (m,) = rec["mobile"]
        lo, hi = d["D_ci95"]
        assert (m["D"], m["D_ci95"]) == (d["D"], [lo, hi])
        # as the rule checked it: on the 95 % interval, also where a stop by the rule
        # reports the 99 % one (tests/test_atstop_analysis.py)
        lo, hi = d.get("D_ci95_unwidened", d["D_ci95"])
        assert m["D_rel_ci"] == pytest.approx((hi - lo) / (2 * d["D"]))
        assert m["hops"] == pytest.approx(d["hops_per_ion"] * d["n_ions"])
        assert rec["run_length_ps"] == res["run_length_ps"]
        assert rec["stop_reason"] == ("converged" if run is ruled else "planned")
    assert by_path[str(ruled.path)]["n_checks"] == 2
    assert by_path[str(ruled.path)]["last_check"] == checks[-1]
    assert by_path[str(halted.path)]["failed"] and by_path[str(halted.path)]["stop_reason"] == "failed"
    assert by_path[str(pending.path)]["class"] == "pending"
    # the fits and sigma(300 K) name the runs with a point, and why the others are not in
    left = {str(halted.path): "failed: volume_change", str(pending.path): "not analysed: pending"}
    for key in ("D_Li", "sigma_T"):
        fit = doc["arrhenius"]["fcc/morse"][key]
        assert sorted(fit["runs"]) == sorted(fed)
        assert {x["run"]: x["reason"] for x in fit["left_out"]} == left
    s = doc["structures"]["fcc/morse"]
    assert s["sigma_300K_mS_cm"] == doc["arrhenius"]["fcc/morse"]["sigma_T"]["extrapolated"]
    assert sorted(s["runs"]) == sorted(fed) and len(s["left_out"]) == 2
    with open(doc_dir(doc) / "runs.csv") as fh:
        table = {r["run"]: r for r in csv.DictReader(fh)}
    assert sorted(table) == sorted(by_path)
    row = table[str(ruled.path)]
    m = by_path[str(ruled.path)]["mobile"][0]
    assert float(row["hops_Li"]) == pytest.approx(m["hops"])
    assert float(row["D_rel_ci_Li"]) == pytest.approx(m["D_rel_ci"])
    assert (row["stop_reason"], row["n_checks"], row["until"]) == ("converged", "2",
                                                                   "D_rel_ci<=0.2,hops>=10")
    assert float(row["last_check_D_rel_ci"]) == 0.18
    lo, hi = s["sigma_300K_ci95"]
    assert "fcc/morse sigma: Ea = " in printed
    assert f"sigma(300 K) = {s['sigma_300K_mS_cm']:.3g} mS/cm [{lo:.3g}, {hi:.3g}]" in printed
    assert "from 4 run(s): 600K r0, 600K r1, 800K r0, 1000K r0" in printed
    assert "left out: 800K r1 (not analysed: pending); 1000K r1 (failed: volume_change)" in printed


def doc_dir(doc):
    return Path(doc["campaign"]).parent / "runs" / "collect"


def test_collect_reads_runs_from_their_directories(folder):
    """collect takes each run's temperature from its own directory, and reports the runs
    the file plans: a campaign file edited after the runs (700 K replaced by 900 K) reports
    the planned 900 K one as incomplete, and the 700 K run that exists, no longer planned
    (as another campaign file's run in the same output would be), is named, not fitted."""
    analysis = ("charges = {Li = 1, Cl = -1}\nmcmc_samples = 50\nfit_start_ps = 1.0\n"
                "window_ps = 15.0\ncollapse_fraction = 0.01")
    runs = dict(duration_ps=30, discard_ps=2)      # as long as the Brownian runs
    path = write_campaign(folder, temperatures=(600, 700), analysis=analysis, **runs)
    for k, run in enumerate(plan_campaign(load_campaign(path), create=True)):
        _prepare(run.rundir, run.temperature, seed=k)
    path = write_campaign(folder, temperatures=(600, 900), analysis=analysis, **runs)
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    doc = json.loads((folder / "runs" / "collect" / "results.json").read_text())
    rows = {r["temperature_K"]: r for r in doc["rows"]}
    assert sorted(rows) == [600.0, 900.0]
    assert rows[900]["replicas_done"] == 0 and rows[900]["incomplete"] == 1
    (unplanned,) = doc["not_in_campaign"]
    assert "T700K" in str(unplanned) and "completed" in str(unplanned), unplanned
    assert not doc["arrhenius"]["fcc/morse"]["D_Li"]              # one temperature: no fit
    # a copy of the campaign folder reuses the cached analyses, and names its own runs
    import shutil

    copy = folder.parent / "copy"
    shutil.copytree(folder, copy)
    assert main(["sweep", "collect", str(copy / path.name), "--no-progress"]) == 0
    again = json.loads((copy / "runs" / "collect" / "results.json").read_text())
    assert [r["run"] for r in again["runs"]] == [r["run"].replace(str(folder), str(copy))
                                                 for r in doc["runs"]]
    assert str(folder) + "/" not in (copy / "runs" / "collect" / "runs.csv").read_text()


def test_claims_decide_who_runs(folder):
    # a job whose token was superseded (its run was resubmitted) leaves the run alone, and a
    # claim counts as queued only while the scheduler lists its job
    from ionmd.sweep.state import classify, write_claim
    from ionmd.sweep.worker import run_one

    runs = plan_campaign(load_campaign(write_campaign(folder)), create=True)
    rd = runs[0].rundir
    write_claim(rd, "new-token", "slurm", "7_0")
    assert classify(rd, {"7_0": "RUNNING", "7_1": "RUNNING"}) == "queued"
    assert classify(rd, {"7_1": "RUNNING"}) == "pending"
    res = run_one(rd.path, "old-token")
    assert res["skipped"] == "claimed by a later submission"
    assert rd.status["state"] == "pending" and not list(rd.path.glob("in.*.lmp"))
    rd.set_status("running", pid=2 ** 22 + 12345, host="elsewhere")   # a node we cannot see
    assert classify(rd, {"7_0": "RUNNING"}) == "running"
    assert classify(rd, {}) == "interrupted"


def test_auto_charges_are_the_usual_oxidation_states(folder):
    from ionmd.sweep.collect import charges_for

    c = load_campaign(write_campaign(folder, analysis='charges = "auto"\nfit_start_ps = 0.05'))
    assert charges_for(c, "fcc") == {"Li": 1.0, "Cl": -1.0}


def test_status_of_a_campaign_file_is_the_sweep_status(folder, capsys):
    # `ionmd status CAMPAIGN` prints what `ionmd sweep status CAMPAIGN` prints (one code path)
    path = write_campaign(folder, temperatures=(600, 700))
    runs = plan_campaign(load_campaign(path), create=True)
    runs[0].rundir.set_status("completed", step=500, pieces=1, resumable=False)
    capsys.readouterr()
    for argv in (["sweep", "status"], ["status"]):
        assert main([*argv, str(path)]) == 0
    sweep_out, status_out = capsys.readouterr().out.split("1 completed, 1 pending (of 2)\n")[1:]
    assert sweep_out == status_out and str(runs[1].path) in status_out
    assert main(["status", str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["class"] for r in rows] == ["completed", "pending"]
    assert main(["status", str(path), str(folder / "runs")]) == 1       # one or the other
    assert "one campaign file, or run directories" in capsys.readouterr().err


def test_the_shipped_example_campaign_validates(tmp_path, sevennet0_f32):
    """examples/campaign.toml as the README tells users to run it: both shipped structures
    order (LGPS needs its order_min_distance) and the run list is complete."""
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "campaign.toml"
    (tmp_path / "campaign.toml").write_text(example.read_text())
    (tmp_path / "sevennet0.pt").write_bytes(Path(sevennet0_f32).read_bytes())
    c = load_campaign(tmp_path / "campaign.toml")
    assert [s.name for s in c.structures] == ["Li6PS5Cl", "Li10GeP2S12"]
    assert all(s.atoms is not None and len(s.atoms) > 0 for s in c.structures)
    assert len(plan_campaign(c)) == 2 * 3 * 2


def test_a_changed_campaign_file_is_refused_with_the_values(folder, capsys):
    # a setting changed after the runs were written: the refusal names the setting, the
    # run's value and the file's new one, and what to do (before: only the key, and
    # "choose another output folder, or delete it")
    path = write_campaign(folder, duration_ps=0.5)
    plan_campaign(load_campaign(path), create=True)
    write_campaign(folder, duration_ps=0.6)
    capsys.readouterr()
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "the campaign changed after its runs were written" in err
    assert "protocol.duration_ps: the run has 0.5, the campaign file now gives 0.6" in err
    assert "give the changed campaign another `output` folder" in err
    write_campaign(folder, duration_ps=0.5, temperatures=(600, 900, 1200))   # more: accepted
    assert len(plan_campaign(load_campaign(path), create=True)) == 3
