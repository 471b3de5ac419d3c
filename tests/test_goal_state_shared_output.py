"""Two campaign files with one ``output`` folder, both with a goal: ``<output>/goal.json`` is
one per output folder and keyed by structure/model only, so Y.toml planned (and would
submit and collect) the 750 K run X.toml's goal added, and read X's budget spent and stops
as its own. Now the goal state names the file that wrote it and another campaign file of
the same output is refused while that file exists; a renamed file's state is taken over.

References: the campaign files' own temperatures (600/900 K) and the temperature written
into goal.json (750 K) by hand."""

from __future__ import annotations

import pytest

from ionmd.errors import IonmdError
from ionmd.sweep import load_campaign, plan_campaign
from ionmd.sweep.goal import read_goal_state, write_goal_state
from sweep_setup import campaign_dir, write_campaign

GOAL = 'goal = {sigma_300K_factor = 3, budget = "10 h", step = "1ps"}'


@pytest.fixture
def shared(tmp_path, morse):
    """X.toml and Y.toml (600 and 900 K, both ``output = "runs"``, both with a goal);
    X's goal added a run at 750 K."""
    folder = campaign_dir(tmp_path / "camp", morse)
    x, y = (write_campaign(folder, name=name, extra=GOAL) for name in ("X", "Y"))
    cx = load_campaign(x)
    write_goal_state(cx, {"series": {"fcc/morse": {"added_K": [750.0], "rounds": []}}})
    return x, y


def _temperatures(path) -> list[float]:
    return sorted({r.temperature for r in plan_campaign(load_campaign(path))})


def test_a_second_goal_of_one_output_is_refused(shared):
    x, y = shared
    assert _temperatures(x) == [600.0, 750.0, 900.0]        # X's goal run is X's
    with pytest.raises(IonmdError) as exc:      # before: [600.0, 750.0, 900.0] for Y too
        _temperatures(y)
    msg = str(exc.value)
    assert f"holds the goal rounds of campaign {x.resolve()}" in msg
    assert "Give Y.toml an output of its own" in msg and "remove or rename X.toml" in msg


def test_a_renamed_campaign_file_keeps_its_goal(shared):
    x, y = shared
    renamed = x.rename(x.with_name("X2.toml"))
    assert _temperatures(renamed) == [600.0, 750.0, 900.0]
    write_goal_state(load_campaign(renamed), read_goal_state(load_campaign(renamed)))
    with pytest.raises(IonmdError, match="goal rounds of campaign .*X2.toml"):
        _temperatures(y)                        # now X2's, still not Y's
