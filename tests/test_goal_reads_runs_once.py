"""A goal round reads each run's class and cached analysis once. Before, ``measure``,
``unmeasured`` and ``uncharged_note`` each read them again (an analysis that fails is not
cached: redone on every read): a no-fit round of 100 completed runs made 400 classify and
300 cached_run_results calls (now 100 and 100; /tmp bench in the commit message). Counted
here with stand-ins that say what the reads give: completed runs whose analysis failed."""

from __future__ import annotations

from collections import Counter

GOAL = 'goal = {sigma_300K_factor = 2, budget = "100 h", step = "1ps"}'


def test_a_no_fit_round_reads_each_run_once(tmp_path, morse, monkeypatch):
    import ionmd.sweep.collect as collect_mod
    import ionmd.sweep.goal as goal_mod
    from ionmd.sweep import load_campaign
    from ionmd.sweep.plan import plan_campaign
    from sweep_setup import campaign_dir, patch_classify, write_campaign

    c = load_campaign(write_campaign(campaign_dir(tmp_path / "c", morse),
                                     temperatures=(600, 800, 1000), extra=GOAL))
    runs = plan_campaign(c, create=True)
    reads = Counter()

    def cached(run, campaign, charges, jobs=None):
        reads["results", str(run.path)] += 1
        return {"class": "completed", "run": str(run.path), "analysis_error": "no frames"}

    def classify(rd, jobs=None):
        reads["class", str(rd.path)] += 1
        return "completed"

    monkeypatch.setattr(collect_mod, "cached_run_results", cached)
    patch_classify(monkeypatch, classify)
    r = goal_mod.advance_series(c, "fcc", "morse")
    assert r.state == "no_fit"
    for run in runs:        # every run's failed analysis is said, each read once
        assert f"run {run.path} at {run.temperature:g} K: analysis error: no frames" in r.detail
        assert reads["results", str(run.path)] == 1             # before: 3
        assert reads["class", str(run.path)] == 1               # before: 4
    # outside a round, a read is a fresh one (a run that changed is seen as it is now)
    goal_mod.measure(c, runs)
    goal_mod.measure(c, runs)
    assert all(reads["results", str(run.path)] == 3 for run in runs)
