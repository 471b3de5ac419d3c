"""``ionmd sweep collect`` reuses a run's cached analysis (``analysis/sweep_collect.json``)
only while everything its results depend on is as it was, the run's own ``run.json``
included. Before, the cache's key held the campaign's analysis settings and the run's
status but not run.json: a user who moved a finished run's ``discard_ps`` there and
collected again got the old D back, silently.

Reference: ``ionmd analyze`` of the same folder with the campaign's analysis settings,
which reads run.json anew and knows no cache."""

from __future__ import annotations

import json

import pytest

from ionmd.cli import main
from ionmd.sweep import load_campaign, plan_campaign
from sweep_setup import brownian_run, campaign_dir, write_campaign

ANALYSIS = "charges = {Li = 1, Cl = -1}\nfit_start_ps = 0.5\nwindow_ps = 5\ncollapse_fraction = 0.01"
FLAGS = ["--charges", "Li=1,Cl=-1", "--fit-start-ps", "0.5", "--window-ps", "5",
         "--collapse-fraction", "0.01"]


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, morse):
    """A campaign of two finished runs (Brownian Li, 30 ps, discard 2 ps), collected once."""
    folder = campaign_dir(tmp_path_factory.mktemp("cache"), morse)
    path = write_campaign(folder, duration_ps=30, discard_ps=2, analysis=ANALYSIS)
    runs = plan_campaign(load_campaign(path), create=True)
    for k, run in enumerate(runs):
        brownian_run(run.rundir, run.temperature, k, 0.2, 1.0)
    return path, runs


def _collected_D(path, run) -> float:
    """The run's D of Li (xyz) in collect's results.json, after a collect."""
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    doc = json.loads((path.parent / "runs" / "collect" / "results.json").read_text())
    entry = next(r for r in doc["runs"] if r["run"] == str(run.rundir.path))
    return next(m["D"] for m in entry["mobile"] if m["species"] == "Li")


def _analysed_D(run, out) -> float:
    """``ionmd analyze``'s D of Li (xyz) of the run folder, results in ``out``."""
    assert main(["analyze", str(run.rundir.path), "-o", str(out), *FLAGS]) == 0
    (found,) = out.rglob("results.json")        # out/<the run's folder name>/
    res = json.loads(found.read_text())
    return next(d["D"] for d in res["diffusion"]
                if d["species"] == "Li" and d["direction"] == "xyz")


def test_an_edited_discard_in_run_json_is_analysed_again(campaign, tmp_path):
    path, runs = campaign
    run = runs[0]
    before = _collected_D(path, run)
    assert before == pytest.approx(_analysed_D(run, tmp_path / "before"), rel=1e-12)
    meta = run.rundir.read_json("run.json")
    meta["discard_ps"] = 15.0               # half the run dropped as equilibration
    run.rundir.write_json("run.json", meta)
    after = _collected_D(path, run)
    reference = _analysed_D(run, tmp_path / "after")
    assert reference != pytest.approx(before, rel=1e-6)     # the edit changes D
    assert after == pytest.approx(reference, rel=1e-12)


def test_a_run_json_only_rewritten_keeps_its_cache(campaign):
    """The same settings in another layout (key order, indentation): the cache is read,
    not written again."""
    path, runs = campaign
    run = runs[1]
    _collected_D(path, run)
    cache = run.rundir.path / "analysis" / "sweep_collect.json"
    written = cache.stat().st_mtime_ns
    meta = run.rundir.read_json("run.json")
    (run.rundir.path / "run.json").write_text(json.dumps(dict(reversed(meta.items())), indent=4))
    _collected_D(path, run)
    assert cache.stat().st_mtime_ns == written


def test_runs_ionmd_ran_keep_their_caches_across_commands(tmp_path, morse):
    """The key holds run.json, which ionmd itself writes (at a launch, after each piece):
    were any later command to write it again (status, plan, a submit with nothing to do),
    every collect would analyse every run again. Two runs for real (LAMMPS, Morse), then
    collect, status, plan, submit, collect: the second collect reads both caches."""
    from sweep_setup import write_campaign

    folder = campaign_dir(tmp_path / "camp", morse)
    path = write_campaign(folder, temperatures=(1500, 2000))
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    runs = plan_campaign(load_campaign(path))
    assert [run.rundir.status["state"] for run in runs] == ["completed"] * 2
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    caches = [run.rundir.path / "analysis" / "sweep_collect.json" for run in runs]
    written = [cache.stat().st_mtime_ns for cache in caches]
    for command in (["status", str(path)], ["plan", str(path)],
                    ["submit", str(path), "--no-progress"],
                    ["collect", str(path), "--no-progress"]):
        assert main(["sweep", *command]) == 0
    assert [cache.stat().st_mtime_ns for cache in caches] == written
