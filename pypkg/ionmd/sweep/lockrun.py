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

Once held, the lock file names its holder (:func:`holder_text`: pid, host, SLURM job and
step, start time UTC; truncated and rewritten by each new holder), so that a refusal and
``ionmd sweep status`` can say who runs the run. The text only informs: the ``flock``
alone decides (a dead holder's line left in a free lock file refuses nothing).

``lockrun.py --step LOCKFILE COMMAND...`` runs inside a SLURM job step (``srun ... python
lockrun.py --step ... lmp``): there LAMMPS itself must hold the lock, as ``srun`` may end
while its step goes on (a lost ``slurmd``: "srun: error: Node failure", exit status 0,
the step's LAMMPS running on, measured); only the step's rank 0 (``SLURM_PROCID``) takes
it. Its other ranks wait for rank 0's verdict in the lock file (:func:`wait_for_rank_0`):
its holder line naming their step, then they start the command; a refusal naming it, then
they exit :data:`BUSY` with rank 0's message. Started at once, as before, a rank of a step
whose rank 0 was refused ran LAMMPS alone on the run's files (measured on the test cluster,
MPICH under ``srun`` without PMI: a singleton, while another LAMMPS ran the run).

Python ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across ``exec``:
COMMAND gets them back at their defaults, as a shell would start it (a LAMMPS over the
file-size limit is then killed by SIGXFSZ, which the run's status names, instead of writing
on with truncated files).
"""

import errno
import fcntl
import os
import signal
import socket
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


def step_tag(env=os.environ) -> str | None:
    """What names this SLURM job step alike on all its ranks, and no other step: job, step,
    restart count (a requeued job keeps its id and numbers its steps from 0 again) and the
    port its ``srun`` listens on. None outside a step (no ``SLURM_STEP_ID``)."""
    if "SLURM_JOB_ID" not in env or "SLURM_STEP_ID" not in env:
        return None
    return ".".join(env.get(k, "") for k in ("SLURM_JOB_ID", "SLURM_STEP_ID",
                                               "SLURM_RESTART_COUNT", "SLURM_SRUN_COMM_PORT"))


def holder_text(env=os.environ) -> str:
    """The holder line this process writes into a lock it took: ``pid P on HOST[, SLURM job
    J step S], since T`` (UTC), then, in a step, ``step TAG`` (:func:`step_tag`) for its
    other ranks. The pid is LAMMPS's own (``exec`` keeps it)."""
    job = (f"{env['SLURM_ARRAY_JOB_ID']}_{env['SLURM_ARRAY_TASK_ID']}"
           if "SLURM_ARRAY_JOB_ID" in env and "SLURM_ARRAY_TASK_ID" in env
           else env.get("SLURM_JOB_ID"))
    slurm = f", SLURM job {job}" if job else ""
    if job and "SLURM_STEP_ID" in env:
        slurm += f" step {env['SLURM_STEP_ID']}"
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    tag = step_tag(env)
    return (f"pid {os.getpid()} on {socket.gethostname()}{slurm}, since {since}\n"
            + (f"step {tag}\n" if tag else ""))


def read_holder(path: str) -> str:
    """The first line of the lock file ``path`` (who holds it, as its holder wrote it);
    empty where it cannot be read. Said only while the lock is held."""
    try:
        with open(path, "rb") as f:
            return f.read(4096).decode(errors="replace").split("\n")[0].strip()
    except OSError:
        return ""


def write_holder(fd: int) -> None:
    """Name this process in the lock it now holds (replacing an earlier holder's line); a
    file that cannot be written (a full disk) names no one, the lock holds all the same.
    Also how the sweep worker names itself in a run's worker lock."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder_text().encode(), 0)
        os.fsync(fd)        # the step's other ranks may read it from another NFS client
    except OSError:
        pass


def _say_refused(fd: int, lock: str, tag: str | None) -> str:
    """Rank 0's refusal: its message, naming the holder; in a step also appended to the
    lock file for the step's other ranks (``refused TAG: message``), after the holder's
    lines, which stay as they are."""
    holder = read_holder(lock)
    msg = (f"ionmd: another process runs this run directory (it holds {lock}"
           + (f": {holder}" if holder else "") + "); not starting a second LAMMPS on it")
    if tag:
        try:
            os.lseek(fd, 0, os.SEEK_END)
            os.write(fd, f"refused {tag}: {msg}\n".encode())
            os.fsync(fd)
        except OSError:
            pass
    return msg


RANK_WAIT_S = WAIT_S + 50.0
"""How long a step's other ranks wait for rank 0's verdict (rank 0 waits :data:`WAIT_S` for
the lock, then says it; the rest covers its start on a loaded node)."""


def wait_for_rank_0(lock: str, tag: str, wait_s: float = RANK_WAIT_S,
                    poll_s: float = 0.05) -> str | None:
    """For a step's rank other than 0: wait until rank 0 of the same step (``tag``) holds
    the lock (None: start the command) or was refused (its message: exit :data:`BUSY`).
    Read afresh each time (an NFS client revalidates a file on open)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            with open(lock, "rb") as f:
                lines = f.read(1 << 16).decode(errors="replace").splitlines()
        except OSError:                 # not there yet (or not readable yet): wait on
            lines = []
        if f"step {tag}" in lines:
            return None
        for line in lines:
            if line.startswith(f"refused {tag}: "):
                return line[len(f"refused {tag}: "):]
        if time.monotonic() > deadline:
            return (f"ionmd: rank 0 of this job step neither took {lock} nor was refused "
                    f"within {wait_s:g} s (did it start?); not starting LAMMPS on this rank")
        time.sleep(poll_s)


def main(argv: list[str]) -> None:
    step = len(argv) > 1 and argv[1] == "--step"
    if step:
        argv = argv[1:]
    if len(argv) < 3:
        sys.exit("usage: lockrun.py [--step] LOCKFILE COMMAND...")
    lock, cmd = argv[1], argv[2:]
    tag = step_tag() if step else None
    if step and os.environ.get("SLURM_PROCID", "0") != "0":
        # one lock per run: rank 0 holds it; the step's other ranks follow its verdict
        # (outside a real step, with no step to name, they start at once)
        refused = wait_for_rank_0(lock, tag) if tag else None
        if refused:
            print(refused, file=sys.stderr, flush=True)
            sys.exit(BUSY)
        _exec(cmd)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    if not flock_within(fd, WAIT_S):
        print(_say_refused(fd, lock, tag), file=sys.stderr, flush=True)
        sys.exit(BUSY)
    write_holder(fd)
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
