"""`ionmd analyze RUN` of a campaign's run folder analyses it with the campaign's
``[analysis]`` (fit_start_ps, window_ps, haven_ratio, failure thresholds), as `ionmd sweep
collect` does: the same D, interval, flags and sigma for the same folder (audit A24: it
took its own defaults, a 1 ps fit start and a 0.5 collapse fraction, and gave another D).

The campaign: one Brownian Li run of known D in an fcc Li/Cl cell (sweep_setup's), fitted
from 5 ps, not the default 1 ps. Reference: collect's row of that run (one replica: the
run's own D and interval, test_collect_analyze_agreement checks that against scipy)."""

from __future__ import annotations

import json

import pytest

from ionmd.analysis.run_campaign_settings import CAMPAIGN_SETTINGS
from ionmd.cli import main
from ionmd.sweep import load_campaign, plan_campaign
from ionmd.sweep.collect_cache import run_json_key
from sweep_setup import brownian_run, campaign_dir, write_campaign

ANALYSIS = ("charges = {Li = 1, Cl = -1}\nfit_start_ps = 5.0\nwindow_ps = 3.0\n"
            "haven_ratio = 2.0\ncollapse_fraction = 0.01")   # Brownian ions overlap


@pytest.fixture(scope="module")
def collected(tmp_path_factory, morse):
    """The campaign, its one run (completed, Brownian), and collect's results.json."""
    folder = campaign_dir(tmp_path_factory.mktemp("b10") / "camp", morse)
    path = write_campaign(folder, temperatures=(800,), analysis=ANALYSIS,
                          duration_ps=30, discard_ps=2)
    (run,) = plan_campaign(load_campaign(path), create=True)
    brownian_run(run.rundir, run.temperature, 3, 0.25, 0.5)
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    results = json.loads((folder / "runs" / "collect" / "results.json").read_text())
    return path, run, results


def xyz_li(res: dict) -> dict:
    return next(d for d in res["diffusion"] if d["direction"] == "xyz" and d["species"] == "Li")


def test_analyze_run_gives_collects_d(collected, capsys, tmp_path):
    """Plain `ionmd analyze RUN`: collect's D, interval and sigma (fit from 5 ps, H_R 2),
    not a failure (collapse 0.01), and it says the settings are the campaign's."""
    path, run, results = collected
    capsys.readouterr()
    assert main(["analyze", str(run.path)]) in (0, None)
    note = capsys.readouterr().err
    assert "campaign's [analysis]" in note and "fit_start_ps 5" in note, note
    res = json.loads((run.path / "analysis" / "results.json").read_text())
    (row,) = results["rows"]
    d = xyz_li(res)
    assert d["D"] == pytest.approx(row["D_Li"]["value"], rel=1e-12)
    assert d["D_ci95"] == pytest.approx(row["D_Li"]["ci95"], rel=1e-12)
    assert not res["failure"]["failed"]
    assert not row["replicas_failed"]
    # a flag still wins, and is said beside the campaign's value
    out = tmp_path / "flagged"
    assert main(["analyze", str(run.path), "-o", str(out), "--fit-start-ps", "1"]) in (0, None)
    assert "fit_start_ps 1 (the campaign's: 5)" in capsys.readouterr().err
    flagged = json.loads(next(out.rglob("results.json")).read_text())
    assert xyz_li(flagged)["D"] != pytest.approx(d["D"], rel=1e-6)


def test_changed_analysis_rewrites_the_settings_and_keeps_collects_cache(collected, capsys,
                                                                         tmp_path):
    """A changed [analysis] is written into the run folder without refusing the run and
    without touching run.json (collect's cache key); a folder without the file (planned by
    an older ionmd) is named by analyze and filled in by plan, and collect's cache of it
    is reused (same settings: nothing analysed again)."""
    path, run, _ = collected
    key = run_json_key(run.path)
    cache = run.path / "analysis" / "sweep_collect.json"
    text = path.read_text()
    path.write_text(text.replace("window_ps = 3.0", "window_ps = 4.0"))
    assert main(["sweep", "plan", str(path)]) in (0, None)
    assert json.loads((run.path / CAMPAIGN_SETTINGS).read_text())["window_ps"] == 4.0
    assert run_json_key(run.path) == key
    path.write_text(text)
    # an older ionmd's campaign run: no settings file, a submission's claim
    (run.path / CAMPAIGN_SETTINGS).unlink()
    (run.path / "sweep.json").write_text("{}")
    capsys.readouterr()
    assert main(["analyze", str(run.path), "-o", str(tmp_path / "old"),
                 "--failures-only"]) in (0, None)
    assert f"holds no {CAMPAIGN_SETTINGS}" in capsys.readouterr().err
    before = cache.stat().st_mtime_ns
    assert main(["sweep", "status", str(path)]) in (0, None)
    assert (run.path / CAMPAIGN_SETTINGS).is_file()
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    assert cache.stat().st_mtime_ns == before
