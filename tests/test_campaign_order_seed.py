"""A campaign's ``order_seed`` (top level or a structure's entry) is a whole number >= 0, as
``--order-seed`` takes it: before, ``order_seed = 1.7`` and ``order_seed = true`` were
truncated to a seed of 1 without a word (``int()``), so the file did not say which
ordering the runs got. The reference is what the file says, as tomllib reads it."""

from __future__ import annotations

import tomllib

import pytest

from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import line_of, write_campaign


@pytest.mark.parametrize("text", ["1.7", "true", '"2"'])
def test_a_campaign_order_seed_that_is_no_whole_number_is_refused_on_its_line(folder, text):
    path = write_campaign(folder, extra=f"order_seed = {text}  # seed")
    seed = tomllib.loads(path.read_text())["order_seed"]
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    assert str(exc.value).splitlines()[1:] == [
        f"  {path}, line {line_of(path, '# seed')}: order_seed must be an integer >= 0 "
        f"(got {seed!r})"]


def test_a_structure_entry_order_seed_is_refused_on_its_line(folder):
    path = write_campaign(folder, structures='[\n  "fcc.cif",\n  {path = "fcc.cif", name = '
                                             '"b", order_seed = 2.5},  # entry\n]')
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    assert str(exc.value).splitlines()[1:] == [
        f"  {path}, line {line_of(path, '# entry')}: structures.1.order_seed must be an "
        f"integer >= 0 (got 2.5)"]


def test_a_whole_order_seed_is_taken(folder):
    campaign = load_campaign(write_campaign(folder, extra="order_seed = 3"))
    assert [s.name for s in campaign.structures] == ["fcc"]
