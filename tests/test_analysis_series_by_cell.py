"""``ionmd analyze`` tells runs of different cells apart, whatever their folders are named:
``proj1/LiCl/T*`` (Li16Cl8) and ``proj3/LiCl/T*`` (Li12Cl8) both defaulted to the structure
``LiCl`` and were combined as replicas of one series (an audit: 189- and 204-atom cells, D
2.07e-5 and 1.53e-5 cm2/s at 1300 K averaged without a word, sigma(300 K) 2.39 -> 2.11
mS/cm). The series identity now holds the cell's atoms of each element: two series, a note
naming each cell's runs, and the cell in each run's results.json. The same cell in another
folder (``proj2/LiCl/T800``) is a replica as before.

Also here: ``--failures-only`` after a full analysis left its results.json (no failure)
beside a failure.json saying the run failed; ``--fit-end-ps`` beyond the run was cut to the
run's length without a word.

The runs: Brownian Li of known Arrhenius D (synthetic_trajectories), written as LAMMPS
files by hand (no model recorded). References: the cells' counts and volumes as built;
numpy's arithmetic mean of two replicas (equal weights, as their alike errors get);
statsmodels' WLS of ln D on -1/kT of a series' own two runs (two points: the line through
them, in D or in ln D alike); scipy's curve_fit in D of a campaign series' three runs (the
campaign fit is in D since 0b32879: tests/arrhenius_in_d.py).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.constants import Boltzmann, electron_volt
from scipy.stats import t as student_t

import synthetic_trajectories as st
from arrhenius_in_d import fit_in_y, own_se
from ionmd.cli import main

KB = Boltzmann / electron_volt
L, N_CL, DT_PS, FRAMES = 12.0, 8, 0.1, 300
EA = 0.25


def d_true(T: float) -> float:
    """D (A^2/ps) of the walk at ``T``: Arrhenius at EA through 0.5 at 1000 K."""
    return 0.5 * np.exp(-EA / KB * (1 / T - 1 / 1000))


def write_run(folder, T: float, n_li: int, seed: int, temperatures=None) -> None:
    """A run by hand: struct.data, md.dcd, log.lammps and a run.json without a structure
    (named after its folders) or a model."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    s = st.make(st.brownian_steps(FRAMES, n_li, [d_true(T)] * 3, DT_PS, rng), L=L,
                n_framework=N_CL, rng=rng)
    st.write_lammps_files(folder, s, temperatures or [T] * len(s.true.boxes),
                          specorder=["Li", "Cl"])
    (folder / "run.json").write_text(json.dumps({
        "temperature_K": T, "timestep_fs": 2.0, "dump_every": 50, "discard_ps": 2.0,
        "dump_unwrapped": True, "type_map": {"1": "Li", "2": "Cl"},
        "charges": {"Li": 1, "Cl": -1}}))


POINT_IONS = ("--collapse-fraction", "0.01")    # the walkers pass through each other


def analyze(*args) -> None:
    assert main(["analyze", *map(str, args), *POINT_IONS]) in (0, None)


RUNS = {("proj1", 600.0): 16, ("proj1", 800.0): 16, ("proj1", 1000.0): 16,
        ("proj2", 800.0): 16, ("proj3", 800.0): 12, ("proj3", 1000.0): 12}


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """The six runs analysed together; their folders, summary and stderr."""
    root = tmp_path_factory.mktemp("cells")
    folders = {}
    for k, ((proj, T), n_li) in enumerate(RUNS.items()):
        folders[proj, T] = root / proj / "LiCl" / f"T{T:g}"
        write_run(folders[proj, T], T, n_li, seed=k)
    out = root / "an"
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        analyze(*folders.values(), "-o", out)
    return {"folders": folders, "out": out, "err": err.getvalue(),
            "summary": json.loads((out / "summary.json").read_text())}


def results_of(analysed, proj: str, T: float) -> dict:
    folder = analysed["folders"][proj, T]
    found = [json.loads(f.read_text()) for f in analysed["out"].rglob("results.json")]
    return next(r for r in found if r["run"] == str(folder))


