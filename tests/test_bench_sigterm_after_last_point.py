"""A SIGTERM that comes after the last bench point (while the table and plot are written)
ends the bench as what happened: every point ran, so ``finished``, exit 0, with bench.csv
and bench.png written. Before, the default SIGTERM killed it there with 143 while
bench.json already said ``finished`` (audit A23), and the plot was never written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from protocol_setup import morse_model

SCRIPT = """
import os, signal, sys
import ionmd.bench as bench
real = bench.plot

def plot(result, path):          # the SIGTERM comes while the outputs are written
    os.kill(os.getpid(), signal.SIGTERM)
    real(result, path)

bench.plot = plot
from ionmd.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_after_the_last_point_ends_finished(tmp_path):
    model = morse_model(tmp_path / "morse.pt")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-c", SCRIPT, "bench", str(model), "--atoms", "64",
                           "--np", "1", "--steps", "3", "--no-progress", "-o", str(out)],
                          env={**os.environ, "OMP_NUM_THREADS": "1",
                               "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
                          capture_output=True, text=True, timeout=300)
    said = proc.stdout + proc.stderr
    assert proc.returncode == 0, said                      # before: -15 (the shell's 143)
    data = json.loads((out / "bench.json").read_text())
    assert data["status"] == "finished" and len(data["points"]) == 1
    assert data["points"][0]["failed"] is None
    assert (out / "bench.csv").is_file() and (out / "bench.png").is_file()
    assert "SIGTERM came after the last point" in proc.stderr
