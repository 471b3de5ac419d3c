"""A series that stops waiting on runs (their setup failed, or jobs kept leaving them
unfinished) keeps its round's fit problem: its line says the fit is NOT A RESULT, not "no fit
yet" (goal_pursue._given_up rebuilt the round without it; B8 noticed, after ffe9649 made the
round line tell the two apart)."""

from __future__ import annotations

import pytest

from ionmd.sweep.goal import SeriesRound
from ionmd.sweep.goal_pursue import _given_up


@pytest.mark.parametrize("said_before", [False, True])
def test_a_given_up_round_keeps_its_fit_problem(said_before):
    r = SeriesRound("fcc/morse", "waiting", None, 0.5, "", 300.0, "Ea <= 0 (-0.1 eV)")
    out = _given_up(r, ["camp/fcc/morse/T900K/r0"], {}, said_before=said_before)
    line = out.line(1.0, "core-h")
    assert "NOT A RESULT: Ea <= 0 (-0.1 eV)" in line and "no fit yet" not in line, line
