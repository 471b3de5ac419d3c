"""A summary folder's files that no summary wrote stay: a user's arrhenius_mine.png there was
listed in summary.json's ``outputs`` (its ``arrhenius_*.png`` glob took every such file) and
removed by the next summary, and a summary.json written before ``outputs`` were listed had
every ``arrhenius_*.png`` of the folder removed. Now the outputs are the plots written, and an
older summary's are those of the fits it records."""

import json

import numpy as np

KB = 8.617333262e-5


def _result(T: float) -> dict:
    D = 1e-3 * np.exp(-0.25 / (KB * T))
    return {"structure": "s", "temperature_K": T,
            "diffusion": [{"species": "Li", "direction": "xyz", "D": D,
                           "D_ci95": [0.8 * D, 1.25 * D], "flags": []}],
            "conductivity": {"sigma": 1e5 * D / T, "sigma_ci95": [0.8e5 * D / T, 1.25e5 * D / T]}}


THREE = [600.0, 800.0, 1000.0]


def test_a_users_arrhenius_plot_is_not_an_output(tmp_path):
    from ionmd.analysis.report import analyze_runs

    (tmp_path / "arrhenius_mine.png").write_text("mine")
    analyze_runs([_result(T) for T in THREE], {}, tmp_path)
    outputs = json.loads((tmp_path / "summary.json").read_text())["outputs"]
    assert outputs == ["summary.json", "arrhenius.csv",
                       "arrhenius_s_D_Li.png", "arrhenius_s_sigma_T.png"]
    analyze_runs([_result(600.0)], {}, tmp_path)
    assert (tmp_path / "arrhenius_mine.png").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.glob("arrhenius_*.png")) == ["arrhenius_mine.png"]


def test_an_older_summary_removes_only_its_fits_plots(tmp_path):
    from ionmd.analysis.report import analyze_runs

    analyze_runs([_result(T) for T in THREE], {}, tmp_path)
    old = json.loads((tmp_path / "summary.json").read_text())
    del old["outputs"]                          # as written before 0cae623
    (tmp_path / "summary.json").write_text(json.dumps(old))
    (tmp_path / "arrhenius_mine.png").write_text("mine")
    analyze_runs([_result(600.0)], {}, tmp_path)
    assert sorted(p.name for p in tmp_path.glob("arrhenius_*.png")) == ["arrhenius_mine.png"]