def own_se_ln(d: dict) -> float:
    """Standard error of ln D from a run's own 95 % interval (scipy's Student t)."""
    q = student_t.ppf(0.975, d["n_ions"] - 1)
    return float(np.log(d["D_ci95"][1] / d["D_ci95"][0]) / (2 * q))


def test_each_run_records_its_cell(analysed):
    """Atoms of each element, their number and the volume per atom, as the cells were built
    (a constant cubic box of edge L)."""
    for (proj, T), n_li in RUNS.items():
        res = results_of(analysed, proj, T)
        assert res["composition"] == {"Li": n_li, "Cl": N_CL}
        assert res["n_atoms"] == n_li + N_CL
        assert res["formula"] == f"Li{n_li}Cl{N_CL}"
        assert res["volume_per_atom_A3"] == pytest.approx(L ** 3 / (n_li + N_CL), rel=1e-5)


def test_runs_of_other_cells_are_two_series_and_said_to_be(analysed):
    """Two series, named by their cells; the note names each cell's runs."""
    summary = analysed["summary"]
    names = {"LiCl[Li16Cl8]", "LiCl[Li12Cl8]"}
    assert set(summary["series"]) == names
    assert set(summary["arrhenius"]) == names
    for n_li in (16, 12):
        rec = summary["series"][f"LiCl[Li{n_li}Cl8]"]
        assert rec["composition"] == {"Li": n_li, "Cl": N_CL}
        assert sorted(rec["runs"]) == sorted(str(f) for (p, T), f in analysed["folders"].items()
                                             if RUNS[p, T] == n_li)
    (note,) = summary["notes"]
    assert "LiCl: its runs are of 2 different cells" in note
    assert "Li12Cl8: proj3/LiCl/T800, proj3/LiCl/T1000" in note
    assert f"ionmd: note: {note}" in analysed["err"]


def test_replicas_are_those_of_one_cell(analysed):
    """800 K of Li16Cl8: proj1's and proj2's runs (one cell, two folders) combined, their
    arithmetic mean (equal weights, in D); proj3's 800 K run is its own series' point."""
    fit = analysed["summary"]["arrhenius"]["LiCl[Li16Cl8]"]["D_Li"]
    point = next(p for p in fit["points"] if p["temperature_K"] == 800.0)
    D = [results_of(analysed, proj, 800.0)["diffusion"][0]["D"] for proj in ("proj1", "proj2")]
    assert sorted(point["replicas"]) == pytest.approx(sorted(D), rel=1e-12)
    assert point["weights"] == "equal"
    assert point["value"] == pytest.approx(float(np.mean(D)), rel=1e-12)
    assert [len(p["replicas"]) for p in fit["points"]] == [1, 2, 1]
    sigma = analysed["summary"]["arrhenius"]["LiCl[Li16Cl8]"]["sigma_T"]
    assert not any("proj3" in run for run in sigma["runs"])


def test_the_other_cells_fit_is_of_its_own_runs(analysed):
    """Li12Cl8's Ea: statsmodels' WLS of its two runs alone."""
    fit = analysed["summary"]["arrhenius"]["LiCl[Li12Cl8]"]["D_Li"]
    runs = [results_of(analysed, "proj3", T) for T in (800.0, 1000.0)]
    d = [r["diffusion"][0] for r in runs]
    X = sm.add_constant(-1.0 / (KB * np.array([800.0, 1000.0])))
    ref = sm.WLS(np.log([x["D"] for x in d]), X,
                 weights=1 / np.square([own_se_ln(x) for x in d])).fit()
    assert fit["Ea_eV"] == pytest.approx(float(ref.params[1]), rel=1e-9)
    assert [len(p["replicas"]) for p in fit["points"]] == [1, 1]


