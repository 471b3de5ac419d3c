"""A re-analysis into the same folder left the earlier summary's plots: three runs fitted
(arrhenius_s_D_Li.png, arrhenius_s_sigma_T.png), then one run alone, with no fit in its
summary.json, still beside the three-run plots. analyze_runs now lists its files in
summary.json (``outputs``) and removes what the earlier summary there wrote, as a run's
analysis does with its own files; a run's files and a user's own are never touched."""

import json

import numpy as np
import pytest

KB = 8.617333262e-5
EA = 0.25


def _result(T: float) -> dict:
    D = 1e-3 * np.exp(-EA / (KB * T))
    return {"structure": "s", "temperature_K": T,
            "diffusion": [{"species": "Li", "direction": "xyz", "D": D,
                           "D_ci95": [0.8 * D, 1.25 * D], "flags": []}],
            "conductivity": {"sigma": 1e5 * D / T, "sigma_ci95": [0.8e5 * D / T, 1.25e5 * D / T]}}


@pytest.fixture
def three_then_one(tmp_path):
    from ionmd.analysis.report import analyze_runs

    first = analyze_runs([_result(T) for T in (600.0, 800.0, 1000.0)], {}, tmp_path)
    assert first["arrhenius"]["s"].keys() == {"D_Li", "sigma_T"}
    plots = sorted(p.name for p in tmp_path.glob("arrhenius_*.png"))
    assert plots == ["arrhenius_s_D_Li.png", "arrhenius_s_sigma_T.png"]
    for name in ("msd.png", "diffusion.csv", "my_plot.png"):   # a run's, a user's
        (tmp_path / name).write_text("kept")
    return analyze_runs, tmp_path, plots


def test_a_one_run_summary_leaves_no_fit_plot(three_then_one):
    analyze_runs, out, plots = three_then_one
    second = analyze_runs([_result(600.0)], {}, out)
    assert second["arrhenius"] == {}
    assert not list(out.glob("arrhenius_*.png"))
    assert json.loads((out / "summary.json").read_text())["outputs"] == [
        "summary.json", "arrhenius.csv"]
    assert all((out / n).read_text() == "kept" for n in ("msd.png", "diffusion.csv", "my_plot.png"))


def test_a_summary_written_before_outputs_were_listed(three_then_one):
    analyze_runs, out, plots = three_then_one
    old = json.loads((out / "summary.json").read_text())
    del old["outputs"]
    (out / "summary.json").write_text(json.dumps(old))
    analyze_runs([_result(600.0)], {}, out)
    assert not list(out.glob("arrhenius_*.png"))
    assert (out / "my_plot.png").read_text() == "kept"


def test_no_summary_of_ionmds_no_file_removed(tmp_path):
    from ionmd.analysis.report import analyze_runs

    (tmp_path / "summary.json").write_text('{"mine": 1}')
    (tmp_path / "arrhenius_by_hand.png").write_text("kept")
    analyze_runs([_result(600.0)], {}, tmp_path)
    assert (tmp_path / "arrhenius_by_hand.png").read_text() == "kept"
