"""A command that ended with a status of its own (1 an error, 3 a failed run, 4 one not
finished) while the reader of its stdout had gone away exited 141 (128 + SIGPIPE) when only
its last, still buffered output met the closed pipe at main()'s final flush (1f55096): the
failure was hidden behind "the reader went away" (``ionmd sweep submit X | grep -q ...``,
a script with ``set -o pipefail``). It now exits with its own status; a command that
succeeded still exits 141, and one whose output broke mid-way (no status yet) too.

Reference: the status the command itself returned, through the ``ionmd`` entry point run
as a process whose stdout is a pipe with its read end closed (what ``head`` or ``grep -q``
leave)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# main() with one stand-in command: prints a line (kept in stdout's buffer: a pipe is block
# buffered) or LINES lines (more than the buffer: written, and broken, mid-command), then
# returns STATUS
STAND_IN = """
import argparse, sys
import ionmd.cli as cli

def command(args):
    for _ in range(int(sys.argv[2])):
        print("a line of the command's table")
    return int(sys.argv[1])

def parser():
    p = argparse.ArgumentParser()
    p.set_defaults(func=command)
    return p

cli.build_parser = parser
sys.exit(cli.main([]))
"""


def _exit_status(status: int, lines: int) -> subprocess.CompletedProcess:
    read, write = os.pipe()
    os.close(read)                                      # the reader is gone
    # stdout block-buffered, as a pipe's is by default (PYTHONUNBUFFERED writes each line)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    try:
        return subprocess.run([sys.executable, "-c", STAND_IN, str(status), str(lines)],
                              stdout=write, stderr=subprocess.PIPE, text=True, timeout=60,
                              env=env)
    finally:
        os.close(write)


@pytest.mark.parametrize("status", [1, 3, 4])
def test_a_failure_is_kept_when_only_the_last_output_is_lost(status):
    res = _exit_status(status, lines=1)
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode == status, res.stderr                      # was 141


@pytest.mark.parametrize("status, lines", [(0, 1), (3, 10_000)])
def test_the_reader_gone_is_141_otherwise(status, lines):
    res = _exit_status(status, lines)                   # 10,000 lines: broken mid-command
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode == 128 + 13, res.stderr


def test_help_ends_quietly_too():
    """argparse's --help leaves main() by SystemExit: its text met the closed pipe in the
    interpreter's flush at exit ("Exception ignored ... BrokenPipeError", exit 120)."""
    read, write = os.pipe()
    os.close(read)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    try:
        res = subprocess.run([sys.executable, "-m", "ionmd.cli", "sweep", "--help"],
                             stdout=write, stderr=subprocess.PIPE, text=True, timeout=60,
                             env=env)
    finally:
        os.close(write)
    assert "BrokenPipeError" not in res.stderr, res.stderr
    assert res.returncode == 128 + 13, res.stderr                       # was 120
