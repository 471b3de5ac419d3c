"""``ionmd analyze --directions xy`` (no xyz asked): the Nernst-Einstein and collective
sigma, defined with the 3-D D and the charge MSD, are still computed when the charges are
known, equal to those of the same runs analysed along xyz, and feed the Arrhenius fits; the
windowed-D count in diffusion.csv and the Haven-ratio label of the printed sigma."""

import csv
import json

import pytest

import synthetic_trajectories as st
from ionmd.cli import main
from ionmd.cli.analyze import _print_transport

TEMPERATURES = (700, 1000)
COMMON = ["--collective", "--collapse-fraction", "0.01", "--window-ps", "5",
          "--mcmc-samples", "20"]


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    root = tmp_path_factory.mktemp("directions")
    runs = [root / f"T{T}" for T in TEMPERATURES]
    for T, run in zip(TEMPERATURES, runs):
        st.arrhenius_run(run, T, seed=T)
    out, printed = {}, {}
    for directions in ("xy", "xyz"):
        out[directions] = root / f"out_{directions}"
        with pytest.MonkeyPatch.context() as mp:
            lines = []
            mp.setattr("builtins.print", lambda *a, **k: lines.append(" ".join(map(str, a))))
            assert main(["analyze", *map(str, runs), "-o", str(out[directions]),
                         "--directions", directions, *COMMON]) == 0
        printed[directions] = "\n".join(lines)
    return out, printed


def _results(out, T):
    return json.loads((out / f"T{T}" / "results.json").read_text())


def test_xy_alone_keeps_sigma_equal_to_the_xyz_analysis(analysed):
    out, printed = analysed
    for T in TEMPERATURES:
        xy, xyz = _results(out["xy"], T), _results(out["xyz"], T)
        assert [d["direction"] for d in xy["diffusion"]] == ["xy"]     # D as asked
        assert "no_conductivity" not in xy
        for key in ("conductivity", "conductivity_collective"):
            assert xy[key]["sigma"] == pytest.approx(xyz[key]["sigma"], rel=1e-12)
            assert xy[key]["sigma_ci95"] == pytest.approx(xyz[key]["sigma_ci95"], rel=1e-12)
        assert xy["conductivity"]["direction"] == "xyz"
        assert "xyz" in xy["conductivity"]["direction_note"]
    assert "unknown" not in printed["xy"]
    fits = json.loads((out["xy"] / "summary.json").read_text())["arrhenius"]["synthetic"]
    ref = json.loads((out["xyz"] / "summary.json").read_text())["arrhenius"]["synthetic"]
    for series in ("sigma_T", "sigma_collective_T"):
        assert fits[series]["Ea_eV"] == pytest.approx(ref[series]["Ea_eV"], rel=1e-9)


def test_diffusion_csv_counts_the_windows(analysed):
    out, _ = analysed
    for T in TEMPERATURES:
        res = _results(out["xyz"], T)
        frames = round(res["run_length_ps"] / 0.1) + 1          # frames after the discard
        expected = frames // (round(5 / 0.1) + 1)               # whole 5 ps windows
        with open(out["xyz"] / f"T{T}" / "diffusion.csv") as fh:
            row = next(csv.DictReader(fh))
        assert int(row["D_windowed_n"]) == expected == res["diffusion"][0]["n_windows"]
        assert expected >= 4


def test_printed_sigma_names_the_haven_ratio(capsys):
    c = {"sigma": 2.0, "sigma_ci95": [1.0, 3.0], "flags": []}
    _print_transport({"conductivity": {**c, "haven_ratio": 0.5}}, "")
    _print_transport({"conductivity": {**c, "haven_ratio": 1.0}}, "")
    first, second = capsys.readouterr().out.splitlines()
    assert first.startswith("sigma_NE/H_R (H_R = 0.5) = 2 mS/cm")
    assert second.startswith("sigma_NE = 2 mS/cm")


def test_older_results_of_other_directions_are_not_called_charges_unknown():
    from ionmd.analysis.aggregate import why_left_out

    run = {"run": "/runs/a", "temperature_K": 700.0, "failure": {"failed": False},
           "diffusion": [{"species": "Li", "direction": "xy", "D": 1e-6,
                          "D_ci95": [0.9e-6, 1.1e-6], "flags": []}]}
    why = why_left_out(run, "sigma_T")
    assert "xyz" in why and "unknown" not in why