def test_one_cell_keeps_its_plain_name(analysed, tmp_path):
    """Runs of one cell in folders sharing a name: one series, named as before."""
    f = analysed["folders"]
    out = tmp_path / "one"
    analyze(f["proj1", 800.0], f["proj2", 800.0], f["proj1", 1000.0], "-o", out)
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["series"]) == {"LiCl"} and summary["notes"] == []


def test_failures_only_after_a_full_analysis_leaves_no_results_against_it(tmp_path, capsys):
    """A run whose log's temperature goes to 3x its target halfway, analysed in full at a
    runaway factor of 10 (no failure); --failures-only at 10 leaves those results (the same
    verdict); at the default 2, results.json and failure.json both say it failed, and the
    full analysis's diffusion.csv is gone; analysed in full again, both agree again."""
    run = tmp_path / "LiCl" / "T800"
    write_run(run, 800.0, 16, seed=7, temperatures=[800.0] * 150 + [2400.0] * 150)
    analyze(run, "--runaway-factor", "10")
    out = run / "analysis"
    assert (out / "diffusion.csv").is_file()
    full = (out / "results.json").read_text()
    assert json.loads(full)["failure"]["failed"] is False
    analyze(run, "--failures-only", "--runaway-factor", "10")     # the same verdict
    assert (out / "results.json").read_text() == full
    assert json.loads((out / "failure.json").read_text()) == json.loads(full)["failure"]
    analyze(run, "--failures-only")
    failure = json.loads((out / "failure.json").read_text())
    assert failure["failed"] and failure["modes"] == ["temperature_runaway"]
    results = json.loads((out / "results.json").read_text())
    assert results["failure"] == failure and "diffusion" not in results
    assert not (out / "diffusion.csv").exists() and not (out / "msd.png").exists()
    analyze(run, "--runaway-factor", "10")
    again = json.loads((out / "results.json").read_text())
    assert again["failure"] == json.loads((out / "failure.json").read_text())
    assert again["failure"]["failed"] is False and again["diffusion"]


def test_a_fit_end_beyond_the_run_is_said(tmp_path, capsys):
    """--fit-end-ps 50 on a run of 29.9 ps (28 after the 2 ps discarded): fitted to the
    run's end, and said."""
    run = tmp_path / "LiCl" / "T800"
    write_run(run, 800.0, 16, seed=8)
    analyze(run, "--fit-end-ps", "50")
    res = json.loads((run / "analysis" / "results.json").read_text())
    length = (FRAMES - 1) * DT_PS - 2.0
    assert res["diffusion"][0]["fit_end_ps"] == pytest.approx(length)
    assert "fit end 50 ps is beyond the run analysed" in res["fit_end_clipped"]
    assert f"fitted up to {length:g} ps" in res["fit_end_clipped"]
    assert res["fit_end_clipped"] in capsys.readouterr().out
    analyze(run, "--fit-end-ps", "20")
    assert "fit_end_clipped" not in json.loads((run / "analysis" / "results.json").read_text())


