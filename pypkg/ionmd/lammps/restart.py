"""LAMMPS restart files: whether one was written to its end, and the step it holds."""

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


# header records of a LAMMPS restart file before its step (write_restart.cpp: VERSION,
# SMALLINT, IMAGEINT, TAGINT, BIGINT, UNITS, then NTIMESTEP): flag -> "s" string, "i" int
_RESTART_HEADER = {0: "s", 1: "i", 48: "i", 2: "i", 3: "i", 4: "s"}
_NTIMESTEP = 5


def restart_step(path: Path) -> int | None:
    """The step a LAMMPS restart file was written at (its header's NTIMESTEP), or None
    when the file is missing or not in the format read here (LAMMPS 2020 and later)."""
    import struct

    try:
        with open(path, "rb") as fh:     # the header only: a large cell's file is GBs
            data = fh.read(4096)
    except OSError:
        return None
    at = len(RESTART_MAGIC)
    if not data.startswith(RESTART_MAGIC) or data[at:at + 4] != struct.pack("<i", 1):
        return None
    at += 8                              # the endian marker and the format revision
    try:
        while True:
            (flag,) = struct.unpack_from("<i", data, at)
            at += 4
            if flag == _NTIMESTEP:
                return int(struct.unpack_from("<q", data, at)[0])
            kind = _RESTART_HEADER.get(flag)
            if kind is None:
                return None
            (value,) = struct.unpack_from("<i", data, at)
            at += 4 + (value if kind == "s" else 0)
    except struct.error:
        return None
