"""goal.json's series ``spent`` is the budget spent as of its last round: it was filled
from the first round (read back from it) and updated only when the series stopped, so a
goal.json read mid-way (an audit's: 0.00459 while its last round said 0.00629) gave an
old number. Reference: the budget spent the stand-in ``measure`` reports each round."""

from __future__ import annotations

import json

from ionmd.sweep.goal_state import read_goal_state
from test_goal_last_round import _series
import ionmd.sweep.goal as goal_mod


def test_goal_json_spent_follows_each_round(tmp_path, morse, monkeypatch):
    spent = [1.0]
    path, c = _series(tmp_path, morse, monkeypatch, spent)
    for now in (1.0, 2.5, 4.0):
        spent.append(now)
        assert goal_mod.advance_series(c, "fcc", "morse").state == "extended"
        on_disk = json.loads((c.output / "goal.json").read_text())["series"]["fcc/morse"]
        assert on_disk["spent"] == now, (now, on_disk["spent"])      # old: 1.0 each time
        assert on_disk["rounds"][-1]["spent"] == now
    assert read_goal_state(c)["series"]["fcc/morse"]["spent"] == 4.0


def test_an_older_goal_json_reads_a_going_series_spent_as_its_last_round(tmp_path, morse,
                                                                          monkeypatch):
    """A goal.json the release before wrote mid-way (version 2, the series' ``spent`` its
    first round's) is read with its last round's; a stopped series keeps its own."""
    path, c = _series(tmp_path, morse, monkeypatch, [1.0])
    rounds = [{"time": "2026-12-07T10:00:00", "factor": None, "spent": s, "choice": None,
               "left_out": [], "did": "extended r0 at 1000 K to 1000 steps"}
              for s in (0.00459, 0.00629)]
    stopped = {**rounds[-1], "spent": 0.008, "stopped": "budget_spent"}
    c.output.mkdir(parents=True, exist_ok=True)
    (c.output / "goal.json").write_text(json.dumps({"version": 2, "series": {
        "fcc/morse": {"added_K": [], "rounds": rounds, "factor": None, "spent": 0.00459},
        "fcc/other": {"added_K": [], "rounds": [*rounds, stopped], "factor": None,
                      "spent": 0.00801, "stopped": "budget_spent"}}}))
    series = read_goal_state(c)["series"]
    assert series["fcc/morse"]["spent"] == 0.00629          # old: 0.00459
    assert series["fcc/other"]["spent"] == 0.00801
