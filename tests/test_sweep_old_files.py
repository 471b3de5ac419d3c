"""Campaign files written for older ionmd: what they are told, and that doing what they are
told runs them on with the runs they already have."""

from __future__ import annotations

import re

import pytest

from ionmd.sweep import CampaignError, load_campaign
from ionmd.sweep.plan import plan_campaign
from sweep_setup import campaign_dir, line_of, write_campaign


@pytest.fixture(scope="module")
def morse(tmp_path_factory):
    from protocol_setup import morse_model

    return morse_model(tmp_path_factory.mktemp("morse") / "morse.pt")


def test_max_time_without_until_says_the_line_to_write(tmp_path, morse):
    """Campaigns read ``max_time`` without ``until`` as the runs' length until 70d4b5d;
    now it is refused. The refusal names the line that means the same, and that line
    plans the runs the old file wrote (same folders, settings untouched)."""
    folder = campaign_dir(tmp_path / "c", morse)
    path = write_campaign(folder, duration_ps=0.5)      # what max_time = "0.5ps" wrote
    written = plan_campaign(load_campaign(path, check_resources=False), create=True)
    settings = {r.path: (r.path / "settings.json").read_bytes() for r in written}
    text = path.read_text()
    path.write_text(text.replace("duration_ps = 0.5\n", 'max_time = "0.5ps"\n'))
    with pytest.raises(CampaignError) as exc:
        load_campaign(path, check_resources=False)
    said = str(exc.value)
    assert f"line {line_of(path, 'max_time')}:" in said
    old, new = re.search(r"replace (max_time = \S+) with (time = \S+) ", said).groups()
    assert old == 'max_time = "0.5ps"'
    path.write_text(path.read_text().replace(old, new))
    again = plan_campaign(load_campaign(path, check_resources=False), create=True)
    assert [r.path for r in again] == [r.path for r in written]
    assert {r.path: (r.path / "settings.json").read_bytes() for r in again} == settings