def test_collect_fits_a_campaigns_runs_of_other_cells_apart(tmp_path, morse, capsys):
    """A campaign whose replica r1 was written with another cell (12 Li for 16; its file
    changed after the runs: `sweep plan` refuses that, collect reads the folders): collect
    combined r0 and r1 as replicas of fcc/morse; now a series per cell, each of one run a
    temperature, its Ea scipy curve_fit's in D of its own runs, and a note."""
    from ionmd.sweep import load_campaign, plan_campaign
    from sweep_setup import brownian_run, campaign_dir, write_campaign

    folder = campaign_dir(tmp_path / "camp", morse)
    path = write_campaign(folder, temperatures=(600.0, 800.0, 1000.0), replicas=2,
                          analysis="charges = {Li = 1, Cl = -1}\ncollapse_fraction = 0.01",
                          duration_ps=30, discard_ps=2)     # as long as the Brownian runs
    runs = plan_campaign(load_campaign(path), create=True)
    for k, run in enumerate(runs):
        rd = run.rundir
        brownian_run(rd, run.temperature, k, EA, 0.5)
        if run.replica == 1:            # 12 Li: the walk of brownian_run, fewer walkers
            rng = np.random.default_rng(100 + k)
            s = st.make(st.brownian_steps(FRAMES, 12, [d_true(run.temperature)] * 3, DT_PS,
                                          rng), L=L, n_framework=N_CL, rng=rng)
            st.write_lammps_files(rd.path, s, [run.temperature] * len(s.true.boxes),
                                  specorder=["Li", "Cl"], dcd="traj.0.dcd", log="log.0.lammps")
    capsys.readouterr()
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    doc = json.loads((path.parent / "runs" / "collect" / "results.json").read_text())
    names = {"fcc[Li16Cl8]/morse", "fcc[Li12Cl8]/morse"}
    assert set(doc["arrhenius"]) == names
    for name, replica in zip(sorted(names), (1, 0)):        # Li12Cl8 sorts first
        fit = doc["arrhenius"][name]["D_Li"]
        assert [len(p["replicas"]) for p in fit["points"]] == [1, 1, 1]
        mine = sorted((r for r in runs if r.replica == replica), key=lambda r: r.temperature)
        assert sorted(fit["runs"]) == sorted(str(r.rundir.path) for r in mine)
        d = [next(x for x in json.loads((r.rundir.path / "analysis" / "results.json")
                                        .read_text())["diffusion"] if x["direction"] == "xyz")
             for r in mine]
        ref = fit_in_y([r.temperature for r in mine], [x["D"] for x in d], [own_se(x) for x in d])
        assert fit["Ea_eV"] == pytest.approx(ref["Ea"], rel=1e-9)
    assert {r["structure"] for r in doc["rows"]} == {n.split("/")[0] for n in names}
    (note,) = doc["notes"]
    assert "fcc: its runs are of 2 different cells" in note
    assert f"ionmd: note: {note}" in capsys.readouterr().err


def test_a_users_own_files_beside_the_results_are_kept(tmp_path):
    """The user's own rdf.csv and density_Li.cube (of their own script) in the run's
    analysis/ folder, which ionmd's analysis never wrote there (no --structure-functions):
    a re-analysis, full or --failures-only, removes only the files the earlier analysis
    listed as its outputs (d9a8481 removed every file of ionmd's names: the user's too)."""
    run = tmp_path / "LiCl" / "T800"
    write_run(run, 800.0, 16, seed=9, temperatures=[800.0] * 150 + [2400.0] * 150)
    out = run / "analysis"
    out.mkdir()
    mine = {"rdf.csv": "r,g\n1,0\n", "density_Li.cube": "my own\n", "notes.txt": "keep\n"}
    for name, text in mine.items():
        (out / name).write_text(text)
    analyze(run, "--runaway-factor", "10")
    assert {name: (out / name).read_text() for name in mine} == mine
    first = json.loads((out / "results.json").read_text())
    assert set(first["outputs"]) == {"results.json", "failure.json", "diffusion.csv",
                                     "msd.png"}
    analyze(run, "--failures-only")          # another verdict: the transport goes
    assert not (out / "diffusion.csv").exists() and not (out / "msd.png").exists()
    assert {name: (out / name).read_text() for name in mine} == mine
    analyze(run, "--runaway-factor", "10")
    assert {name: (out / name).read_text() for name in mine} == mine


