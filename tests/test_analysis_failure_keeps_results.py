"""A failed re-analysis loses nothing: ``ionmd analyze`` with a fit start past the run's fit
end leaves the earlier results (run folders and summary) byte for byte and says where they
were kept; a failed analysis into a fresh ``-o`` folder leaves no folder behind; a
multi-run analysis whose run fails keeps that run's earlier results and a summary that
lists it as not analysed. Also: numbers in its messages and files as numbers (27.9 ps, not
27.900000000000002), the Ea's ± said to be a standard error, and ``dir()`` of the lazily
exported packages listing their names."""

import csv
import json
import re

import numpy as np
import pytest

import synthetic_trajectories as st
from ionmd.cli import main

POINT_IONS = ["--collapse-fraction", "0.01"]    # synthetic ions walk through each other
LONG_FLOAT = re.compile(r"\d\.\d{9,}")          # 0.17500000000000002, 27.900000000000002


def _run_dir(path, T, seed):
    """A synthetic run (Brownian Li in a breathing Cl framework): 27.9 ps analysed (29900
    steps x 2 fs, less 2 ps)."""
    return st.arrhenius_run(path, T, seed, breathing=0.02)


def _files(folder):
    """Every file below ``folder`` with its bytes."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory):
    """Three runs (600, 800, 1000 K) analysed once into ``out`` with the defaults."""
    base = tmp_path_factory.mktemp("keep")
    runs = [_run_dir(base / "A" / f"T{T}", T, seed=T) for T in (600, 800, 1000)]
    out = base / "anA"
    assert main(["analyze", *map(str, runs), "-o", str(out), "--mcmc-samples", "20",
                 *POINT_IONS]) == 0
    return runs, out


def test_failed_reanalysis_of_several_runs_keeps_their_results_and_summary(three_runs, capsys):
    """The audit's ``--fit-start-ps 25`` (fit end 13.95 ps): before, each run's files were
    replaced by an analysis_error results.json beside the old summary's Ea of three runs
    that then said 'not analysed'; now every file stays and the error says where."""
    runs, out = three_runs
    before = _files(out)
    capsys.readouterr()
    assert main(["analyze", *map(str, runs), "-o", str(out), "--fit-start-ps", "25",
                 *POINT_IONS]) == 1
    printed = capsys.readouterr().err
    assert _files(out) == before
    last = printed.splitlines()[-1]
    assert "none of the 3 runs could be analysed" in last
    assert f"previous results kept in {out / 'T600'}" in last
    assert f"their summary in {out}" in last
    assert "fit start 25 ps is not before the fit end 13.95 ps" in printed
    assert not LONG_FLOAT.search(printed), printed


def test_failed_run_among_several_keeps_its_results_and_the_summary_says_so(
        three_runs, capsys, monkeypatch, tmp_path):
    """One run of three fails (an unexpected error): its folder keeps the earlier results,
    the summary is rewritten from what this analysis has (the run listed as not analysed,
    left out of the fits, its kept results named), the others are replaced."""
    import shutil

    import ionmd.cli.analyze as analyze_cli

    runs, first = three_runs
    out = tmp_path / "anA"
    shutil.copytree(first, out)
    before = _files(out / "T800")
    real = analyze_cli._analyze_one

    def flaky(spec, *args, **kwargs):
        if spec.temperature_K == 800:
            raise np.linalg.LinAlgError("Singular matrix")
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(analyze_cli, "_analyze_one", flaky)
    rc = main(["analyze", *map(str, runs), "-o", str(out), "--fit-start-ps", "2",
               "--mcmc-samples", "20", *POINT_IONS])
    assert rc == 1
    assert f"previous results kept in {out / 'T800'}" in capsys.readouterr().err
    assert _files(out / "T800") == before
    summary = json.loads((out / "summary.json").read_text())
    records = {r["run"]: r for r in summary["runs"]}
    assert records[str(runs[1])]["analysis_error"].startswith("LinAlgError: Singular matrix")
    assert f"previous results kept in {out / 'T800'}" in records[str(runs[1])]["analysis_error"]
    fit = summary["arrhenius"]["synthetic"]["D_Li"]
    assert str(runs[1]) not in fit["runs"] and len(fit["runs"]) == 2
    for T in (600, 1000):       # analysed anew, with the fit start asked for
        res = json.loads((out / f"T{T}" / "results.json").read_text())
        assert res["diffusion"][0]["fit_start_ps"] == 2.0
    assert not list(out.rglob(".analysis-new-*"))


def test_failed_reanalysis_of_one_run_keeps_its_folder(tmp_path, capsys):
    """The audit's one-run case: RUN/analysis held results.json, diffusion.csv, msd.png,
    failure.json and a collect's sweep_collect.json; after a failed ``--fit-start-ps`` only
    sweep_collect.json was left. Now all are, and stderr says they were kept."""
    run = _run_dir(tmp_path / "T900", 900, seed=9)
    assert main(["analyze", str(run), "--failures-only", *POINT_IONS]) == 0
    assert main(["analyze", str(run), *POINT_IONS]) == 0
    (run / "analysis" / "sweep_collect.json").write_text("{}")
    before = _files(run / "analysis")
    assert {"results.json", "diffusion.csv", "msd.png", "failure.json"} <= {
        p.name for p in before}
    capsys.readouterr()
    assert main(["analyze", str(run), "--fit-start-ps", "14", *POINT_IONS]) == 1
    assert _files(run / "analysis") == before
    printed = capsys.readouterr().err
    assert "fit start 14 ps is not before the fit end 13.95 ps" in printed
    assert f"previous results kept in {run / 'analysis'}" in printed


def test_failed_analysis_into_a_fresh_output_folder_leaves_nothing(tmp_path, capsys):
    """Before, a failed ``ionmd analyze -o OUT`` left OUT/<run>/ holding only run_dir.json
    (which then refused no one and said nothing)."""
    run = _run_dir(tmp_path / "runs" / "r0", 900, seed=3)
    out = tmp_path / "OUT"
    assert main(["analyze", str(run), "-o", str(out), "--fit-start-ps", "20",
                 *POINT_IONS]) == 1
    assert "fit start 20 ps" in capsys.readouterr().err
    assert not out.exists()


def test_lengths_are_printed_and_written_as_numbers(three_runs, tmp_path):
    """run_length_ps of 29900 steps of 2 fs less 2 ps is 27.9 (27.900000000000002 from
    steps x 2.0 x 1e-3), in results.json and in a runs table written from the records."""
    from ionmd.analysis.run_records import write_runs_csv

    runs, out = three_runs
    records = json.loads((out / "summary.json").read_text())["runs"]
    assert [r["run_length_ps"] for r in records] == [27.9] * 3
    write_runs_csv(records, tmp_path / "runs.csv")
    with open(tmp_path / "runs.csv") as fh:
        assert [row["run_length_ps"] for row in csv.DictReader(fh)] == ["27.9"] * 3


def test_ea_is_printed_with_its_standard_error_said(three_runs, capsys):
    """The ± beside Ea is its standard error (Ea_err_eV), the brackets 95 % intervals:
    every line that prints it says '(s.e.)'."""
    from ionmd.analysis.run_records import sigma_lines
    from ionmd.cli.analyze import _print_summary

    runs, out = three_runs
    summary = json.loads((out / "summary.json").read_text())
    fit = summary["arrhenius"]["synthetic"]["D_Li"]
    # the standard error it names: the 95 % interval's half width over Student t's quantile
    lo, hi = fit["Ea_ci95"]
    assert fit["Ea_err_eV"] < (hi - lo) / 2
    capsys.readouterr()
    _print_summary(summary, False)      # what ionmd analyze printed of this summary
    printed = capsys.readouterr().out
    assert f"D_Li: Ea = {fit['Ea_eV']:.3f} ± {fit['Ea_err_eV']:.3f} eV (s.e.)," in printed
    srec = summary["structures"]["synthetic"]
    line = sigma_lines("synthetic", srec, summary["runs"])[0]
    assert f"Ea = {srec['Ea_eV']:.3f} ± {srec['Ea_err_eV']:.3f} eV (s.e.)," in line
    assert line in printed


@pytest.mark.parametrize("package", ["ionmd.structures", "ionmd.screen"])
def test_dir_of_a_lazily_exported_package_lists_its_names(package):
    """``dir(ionmd.structures)`` listed only ``lazy_exports`` (tab completion showed no
    functions); now every name of ``__all__``, and not the helper."""
    import importlib

    module = importlib.import_module(package)
    names = dir(module)
    assert set(module.__all__) <= set(names)
    assert "lazy_exports" not in names


def test_a_summary_that_fails_half_way_leaves_the_earlier_one(tmp_path, monkeypatch):
    """The summary's files too are replaced only once the new ones are complete: a summary
    that fails at its second plot left the earlier summary.json beside none of its plots
    (removed first); now the folder is as it was, and the next summary replaces it."""
    import ionmd.analysis.report as report
    import ionmd.analysis.summary_files as summary_files

    def result(T):
        D = 1e-3 * np.exp(-0.25 / (8.617333262e-5 * T))
        return {"structure": "s", "temperature_K": T,
                "diffusion": [{"species": "Li", "direction": "xyz", "D": D,
                               "D_ci95": [0.8 * D, 1.25 * D], "flags": []}],
                "conductivity": {"sigma": 1e5 * D / T,
                                 "sigma_ci95": [0.8e5 * D / T, 1.25e5 * D / T]}}

    report.analyze_runs([result(T) for T in (600.0, 800.0, 1000.0)], {}, tmp_path)
    before = _files(tmp_path)
    assert {"summary.json", "arrhenius.csv", "arrhenius_s_D_Li.png"} <= {
        str(p) for p in before}
    real, calls = summary_files.plot_arrhenius, []

    def second_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(summary_files, "plot_arrhenius", second_fails)
    with pytest.raises(RuntimeError, match="disk full"):
        report.analyze_runs([result(T) for T in (700.0, 900.0)], {}, tmp_path)
    assert _files(tmp_path) == before
    monkeypatch.setattr(summary_files, "plot_arrhenius", real)
    summary = report.analyze_runs([result(600.0)], {}, tmp_path)   # no fit: plots removed
    assert summary["arrhenius"] == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arrhenius.csv", "summary.json"]


def test_a_summary_failing_after_the_runs_were_written_says_the_earlier_one_is_stale(
        three_runs, capsys, monkeypatch, tmp_path):
    """The review's R2: the runs' results replaced (fit start 2 ps), then the summary fails:
    summary.json stayed of the earlier analysis (fits from 1 ps) without a word, and the
    command stopped on a bare RuntimeError. Now it exits 1 saying so, and summary.json says
    it is stale (nothing else in it changed)."""
    import shutil

    import ionmd.analysis.summary_files as summary_files

    runs, first = three_runs
    out = tmp_path / "anA"
    shutil.copytree(first, out)
    earlier = json.loads((out / "summary.json").read_text())

    def boom(*args, **kwargs):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(summary_files, "plot_arrhenius", boom)
    capsys.readouterr()
    assert main(["analyze", *map(str, runs), "-o", str(out), "--fit-start-ps", "2",
                 "--mcmc-samples", "20", *POINT_IONS]) == 1
    last = capsys.readouterr().err.splitlines()[-1]
    assert "the summary could not be written (RuntimeError: plot failed)" in last
    assert "the runs' results were written" in last
    assert f"summary.json in {out} and its fits are of the earlier analysis" in last
    for T in (600, 800, 1000):
        res = json.loads((out / f"T{T}" / "results.json").read_text())
        assert res["diffusion"][0]["fit_start_ps"] == 2.0
    summary = json.loads((out / "summary.json").read_text())
    assert "plot failed" in summary.pop("stale")
    assert summary == earlier
    assert not list(out.rglob(".analysis-*"))


def test_sigterm_during_the_summary_leaves_no_staging_and_marks_it_stale(
        three_runs, capsys, tmp_path, monkeypatch):
    """SIGTERM (scancel) skipped every ``finally``: OUT/.analysis-new-*/ stayed. Now the
    command exits 128 + 15 having removed it, and the earlier summary, beside the runs'
    new results, says it is stale. (A handler of the test's own stands in for Python's
    default, which would end pytest.)"""
    import shutil
    import signal

    import ionmd.analysis.summary_files as summary_files

    runs, first = three_runs
    out = tmp_path / "anA"
    shutil.copytree(first, out)

    def not_handled(signum, frame):
        raise AssertionError("SIGTERM reached the default handler")

    def terminated(*args, **kwargs):
        assert list(out.glob(".analysis-new-*"))        # the summary's staging folder
        signal.raise_signal(signal.SIGTERM)

    old = signal.signal(signal.SIGTERM, not_handled)
    try:
        monkeypatch.setattr(summary_files, "plot_arrhenius", terminated)
        capsys.readouterr()
        rc = main(["analyze", *map(str, runs), "-o", str(out), "--fit-start-ps", "2",
                   "--mcmc-samples", "20", *POINT_IONS])
        assert signal.getsignal(signal.SIGTERM) is not_handled     # restored
    finally:
        signal.signal(signal.SIGTERM, old)
    assert rc == 128 + signal.SIGTERM
    err = capsys.readouterr().err
    assert "stopped by SIGTERM" in err and f"new results were written in {out / 'T600'}" in err
    assert "stopped by SIGTERM" in json.loads((out / "summary.json").read_text())["stale"]
    assert not list(out.rglob(".analysis-*"))
