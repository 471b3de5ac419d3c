"""A piece whose runner died with its LAMMPS (SIGKILL of both: a node lost) gets the wall
time it ran, read from the latest of what it left: its last progress note in
``status.json``, and the mtimes of its log, screen output, trajectory and restart files.

Before, the note and the log alone counted; the note came every 2 s, and a log with
sparse thermo rows (every 50,000 steps) stops at the first row, so a piece killed 1.5 s
after a note was that much short; with notes now a minute apart (the metadata load of a
campaign, :data:`ionmd.protocols.execute.PROGRESS_EVERY_S`) it would be up to a minute.
``status.json`` now says what the end was read from (``end_from``).

References: the wall clock of this test around the kill (the piece's start is the
runner's own ``time.time()`` in ``status.json``, the same clock), and the schedule of the
notes counted against a fake clock.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np
import pytest

from ionmd.lammps.process import process_group_alive
from ionmd.protocols import plan_runs
from ionmd.protocols.execute import PROGRESS_EVERY_S, PROGRESS_FIRST_S, PROGRESS_SOON_S, wait_run
from ionmd.protocols.outcome import finish
from ionmd.protocols.rundir import PIECE_TIMES, RunDir, piece_wall_seconds
from protocol_setup import fcc_cell, morse_model, short

execute_mod = importlib.import_module("ionmd.protocols.execute")   # not the function
RUNNER = ("import sys\nfrom ionmd.protocols.execute import execute\n"
          "from ionmd.protocols.rundir import RunDir\nexecute(RunDir.open(sys.argv[1]))\n")


def _status(rd) -> dict:
    return json.loads((rd.path / "status.json").read_text())


def _first_note(rd, deadline: float) -> dict:
    """The status once the runner wrote a progress note at least 1 s after the start and
    after LAMMPS's setup (its log quiet since: the next row is 50,000 steps on; a loaded
    machine's setup can take longer than a second)."""
    while time.time() < deadline:
        try:
            st = _status(rd)
        except (OSError, ValueError):           # between two writes
            st = {}
        times = st.get(PIECE_TIMES) or [None]
        log = rd.piece(0)["log"]
        if st.get("state") == "running" and times[-1] and log.is_file() and \
                times[-1]["progress"] > max(times[-1]["started"] + 1.0,
                                            log.stat().st_mtime + 0.2):
            return st
        time.sleep(0.02)
    raise AssertionError(f"no progress note in time: {_status(rd)}")


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("killed_runner")
    proto = short("conductivity", temperatures=(600.0,), duration_ps=200.0, discard_ps=0.0,
                  relax=False, restart_every=500, thermo_every=50000, dump_every=20)
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp / "morse.pt"), tmp / "out",
                      name="fcc")
    runner = subprocess.Popen([sys.executable, "-c", RUNNER, str(rd.path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        noted = _first_note(rd, time.time() + 120)
        time.sleep(1.5)                      # before the next note (2 s later)
        os.kill(runner.pid, signal.SIGKILL)  # the node is lost: runner and LAMMPS at once
        os.killpg(noted["pid"], signal.SIGKILL)
        killed_at = time.time()
    finally:
        runner.kill()
        runner.wait()
    deadline = time.time() + 30
    while process_group_alive(noted["pid"]) and time.time() < deadline:
        time.sleep(0.02)
    started = noted[PIECE_TIMES][-1]["started"]
    left = _status(rd)                                        # still 'running'
    before = piece_wall_seconds(rd.path, 0, left)
    # what the note and the log alone said (the end before e780750)
    old_end = max(left[PIECE_TIMES][-1]["progress"], rd.piece(0)["log"].stat().st_mtime)
    shutil.copytree(rd.path, tmp / "as_left")   # before finish repairs (writes) the files
    status = finish(RunDir.open(rd.path), rc=None)
    return rd, status, killed_at - started, before, tmp, old_end - started, left


def test_killed_piece_wall_time_from_its_latest_file(killed):
    rd, status, measured, before, _, old_end, _ = killed
    assert measured > 2.5 and status["state"] == "interrupted"
    record = status[PIECE_TIMES][-1]
    # the log stops at its first row, the note 1.5 s before the kill: both short
    assert old_end < measured - 1.0
    recorded = piece_wall_seconds(rd.path, 0, status)
    # short of the kill by the last frame's interval at most (20 steps, a few ms)
    assert measured - 0.3 <= recorded <= measured + 0.05      # was 2.07 s of 3.58 s
    assert before == pytest.approx(recorded, abs=0.05)         # the same, before it is recorded
    assert record["end_from"] in ("traj.0.dcd", "restart.a", "restart.b", "screen.0.txt")


def test_copied_folder_keeps_the_killed_pieces_end(killed):
    rd, status, measured, _, tmp, _, _ = killed
    copy = tmp / "copied"
    copy.mkdir()
    time.sleep(0.5)
    for f in rd.path.iterdir():
        if f.is_file():
            shutil.copyfile(f, copy / f.name)      # new mtimes: the record holds the end
    recorded = piece_wall_seconds(copy, 0, json.loads((copy / "status.json").read_text()))
    assert measured - 0.3 <= recorded <= measured + 0.05


@pytest.mark.parametrize("ahead_s", [120.0, -120.0])
def test_a_file_server_clock_off_the_runners_is_corrected(killed, ahead_s):
    """The folder on a file server whose clock is 2 min ahead of (behind) the runner's
    node: the files' mtimes, the input's recorded one with them, are the server's; the
    piece's start and note are the runner's. Was 2 min more (1.5 s short: the note)."""
    rd, _, _, before, tmp, _, left = killed
    copy = tmp / f"server_{ahead_s:+.0f}"
    shutil.copytree(tmp / "as_left", copy)         # copy2: the mtimes kept to the ns
    for f in copy.iterdir():
        st = f.stat()
        shift = int(ahead_s * 1e9)
        os.utime(f, ns=(st.st_atime_ns + shift, st.st_mtime_ns + shift))
    record = {**left[PIECE_TIMES][-1], "input_mtime": (copy / "in.0.lmp").stat().st_mtime}
    seen = piece_wall_seconds(copy, 0, {**left, PIECE_TIMES: [record]})
    # the clocks are compared at the input's write, the start's time (Popen) later
    launch_s = left[PIECE_TIMES][-1]["started"] - left[PIECE_TIMES][-1]["input_mtime"]
    assert 0.0 <= launch_s < 0.5
    assert seen == pytest.approx(before + launch_s, abs=0.02)


class _Clock:
    """time.monotonic that moves on 0.5 s at every sleep."""

    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def sleep(self, _):
        self.now += 0.5


class _Endless:
    """A launched run that ends after ``until`` fake seconds."""

    pid = None

    def __init__(self, clock, until):
        self.clock, self.until = clock, until

    def poll(self):
        return 0 if self.clock.now >= self.until else None


def test_progress_notes_thin_out_to_one_a_minute(tmp_path, monkeypatch):
    """Notes every 2 s for the first 20 s, then every 60 s: 19 in ten minutes (was 300,
    one every 2 s: 250 status.json rewrites a second for a campaign of 500 runs)."""
    (rd,) = plan_runs(short("conductivity"), fcc_cell(), morse_model(tmp_path / "m.pt"),
                      tmp_path / "out", name="fcc")
    rd.set_status("running", pieces=1, pid=None)
    rd.piece(0)["screen"].write_text("")
    clock, notes = _Clock(), []
    monkeypatch.setattr(execute_mod, "time", SimpleNamespace(monotonic=clock.monotonic,
                                                             sleep=clock.sleep, time=time.time))
    monkeypatch.setattr(execute_mod, "_reap_group", lambda pgid: None)
    monkeypatch.setattr(execute_mod, "finish", lambda rd, rc, stopped_by=None: {})
    monkeypatch.setattr(RunDir, "note_progress",
                        lambda self, ended=False, **kw: notes.append((clock.now, ended)))
    wait_run(rd, _Endless(clock, 600.0))
    during = [t for t, ended in notes if not ended]
    soon = np.arange(PROGRESS_FIRST_S, PROGRESS_SOON_S + 0.1, PROGRESS_FIRST_S)
    expected = np.concatenate([soon, np.arange(soon[-1] + PROGRESS_EVERY_S, 600.0,
                                               PROGRESS_EVERY_S)])
    assert PROGRESS_EVERY_S >= 30.0
    np.testing.assert_allclose(during, expected, atol=0.5)
    assert len(during) == 19 and notes[-1][1] is True          # and one at the end
