"""A run a goal adds below ``long_below_K`` discards ``long_discard_ps`` (its run.json's, as
``Protocol.schedule`` gives it), so its length is that discard plus one goal step; the
allocator's test covers the pricing, this one the round that writes the run (goal.py), which
before set discard_ps + step at every temperature: 0.1 + 1 ps at 700 K where the run
discards 0.4 ps, leaving 0.7 ps of the step analysed.

References: the protocol's own numbers (long_discard_ps 0.4 ps + step 1 ps: 1.4 ps of its
timestep; before, 1.1 ps) and the run's run.json."""

from __future__ import annotations

import ionmd.sweep.goal as goal_mod
from goal_stand_ins import GOAL_AT_700K, finished_runs
from ionmd.sweep import load_campaign
from sweep_setup import campaign_dir, patch_classify, write_campaign

LONG = "long_below_K = 800\nlong_discard_ps = 0.4\nlong_duration_ps = 1.0\n"


def test_a_goal_run_below_long_below_k_is_its_long_discard_plus_a_step(tmp_path, morse,
                                                                      monkeypatch):
    path = write_campaign(campaign_dir(tmp_path / "c", morse), temperatures=(1000, 1200),
                          extra=GOAL_AT_700K)
    path.write_text(path.read_text().replace("discard_ps = 0.1\n", "discard_ps = 0.1\n" + LONG))
    c = load_campaign(path)
    assert c.protocol.schedule(700.0)[1] == 0.4 and c.protocol.schedule(1000.0)[1] == 0.1

    # two finished runs, nothing left to extend: the one option is a run at 700 K
    monkeypatch.setattr(goal_mod, "measure", finished_runs)
    patch_classify(monkeypatch, lambda rd, jobs=None: "completed")
    result = goal_mod.advance_series(c, "fcc", "morse")
    assert result.state == "added", result
    (new,) = [r for r in goal_mod._series_runs(c, "fcc", "morse") if r.temperature == 700.0]
    assert new.rundir.read_json("run.json")["discard_ps"] == 0.4
    steps = round((0.4 + 1.0) * 1000 / c.protocol.timestep_fs)
    assert new.rundir.planned_steps == steps, (new.rundir.planned_steps, steps)  # before: 1.1 ps
