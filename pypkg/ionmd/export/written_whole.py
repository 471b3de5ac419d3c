"""Model files written whole or not at all: an export (a TorchScript save, an AOTInductor
package and its checks) is written into a scratch folder beside its path and moved onto
that path (``os.replace``, one step on one file system) only once written and checked.
Replacing a model file is the ordinary way to re-export a model (the runs resume with it,
:mod:`ionmd.export.model_identity`), so an export that fails half-way, or whose check
fails, must not cost the runs the file they were made with: before, a package was written
over ``-o`` and removed when its check failed, the runs' model with it.

A writer holds an ``flock`` on a file in its scratch folder for as long as it writes, so
that an export killed outright (SIGKILL, a node's out-of-memory killer: no ``finally``
runs, but the kernel drops its locks) leaves no litter for long: the next export of the
same path on the same host removes the scratch folders whose lock nobody holds. A lock,
not a process id: a container with the same host name sees other process ids, and
removing a live writer's scratch would lose its export. The same host too: some file
systems keep locks on each node (Lustre ``localflock``, NFS ``nolock``), where another
node's live lock is not seen. Where the file system has no locks nothing is removed."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import tempfile
from pathlib import Path

from ionmd.file_locks import flock_if_supported

SUFFIX = ".writing"
WRITER_LOCK = ".writer.lock"


@contextlib.contextmanager
def written_whole(path: str | Path):
    """Yield the path to write ``path``'s new contents to (in a scratch folder in
    ``path``'s folder, under ``path``'s own name: a TorchScript archive and a package name
    their top folder after it); on leaving without an error it replaces ``path``, else it
    is removed and ``path`` is as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_scratch(path)
    scratch = Path(tempfile.mkdtemp(prefix=f".{path.name}.{_host()}.{os.getpid()}.",
                                    suffix=SUFFIX, dir=path.parent))
    lock_fd = None
    try:
        lock_fd = _hold_writer_lock(scratch)
        yield scratch / path.name
        os.replace(scratch / path.name, path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if lock_fd is not None:
            os.close(lock_fd)


def _hold_writer_lock(scratch: Path) -> int:
    """Lock a file under a scratch name and only then give it :data:`WRITER_LOCK`'s name
    (a rename keeps the lock): a cleaner never finds that name unlocked while its writer
    lives."""
    fd, tmp = tempfile.mkstemp(dir=scratch, prefix=".lock.")
    try:
        flock_if_supported(fd, fcntl.LOCK_EX)
        os.replace(tmp, scratch / WRITER_LOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _host() -> str:
    return socket.gethostname() or "localhost"


def _abandoned(scratch: Path) -> bool:
    """Whether ``scratch``'s writer is gone: its lock file is there and nobody holds it.
    A folder without one (its writer starting, or an older ionmd's) and a file system
    without locks tell nothing: kept."""
    try:
        fd = os.open(scratch / WRITER_LOCK, os.O_RDONLY)
    except OSError:
        return False
    try:
        return flock_if_supported(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def remove_abandoned_scratch(path: str | Path) -> list[Path]:
    """Remove the scratch folders of exports of ``path`` made on this host whose writer
    is gone (:func:`_abandoned`); returns them."""
    path = Path(path)
    removed = []
    for scratch in path.parent.glob(f".{path.name}.{_host()}.*{SUFFIX}"):
        if scratch.is_dir() and _abandoned(scratch):
            shutil.rmtree(scratch, ignore_errors=True)
            removed.append(scratch)
    return removed


def left_as_it_was(path: str | Path) -> str:
    """What a failed export says of its ``-o``."""
    path = Path(path)
    if path.exists():
        return f"{path} was not replaced: the file there is as it was"
    return f"nothing was written to {path}"
