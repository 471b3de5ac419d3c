"""``ionmd sweep status X | head``: when the reader of its output goes away, the command
ends quietly as Unix tools do (exit 141, 128 + SIGPIPE, nothing on stderr). Before, every
command (sweep status, sweep plan, analyze, ...) ended in a BrokenPipeError traceback
(exit 1). Fixed once, in the command line's entry point.

Reference: the ``ionmd`` command run as a process whose stdout is a pipe with its read end
closed (what ``head`` leaves once it has read its lines), and ``sweep status``'s output
read whole through an open pipe."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from protocol_setup import morse_model
from sweep_setup import campaign_dir, write_campaign


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pipe")
    folder = campaign_dir(tmp / "camp", morse_model(tmp / "morse.pt"))
    return write_campaign(folder, temperatures=(600, 700, 800, 900))


def ionmd(*args: str, reader_gone: bool) -> subprocess.CompletedProcess:
    """``python -m ionmd.cli ARGS`` with stdout a pipe, its read end closed first where
    ``reader_gone``."""
    read, write = os.pipe()
    if reader_gone:
        os.close(read)
    try:
        res = subprocess.run([sys.executable, "-m", "ionmd.cli", *args], stdout=write,
                             stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    if not reader_gone:
        with os.fdopen(read) as f:
            res.stdout = f.read()
    return res


def test_status_ends_quietly_when_its_reader_is_gone(campaign):
    full = ionmd("sweep", "status", str(campaign), reader_gone=False)
    assert full.returncode == 0 and "4 new (of 4)" in full.stdout, full.stderr  # output to lose
    cut = ionmd("sweep", "status", str(campaign), reader_gone=True)
    assert "Traceback" not in cut.stderr and "BrokenPipeError" not in cut.stderr, cut.stderr
    assert cut.returncode == 128 + 13, cut.stderr                      # was 1


def test_other_commands_too(campaign):
    cut = ionmd("sweep", "plan", str(campaign), reader_gone=True)
    assert "Traceback" not in cut.stderr, cut.stderr
    assert cut.returncode == 128 + 13, cut.stderr
