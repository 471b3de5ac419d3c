"""The box origin ``lo(t)`` of the frames of trajectories that store none (DCD, XTC),
and what a run's LAMMPS logs say about it.

Dumps store ``lo(t)`` in each frame, and their positions, relative to it, are moved by
it into LAMMPS's absolute frame, the one of ``compute msd`` (relative to ``lo`` every
atom would move by ``lo(0) - lo(t)`` as the box breathes: 1.67 A in a hot NpT run). DCDs
(and XTCs, ``dump xtc``, in nm to 0.001 nm: 0.005 A) hold absolute positions and store no
``lo``: it follows from the data file's box
centre, fixed by LAMMPS's barostats (``fix npt/nph``, default ``dilate all``, no
``fixedpoint``; :func:`box_origins`); where a run's logs echo a command that moves it
(``fixedpoint``, ``fix deform ... final`` off the centre), or where it has no logs to
tell, its results say that the DCD's frame is guessed (:func:`dcd_origin_note`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ionmd.lammps.data_file import data_box_centre


#: MDAnalysis's formats of the trajectories LAMMPS writes with no box origin (``dump dcd``,
#: ``dump xtc``), told by their suffix; any other file is read as a ``dump custom``/``atom``.
ORIGINLESS_FORMATS = {".dcd": "LAMMPS", ".xtc": "XTC"}


def box_origins(data_file: Path, boxes: np.ndarray) -> np.ndarray:
    """The box origin ``lo`` (T, 3) of each frame of a DCD in LAMMPS's own (absolute)
    frame, where its barostats (``fix npt/nph``, ``dilate all``, no ``fixedpoint``) keep
    the box centre ``lo + diag(H) / 2`` at the data file's: DCDs hold absolute positions
    and store no ``lo``, so this is a guess (wrong under ``fixedpoint`` or ``fix deform``
    ... ``final``; a run's logs say so: :func:`dcd_origin_note`). Dumps store their ``lo``
    per frame, which is used instead (:func:`ionmd.lammps.dump.read_dump`)."""
    return data_box_centre(data_file)[None, :] - 0.5 * np.diagonal(boxes, axis1=1, axis2=2)


#: ``fix deform``/``change_box`` styles that set a box face's two ends apart, so that
#: the centre may move (``scale``, ``vel``, ``erate``, ``trate``, ``volume``,
#: ``wiggle``, ``variable`` change both ends symmetrically about it).
_FACE_STYLES = {"final", "delta"}


def moving_centre_commands(log_texts: Sequence[str], centre: np.ndarray) -> list[str]:
    """The input lines the logs echo under which the box centre may leave ``centre`` (the
    data file's), where :func:`box_origins` guesses a DCD's ``lo(t)`` wrong: a
    ``fixedpoint`` other than ``centre`` on any fix (``npt``, ``nph``, ``box/relax``,
    ...), a ``fix deform`` (``deform/pressure`` too) or ``change_box`` with ``final lo
    hi`` not about ``centre`` (in lattice units unless ``units box``: scaled by the
    spacing of the log's last ``lattice``, 1 without one, as LAMMPS's default ``lattice
    none 1.0``) or ``delta dlo dhi`` with ``dlo != -dhi``, a shrink-wrapped ``boundary``
    (``s``, ``m``). "Other" and "not about" are beyond a DCD's resolution
    (:func:`_same_point`). A line still holding a variable is skipped: LAMMPS echoes it
    again substituted."""
    found = []
    for text in log_texts:
        spacing = [1.0] * 3         # each log is a LAMMPS process: its default lattice
        for line in text.splitlines():
            if line.startswith("Lattice spacing in x,y,z ="):
                spacing = _numbers_or_none(line.split("=", 1)[1].split())
            command = line.split("#", 1)[0]
            words = command.split()
            if "$" in command or not words:
                continue
            if words[0] == "lattice":
                spacing = _lattice_spacing(words)
            elif words[0] == "fix" and "fixedpoint" in words:
                k = words.index("fixedpoint") + 1
                point = _numbers_or_none(words[k:k + 3])
                if point is None or not _same_point(point, centre):
                    found.append(line.strip())
            elif ((words[0] == "fix" and len(words) > 3 and words[3].startswith("deform")
                   or words[0] == "change_box") and _moves_a_face(words, centre, spacing)):
                found.append(line.strip())
            elif words[0] in ("boundary", "change_box") and _shrink_wraps(words):
                found.append(line.strip())
    return list(dict.fromkeys(found))


def _lattice_spacing(words: list[str]) -> list[float] | None:
    """The spacing a ``lattice`` line sets: ``none SCALE`` prints none (its spacing is
    SCALE); another style's is the ``Lattice spacing`` line LAMMPS prints next (None
    until then)."""
    if len(words) > 2 and words[1] == "none":
        scale = _numbers_or_none(words[2:3])
        return scale * 3 if scale else None
    return None


def _shrink_wraps(words: list[str]) -> bool:
    """Whether a ``boundary``/``change_box ... boundary`` line makes a face shrink-wrapped
    (``s``, ``m``): its ``lo``/``hi`` then follow the atoms, not the centre."""
    k = 1 if words[0] == "boundary" else (words.index("boundary") + 1
                                          if "boundary" in words else len(words))
    return any(c in "sm" for w in words[k:k + 3] for c in w)


def _numbers_or_none(words: Sequence[str]) -> list[float] | None:
    try:
        return [float(w) for w in words]
    except ValueError:
        return None


def _moves_a_face(words: list[str], centre: np.ndarray, spacing: list[float] | None) -> bool:
    """Whether a ``fix deform``/``change_box`` line moves the centre of x, y or z (see
    :func:`moving_centre_commands`); arguments it cannot read count as moving it."""
    in_box_units = any(a == "units" and b == "box" for a, b in zip(words, words[1:]))
    for k, word in enumerate(words[:-1]):
        if word not in ("x", "y", "z") or words[k + 1] not in _FACE_STYLES:
            continue
        ends = _numbers_or_none(words[k + 2:k + 4])
        if ends is None or len(ends) != 2:
            return True
        if words[k + 1] == "delta":
            if abs(ends[0] + ends[1]) > 1e-6:
                return True
            continue
        axis = "xyz".index(word)
        if not in_box_units:
            if not spacing or len(spacing) != 3:
                return True
            ends = [e * spacing[axis] for e in ends]
        if not _same_point([0.5 * (ends[0] + ends[1])], [centre[axis]]):
            return True
    return False


def _same_point(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether two points (or centres) are one to a DCD's resolution at their distance
    from the origin: float32 rounding, 6e-6 A at 50 A (1e-6 A at least). The logs'
    numbers carry rounding too (LAMMPS prints a lattice spacing to 8 digits: ends in
    lattice units 1000 A out came 2.8e-6 A off the centre they were about), and a centre
    moved by less than the DCD resolves moves its frame by nothing it can show."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(float(np.abs(a).max()), float(np.abs(b).max()))
    return bool(np.allclose(a, b, rtol=0,
                            atol=max(1e-6, float(np.finfo(np.float32).eps) * scale)))


def dcd_origin_note(traj_files: Sequence[str | Path], data_file: str | Path,
                    log_files: Sequence[str | Path] = (), *,
                    log_texts: Sequence[str] | None = None) -> str | None:
    """Where a run's trajectory is a DCD (no box origin stored) and its logs echo a
    command that may move the box centre (:func:`moving_centre_commands`), or there are
    no logs to tell, a note that its absolute frame is guessed (:func:`box_origins`):
    fractional coordinates (density grids) and absolute positions may be off by the
    centre's motion. None otherwise, e.g. under the default ``fix npt``, which dilates
    about the centre. ``log_texts``: the logs' texts where the caller has read them
    (:func:`ionmd.analysis.run_inputs.read_logs`), else ``log_files`` are read."""
    kinds = {Path(f).suffix.lower() for f in traj_files} & ORIGINLESS_FORMATS.keys()
    if not kinds:
        return None
    kind = "/".join(sorted(k[1:].upper() for k in kinds))
    texts = (list(log_texts) if log_texts is not None else
             [Path(f).read_text(errors="replace") for f in log_files if Path(f).is_file()])
    centre = data_box_centre(Path(data_file))
    if not texts:
        return _no_logs_origin_note(centre, kind)
    commands = moving_centre_commands(texts, centre)
    if not commands:
        return None
    return (f"{kind} stores no box origin: its frames are placed about the data file's box "
            f"centre, but the run may have moved it ({'; '.join(commands)}), so fractional "
            f"coordinates (density grids, CUBE files) and absolute positions may be shifted "
            f"by the centre's motion; dump "
            f"'custom ... id type x y z' (or xs ys zs) instead of {kind}: a dump carries "
            f"each frame's own origin")


def _no_logs_origin_note(centre: np.ndarray, kind: str = "DCD") -> str:
    """The note of a DCD (or XTC, ``kind``) analysed without its run's logs, which would
    say whether the run moved the box centre its frames are placed about."""
    at = ", ".join(f"{c:.4f}" for c in centre)
    return (f"{kind} stores no box origin and the run's logs, which would say whether the "
            f"run moved it, are missing: its frames are placed about the data file's box "
            f"centre ({at}) A, as LAMMPS's barostats keep it; if the run moved it "
            f"(fixedpoint, fix deform or change_box 'final' off the centre, a shrink-wrapped "
            f"boundary), fractional coordinates (density grids, CUBE files) and absolute "
            f"positions are shifted by its motion, displacements (MSD, D, conductivity) are "
            f"not, but for LAMMPS-unwrapped {kind} coordinates ('dump_modify unwrap yes') in "
            f"a changing box; keep the run's log.lammps beside the trajectory (or list it "
            f"under 'logs' in run.json), or dump 'custom ... id type x y z' instead of "
            f"{kind}: a dump carries each frame's own origin")
