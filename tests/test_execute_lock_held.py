"""``execute`` (what ``ionmd run`` resumes a run directory with) leaves alone a run whose
LAMMPS, started by ``ionmd sweep`` on another host, still holds its ``.lmp.lock``: it
refuses, naming the lock and its holder (the pid the lock file names), and neither records
the run nor starts a second LAMMPS in it.
Before, a ``running`` status written on another host was taken for a dead runner: the run
recorded (its trajectory's end cut by the piece repair while that LAMMPS appended, as
2922666 says of a lost launcher) and a second LAMMPS started on the same files.
Reference: a real ``flock`` holder (lockrun around ``sleep``), as the sweep's LAMMPS holds it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from ionmd.errors import IonmdError
from ionmd.protocols import plan_runs
from ionmd.protocols.execute import execute
from ionmd.protocols.run_lock import lock_holder
from ionmd.sweep.state import LMP_LOCK, lock_held
from ionmd.sweep.worker import LOCKRUN
from protocol_setup import fcc_cell, morse_model, short


def test_execute_leaves_a_run_whose_lammps_holds_its_lock(tmp_path):
    proto = short("conductivity", temperatures=(600.0,), duration_ps=0.5, discard_ps=0.0,
                  relax=False, dump_every=20, thermo_every=100, restart_every=100)
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp_path / "morse.pt"),
                      tmp_path / "out", name="fcc")
    # as a sweep job on another host leaves it while its LAMMPS runs
    rd.set_status("running", pieces=1, pid=12345, host="another-host", step=0)
    before = json.loads((rd.path / "status.json").read_text())
    holder = subprocess.Popen([sys.executable, str(LOCKRUN), str(rd.path / LMP_LOCK),
                               "sleep", "60"])
    try:
        deadline = time.time() + 10     # held, then its holder line written
        while not lock_holder(rd.path / LMP_LOCK) and time.time() < deadline:
            time.sleep(0.05)
        assert lock_held(rd)
        # lockrun execs its command: the holder's pid is the Popen's
        with pytest.raises(IonmdError, match=rf"\.lmp\.lock is held by pid {holder.pid} on "):
            execute(rd)
        # nothing recorded, no piece started
        assert json.loads((rd.path / "status.json").read_text()) == before
        assert not rd.piece(1)["log"].exists()
    finally:
        holder.kill()
        holder.wait()
