"""Two campaigns with the same seed (the default 12345), temperature, structure, model and
protocol run the same trajectory, to the bit: `ionmd analyze A B` counted each such pair
as two independent replicas (the combined error over sqrt 2, as if twice the data). Now a
run that repeats another's trajectory (what their settings.json record) is counted once,
left out of the fits naming the run it repeats and why, and the series is warned about.

The campaigns: Brownian Li in an fcc Li/Cl cell (test_sweep_campaign's), one replica at 600
and 1000 K each, planned by ionmd (its settings.json), the trajectory of each run drawn
from the same random seed in both campaigns (as LAMMPS runs one seed alike). References:
the analysis of campaign A alone (the fit must be the same), each run's own D and interval
(its results.json), and a third campaign of another seed, whose runs are replicas."""

from __future__ import annotations

import json

import pytest

from ionmd.analysis.same_trajectory import same_trajectories
from ionmd.cli import main
from ionmd.sweep import load_campaign, plan_campaign
from sweep_setup import brownian_run, campaign_dir, write_campaign

EA, D_1000 = 0.25, 0.5          # eV; A^2/ps at 1000 K
ANALYSIS = ("charges = {Li = 1, Cl = -1}\nfit_start_ps = 1.0\nwindow_ps = 15.0\n"
            "collapse_fraction = 0.01")


def campaign(root, name: str, morse, extra: str = "") -> list:
    """A campaign's runs (600 and 1000 K, one replica each), each a Brownian trajectory of
    the seed of its index: two campaigns' runs of one index are one trajectory."""
    folder = campaign_dir(root / name, morse)
    path = write_campaign(folder, temperatures=(600, 1000), replicas=1, analysis=ANALYSIS,
                          duration_ps=30, discard_ps=2, extra=extra)
    runs = plan_campaign(load_campaign(path), create=True)
    for k, run in enumerate(runs):
        brownian_run(run.rundir, run.temperature, 100 + k, EA, D_1000)
    return [str(run.rundir.path) for run in runs]


def analyze(runs: list[str], out) -> dict:
    assert main(["analyze", *runs, "-o", str(out), "--collapse-fraction", "0.01"]) in (0, None)
    return json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module")
def summaries(tmp_path_factory, morse):
    root = tmp_path_factory.mktemp("same")
    a, b = campaign(root, "A", morse), campaign(root, "B", morse)
    other = campaign(root, "C", morse, extra="seed = 777")
    return (a, b, other, analyze(a, root / "only_a"), analyze(a + b, root / "a_and_b"),
            analyze(a + other, root / "a_and_c"))


def only_fit(summary: dict) -> dict:
    (fits,) = summary["arrhenius"].values()
    return fits["D_Li"]


def test_the_same_trajectory_is_counted_once(summaries):
    a, b, _, alone, both, _ = summaries
    fit, ref = only_fit(both), only_fit(alone)
    # the fit is that of campaign A alone: each temperature one run, with its own interval
    assert fit["Ea_eV"] == pytest.approx(ref["Ea_eV"], rel=1e-12)
    assert fit["Ea_err_eV"] == pytest.approx(ref["Ea_err_eV"], rel=1e-12)
    for p, q in zip(fit["points"], ref["points"]):
        assert p["ci95"] == pytest.approx(q["ci95"], rel=1e-12)
        assert len(p["runs"]) == 1
    # each of B's runs is named as left out, with the run it repeats and what to do
    reasons = {x["run"]: x["reason"] for x in fit["left_out"]}
    assert set(reasons) == set(b)
    for run_a, run_b in zip(a, b):
        assert f"the same trajectory as {run_a}" in reasons[run_b]
        assert "own seed" in reasons[run_b]
    assert "same_trajectory" in fit["flags"]
    (warning,) = [w for w in both["warnings"] if "repeat" in w]
    assert "2 of its runs repeat" in warning and "own seed" in warning


def test_runs_of_another_seed_stay_replicas(summaries):
    a, _, other, alone, _, with_other = summaries
    fit = only_fit(with_other)
    assert not [w for w in with_other["warnings"] if "repeat" in w]
    assert "same_trajectory" not in fit["flags"]
    assert sorted(fit["runs"]) == sorted(a + other)
    # two replicas per temperature now: each point narrower than one run's own interval
    for p, q in zip(fit["points"], only_fit(alone)["points"]):
        assert len(p["runs"]) == 2
        assert p["ci95"][1] - p["ci95"][0] < q["ci95"][1] - q["ci95"][0]


def test_hand_runs_with_the_same_D_to_the_bit(tmp_path):
    """Runs without settings.json (by hand): the same temperature and every D with its
    interval to the bit is one trajectory analysed twice; another D is another run."""
    d = [{"species": "Li", "direction": "xyz", "D": 1.25e-5, "D_ci95": [1.0e-5, 1.5e-5]}]
    runs = [{"run": str(tmp_path / name), "temperature_K": 600.0, "diffusion": diff}
            for name, diff in (("x", d), ("y", d), ("z", [{**d[0], "D": 1.2500001e-5}]))]
    repeated = same_trajectories(runs)
    assert list(repeated) == [str(tmp_path / "y")]
    assert repeated[str(tmp_path / "y")][0] == str(tmp_path / "x")
