"""A campaign ``goal`` on a ramped protocol is refused at plan time, naming the ramp and
the fix: a goal fits sigma of runs held at one temperature each and lengthens them, while a
thermostat ramp's runs get a failure check only (no D nor sigma). Before, such a campaign
planned, ran both runs, and ended ``no_fit ... failure check only (no transport
analysis)`` with exit status 0, its budget spent. A stopping rule on a ramp is refused
alike (protocols/stopping.py).

References: the campaign file's own settings and line (the goal's), and the same campaign
without the ramp, which loads with its goal."""

from __future__ import annotations

import pytest

from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import campaign_dir, line_of, write_campaign

GOAL = 'goal = {sigma_300K_factor = 3, budget = "1 core-h", step = "0.2ps"}'


def _campaign(tmp_path, morse, ramp: str):
    path = write_campaign(campaign_dir(tmp_path, morse), temperatures=(600, 900), extra=GOAL,
                          protocol="conductivity")
    path.write_text(path.read_text().replace("dump_every = 10\n", f"dump_every = 10\n{ramp}"))
    return path


def test_a_goal_without_a_ramp_loads(tmp_path, morse):
    c = load_campaign(_campaign(tmp_path, morse, ""))
    assert c.goal is not None and c.protocol.temperature_end is None


@pytest.mark.parametrize("ramp, words", [
    ("temperature_end = 1500\n", ("temperature_end = 1500", "failure check only",
                                  "drop temperature_end from [protocol] or the goal")),
    ("pressure_end_bar = 5000\n", ("pressure_end_bar = 5000",
                                   "drop pressure_end_bar from [protocol] or the goal")),
])
def test_a_goal_on_a_ramp_is_refused_at_plan(tmp_path, morse, ramp, words):
    path = _campaign(tmp_path, morse, ramp)
    with pytest.raises(CampaignError) as err:
        load_campaign(path)
    text = str(err.value)
    assert f"line {line_of(path, 'goal =')}:" in text, text
    for w in words:
        assert w in text, text
    assert not (tmp_path / "runs").exists()
