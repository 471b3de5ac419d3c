"""stop_on_sigterm: a SIGTERM while points run stops the bench (RunInterrupted, exit 143,
status interrupted); after ``hold()`` (every point ran) one is held until the outputs are
written and said, so the bench can end as what happened, finished. The hold is what
bench() needs to end a SIGTERM after its last point as finished and 0 (audit A23: it said
finished in bench.json and exited 143)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from ionmd.bench.run import stop_on_sigterm
from ionmd.errors import RunInterrupted


def _sigterm_self():
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(0.05)            # Python runs the handler at its next check


def test_sigterm_before_hold_stops():
    with pytest.raises(RunInterrupted) as info:
        with stop_on_sigterm():
            _sigterm_self()
    assert info.value.signum == signal.SIGTERM


def test_sigterm_after_hold_is_held_and_said(capsys):
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_sigterm() as sigterm:
        sigterm.hold()
        _sigterm_self()
        written = True              # the block goes on: the outputs get written
    assert written and sigterm.came
    assert "SIGTERM came after the last point" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is before       # restored
