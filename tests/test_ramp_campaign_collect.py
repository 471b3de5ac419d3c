"""Runs that ramp (``pressure-ramp``: the barostat, ``stability``: the thermostat) have no D
nor sigma, but their analysis gives their length as any run's (from the first frame kept
after the discard to the last: runs.csv's ``run_length_ps``), and collect draws
survival.png without a failure for a barostat ramp as for a thermostat ramp, by each run's
condition (a run held at ``temperature_end`` is no ramp). The runs are Brownian
trajectories written into the planned folders (sweep_setup.brownian_run: 300 frames 0.1 ps
apart, 2 ps discarded), no MD."""

from __future__ import annotations

import csv
import json

import pytest

from ionmd.analysis.run_analysis import analyze_run
from ionmd.analysis.run_spec import load_run_spec
from ionmd.cli import main
from ionmd.sweep import load_campaign, plan_campaign
from sweep_setup import brownian_run, campaign_dir, write_campaign

# brownian_run: 300 frames 0.1 ps apart (dump_every 50 x 2 fs), the first 2 ps discarded
KEPT_PS = 299 * 0.1 - 2.0
# random Brownian Li overlap at times: no collapse to find here (it would fail the runs)
ANALYSIS = "charges = {Li = 1, Cl = -1}\nfit_start_ps = 0.05\ncollapse_fraction = 0.01"


def _campaign(tmp_path, morse, protocol: str, extra: str = ""):
    folder = campaign_dir(tmp_path / protocol, morse)
    path = write_campaign(folder, name="ramp", protocol=protocol, temperatures=(600,),
                          replicas=2, duration_ps=30, discard_ps=2.0, analysis=ANALYSIS)
    if extra:
        path.write_text(path.read_text().replace("[protocol]\n", f"[protocol]\n{extra}\n"))
    runs = plan_campaign(load_campaign(path), create=True)
    for k, run in enumerate(runs):
        brownian_run(run.rundir, run.temperature, k, 0.3, 0.5)
    return folder, path, runs


def _collect(folder, path):
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    out = folder / "runs" / "collect"
    doc = json.loads((out / "results.json").read_text())
    assert [(r["state"], r["failed"]) for r in doc["runs"]] == [("completed", False)] * 2
    return out, doc


def test_pressure_ramp_runs_have_their_length_and_survival_curve(tmp_path, morse):
    folder, path, runs = _campaign(tmp_path, morse, "pressure-ramp")
    out, doc = _collect(folder, path)
    for run in runs:        # the premise: ramps analysed without transport
        res = json.loads((run.path / "analysis" / "results.json").read_text())
        assert "no_transport" in res and res["pressure_ramp"]["end"] == 50000.0
    # the length of a completed ramp run: the trajectory after the discard (was empty)
    with open(out / "runs.csv", newline="") as fh:
        assert [float(r["run_length_ps"]) for r in csv.DictReader(fh)] == \
            pytest.approx([KEPT_PS] * 2)
    assert [r["run_length_ps"] for r in doc["runs"]] == pytest.approx([KEPT_PS] * 2)
    # no run failed, but each ramped: the curve (all survived the ramp) is drawn
    assert doc["survival"] and (out / "survival.png").is_file()


def test_thermostat_ramp_run_has_its_length(tmp_path, morse):
    _, _, runs = _campaign(tmp_path, morse, "stability")
    res = analyze_run(load_run_spec(runs[0].path), tmp_path / "analysed",
                      failure_options={"collapse_fraction": 0.01})
    assert res["temperature_end_K"] == 2100.0 and "no_transport" in res
    assert res["run_length_ps"] == pytest.approx(KEPT_PS)
    assert res["run_record"]["run_length_ps"] == pytest.approx(KEPT_PS)


def test_run_held_at_temperature_end_draws_no_curve_without_failure(tmp_path, morse):
    folder, path, _ = _campaign(tmp_path, morse, "stability", extra="temperature_end = 600")
    out, doc = _collect(folder, path)
    assert doc["survival"] and not (out / "survival.png").exists()
