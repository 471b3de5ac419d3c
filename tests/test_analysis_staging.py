"""An analysis's staging folder (``OUT/.analysis-new-*``): stale ones (of an analysis
killed by SIGTERM or SIGKILL) are removed by the next analysis, a live one's are not; two
analyses committing to one folder at once leave the files of one of them, never a mix; an
``ionmd analyze`` stopped by SIGTERM leaves none."""

import os
import signal
import subprocess
import sys
import threading

from ionmd.analysis.result_files import staged_outputs

from test_analysis_failure_keeps_results import POINT_IONS, _run_dir


def _write(stage, tag, names=("diffusion.csv", "msd.png", "results.json")):
    for name in names:
        (stage / name).write_text(tag)


def test_a_stale_staging_folder_is_removed_and_a_live_one_kept(tmp_path):
    """The review's R3: a staging folder left by a killed analysis stayed through every
    later one. Now the next analysis removes it; that of an analysis still writing (the
    outer block here) stays, and its commit goes on."""
    out = tmp_path / "an"
    stale = out / ".analysis-new-killed"
    stale.mkdir(parents=True)
    (stale / "results.json").write_text("half")
    with staged_outputs(out) as live:
        _write(live, "live")
        with staged_outputs(out) as stage:
            _write(stage, "first")
        assert not stale.exists()
        assert live.is_dir() and (live / "msd.png").read_text() == "live"
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        "diffusion.csv": "live", "msd.png": "live", "results.json": "live"}


def test_two_commits_to_one_folder_are_each_whole(tmp_path, monkeypatch):
    """The review's R3: the commit's renames took no lock. Here analysis B's commit waits
    (up to 1 s) after its first rename for A's to run: without a lock A's files went in
    between (diffusion.csv of B, the rest of A: a mix, every time); with one, A waits for B
    to finish and the folder holds A's files only."""
    out = tmp_path / "an"
    out.mkdir()
    b_started, a_done = threading.Event(), threading.Event()
    real = os.replace

    def replace(src, dst):
        real(src, dst)
        if threading.current_thread().name == "B" and not b_started.is_set():
            b_started.set()
            a_done.wait(1.0)

    monkeypatch.setattr(os, "replace", replace)

    def analysis(tag):
        with staged_outputs(out) as stage:
            _write(stage, tag)
            if tag == "A":
                b_started.wait(10)
        if tag == "A":
            a_done.set()

    threads = [threading.Thread(target=analysis, args=(t,), name=t) for t in "BA"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        "diffusion.csv": "A", "msd.png": "A", "results.json": "A"}


KILLED = """
import pathlib, sys, time
import ionmd.analysis.run_analysis as run_analysis
from ionmd.cli import main

def slow_plot(*args, **kwargs):      # inside the staging: where a scancel meets it
    pathlib.Path(sys.argv[1]).write_text("staging")
    time.sleep(120)

run_analysis.plot_msd = slow_plot
sys.exit(main(["analyze", *sys.argv[2:]]))
"""


def test_ionmd_analyze_stopped_by_sigterm_leaves_no_staging_folder(tmp_path):
    """The review's r3.sh: ``kill -TERM`` during the analysis left RUN/analysis/.analysis-
    new-*/ (Python's default SIGTERM runs no ``finally``). Now the command exits 143 and
    the folder it made for the run is gone with it."""
    run = _run_dir(tmp_path / "T900", 900, seed=9)
    marker = tmp_path / "in_staging"
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(marker), str(run), *POINT_IONS],
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        for _ in range(1200):
            if marker.exists() or proc.poll() is not None:
                break
            threading.Event().wait(0.05)
        assert marker.exists(), proc.communicate(timeout=5)[1]
        proc.send_signal(signal.SIGTERM)
        err = proc.communicate(timeout=60)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM" in err
    assert not (run / "analysis").exists()