def test_cells_of_one_composition_in_other_sizes_are_said_to_be_sizes():
    """2x2x2 and 3x3x3 of one rock salt (Li32Cl32, Li108Cl108: one reduced formula, as
    pymatgen reduces them) are two series, and the note says they are two sizes of one
    composition (not 'other materials'); Li16Cl8 beside Li12Cl8 stays 'not replicas'."""
    from pymatgen.core import Composition

    from ionmd.analysis.series_identity import series_keys, series_names, split_cells_notes

    sizes = [{"run": f"/p/T{T}/{n}", "structure": "LiCl", "formula": f"Li{n}Cl{n}"}
             for n in (32, 108) for T in (800, 1000)]
    assert (Composition("Li32Cl32").reduced_formula
            == Composition("Li108Cl108").reduced_formula)
    names = series_names(sizes)
    assert sorted(set(names[k] for k in series_keys(sizes))) == [
        "LiCl[Li108Cl108]", "LiCl[Li32Cl32]"]
    [note] = split_cells_notes(sizes, names)
    assert "other sizes of one composition" in note and "not replicas" not in note
    other = [{"run": f"/p/{n}", "structure": "LiCl", "formula": f"Li{n}Cl8"} for n in (16, 12)]
    [note] = split_cells_notes(other, series_names(other))
    assert "not replicas of one material" in note and "sizes" not in note


def test_collect_says_that_caches_of_an_older_ionmd_are_analysed_again(tmp_path, morse, capsys):
    """Caches written before results version 4 (the runs' cell) are all analysed again on
    the first collect (a big campaign's hours): said on stderr before the work, with the
    count; the next collect reads the new caches and says nothing."""
    from ionmd.sweep import load_campaign, plan_campaign
    from sweep_setup import brownian_run, campaign_dir, write_campaign

    folder = campaign_dir(tmp_path / "camp", morse)
    path = write_campaign(folder, temperatures=(800.0, 1000.0), replicas=1,
                          analysis="charges = {Li = 1, Cl = -1}\ncollapse_fraction = 0.01",
                          duration_ps=30, discard_ps=2)     # as long as the Brownian runs
    runs = plan_campaign(load_campaign(path), create=True)
    for k, run in enumerate(runs):
        brownian_run(run.rundir, run.temperature, k, EA, 0.5)
    collect = ["sweep", "collect", str(path), "--no-progress"]
    assert main(collect) == 0
    caches = [r.rundir.path / "analysis" / "sweep_collect.json" for r in runs]
    for cache in caches[:1]:                # one run's cache as results version 3 wrote it
        doc = json.loads(cache.read_text())
        doc["settings"]["results_version"] = 3
        cache.write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(collect) == 0
    err = capsys.readouterr().err
    from ionmd.sweep.collect import RESULTS_VERSION

    assert ("1 of 2 runs' cached analyses (analysis/sweep_collect.json) are of an older "
            f"ionmd (results version 3, now {RESULTS_VERSION}: the runs' cells" in err)
    assert json.loads(caches[0].read_text())["settings"]["results_version"] == RESULTS_VERSION
    assert main(collect) == 0
    assert "older ionmd" not in capsys.readouterr().err


def test_a_moved_runs_earlier_transport_is_removed_with_another_verdict(tmp_path):
    """A run analysed in full (no failure at a runaway factor of 10), then its folder copied
    elsewhere (its results.json names the old path) and analysed --failures-only (failed):
    the copy's diffusion.csv and msd.png, of the earlier verdict, go all the same."""
    import shutil

    run = tmp_path / "old" / "LiCl" / "T800"
    write_run(run, 800.0, 16, seed=7, temperatures=[800.0] * 150 + [2400.0] * 150)
    analyze(run, "--runaway-factor", "10")
    moved = tmp_path / "new" / "LiCl" / "T800"
    shutil.copytree(run, moved)
    analyze(moved, "--failures-only")
    out = moved / "analysis"
    assert json.loads((out / "results.json").read_text())["failure"]["failed"]
    assert not (out / "diffusion.csv").exists() and not (out / "msd.png").exists()


