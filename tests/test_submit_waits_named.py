"""A local ``ionmd sweep submit`` whose campaign has a run that another process runs (the
LAMMPS of an earlier submitter, still alive) waits for it before its exit status: before,
silently (no line said for what, Ctrl-C ended with a bare "interrupted"). It now names the
run and whose process holds it first; Ctrl-C leaves the wait, saying the run goes on, with
130; the run's end ends the wait. A SLURM task waiting there for such a LAMMPS
(``state.wait_for_local_process``) ignored its walltime warning: a stop request now ends
the wait at once.

References: the process ids of a stand-in ``sleep`` (its own session, as the runner starts
LAMMPS) and what status says of the run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from ionmd.errors import RunInterrupted
from ionmd.protocols.execute import StopRequests
from ionmd.sweep import load_campaign, plan_campaign
from ionmd.sweep.state import classify, wait_for_local_process, write_claim
from sweep_setup import brownian_run, write_campaign


@pytest.fixture
def held(folder):
    """A local campaign: 600 K completed, 900 K 'running', claimed by another live local
    submission, under its LAMMPS (stand-ins: ``sleep``, the LAMMPS in its own process
    group); both ended after the test."""
    path = write_campaign(folder, duration_ps=30, discard_ps=2)
    runs = plan_campaign(load_campaign(path), create=True)
    for k, run in enumerate(runs):
        brownian_run(run.rundir, run.temperature, k, 0.2, 1.0)
    lammps, submitter = (subprocess.Popen(["sleep", "120"], start_new_session=True)
                         for _ in range(2))
    hot = runs[1].rundir
    hot.set_status("running", pid=lammps.pid, host=socket.gethostname(), runner="subprocess")
    write_claim(hot, "another", "local", f"local:{socket.gethostname()}:{submitter.pid}")
    assert classify(hot) == "running"
    yield path, hot, lammps, submitter
    for proc in (lammps, submitter):
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _as_from_a_terminal() -> None:
    """SIGINT as a shell's foreground job has it: a suite started in the background (`make
    test &`, CI) runs with SIGINT ignored, which its children inherit, so Python installs no
    KeyboardInterrupt handler and the submitter never saw the Ctrl-C (a fresh-clone run
    timed out so)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _submit_until_waiting(path):
    """``ionmd sweep submit`` in a process of its own, read until it says what it waits
    for: the process and the lines read."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "ionmd.cli", "sweep", "submit", str(path),
                             "--no-progress"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=path.parent,
                            preexec_fn=_as_from_a_terminal)
    timer = threading.Timer(60, proc.kill)      # a submit that never says it: fail, not hang
    timer.start()
    lines = []
    try:
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("waiting for"):
                lines.append(proc.stderr.readline())
                break
    finally:
        timer.cancel()
    return proc, lines


@pytest.mark.parametrize("how", ["run ends", "ctrl-c"])
def test_local_submit_names_what_it_waits_for(held, how):
    path, hot, lammps, submitter = held
    proc, lines = _submit_until_waiting(path)
    assert lines and lines[-2].startswith("waiting for 1 run(s)"), "".join(lines)
    host = socket.gethostname()
    assert (f"{hot.path} (running: its LAMMPS, pid {lammps.pid} on {host}; claimed by "
            f"local:{host}:{submitter.pid})") in lines[-1]
    if how == "run ends":               # the other submission and its LAMMPS are gone
        for p in (lammps, submitter):
            p.kill()
            p.wait()
        _, rest = proc.communicate(timeout=60)
        assert proc.returncode == 4, rest       # the run was left interrupted
    else:
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=60)
        assert proc.returncode == 130, rest
        assert "stopped waiting (Ctrl-C); the runs named above go on" in rest
        assert "Traceback" not in rest
        assert lammps.poll() is None and classify(hot) == "running"    # left running


def test_a_stop_request_ends_the_wait_for_an_earlier_lammps(held):
    """The walltime warning (a stop request) caught while a SLURM task waits for the run's
    earlier LAMMPS: RunInterrupted at once, naming that process; it still runs."""
    _, hot, lammps, _ = held
    stop = StopRequests()
    threading.Timer(0.3, stop._caught, (signal.SIGTERM, None)).start()
    t0 = time.monotonic()
    with pytest.raises(RunInterrupted) as err:
        wait_for_local_process(hot, poll_s=0.05, stop=stop)
    assert time.monotonic() - t0 < 30
    assert err.value.signum == signal.SIGTERM
    assert f"pid {lammps.pid}" in str(err.value) and "still runs" in str(err.value)
    assert lammps.poll() is None
