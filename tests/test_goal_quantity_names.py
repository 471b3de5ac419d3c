"""The goal's allocator fits each run's Nernst-Einstein sigma T (mS K/cm), or, without
charges, the D of its one mobile species (cm^2/s); its messages on a run left out named
neither ("the fitted value", no unit). Now the goal passes what it fits, so a non-diffusing
run's note names the quantity in its unit."""

import pytest

from ionmd.sweep.allocate import TemperatureRun
from ionmd.sweep.goal import series_point, series_quantity

STILL_K, BROKEN_K = 1000.0, 1300.0

LI_D = {"direction": "xyz", "species": "Li", "D": -7.0e-6, "D_ci95": [0.0, 0.0],
        "flags": [], "n_ions": 16}


def _run(res: dict) -> TemperatureRun:
    res = {**res, "temperature_K": 600.0}
    point = series_point(res)
    quantity, unit = series_quantity(res)
    return TemperatureRun(temperature_K=600.0, time_ps=10.0, D=point.value, D_ci95=point.ci95,
                          cost_per_ps=1.0, key="runs/600K", quantity=quantity, unit=unit)


def test_without_charges_the_note_names_d_of_the_mobile_species():
    why = _run({"diffusion": [LI_D]}).why_left_out()
    assert "D of Li" in why and "cm^2/s" in why and "600 K" in why and "runs/600K" in why


def test_with_charges_the_note_names_sigma_t_in_its_unit():
    res = {"diffusion": [LI_D], "conductivity": {"sigma": -0.1, "sigma_ci95": [0.0, 0.0]}}
    point = series_point({**res, "temperature_K": 600.0})
    assert point.value == -0.1 * 600.0          # sigma T, as collect fits it
    why = _run(res).why_left_out()
    assert "sigma T" in why and "mS K/cm" in why and "cm^2/s" not in why


@pytest.fixture(scope="module")
def goal_runs(tmp_path_factory):
    """A goal campaign (1000-1400 K) planned, each run a Brownian trajectory of 16 Li
    (``sweep_setup.brownian_run``, D 1 A^2/ps at 1000 K) but that at 1000 K, whose Li stand
    still (D 0), with a LAMMPS loop time (the goal's cost); at 1300 K one whose run.json
    discards more than the run (an analysis error); and the goal's view of them
    (``measure``), taken before any test's round changes the campaign: (campaign, runs,
    measured)."""
    from ionmd.sweep import load_campaign, plan_campaign
    from ionmd.sweep.goal import measure
    from sweep_setup import brownian_run, goal_campaign

    path = goal_campaign(tmp_path_factory.mktemp("goal") / "camp",
                         'sigma_300K_factor = 2, budget = "1 h", step = "1ps"')
    # the synthetic ions are points that walk through each other: only a real overlap counts
    path.write_text(path.read_text().replace("[analysis]\n", "[analysis]\ncollapse_fraction = 0.01\n")
                    .replace("[1000, 1200, 1400]", "[1000, 1200, 1300, 1400]"))
    campaign = load_campaign(path)
    runs = plan_campaign(campaign, create=True)
    for k, run in enumerate(runs):
        brownian_run(run.rundir, run.temperature, k, 0.2, 0.0 if run.temperature == STILL_K else 1.0)
        with open(run.rundir.path / "log.0.lammps", "a") as log:     # its cost, as LAMMPS says it
            log.write("Loop time of 1 on 1 procs for 15000 steps with 24 atoms\n")
        if run.temperature == BROKEN_K:
            run.rundir.write_json("run.json", {**run.rundir.read_json("run.json"), "discard_ps": 100.0})
    return campaign, runs, measure(campaign, runs)[0]


def test_measure_names_sigma_t_as_the_allocator_gets_it(goal_runs, tmp_path):
    """The goal's own view of its runs (``measure``, as ``sweep submit`` gives the
    allocator its runs) names what it passes as ``D``: the Nernst-Einstein sigma T in
    mS K/cm, checked against Nernst-Einstein by scipy's constants from a run's own D
    (``ionmd analyze``'s) and cell. Before, measure passed no name (``the fitted value``)."""
    import json

    from ase.io import read
    from scipy.constants import Boltzmann, elementary_charge

    from ionmd.cli import main

    _, runs, measured = goal_runs
    assert sorted(m.temperature_K for m in measured) == [1000.0, 1200.0, 1400.0]
    assert {(m.quantity, m.unit) for m in measured} == {("the Nernst-Einstein sigma T", "mS K/cm")}
    hot = next(m for m in measured if m.temperature_K == 1200.0)
    folder = hot.key.rundir.path
    assert main(["analyze", str(folder), "-o", str(tmp_path / "out"), "--charges",
                 "Li=1,Cl=-1", "--fit-start-ps", "0.1", "--collapse-fraction", "0.01"]) == 0
    (found,) = (tmp_path / "out").rglob("results.json")
    D = next(d["D"] for d in json.loads(found.read_text())["diffusion"]
             if d["species"] == "Li" and d["direction"] == "xyz")          # cm^2/s
    atoms = read(folder / "struct.data", format="lammps-data", atom_style="atomic")
    n_li = int((atoms.numbers == 3).sum())
    T = hot.temperature_K
    sigma_S_m = n_li * elementary_charge**2 * D * 1e-4 / (atoms.get_volume() * 1e-30
                                                         * Boltzmann * T)
    assert hot.D == pytest.approx(sigma_S_m * 10 * T, rel=1e-6)          # mS/cm x K


def test_a_goal_round_says_which_run_its_fit_left_out(goal_runs):
    """A round of the goal (``sweep submit`` prints its line) whose fit left a run out
    names it and why: Li standing still at 1000 K (its positions never change), so its
    sigma T is not positive; and the 1300 K run whose analysis failed, which the goal's fit
    never saw. Before, only a fit left with no run named the first (Decision.describe,
    which lists them, is printed nowhere) and nothing the second: the round just extended
    or added a run."""
    from ionmd.sweep.goal import advance_series, read_goal_state

    campaign, runs, _ = goal_runs
    still = next(run for run in runs if run.temperature == STILL_K)
    broken = next(run for run in runs if run.temperature == BROKEN_K)
    done = advance_series(campaign, "licl", "licl")
    line = done.line(campaign.goal.budget, campaign.goal.unit)
    assert done.state in ("extended", "added", "goal_met", "budget_spent", "nothing_left"), line
    assert (f"left out: the Nernst-Einstein sigma T of run {still.path} at 1000 K" in line
            and "mS K/cm" in line and "did not diffuse" in line), line
    assert (f"left out: the Nernst-Einstein sigma T of run {broken.path} at 1300 K: analysis "
            f"error: " in line and "100" in line), line
    assert sum("left out:" in part for part in line.split("; ")) == 2, line
    (record,) = read_goal_state(campaign)["series"]["licl/licl"]["rounds"]
    assert [str(still.path) in w and str(broken.path) not in w for w in record["left_out"]] == [
        True, False]
