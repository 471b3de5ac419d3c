"""``flock`` where the file system has locks, and going on unlocked where it has none.

Lustre mounted without ``-o flock`` (and some NFS setups) answers every ``flock`` with an
error (ENOSYS, ENOLCK, EOPNOTSUPP, EINVAL): ionmd's analyses and sweeps then run unguarded,
as they did before they took locks, instead of failing. Every ``flock`` in ionmd that may
meet such a file system goes through :func:`flock_if_supported`, so that they all agree on
which errors mean "no locks here".
"""

from __future__ import annotations

import errno
import fcntl
import os

NO_LOCK_ERRNOS = frozenset({errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP,
                            errno.EINVAL})
"""flock's errors on a file system without locks (Lustre mounted without ``flock``)."""


def flock_if_supported(fd: int, how: int) -> bool:
    """``fcntl.flock(fd, how)``; True once done, False where the file system has no locks
    (:data:`NO_LOCK_ERRNOS`: nothing is locked, the caller goes on unguarded). With
    ``LOCK_NB``, a lock held elsewhere raises :class:`BlockingIOError` as ``flock`` does;
    any other error is raised too (a bad descriptor is a bug, not a file system)."""
    try:
        fcntl.flock(fd, how)
    except BlockingIOError:
        raise
    except OSError as exc:
        if exc.errno in NO_LOCK_ERRNOS:
            return False
        raise
    return True


def held_elsewhere(path: str | os.PathLike) -> bool:
    """Whether another open file holds an exclusive lock on ``path``: probed with a shared
    lock, without waiting, and released at once; the file is opened read-only, never
    created. False where ``path`` is not there or the file system has no locks (nothing
    can be told there); other errors opening it (no permission) are raised, not guessed."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        flock_if_supported(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
