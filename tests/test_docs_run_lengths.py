"""README.md's run-length sentence as ionmd applies it: an explicit duration holds at every
temperature, the preset's long discard below `long_below_K` stays unless `discard_ps` is set
too. (README said only the first half: `conductivity-nvt --temps 600,900 --time 100ps` looked
valid and is refused, 200 ps discarded at 600 K.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ionmd.errors import IonmdError
from ionmd.protocols import get_protocol
from ionmd.protocols.checks import check_protocol

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_says_the_long_discard_stays():
    assert re.search(r"longer discard there stays unless you set\s+`discard_ps` too", README)


def test_duration_everywhere_long_discard_below_long_below_k():
    preset = get_protocol("conductivity-nvt")
    assert preset.long_below_K == 800 and preset.long_discard_ps == 200
    longer = preset.with_overrides(duration_ps=300)
    assert longer.schedule(600) == (300, 200) and longer.schedule(900) == (300, preset.discard_ps)
    both = preset.with_overrides(duration_ps=100, discard_ps=10)
    assert both.schedule(600) == both.schedule(900) == (100, 10)


def test_readme_example_is_refused_as_it_says():
    refusal = r"at 600 K the run lasts 100(\.0)? ps but 200(\.0)? ps are discarded"
    with pytest.raises(IonmdError, match=refusal):
        check_protocol(get_protocol("conductivity-nvt").with_overrides(temperatures=[600, 900],
                                                                       duration_ps=100))
