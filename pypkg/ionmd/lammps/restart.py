"""LAMMPS restart files: whether one was written to its end."""

from __future__ import annotations

from pathlib import Path

RESTART_MAGIC = b"LammpS RestartT\0"   # first and last bytes of a whole LAMMPS restart file


def restart_complete(path: Path) -> bool:
    """Whether a LAMMPS restart file was written to its end: it starts and ends with
    LAMMPS's magic string (one cut short by a kill or a full disk does not end with it)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(len(RESTART_MAGIC))
            if head != RESTART_MAGIC:      # not the format we know: trust it if not empty
                return size > 0
            fh.seek(max(0, size - len(RESTART_MAGIC)))
            return size > len(RESTART_MAGIC) and fh.read() == RESTART_MAGIC
    except OSError:
        return False
