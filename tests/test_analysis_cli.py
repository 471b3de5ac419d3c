"""``ionmd analyze`` on synthetic run directories (DCD written by MDAnalysis, data file by
ASE) at three temperatures: per-run results, an Arrhenius fit that recovers the Ea put
in, flags that fill in a missing run.json, and clear errors for bad input."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import synthetic_trajectories as st
from ionmd.cli import main

KB = 8.617333262e-5
EA, D_1000 = 0.25, 0.15   # eV; A^2/ps at 1000 K


# the synthetic ions are points that walk through each other: only a real overlap counts
POINT_IONS = ["--collapse-fraction", "0.01"]


def _run_dir(path, T, seed, with_json=True):
    rng = np.random.default_rng(seed)
    D = D_1000 * np.exp(-EA / KB * (1 / T - 1 / 1000))
    s = st.make(st.brownian_steps(300, 16, [D] * 3, 0.1, rng), L=12.0, breathing=0.02, rng=rng)
    path.mkdir()
    st.write_lammps_files(path, s, T * (1 + 0.05 * np.sin(np.arange(len(s.true.boxes)))),
                          specorder=["Cl", "Li"], loop_steps=14950)
    if with_json:
        (path / "run.json").write_text(json.dumps({
            "schema": "ionmd-run/1", "temperature_K": T, "timestep_fs": 2.0, "dump_every": 50,
            "discard_ps": 2.0, "mobile_species": ["Li"], "charges": {"Li": 1, "Cl": -1},
            "structure": "synthetic"}))
    return D * 1e-4


def test_analyze_three_temperatures_and_arrhenius(tmp_path, capsys):
    truth = {T: _run_dir(tmp_path / f"T{T}", T, seed=T) for T in (600, 800, 1000)}
    out = tmp_path / "out"
    rc = main(["analyze", *[str(tmp_path / f"T{T}") for T in truth], "-o", str(out),
               "--directions", "xyz,xy", "--collective", "--mcmc-samples", "100", *POINT_IONS])
    printed = capsys.readouterr().out
    print(printed)
    assert rc == 0
    for T, D in truth.items():
        res = json.loads((out / f"T{T}" / "results.json").read_text())
        assert not res["failure"]["failed"]
        d = {x["direction"]: x for x in res["diffusion"]}
        for direction in ("xyz", "xy"):  # interval coverage itself: test_analysis_diffusion
            lo, hi = d[direction]["D_ci95"]
            assert lo < d[direction]["D"] < hi
            assert 0.6 < d[direction]["D"] / D < 1.6
        assert res["run_length_ps"] == pytest.approx(29.9 - 2.0)
        coll = res["conductivity_collective"]       # printed next to sigma_NE
        assert (f"sigma_collective = {coll['sigma']:.3g} mS/cm [{coll['sigma_ci95'][0]:.3g}, "
                f"{coll['sigma_ci95'][1]:.3g}]") in printed
        assert d["xyz"]["hops_per_ion"] >= 1 and d["xyz"]["ions_that_hopped"] >= 8
        with open(out / f"T{T}" / "diffusion.csv") as fh:
            rows = list(csv.DictReader(fh))
        assert float(rows[0]["D"]) == pytest.approx(d["xyz"]["D"])
        assert int(rows[0]["ions_that_hopped"]) == d["xyz"]["ions_that_hopped"]
        assert (out / f"T{T}" / "msd.png").stat().st_size > 1000
    summary = json.loads((out / "summary.json").read_text())
    fit = summary["arrhenius"]["synthetic"]["D_Li"]
    flagged = [T for T in truth if json.loads((out / f"T{T}" / "results.json").read_text())
               ["diffusion"][0]["flags"]]
    assert fit["not_diffusive_T"] == flagged
    assert abs(fit["Ea_eV"] - EA) < 2.5 * fit["Ea_err_eV"]
    assert fit["Ea_err_eV"] < 0.05
    lo, hi = fit["y_extrapolated_ci95"]
    assert lo < fit["y_extrapolated"] < hi
    sig = summary["arrhenius"]["synthetic"]["sigma_T"]   # sigma T: same Ea as D here (H_R = 1)
    assert abs(sig["Ea_eV"] - EA) < 2.5 * sig["Ea_err_eV"]
    lo, hi = sig["sigma_extrapolated_ci95"]
    assert lo < sig["sigma_extrapolated_mS_cm"] < hi
    # the charge-MSD conductivity feeds its own Arrhenius fit, with its (wider) errors
    coll = summary["arrhenius"]["synthetic"]["sigma_collective_T"]
    assert abs(coll["Ea_eV"] - EA) < 3 * coll["Ea_err_eV"] and coll["Ea_err_eV"] > sig["Ea_err_eV"]
    lo, hi = coll["sigma_extrapolated_ci95"]
    assert lo < coll["sigma_extrapolated_mS_cm"] < hi
    with open(out / "arrhenius.csv") as fh:
        rows = {r["series"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"D_Li", "sigma_T", "sigma_collective_T"}
    assert float(rows["sigma_T"]["extrapolated"]) == pytest.approx(sig["sigma_extrapolated_mS_cm"])
    assert rows["D_Li"]["extrapolated_unit"] == "cm^2/s"
    assert (rows["D_Li"]["prefactor_unit"], rows["sigma_T"]["prefactor_unit"]) == ("cm^2/s", "mS K/cm")
    # sigma(T) = A / T exp(-Ea / kT): the prefactor in mS K/cm gives the extrapolation
    A, Ea, T = (float(rows["sigma_T"][k]) for k in ("prefactor", "Ea_eV", "T_extrapolated_K"))
    assert A / T * np.exp(-Ea / (8.617333262e-5 * T)) == pytest.approx(float(rows["sigma_T"]["extrapolated"]))
    # one curve per temperature of the series (survival_by_condition), none failed
    assert len(summary["survival"]) == 3
    assert all(c["survival"] == [1.0] and c["series"] == "synthetic"
               for c in summary["survival"].values())
    assert (out / "arrhenius_synthetic_D_Li.png").stat().st_size > 1000
    assert "Ea =" in printed


def test_flags_replace_a_missing_run_json_and_bad_input_is_a_clear_error(tmp_path, capsys):
    run = tmp_path / "run"
    _run_dir(run, 900, seed=1, with_json=False)
    assert main(["analyze", str(run)]) == 1
    assert "temperature_K is unknown" in capsys.readouterr().err
    assert main(["analyze", str(run), "--temperature", "900", "--timestep-fs", "2",
                 "--mobile", "Na"]) == 1
    assert "mobile species Na not in" in capsys.readouterr().err
    assert main(["analyze", str(run), "--temperature", "900", "--timestep-fs", "2",
                 "--discard-ps", "100", *POINT_IONS]) == 1
    assert "run too short for the requested discard time" in capsys.readouterr().err
    assert main(["analyze", str(run), "--temperature", "900", "--timestep-fs", "2",
                 "--dump-every", "10", *POINT_IONS]) == 1
    assert "dump_every = 10" in capsys.readouterr().err
    assert main(["analyze", str(run), "--temperature", "900", "--timestep-fs", "2",
                 "--charges", "Li:1"]) == 1
    assert "expected KEY=VALUE pairs" in capsys.readouterr().err
    assert main(["analyze", str(run), "--temperature", "900", "--timestep-fs", "2",
                 "--type-map", "1=Cl,2=Li", "--charges", "Li=1,Cl=-1", "--failures-only", *POINT_IONS]) == 0
    res = json.loads((run / "analysis" / "failure.json").read_text())
    assert res["failed"] is False


def test_failures_only_over_replicas_gives_survival_curve(tmp_path, capsys):
    runs = [tmp_path / f"rep{k}" for k in range(3)]
    for k, run in enumerate(runs):
        _run_dir(run, 900, seed=k)
    # replica 1 lost atoms (LAMMPS stopped); replica 2 blew up its volume in the log
    with open(runs[1] / "log.lammps", "a") as fh:
        fh.write("ERROR: Lost atoms: original 24 current 23 (src/thermo.cpp:493)\n")
    log = (runs[2] / "log.lammps").read_text().splitlines()
    row = next(i for i, line in enumerate(log) if line.split()[:1] == ["5000"])
    log[row] = f"{5000:10d} 912.34567 {1.6 * np.prod(st.boxes_for(1, 12.0)[0].diagonal()):.3f}"
    (runs[2] / "log.lammps").write_text("\n".join(log) + "\n")
    assert main(["analyze", *map(str, runs), "--failures-only", *POINT_IONS]) == 0
    printed = capsys.readouterr().out
    assert "FAILED (lost_atoms)" in printed
    assert "first volume_change at step 5000 (10.000 ps, T = 912.3 K" in printed  # not 912.34567
    summary = json.loads((runs[0] / "analysis" / "summary.json").read_text())
    curve = summary["survival"]["synthetic"]
    assert curve["survival"] == pytest.approx([1.0, 2 / 3, 1 / 3])
    assert (runs[0] / "analysis" / "survival.png").stat().st_size > 1000


def test_arrhenius_names_points_from_runs_not_yet_diffusive(tmp_path):
    from ionmd.analysis.report import analyze_runs

    def run(T, flags):
        D = 1e-3 * np.exp(-EA / (KB * T))
        return {"structure": "s", "temperature_K": T,
                "diffusion": [{"species": "Li", "direction": "xyz", "D": D,
                               "D_ci95": [0.8 * D, 1.25 * D], "flags": flags}],
                # sigma T follows the same Arrhenius law as D
                "conductivity": {"sigma": 1e5 * D / T, "sigma_ci95": [0.8e5 * D / T, 1.25e5 * D / T]}}

    results = [run(600.0, ["too_few_hops"]), run(800.0, []), run(1000.0, [])]
    summary = analyze_runs(results, {}, tmp_path)
    for key in ("D_Li", "sigma_T"):
        fit = summary["arrhenius"]["s"][key]
        assert fit["not_diffusive_T"] == [600.0]
        assert fit["Ea_eV"] == pytest.approx(EA, rel=1e-9)     # exact points, exact fit
    # kinisi's Bayesian fit alongside, in the JSON and as a second CSV row
    for r in results:
        del r["conductivity"]
    fit = analyze_runs(results, {}, tmp_path, kinisi_fit=True, n_samples=100)["arrhenius"]["s"]["D_Li"]
    assert fit["kinisi"]["Ea_ci95"][0] < EA < fit["kinisi"]["Ea_ci95"][1]
    with open(tmp_path / "arrhenius.csv") as fh:
        assert [row["method"] for row in csv.DictReader(fh)] == ["linear", "kinisi"]  # in D


def test_runs_whose_folders_share_a_name_keep_their_own_results(tmp_path, capsys):
    """ionmd's layout ends every run in r0: -o OUT mirrors the run directories below their
    common folder (OUT/T600K/r0, OUT/T900K/r0) instead of writing both to OUT/r0; a folder
    holding another run's results is refused, the same run's is replaced."""
    base = tmp_path / "runs" / "LiCl" / "model" / "conductivity"
    truth = {}
    for T in (600, 900):
        (base / f"T{T}K").mkdir(parents=True)
        truth[T] = _run_dir(base / f"T{T}K" / "r0", T, seed=T)
    out = tmp_path / "out"
    runs = [str(base / f"T{T}K" / "r0") for T in truth]
    argv = ["analyze", *runs, "-o", str(out), "--mcmc-samples", "50", *POINT_IONS]
    assert main(argv) == 0
    for T in truth:
        res = json.loads((out / f"T{T}K" / "r0" / "results.json").read_text())
        assert res["temperature_K"] == T
        assert json.loads((out / f"T{T}K" / "r0" / "run_dir.json").read_text())["run_dir"] == \
            str(Path(runs[0 if T == 600 else 1]).resolve())
    assert not (out / "r0").exists()
    assert main(argv) == 0                                  # the same runs again: replaced
    # one run alone goes to OUT/r0; another run's r0 there is refused, nothing overwritten
    assert main(["analyze", runs[0], "-o", str(tmp_path / "one"), *POINT_IONS,
                 "--mcmc-samples", "50"]) == 0
    before = (tmp_path / "one" / "r0" / "results.json").read_text()
    capsys.readouterr()
    assert main(["analyze", runs[1], "-o", str(tmp_path / "one"), *POINT_IONS]) == 1
    assert "holds the analysis of" in capsys.readouterr().err
    assert (tmp_path / "one" / "r0" / "results.json").read_text() == before


def test_analyze_reports_what_decided_each_run_and_sigma(tmp_path, capsys):
    """Per run: the final D interval, D_rel_ci, hops (hops_per_ion x n_ions) and why the run
    stopped (a stopping rule's reason and checks from status.json, "planned" for a completed
    run without one, unknown without status.json); per structure: sigma(300 K) with the runs
    that fed its fit and the failed run left out."""
    runs = {T: tmp_path / f"T{T}" for T in (600, 800, 1000)}
    for T, run in runs.items():
        _run_dir(run, T, seed=T)
    failed = tmp_path / "T1000b"
    _run_dir(failed, 1000, seed=5)
    with open(failed / "log.lammps", "a") as fh:
        fh.write("ERROR: Lost atoms: original 24 current 23 (src/thermo.cpp:493)\n")
    checks = [{"step": 10000, "time_ps": 20.0, "values": {"D_rel_ci": 0.41, "hops": 7.0}, "met": False},
              {"step": 15000, "time_ps": 30.0, "values": {"D_rel_ci": 0.15, "hops": 12.0}, "met": True}]
    (runs[600] / "status.json").write_text(json.dumps({
        "state": "completed", "step": 15000, "planned_steps": 1000000,
        "stopping": {"until": "D_rel_ci<=0.2,hops>=10", "check_every_ps": 10.0,
                     "max_time_ps": 2000.0},
        "checks": checks, "stop_reason": "converged"}))
    (runs[800] / "status.json").write_text(json.dumps(
        {"state": "completed", "step": 15000, "planned_steps": 15000}))
    out = tmp_path / "out"
    order = [runs[600], runs[800], runs[1000], failed]
    assert main(["analyze", *map(str, order), "-o", str(out), "--mcmc-samples", "50",
                 *POINT_IONS]) == 0
    printed = capsys.readouterr().out
    print(printed)
    summary = json.loads((out / "summary.json").read_text())
    records = {}
    for run in order:
        res = json.loads((out / run.name / "results.json").read_text())
        rec = res["run_record"]
        records[run] = rec
        assert rec["run"] == str(run) and rec["temperature_K"] == res["temperature_K"]
        if run == failed:
            assert rec["failed"] and rec["failure_modes"] == ["lost_atoms"] and rec["mobile"] == []
            continue
        d = next(x for x in res["diffusion"] if x["direction"] == "xyz")
        (m,) = rec["mobile"]
        lo, hi = d["D_ci95"]
        assert (m["species"], m["D"], m["D_ci95"]) == ("Li", d["D"], [lo, hi])
        # as the rule checked it: on the 95 % interval, also where a stop by the rule
        # (T600) reports the 99 % one (tests/test_atstop_analysis.py)
        lo, hi = d.get("D_ci95_unwidened", d["D_ci95"])
        assert m["D_rel_ci"] == pytest.approx((hi - lo) / (2 * d["D"]))
        assert m["hops"] == pytest.approx(d["hops_per_ion"] * d["n_ions"])
        assert m["n_ions"] == 16 and m["hops"] >= 16 * 1    # hops/ion >= 1 (test above)
        assert rec["run_length_ps"] == res["run_length_ps"] and rec["flags"] == d["flags"]
    assert summary["runs"] == [records[r] for r in order]
    assert records[runs[600]]["stop_reason"] == "converged"
    assert records[runs[600]]["n_checks"] == 2 and records[runs[600]]["last_check"] == checks[-1]
    assert records[runs[600]]["stopping"]["until"] == "D_rel_ci<=0.2,hops>=10"
    assert (records[runs[800]]["stop_reason"], records[runs[800]]["n_checks"]) == ("planned", None)
    assert records[runs[1000]]["stop_reason"] is None             # no status.json
    # the fits name their runs: the three that gave a point; the failed one is left out
    fed = [str(runs[T]) for T in (600, 800, 1000)]
    left = [{"run": str(failed), "reason": "failed: lost_atoms"}]
    for key in ("D_Li", "sigma_T"):
        fit = summary["arrhenius"]["synthetic"][key]
        assert fit["runs"] == fed and fit["left_out"] == left
        assert [q["runs"] for q in fit["points"]] == [[r] for r in fed]
    s = summary["structures"]["synthetic"]
    sig = summary["arrhenius"]["synthetic"]["sigma_T"]
    assert s["sigma_300K_mS_cm"] == sig["sigma_extrapolated_mS_cm"]
    assert s["sigma_300K_ci95"] == sig["sigma_extrapolated_ci95"]
    assert s["runs"] == fed and s["left_out"] == left
    # printed: a table row per run, then sigma(300 K) with its runs
    lines = printed.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("run ") and "D_rel_ci" in line)
    rows = {line.split()[0]: line for line in lines[head + 1:head + 5]}
    assert set(rows) == {"T600", "T800", "T1000", "T1000b"}
    assert rows["T600"].endswith("converged (2 checks)") and rows["T800"].endswith("planned")
    assert "(99%: rule stop)" in rows["T600"] and "rule stop" not in rows["T800"]
    assert "FAILED (lost_atoms)" in rows["T1000b"]
    m = records[runs[800]]["mobile"][0]
    assert f"{m['D_rel_ci']:.2f}" in rows["T800"].split() and f"{m['hops']:.0f}" in rows["T800"].split()
    lo, hi = s["sigma_300K_ci95"]
    assert f"sigma(300 K) = {s['sigma_300K_mS_cm']:.3g} mS/cm [{lo:.3g}, {hi:.3g}]" in printed
    assert "from 3 run(s): T600, T800, T1000" in printed
    assert "left out: T1000b (failed: lost_atoms)" in printed


def test_structure_without_sigma_fit_says_why_and_names_its_runs(tmp_path):
    from ionmd.analysis.report import analyze_runs
    from ionmd.analysis.run_records import sigma_lines

    def run(name, T, sigma=True, failed=False):
        D = 1e-3 * np.exp(-EA / (KB * T))
        r = {"run": f"/runs/{name}", "structure": "s", "temperature_K": T, "replica": 0,
             "failure": {"failed": failed, "modes": ["melting"] if failed else []},
             "diffusion": [] if failed else [
                 {"species": "Li", "direction": "xyz", "D": D, "D_ci95": [0.8 * D, 1.25 * D],
                  "flags": [], "hops_per_ion": 2.5, "n_ions": 8}]}
        if sigma and not failed:
            r["conductivity"] = {"sigma": 1e5 * D / T, "sigma_ci95": [0.8e5 * D / T, 1.25e5 * D / T]}
        return r

    results = [run("a", 600.0), run("b", 800.0, sigma=False), run("c", 1000.0, failed=True)]
    summary = analyze_runs(results, {}, tmp_path)
    assert [r["mobile"][0]["hops"] for r in summary["runs"][:2]] == [20.0, 20.0]
    s = summary["structures"]["s"]
    assert s["sigma_300K_mS_cm"] is None and s["runs"] == []
    assert s["note"] == "sigma at one temperature only (600 K): no Arrhenius fit"
    assert s["left_out"] == [
        {"run": "/runs/a", "reason": "no Arrhenius fit"},
        {"run": "/runs/b", "reason": "no conductivity (charges of the mobile species unknown)"},
        {"run": "/runs/c", "reason": "failed: melting"}]
    # D has two temperatures: its fit names both runs, and the failed one as left out
    fit = summary["arrhenius"]["s"]["D_Li"]
    assert fit["runs"] == ["/runs/a", "/runs/b"]
    assert fit["left_out"] == [{"run": "/runs/c", "reason": "failed: melting"}]
    lines = sigma_lines("s", s, summary["runs"])
    assert lines[0] == "s sigma: no sigma(300 K): sigma at one temperature only (600 K): no Arrhenius fit"
    assert " ".join(line.strip() for line in lines[1:]) == (
        "left out: a (no Arrhenius fit); b (no conductivity (charges of the mobile "
        "species unknown)); c (failed: melting)")     # their folders: no 'r0' made up


def test_equilibration_block_with_fewer_thermo_columns_is_not_a_failure(tmp_path, capsys):
    """log.lammps of an equilibration ``run`` printing step temp, then a production ``run``
    adding vol: the run is healthy (not ``nan_thermo`` for the columns the first block lacks)."""
    run = tmp_path / "run"
    _run_dir(run, 900, seed=3)
    rows = [line.split() for line in (run / "log.lammps").read_text().splitlines()[1:-1]]
    seam = len(rows) // 3
    (run / "log.lammps").write_text("\n".join(
        ["   Step   Temp"] + [" ".join(r[:2]) for r in rows[:seam + 1]]
        + [f"Loop time of 1 on 1 procs for {seam * 50} steps with 24 atoms", "   Step   Temp   Volume"]
        + [" ".join(r) for r in rows[seam:]]
        + [f"Loop time of 1 on 1 procs for {(len(rows) - 1 - seam) * 50} steps with 24 atoms"]) + "\n")
    assert main(["analyze", str(run), "--failures-only", *POINT_IONS]) == 0
    assert json.loads((run / "analysis" / "failure.json").read_text())["failed"] is False
    assert "no failure over" in capsys.readouterr().out


def test_a_run_that_cannot_be_analysed_leaves_the_others_their_summary(tmp_path, capsys):
    """Of five runs, one has a truncated trajectory and one a run.json without its
    temperature: both are reported (stderr, their records, left out of the fits) and the
    exit status says so, but the three good runs give the same summary as on their own."""
    from ionmd.analysis.failure import FailureReport
    from ionmd.analysis.report import analyze_runs

    good = {T: tmp_path / f"T{T}" for T in (600, 800, 1000)}
    for T, run in good.items():
        _run_dir(run, T, seed=T)
    truncated, unreadable = tmp_path / "T900", tmp_path / "T700"
    _run_dir(truncated, 900, seed=9)
    dcd = (truncated / "md.dcd").read_bytes()
    (truncated / "md.dcd").write_bytes(dcd[:len(dcd) - 100])
    _run_dir(unreadable, 700, seed=7, with_json=False)
    order = [good[600], truncated, good[800], unreadable, good[1000]]
    out = tmp_path / "out"
    rc = main(["analyze", *map(str, order), "-o", str(out), "--mcmc-samples", "50", *POINT_IONS])
    printed = capsys.readouterr()
    assert rc == 1
    assert f"{truncated} not analysed: " in printed.err and "ends in the middle of a frame" in printed.err
    assert f"{unreadable} not analysed: " in printed.err and "temperature_K is unknown" in printed.err
    assert "2 of 5 runs could not be analysed" in printed.err
    summary = json.loads((out / "summary.json").read_text())
    records = {r["run"]: r for r in summary["runs"]}
    # by temperature (T700's unknown: its run.json was not read), not as given
    assert list(records) == [str(r) for r in (good[600], good[800], truncated, good[1000],
                                              unreadable)]
    assert "ends in the middle of a frame" in records[str(truncated)]["analysis_error"]
    assert records[str(truncated)]["temperature_K"] == 900        # its run.json was read
    assert "temperature_K is unknown" in records[str(unreadable)]["analysis_error"]
    assert all(records[str(r)]["analysis_error"] is None for r in good.values())
    saved = json.loads((out / "T900" / "results.json").read_text())
    assert saved["analysis_error"] == records[str(truncated)]["analysis_error"]
    # the reference: the good runs' own results, summarised without the bad ones
    results = [json.loads((out / r.name / "results.json").read_text()) for r in good.values()]
    reports = {"synthetic": [FailureReport.from_dict(r["failure"]) for r in results]}
    alone = analyze_runs(results, reports, tmp_path / "alone", n_samples=50)
    fits = summary["arrhenius"]["synthetic"]
    for key, fit in alone["arrhenius"]["synthetic"].items():
        assert fits[key]["Ea_eV"] == fit["Ea_eV"] and fits[key]["runs"] == fit["runs"]
        assert fits[key]["left_out"] == [{"run": str(truncated), "reason": "analysis error: "
                                          + records[str(truncated)]["analysis_error"]}]
    assert summary["survival"] == alone["survival"]
    assert summary["structures"]["synthetic"]["sigma_300K_mS_cm"] == \
        alone["structures"]["synthetic"]["sigma_300K_mS_cm"]
    assert "analysis error" in next(line for line in printed.out.splitlines()
                                    if line.startswith("T900 "))


def test_a_run_given_as_dot_is_named_by_its_folder(tmp_path, capsys, monkeypatch):
    """``ionmd analyze .``: the run is printed, recorded and (without a structure in its
    run.json) grouped under its folder's name, not a blank one."""
    run = tmp_path / "LiCl_T900"
    _run_dir(run, 900, seed=2, with_json=False)
    monkeypatch.chdir(run)
    assert main(["analyze", ".", "--temperature", "900", "--timestep-fs", "2", "--type-map",
                 "1=Cl,2=Li", "--failures-only", *POINT_IONS]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"{run.resolve()}: no failure")
    table = printed.splitlines()
    row = table[next(i for i, line in enumerate(table) if line.startswith("run ")) + 1]
    assert row.split()[0] == run.name
    summary = json.loads((run / "analysis" / "summary.json").read_text())
    assert summary["runs"][0]["structure"] == run.name
    assert list(summary["survival"]) == [run.name]


