"""A goal on a preset that ramps by its own setting (stability's temperature_end,
pressure-ramp's pressure_end_bar) is refused with a way that works: that setting is not in
[protocol] to drop (3fc4868 said 'drop temperature_end from [protocol] or the goal'), so
the refusal says to set it to "none" there, and the campaign with that line loads with its
goal. References: the presets' own fields and the campaign file's lines."""

from __future__ import annotations

import pytest

from ionmd.protocols.presets import PRESETS
from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import campaign_dir, write_campaign

GOAL = 'goal = {sigma_300K_factor = 3, budget = "1 core-h", step = "0.2ps"}'


@pytest.mark.parametrize("preset, ramp", [("stability", "temperature_end"),
                                          ("pressure-ramp", "pressure_end_bar")])
def test_a_goal_on_a_preset_ramp_says_to_set_it_to_none(tmp_path, morse, preset, ramp):
    assert getattr(PRESETS[preset], ramp) is not None         # the preset's own ramp
    path = write_campaign(campaign_dir(tmp_path, morse), temperatures=(600, 900), extra=GOAL,
                          protocol=preset)
    assert ramp not in path.read_text()                       # nothing to drop
    with pytest.raises(CampaignError) as err:
        load_campaign(path)
    said = f'set {ramp} = "none" in [protocol], or drop the goal'
    assert said in str(err.value), str(err.value)
    assert f"drop {ramp} from [protocol]" not in str(err.value)

    path.write_text(path.read_text().replace("dump_every = 10\n",
                                             f'dump_every = 10\n{ramp} = "none"\n'))
    campaign = load_campaign(path)                            # done as it says: it loads
    assert campaign.goal is not None and getattr(campaign.protocol, ramp) is None
