"""A piece stopped by SIGTERM between two thermo rows (real ``lmp`` + the plugin, a
32-atom Morse cell, the signal forwarded by ionmd as ``ionmd run`` does):

* its reason said "stopped by SIGTERM at step 0" while LAMMPS had run thousands of steps
  (rows every 50,000 steps); now it says the last row's step, the trajectory's later
  frame and the restart file (and step) it resumes from, and ``step`` stays the row's;
* a killed piece's wall time came from its files' mtimes (log minus input), so a folder
  copied without keeping them (``shutil.copyfile``) lost it (~0 s of a ~3 s piece); now
  ``status.json`` keeps the piece's start and last progress time.

References: the trajectory read by MDAnalysis (its header's first step and save
interval, its frame count), the log's thermo rows as LAMMPS printed them, and the wall
clock around the piece as this test measured it.
"""

from __future__ import annotations

import shutil
import signal
import threading
import time

import pytest
from MDAnalysis.lib.formats.libdcd import DCDFile

from ionmd.errors import RunInterrupted
from ionmd.protocols import plan_runs
from ionmd.protocols.execute import StopRequests, launch, wait_run
from ionmd.protocols.rundir import RunDir
from ionmd.sweep.cost import used_core_seconds
from protocol_setup import fcc_cell, morse_model, short

RESTART_EVERY = 200


def _md_rows(log_text: str) -> list[int]:
    """Steps of the thermo rows after the relaxation's last statistics (the MD's)."""
    after = log_text[log_text.rindex("Minimization stats:"):].splitlines()
    header = next(ln.split() for ln in after if ln.split()[:1] == ["Step"])
    return [int(p[0]) for p in (ln.split() for ln in after)
            if len(p) == len(header) and p[0].isdigit()]


def _signal_when_restarted(rd, stop: StopRequests) -> None:
    """Play the signal handler: SIGTERM caught once the first restart file is written
    and LAMMPS ran on a while (between thermo rows, which come every 50,000 steps)."""
    deadline = time.time() + 120
    while not (rd.path / "restart.a").is_file() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(2.5)
    stop.count, stop.signum = 1, signal.SIGTERM


@pytest.fixture(scope="module")
def stopped(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stopped_piece")
    proto = short("conductivity", temperatures=(600.0,), duration_ps=100.0, discard_ps=0.0,
                  relax=True, restart_every=RESTART_EVERY, thermo_every=50000, dump_every=10)
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp / "morse.pt"), tmp / "out",
                      name="fcc")
    stop = StopRequests()       # outside the main thread's handlers: set by the thread
    t_start = time.time()
    proc = launch(rd)
    helper = threading.Thread(target=_signal_when_restarted, args=(rd, stop))
    helper.start()
    with pytest.raises(RunInterrupted) as raised:
        wait_run(rd, proc, stop=stop)
    t_end = time.time()
    helper.join()
    return rd, rd.status, str(raised.value), (t_start, t_end), tmp


def test_reason_says_the_row_the_frame_and_the_restart(stopped):
    rd, status, message, _, _ = stopped
    assert status["state"] == "interrupted" and status["stopped_by"] == "SIGTERM"
    rows = _md_rows(rd.piece(0)["log"].read_text())
    assert rows == [0]                                 # no row after the first
    assert status["step"] == rows[-1] == 0             # the recorded step: the row's
    dcd = DCDFile(str(rd.piece(0)["trajectory"]))
    last_frame = dcd.header["istart"] + (dcd.n_frames - 1) * dcd.header["nsavc"]
    assert last_frame > RESTART_EVERY                  # LAMMPS got well past the row
    reason = status["reason"]
    assert reason.startswith("stopped by SIGTERM after step 0, its last thermo row")
    assert f"its trajectory reached step {last_frame})" in reason    # was: "at step 0"
    restart = next(name for name in ("restart.a", "restart.b") if f"from {name} (" in reason)
    at = int(reason.split(f"from {restart} (step ")[1].split(")")[0])
    assert at % RESTART_EVERY == 0 and RESTART_EVERY <= at <= last_frame
    assert reason in message                           # what RunInterrupted says too
    assert message.count(" again") == 1, message       # was: and "run the same ... again"


def test_copied_folder_keeps_the_pieces_wall_time(stopped):
    rd, status, _, (t_start, t_end), tmp = stopped
    time.sleep(1.0)                 # the copy's mtimes: a second later, all within ms
    copy = tmp / "copied"
    copy.mkdir()
    for f in rd.path.iterdir():
        if f.is_file():
            shutil.copyfile(f, copy / f.name)
    measured = t_end - t_start                         # the piece, as this test timed it
    assert measured > 2.0
    # one core (no loop line: the killed piece's wall time is all of its compute)
    assert "Loop time" not in (copy / "log.0.lammps").read_text().split("Minimization stats:")[-1]
    discarded = RunDir.open(copy).discarded_usage(1)["discarded_core_seconds"]
    # within the clock around it, short of it by the launch and the recording (~0.04 s)
    assert measured - 0.3 <= discarded <= measured    # was 0.006 (the copy's mtimes)
    assert used_core_seconds(copy) == pytest.approx(discarded, rel=1e-9)
