"""``python lockrun.py LOCKFILE COMMAND...``: run COMMAND holding an exclusive ``flock`` on
LOCKFILE for as long as it runs.

The sweep worker starts each run's LAMMPS through this file (by its path, so that nothing
of ionmd is imported): the lock is taken, then this process becomes COMMAND (``exec``, same
pid and process group) and keeps the locked file open, so the lock lives exactly as long
as LAMMPS, also when the worker or its SLURM job is gone (an orphan still finishing).
``ionmd sweep status`` reads it as "running" on any host that shares the filesystem, and a
second job refuses to run the same run directory while it is held
(:func:`ionmd.sweep.state.lock_held`).

A lock held by another process is waited for :data:`WAIT_S`, then the command is not
started (exit status :data:`BUSY`). A filesystem without locks runs the command unlocked.

``lockrun.py --step LOCKFILE COMMAND...`` runs inside a SLURM job step (``srun ... python
lockrun.py --step ... lmp``): there LAMMPS itself must hold the lock, as ``srun`` may end
while its step goes on (a lost ``slurmd``: "srun: error: Node failure", exit status 0,
the step's LAMMPS running on, measured); only the step's rank 0 (``SLURM_PROCID``) takes
it, its other ranks start the command at once.

Python ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across ``exec``:
COMMAND gets them back at their defaults, as a shell would start it (a LAMMPS over the
file-size limit is then killed by SIGXFSZ, which the run's status names, instead of writing
on with truncated files).
"""

import errno
import fcntl
import os
import signal
import sys
import time

WAIT_S = 10.0
BUSY = 75          # EX_TEMPFAIL
NO_LOCK_ERRNOS = frozenset({errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP,
                            errno.EINVAL})
"""As :data:`ionmd.file_locks.NO_LOCK_ERRNOS` (a copy: this file imports nothing of ionmd,
to start LAMMPS at once; a test checks the two agree)."""


def flock_within(fd: int, wait_s: float, poll_s: float = 0.1) -> bool:
    """Take an exclusive ``flock`` on ``fd``, waiting up to ``wait_s`` for another holder
    to let go: True once held (or on a filesystem without locks, where nothing can be
    held), False when another process held it all that time. Also what ``ionmd sweep
    submit`` locks its campaign with (:func:`ionmd.sweep.submit.submit_lock`)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(poll_s)
        except OSError as exc:
            if exc.errno in NO_LOCK_ERRNOS:     # no locks on this filesystem: unprotected
                return True
            raise


def main(argv: list[str]) -> None:
    step = len(argv) > 1 and argv[1] == "--step"
    if step:
        argv = argv[1:]
    if len(argv) < 3:
        sys.exit("usage: lockrun.py [--step] LOCKFILE COMMAND...")
    lock, cmd = argv[1], argv[2:]
    if step and os.environ.get("SLURM_PROCID", "0") != "0":
        # one lock per run: rank 0 holds it; the step's other ranks run at once
        _exec(cmd)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    if not flock_within(fd, WAIT_S):
        print(f"ionmd: another process runs this run directory (it holds {lock}); "
              f"not starting a second LAMMPS on it", file=sys.stderr, flush=True)
        sys.exit(BUSY)
    os.set_inheritable(fd, True)
    _exec(cmd)


def _exec(cmd: list[str]) -> None:
    """Become ``cmd`` with SIGPIPE and SIGXFSZ at their defaults (Python ignores both, and
    an ignored signal stays ignored across ``exec``), on every rank of a step alike."""
    for name in ("SIGPIPE", "SIGXFSZ"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main(sys.argv)
