"""Who holds a run's LAMMPS lock (``.lmp.lock``), for the messages that refuse or report a
held run: the line its holder wrote into it once it held it (:mod:`ionmd.sweep.lockrun`:
``pid P on HOST, SLURM job J step S, since T``). Read only while the lock is held: the
``flock`` decides, a dead holder's line left in a free lock file says nothing."""

from __future__ import annotations

import os

from ionmd.file_locks import held_elsewhere


def lock_holder(lock: str | os.PathLike) -> str | None:
    """The holder line of the lock file ``lock`` while another process holds it (``""``
    where it named no one: an older ionmd, a full disk); None where it is not held."""
    if not held_elsewhere(lock):
        return None
    try:
        with open(lock, "rb") as f:
            return f.read(4096).decode(errors="replace").split("\n")[0].strip()
    except OSError:
        return ""


def held_by(lock: str | os.PathLike) -> str:
    """``LOCK is held (by pid P on HOST, ...)`` for a message about a held lock; its holder
    unnamed where the file names no one."""
    holder = lock_holder(lock)
    return f"{lock} is held" + (f" by {holder}" if holder else "")


__all__ = ["held_by", "lock_holder"]
