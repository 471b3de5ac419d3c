"""The runs a goal adds count against the campaign's ``max_runs`` (default 10,000), as the
runs its file plans do: 221f6ef bounded structures x models x temperatures x replicas only,
and a goal's rounds added runs past it without a word. Where one more run would pass the
bound, the goal offers no new temperature: a series with nothing else to do stops as
``run_limit`` (nothing written, its round saying the count, the bound and what to do) and
goes on once the file raises ``max_runs``. A campaign whose run folders are written already
is not refused on resubmit. References: the run folders on disk (the
campaign's own plan), goal.json's rounds."""

from __future__ import annotations

import json

import pytest

import ionmd.sweep.goal as goal_mod
from goal_stand_ins import GOAL_AT_700K, finished_runs
from ionmd.sweep import CampaignError, load_campaign
from ionmd.sweep.plan import plan_campaign
from sweep_setup import campaign_dir, patch_classify, write_campaign


def test_a_goal_adds_no_run_past_max_runs_and_goes_on_once_raised(tmp_path, morse,
                                                                    monkeypatch):
    path = write_campaign(campaign_dir(tmp_path / "c", morse), temperatures=(1000, 1200),
                          extra=GOAL_AT_700K)
    path.write_text("max_runs = 2\n" + path.read_text())
    c = load_campaign(path)
    assert len(plan_campaign(c, create=True)) == 2
    monkeypatch.setattr(goal_mod, "measure", finished_runs)
    patch_classify(monkeypatch, lambda rd, jobs=None: "completed")
    result = goal_mod.advance_series(c, "fcc", "morse")
    # old: 'added' (a third run folder past max_runs = 2)
    assert result.state == "run_limit", result
    assert "plans 2 run folders" in result.detail and "max_runs, 2;" in result.detail
    assert "(max_runs = 3 or more)" in result.detail       # a line to paste into its TOML
    assert len(plan_campaign(c)) == 2 and not list(tmp_path.glob("c/**/T700K"))
    state = json.loads((c.output / "goal.json").read_text())["series"]["fcc/morse"]
    assert state["added_K"] == [] and state["rounds"][-1]["stopped"] == "run_limit"
    # the bound raised: the next round looks again and adds the run
    path.write_text(path.read_text().replace("max_runs = 2", "max_runs = 3"))
    c = load_campaign(path)
    result = goal_mod.advance_series(c, "fcc", "morse")
    assert result.state == "added", result
    assert [r.temperature for r in plan_campaign(c)] == [700.0, 1000.0, 1200.0]


def test_a_campaign_whose_runs_are_written_is_not_refused_on_resubmit(tmp_path, morse,
                                                                      monkeypatch):
    """A campaign over the bound whose run folders are written already (submitted by an
    ionmd before the bound; here the bound lowered to 1 and the folders written under a
    max_runs since removed) loads as before: it was accepted once and writes none now (old:
    refused until max_runs was added). One that plans more than its output holds is
    refused as a new one is."""
    import ionmd.sweep.campaign as campaign_mod

    monkeypatch.setattr(campaign_mod, "MAX_CAMPAIGN_RUNS", 1)
    path = write_campaign(campaign_dir(tmp_path / "c", morse), temperatures=(1000, 1200))
    text = path.read_text()
    path.write_text("max_runs = 2\n" + text)
    assert len(plan_campaign(load_campaign(path), create=True)) == 2
    path.write_text(text)
    assert len(plan_campaign(load_campaign(path))) == 2            # old: refused
    path.write_text(text.replace("[1000, 1200]", "[1000, 1100, 1200]"))
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    said = str(exc.value)
    assert "plans 3 run folders" in said and "2 run folders its output holds" in said, said
    assert len(list((tmp_path / "c").glob("**/settings.json"))) == 2       # nothing written
