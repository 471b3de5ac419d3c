"""LAMMPS started through the sweep's lock wrapper (sweep/lockrun.py, exec'd from Python)
gets SIGPIPE and SIGXFSZ at their defaults, as a shell starts it: Python ignores both and an
ignored signal stays ignored across exec, so a run over the file-size limit wrote on with
EFBIG (truncated files) instead of being killed by SIGXFSZ, which the status names. The
reference: the same command started by the shell; and lockrun's copy of the errnos that
mean "no locks here" equals ionmd.file_locks'."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from ionmd.file_locks import NO_LOCK_ERRNOS
from ionmd.sweep import lockrun

LOCKRUN = Path(lockrun.__file__)
WRITE_PAST_LIMIT = "ulimit -f 1; exec dd if=/dev/zero of=big bs=4096 count=16 2>/dev/null"


def test_a_command_over_the_file_size_limit_is_killed_by_sigxfsz(tmp_path):
    direct = subprocess.run(["sh", "-c", WRITE_PAST_LIMIT], cwd=tmp_path)
    assert direct.returncode == -signal.SIGXFSZ            # the shell's way: the reference
    locked = subprocess.run([sys.executable, str(LOCKRUN), str(tmp_path / ".lmp.lock"),
                             "sh", "-c", WRITE_PAST_LIMIT], cwd=tmp_path)
    assert locked.returncode == direct.returncode


def test_a_closed_pipe_ends_the_writer_quietly(tmp_path):
    cmd = "yes | head -n 1"
    locked = subprocess.run([sys.executable, str(LOCKRUN), str(tmp_path / ".lmp.lock"),
                             "sh", "-c", cmd], capture_output=True, text=True)
    assert locked.stdout == "y\n" and "Broken pipe" not in locked.stderr


def test_lockrun_and_file_locks_agree_on_no_lock_errors():
    assert lockrun.NO_LOCK_ERRNOS == NO_LOCK_ERRNOS