def test_an_unexpected_error_in_one_run_leaves_the_others_their_summary(tmp_path, capsys,
                                                                        monkeypatch):
    """Not only ionmd's own errors: a LinAlgError raised while analysing one run (as kinisi
    can) is reported for that run, and the others are still summarised (exit 1)."""
    import numpy as np

    import ionmd.cli.analyze as analyze_cli

    runs = {T: tmp_path / f"T{T}" for T in (600, 800, 1000)}
    for T, run in runs.items():
        _run_dir(run, T, seed=T)
    real = analyze_cli._analyze_one

    def flaky(spec, *args, **kwargs):
        if spec.temperature_K == 800:
            raise np.linalg.LinAlgError("Singular matrix")
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(analyze_cli, "_analyze_one", flaky)
    out = tmp_path / "out"
    rc = main(["analyze", *map(str, runs.values()), "-o", str(out), "--mcmc-samples", "50",
               *POINT_IONS])
    assert rc == 1
    assert "not analysed: LinAlgError: Singular matrix" in capsys.readouterr().err
    records = {r["run"]: r for r in json.loads((out / "summary.json").read_text())["runs"]}
    assert records[str(runs[800])]["analysis_error"] == "LinAlgError: Singular matrix"
    assert all(records[str(runs[T])]["analysis_error"] is None for T in (600, 1000))
