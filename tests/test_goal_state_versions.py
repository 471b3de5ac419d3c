"""``<output>/goal.json`` as every ionmd release wrote it is read (claim: an older reader
crashed on a null factor; we cannot change old releases, but ours must read all of them):
the first releases stopped a series without its ``spent`` and wrote ``Infinity`` for a
factor without a fit; later rounds wrote a null factor; a hand edit may leave null where a
list was. Before, the round of a stopped series raised KeyError 'spent', ``sweep status``
a TypeError on a null spent, the planner a TypeError on a null added_K, and a file that is
no JSON a bare JSONDecodeError. Now each is read as it was meant, or refused saying which
file, what is wrong and how to go on; goal.json says its version."""

from __future__ import annotations

import json

import pytest

from ionmd.errors import IonmdError

GOAL = 'goal = {sigma_300K_factor = 2, budget = "100 h", step = "1ps"}'


@pytest.fixture
def campaign(tmp_path, morse):
    from ionmd.sweep import load_campaign
    from sweep_setup import campaign_dir, write_campaign

    return load_campaign(write_campaign(campaign_dir(tmp_path / "c", morse),
                                        temperatures=(600, 1000), extra=GOAL))


def write(campaign, text: str) -> None:
    campaign.output.mkdir(parents=True, exist_ok=True)
    (campaign.output / "goal.json").write_text(text)


FIRST_RELEASE = """{"series": {"fcc/morse": {"added_K": [750.0], "rounds": [
  {"time": "2026-01-01T00:00:00", "factor": Infinity, "spent": 1.5, "choice": null,
   "stopped": "budget_spent"}], "factor": Infinity, "stopped": "budget_spent"}}}"""


def test_a_stopped_series_of_the_first_releases_is_read(campaign):
    from ionmd.sweep.goal import added_temperatures, advance_series, goal_summary

    write(campaign, FIRST_RELEASE)
    r = advance_series(campaign, "fcc", "morse")        # before: KeyError 'spent'
    assert (r.state, r.factor, r.spent) == ("budget_spent", None, 1.5)
    assert "no fit yet" in r.line(100.0, "h")
    assert added_temperatures(campaign, "fcc", "morse") == (750.0,)
    (_, line) = goal_summary(campaign)
    assert "budget_spent: factor none yet, spent 1.5 h after 1 round(s)" in line


def test_null_values_read_as_what_they_meant(campaign):
    from ionmd.sweep.goal import added_temperatures, goal_summary, read_goal_state

    write(campaign, json.dumps({"series": {"fcc/morse": {
        "added_K": None, "factor": None, "rounds": [
            {"time": "t", "factor": None, "spent": None, "did": "added a run at 650 K"}]}}}))
    assert added_temperatures(campaign, "fcc", "morse") == ()   # before: TypeError
    (_, line) = goal_summary(campaign)                          # before: TypeError
    assert "going on: factor none yet, spent 0 h" in line and "added a run at 650 K" in line
    series = read_goal_state(campaign)["series"]["fcc/morse"]
    assert series["spent"] == 0.0 and series["added_K"] == []


@pytest.mark.parametrize("text, said", [
    ('{"series": {"fcc/morse": {"added_K": [', "it is no JSON"),
    ("[1, 2]", "holds a list, not an object"),
    ('{"series": {"fcc/morse": {"added_K": "750"}}}', "added_K is '750', not a list"),
    ('{"version": 99, "series": {}}', "written by a newer ionmd (goal.json version 99"),
])
def test_a_file_no_release_wrote_is_refused_saying_how_to_go_on(campaign, text, said):
    from ionmd.sweep.goal import read_goal_state

    write(campaign, text)
    with pytest.raises(IonmdError) as err:
        read_goal_state(campaign)
    msg = str(err.value)
    assert said in msg and str(campaign.output / "goal.json") in msg
    assert ("delete it to start the goal's rounds over" in msg) or ("update ionmd" in msg)


def test_goal_json_says_its_version(campaign):
    from ionmd.sweep.goal import GOAL_STATE_VERSION, read_goal_state, write_goal_state

    write_goal_state(campaign, {"series": {}})
    assert json.loads((campaign.output / "goal.json").read_text())["version"] == \
        GOAL_STATE_VERSION == read_goal_state(campaign)["version"]


def test_temperatures_added_by_a_goal_the_file_no_longer_has_are_named(campaign, morse):
    """The goal table taken out of the campaign file: goal.json still lists the
    temperatures it added; the note names them and how to keep or drop their runs."""
    from ionmd.sweep import load_campaign
    from ionmd.sweep.goal import added_without_goal_note, write_goal_state
    from sweep_setup import write_campaign

    write_goal_state(campaign, {"series": {"fcc/morse": {"added_K": [750.0, 850.0],
                                                         "rounds": []}}})
    assert added_without_goal_note(campaign) is None            # its file has the goal
    no_goal = load_campaign(write_campaign(campaign.path.parent, temperatures=(600, 1000)))
    note = added_without_goal_note(no_goal)
    assert "c.toml has no goal table" in note and "fcc/morse: 750, 850 K" in note
    assert "add them to temperatures" in note and "delete their run folders" in note
