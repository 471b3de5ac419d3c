"""XTC trajectories (LAMMPS's ``dump xtc``, GROMACS's format): their frames read
(:func:`read_xtc`, leaving no files beside them), and their frame layout, enough to tell
a file cut off inside a frame (a killed run) from a whole one, which trajectory readers do
not (MDAnalysis reads a cut file's whole frames and says nothing)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from ionmd.errors import AnalysisError

XTC_MAGIC = 1995
#: Bytes before a frame's coordinates: magic, atom count, step, time, box (9 floats),
#: atom count again.
HEADER = 56
#: Bytes before the compressed coordinates (more than 9 atoms): the header, precision,
#: minimum and maximum integer coordinates (3 + 3), the smallest index, the byte count.
COMPRESSED_HEADER = HEADER + 4 + 12 + 12 + 4 + 4


def _frame_size(head: bytes) -> int | None:
    """Bytes of the frame whose leading bytes are ``head``, None where ``head`` is too
    short to tell (the file ends there)."""
    natoms = struct.unpack(">i", head[4:8])[0]
    if natoms <= 9:         # written as plain floats, uncompressed
        return HEADER + 12 * natoms
    if len(head) < COMPRESSED_HEADER:
        return None
    n_bytes = struct.unpack(">i", head[COMPRESSED_HEADER - 4:COMPRESSED_HEADER])[0]
    return COMPRESSED_HEADER + -(-n_bytes // 4) * 4      # XDR pads to 4 bytes


def xtc_whole_frames(path: Path) -> tuple[int, int]:
    """The whole frames of an XTC file and the bytes they take, from its frame headers:
    fewer bytes than the file's where it ends inside a frame."""
    path = Path(path)
    size, n_frames, end = path.stat().st_size, 0, 0
    with open(path, "rb") as fh:
        while end < size:
            fh.seek(end)
            head = fh.read(COMPRESSED_HEADER)
            if len(head) < HEADER:
                break
            if struct.unpack(">i", head[:4])[0] != XTC_MAGIC:
                raise AnalysisError(f"{path}: no XTC frame at byte {end} (after frame "
                                    f"{n_frames}); not an XTC file, or a corrupted one")
            frame = _frame_size(head)
            if frame is None or end + frame > size:
                break
            n_frames, end = n_frames + 1, end + frame
    return n_frames, end


NM = 10.0
"""Angstrom per nm: XTC's length unit."""


def read_xtc(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (frames x atoms x 3), box vectors (frames x 3 x 3, rows a, b, c) in
    Angstrom and steps of an XTC file's frames, in the file's atom order.

    Read with MDAnalysis's XTC file class, not its trajectory reader: the reader writes a
    frame index and a lock (``.NAME.xtc_offsets.npz``, ``.lock``) beside the trajectory,
    into the user's run folder, with no option to keep them out, and ionmd reads frames
    once, in order, needing no index."""
    from MDAnalysis.lib.formats.libmdaxdr import XTCFile

    positions, boxes, steps = [], [], []
    with XTCFile(str(path)) as xtc:
        for frame in xtc:
            positions.append(frame.x.astype(np.float64) * NM)
            boxes.append(frame.box.astype(np.float64) * NM)
            steps.append(frame.step)
    return np.array(positions), np.array(boxes), np.array(steps, dtype=np.int64)


def xtc_atom_count(path: Path) -> int:
    """Atoms in each frame of an XTC file (its first frame's header)."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if len(head) < 8 or struct.unpack(">i", head[:4])[0] != XTC_MAGIC:
        raise AnalysisError(f"{path}: no XTC frame at its start; empty, or not an XTC file")
    return struct.unpack(">i", head[4:8])[0]