def test_runs_whose_sigmas_take_other_charges_are_said_to(tmp_path, capsys):
    """One cell at 800 and 1000 K, the 1000 K run's run.json charges Li 0.8, Cl -0.8 (a
    scaled-charge model's), the 800 K run's Li 1, Cl -1: one series (same atoms), but its
    sigma T fit mixes the two: a warning naming each set's runs and a flag on the sigma
    fit, none on D's (which takes no charges). Each run's sigma is its own charges': the
    Nernst-Einstein ratio q^2 (0.64) between the sigmas of equal D."""
    runs = {T: tmp_path / "LiCl" / f"T{T:g}" for T in (800.0, 1000.0)}
    for k, (T, folder) in enumerate(runs.items()):
        write_run(folder, T, 16, seed=20 + k)
    meta = json.loads((runs[1000.0] / "run.json").read_text())
    meta["charges"] = {"Li": 0.8, "Cl": -0.8}
    (runs[1000.0] / "run.json").write_text(json.dumps(meta))
    out = tmp_path / "an"
    analyze(*runs.values(), "-o", out)
    summary = json.loads((out / "summary.json").read_text())
    (name,) = summary["series"]
    warning = summary["series"][name]["mixed_charges"]
    assert "Cl=-1,Li=1: T800" in warning and "Cl=-0.8,Li=0.8: T1000" in warning
    assert warning in summary["warnings"] and warning in capsys.readouterr().err
    fits = summary["arrhenius"][name]
    assert "mixed_charges" in fits["sigma_T"]["flags"]
    assert "mixed_charges" not in fits["D_Li"].get("flags", [])
    res = {T: next(json.loads(f.read_text()) for f in out.rglob("results.json")
                   if json.loads(f.read_text())["run"] == str(folder))
           for T, folder in runs.items()}
    ratio = [r["conductivity"]["sigma"] / next(d["D"] for d in r["diffusion"]
                                               if d["direction"] == "xyz") for r in res.values()]
    assert ratio[1] / ratio[0] == pytest.approx(0.64 * 800 / 1000, rel=1e-6)


def test_a_replica_that_lost_an_atom_stays_in_its_series(tmp_path):
    """Two replicas of one NaCl cell at 4000 K (real LAMMPS, tests/failure_nacl_runs.py), r0
    losing a Na at step 1601 (LAMMPS stops: 'Lost atoms'): each run's cell is its data
    file's atoms (Na108Cl98 as ASE reads the file: 10 Cl taken out of 3x3x3), the lost
    atom's run's too, so r0 is no series of its own: one series, r0 left out as failed, no
    note of cells."""
    from collections import Counter

    from failure_nacl_runs import lmp, nacl_dir

    body = ("velocity all create 4000 12345 mom yes rot no dist gaussian\n"
            "group cl type 1\nfix tether cl spring/self 20.0\n"
            "fix 1 all nvt temp 4000 4000 0.1\nthermo 10\n"
            "dump traj all dcd 50 md.dcd\ndump_modify traj unwrap yes\n")
    kick = ("variable kick equal (step>=1601)*1.0e5\ngroup one id 2\n"
            "fix kick one addforce v_kick 0.0 0.0\n")
    runs = []
    for replica in (0, 1):
        run = nacl_dir(tmp_path / "NaCl" / "T4000" / f"r{replica}", temperature_K=4000.0,
                       dump_every=50, delete=list(range(1, 40, 4)), dump_unwrapped=True,
                       discard_ps=0.2, structure="NaCl")
        proc = lmp(run, body + (kick if replica == 0 else "") + "run 2000\n", check=False)
        assert ("ERROR: Lost atoms" in proc.stdout) == (replica == 0)
        runs.append(run)
    out = tmp_path / "an"
    assert main(["analyze", *map(str, runs), "-o", str(out), "--window-ps", "0.5",
                 "--fit-start-ps", "0.2"]) in (0, None)
    from ase.io import read

    built = dict(Counter(read(runs[0] / "struct.data", format="lammps-data",
                              atom_style="charge").get_chemical_symbols()))     # by mass
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["series"]) == ["NaCl"] and not summary["notes"]
    res = [json.loads(f.read_text()) for f in sorted(out.rglob("results.json"))]
    assert [r["failure"]["failed"] for r in res] == [True, False]
    assert built == {"Na": 108, "Cl": 98}
    assert [r["composition"] for r in res] == [built, built]
