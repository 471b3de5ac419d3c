"""Settings refused by what is wrong with them, in the words of the one table of ranges
(:data:`ionmd.protocols.setting_ranges.RANGES`), where before a downstream rule said
something else: a negative ``discard_ps`` read "-1.0 ps are discarded: nothing would be
left to analyse ... --time 99ps" (lengthening the run cannot help).

References: the ranges as documented (discard_ps >= 0 ps), and 0 (analyse the whole run)
still accepted."""

from __future__ import annotations

import pytest

from ionmd.errors import IonmdError
from ionmd.protocols import get_protocol
from ionmd.protocols.checks import apply_overrides, check_protocol


def _conductivity(**overrides):
    p, problems = apply_overrides(get_protocol("conductivity"),
                                  {"temperatures": "600", "time": "2ps", **overrides})
    assert not problems, problems
    return p


def test_a_negative_discard_is_refused_as_out_of_range():
    with pytest.raises(IonmdError) as err:
        check_protocol(_conductivity(discard_ps="-1"))
    assert "discard_ps -1 ps is out of range: give >= 0 ps" in str(err.value)
    assert "nothing would be left" not in str(err.value)
    check_protocol(_conductivity(discard_ps="0"))       # the whole run analysed
