"""A goal's added temperatures once its table is taken out of the campaign file: their runs
stay the campaign's (planned, so submitted and collected) and every ``ionmd sweep``
command says so (on stderr: ``status --json`` keeps stdout JSON). Before, ``plan_campaign``
and collect read the added temperatures only while the file had a goal, so the runs were
silently skipped. A goal-less campaign file sharing its output with another file's goal
takes none of that goal's temperatures (nor is refused)."""

from __future__ import annotations

import pytest

GOAL = 'goal = {sigma_300K_factor = 2, budget = "100 h", step = "1ps"}'


@pytest.fixture
def folder(tmp_path, morse):
    from sweep_setup import campaign_dir

    return campaign_dir(tmp_path / "c", morse)


def _added(folder, **kw):
    from ionmd.sweep import load_campaign
    from ionmd.sweep.goal import write_goal_state
    from sweep_setup import write_campaign

    with_goal = load_campaign(write_campaign(folder, temperatures=(600, 1000), extra=GOAL, **kw))
    write_goal_state(with_goal, {"series": {"fcc/morse": {"added_K": [750.0], "rounds": []}}})
    return with_goal


def test_runs_of_added_temperatures_stay_planned_without_the_goal_table(folder, capsys):
    from ionmd.cli import main
    from ionmd.sweep import load_campaign, plan_campaign
    from ionmd.sweep.collect import planned_temperatures
    from sweep_setup import write_campaign

    _added(folder)
    no_goal = load_campaign(write_campaign(folder, temperatures=(600, 1000)))
    assert sorted(r.temperature for r in plan_campaign(no_goal)) == [600, 750, 1000]
    assert planned_temperatures(no_goal, "fcc", "morse") == {600.0, 750.0, 1000.0}
    assert main(["sweep", "plan", str(no_goal.path)]) in (0, None)
    err = capsys.readouterr().err
    assert "note: c.toml has no goal table" in err and "fcc/morse: 750 K" in err


def test_a_goal_less_file_sharing_the_output_takes_no_other_files_temperatures(folder):
    from ionmd.sweep import load_campaign, plan_campaign
    from ionmd.sweep.goal import added_without_goal_note
    from sweep_setup import write_campaign

    _added(folder)                                        # c.toml's goal added 750 K
    other = load_campaign(write_campaign(folder, name="d", temperatures=(600, 1000)))
    assert sorted(r.temperature for r in plan_campaign(other)) == [600, 1000]
    assert added_without_goal_note(other) is None


def test_a_goal_json_a_goal_less_file_cannot_read_is_said_not_fatal(folder, capsys):
    """A goal.json of a newer ionmd (or no JSON) stopped 'sweep plan' of a campaign file
    without a goal (review of f2a323e): it has no use for it, so it plans without it and
    says why."""
    from ionmd.cli import main
    from ionmd.sweep import load_campaign, plan_campaign
    from sweep_setup import write_campaign

    no_goal = load_campaign(write_campaign(folder, temperatures=(600, 1000)))
    no_goal.output.mkdir(parents=True, exist_ok=True)
    (no_goal.output / "goal.json").write_text('{"version": 99, "series": {}}')
    assert sorted(r.temperature for r in plan_campaign(no_goal)) == [600, 1000]
    assert main(["sweep", "plan", str(no_goal.path)]) in (0, None)
    err = capsys.readouterr().err
    assert "plans no temperatures from" in err and "newer" in err


def test_an_older_goal_json_not_naming_its_file_is_said_to_be_taken_as_this_files(folder):
    import json

    from ionmd.sweep import load_campaign, plan_campaign
    from ionmd.sweep.goal import added_without_goal_note
    from sweep_setup import write_campaign

    no_goal = load_campaign(write_campaign(folder, temperatures=(600, 1000)))
    no_goal.output.mkdir(parents=True, exist_ok=True)
    (no_goal.output / "goal.json").write_text(json.dumps(
        {"series": {"fcc/morse": {"added_K": [750.0], "rounds": []}}}))
    assert sorted(r.temperature for r in plan_campaign(no_goal)) == [600, 750, 1000]
    note = added_without_goal_note(no_goal)
    assert "fcc/morse: 750 K" in note and "does not say which campaign file" in note
