"""``ionmd sweep collect`` analyses the runs on disk by their own lengths. Before, a
fit_start_ps set after the runs (as a run's fit_start_not_diffusive flag asks) was refused
by the checks of runs still to write: the protocol's run length ("runs of duration_ps =
...") and the goal's step ("the analysis of every run the goal adds would fail"), though a
goal had made its runs far longer; docs/sweeps.md says ``plan`` refuses it. Now ``plan``
(and ``submit``) still refuse it; collect fits every run long enough, and leaves out by
name one too short for the fit start. The reference: Brownian runs of known D
(tests/sweep_setup.py's), the analysis' own rule for the fit end (half the analysed run)."""

from __future__ import annotations

import json

import pytest

from ionmd.cli import main
from ionmd.sweep.source import CampaignError
from ionmd.sweep import load_campaign, plan_campaign
from sweep_setup import brownian_run, campaign_dir, write_campaign

GOAL = 'goal = {sigma_300K_factor = 3, budget = "1 h", step = "0.4ps"}'
ANALYSIS = "charges = {Li = 1, Cl = -1}\nwindow_ps = 5\ncollapse_fraction = 0.01\nfit_start_ps = "


def short_run(rd, T: float) -> None:
    """A Brownian run of 30 frames 0.1 ps apart, 2 ps discarded: 0.9 ps analysed, its MSD
    fit ending at 0.45 ps (brownian_run's files otherwise)."""
    brownian_run(rd, T, seed=9, ea=0.25, d_1000=0.15, frames=30)


def test_collect_takes_a_later_fit_start_plan_refuses_it(tmp_path, morse, capsys):
    folder = campaign_dir(tmp_path / "c", morse)
    # planned as 0.5 ps runs (0.1 ps discarded: the fit ends at 0.2 ps); on disk two are
    # 30 ps long (a goal's extensions), one 2.9 ps
    path = write_campaign(folder, temperatures=(600, 900, 1200), extra=GOAL,
                          analysis=ANALYSIS + "0.05")
    runs = plan_campaign(load_campaign(path), create=True)
    true = {}
    for k, run in enumerate(runs):
        if run.temperature == 1200.0:
            short_run(run.rundir, run.temperature)
        else:
            true[run.temperature] = brownian_run(run.rundir, run.temperature, k, 0.25, 0.15)
    path = write_campaign(folder, temperatures=(600, 900, 1200), extra=GOAL,
                          analysis=ANALYSIS + "1.0")
    with pytest.raises(CampaignError) as exc:       # plan and submit: as before
        load_campaign(path)
    assert "goal.step" in str(exc.value) and "duration_ps" in str(exc.value)
    capsys.readouterr()
    assert main(["sweep", "plan", str(path)]) != 0
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0     # before: refused
    out = capsys.readouterr().out
    doc = json.loads((folder / "runs" / "collect" / "results.json").read_text())
    fits = doc["arrhenius"]["fcc/morse"]["sigma_T"]
    assert sorted(p["temperature_K"] for p in fits["points"]) == [600.0, 900.0]
    for row in doc["rows"]:         # each long run's D by its own length, from 1 ps
        if row["temperature_K"] in true:
            lo, hi = row["D_Li"]["ci95"]
            assert lo < true[row["temperature_K"]] * 1e-4 < hi
    (left,) = fits["left_out"]
    assert "T1200K" in left["run"] and "fit start 1 ps is not before the fit end 0.45" in \
        left["reason"]
    assert "T1200K" in out or "1200K" in out
