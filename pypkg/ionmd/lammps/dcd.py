"""The layout of LAMMPS's DCD trajectories (CHARMM format): enough to cut a file to whole
frames and to read its first step and dump interval without a trajectory reader."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class DcdLayout:
    """``istart``, ``nsavc``: step of the first frame and steps between frames;
    ``header``, ``frame``: bytes of the header and of one frame."""

    istart: int
    nsavc: int
    header: int
    frame: int

    def whole_frames(self, path: Path) -> int:
        return max(0, (Path(path).stat().st_size - self.header) // self.frame)


def dcd_layout(path: Path) -> DcdLayout | None:
    """The layout of a LAMMPS DCD, or None if the file is missing or no DCD.

    The header is an 84-byte control record (frame count, istart, nsavc, ..., whether
    frames carry a unit cell), a title record whose length is in its leading 4-byte marker,
    and the atom-count record, each framed by 4-byte markers. A frame is an optional
    unit-cell record (6 doubles) and three records of ``natoms`` float32."""
    path = Path(path)
    raw = path.read_bytes()[:4096] if path.is_file() else b""
    if len(raw) < 100 or raw[4:8] != b"CORD":
        return None
    icntrl = np.frombuffer(raw[8:88], dtype=np.int32)
    istart, nsavc, has_cell = int(icntrl[1]), int(icntrl[2]), bool(icntrl[10])
    title = int(np.frombuffer(raw[92:96], dtype=np.int32)[0])
    header = 92 + 4 + title + 4
    if len(raw) < header + 8:
        return None
    natoms = int(np.frombuffer(raw[header + 4:header + 8], dtype=np.int32)[0])
    return DcdLayout(istart, nsavc, header + 12, (56 if has_cell else 0) + 3 * (4 * natoms + 8))


def truncate_dcd(path: Path, last_step: int | None = None) -> int:
    """Cut a LAMMPS DCD to whole frames with step <= ``last_step`` (all whole frames when
    None) and fix the frame count in its header; returns the frames kept."""
    layout = dcd_layout(path)
    if layout is None:
        return 0
    n = layout.whole_frames(path)
    if last_step is not None:
        n = min(n, max(0, (last_step - layout.istart) // layout.nsavc + 1))
    with open(path, "r+b") as fh:
        fh.truncate(layout.header + n * layout.frame)
        fh.seek(8)
        fh.write(np.int32(n).tobytes())
    return n


def dcd_first_step(path: Path) -> int | None:
    """Step of the first frame, or None when the file has no whole frame."""
    layout = dcd_layout(path)
    if layout is None or layout.whole_frames(path) < 1:
        return None
    return layout.istart


def dcd_last_step(path: Path) -> int | None:
    """Step of the last whole frame, or None when the file has none."""
    layout = dcd_layout(path)
    n = layout.whole_frames(path) if layout else 0
    return layout.istart + (n - 1) * layout.nsavc if n else None
