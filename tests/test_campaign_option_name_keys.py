"""A campaign's top-level key written as ``ionmd run``'s option name (``temps``, from
``--temps``) is refused on its line with the key it means: difflib alone scores ``temps``
against ``temperatures`` at 0.59 and suggested nothing."""

from __future__ import annotations

import pytest

from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import line_of, write_campaign


def test_a_top_level_temps_key_suggests_temperatures(folder):
    path = write_campaign(folder, extra="temps = [700]")
    with pytest.raises(CampaignError) as refused:
        load_campaign(path)
    said = str(refused.value)
    assert (f"line {line_of(path, 'temps = [700]')}: unknown key 'temps'; "
            f"did you mean 'temperatures'?") in said
