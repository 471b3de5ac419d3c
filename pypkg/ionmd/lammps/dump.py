"""LAMMPS ``dump custom`` / ``dump atom`` files (plain, gzip, bzip2 or xz): positions in
float64, relative to each frame's box origin ``lo``, in atom-ID order.

Read here rather than by MDAnalysis, whose reader (2.11) subtracts ``lo`` a second time
from scaled coordinates (wrong displacements under NpT when ``lo != 0``); reading item by
item also takes the ``ITEM: TIME``/``ITEM: UNITS`` of ``dump_modify time/units yes`` and
splits a file where a resumed run with ``dump_modify append yes`` wrote a step again."""

from __future__ import annotations

import shlex
import zlib
from dataclasses import dataclass
from itertools import chain, islice
from lzma import LZMAError
from pathlib import Path
from typing import Sequence

import numpy as np

from ionmd.errors import AnalysisError

#: Coordinate columns of a dump, in the order they are used when there are several
#: (MDAnalysis's: wrapped before unwrapped, Cartesian before scaled).
DUMP_COORDINATES = (("x", "y", "z"), ("xs", "ys", "zs"), ("xu", "yu", "zu"), ("xsu", "ysu", "zsu"))
#: The same when unwrapped coordinates are asked for (``dump_unwrapped``).
UNWRAPPED_COORDINATES = (("xu", "yu", "zu"), ("xsu", "ysu", "zsu"))
IMAGE_FLAGS = ("ix", "iy", "iz")


@dataclass
class DumpSegment:
    """Consecutive frames of a dump whose step increases (a file appended to by a resumed
    run has several: stitch them as pieces)."""

    positions: np.ndarray  # (T, N, 3), relative to each frame's lo
    boxes: np.ndarray      # (T, 3, 3)
    steps: np.ndarray      # (T,)
    origins: np.ndarray    # (T, 3), each frame's lo (moves under NpT, fix deform)
    #: the positions are LAMMPS's unwrapped ones, ``x + n H(t)`` (``xu``, ``xsu`` or
    #: image flags added), in some frame: under a changing box they are to be wrapped
    #: back (see :mod:`ionmd.analysis.unwrapping`), whichever image the atoms are in
    unwrapped: bool = False


@dataclass
class DumpFrame:
    step: int
    box: np.ndarray        # (3, 3), cell vectors as rows
    positions: np.ndarray  # (N, 3), relative to the box origin lo, in atom-ID order
    lo: np.ndarray         # (3,), the box origin
    unwrapped: bool = False  # positions are LAMMPS's unwrapped ones (see DumpSegment)


class _DumpCutOff(Exception):
    """The dump file ends inside a frame."""


class AtomsLostInDump(AnalysisError):
    """A frame after the first holds fewer atoms than the data file: the run lost atoms.
    LAMMPS removes them when it next rebuilds its neighbour lists and writes the dump's
    frames without them, while it only stops the run (``ERROR: Lost atoms``) at its next
    thermo output (or never: ``thermo_modify lost ignore``). ``segments``: the frames
    before it (:func:`read_dump`'s pieces); ``step``, ``n_dump``, ``n_data``: the frame's
    step and atoms, and the atoms before."""

    def __init__(self, message: str, step: int | None, n_dump: int, n_data: int):
        super().__init__(message)
        self.step, self.n_dump, self.n_data = step, n_dump, n_data
        self.segments: list[DumpSegment] = []


class _CheckFailedAfterFrames(Exception):
    """The decompressor refused the data where the next frame would start: after the text
    of whole frames, at the stream's end check (its ``__cause__``)."""


def read_dump(path: Path, data_file: Path, atom_ids: np.ndarray,
              unwrapped: bool = False) -> list[DumpSegment]:
    """The frames of a ``dump custom`` / ``dump atom`` file (gzip, bzip2 or xz compressed
    too, told by its leading bytes), positions relative to each frame's box origin ``lo``
    (see module doc), as pieces split where the step does not increase: a run resumed from
    a restart with ``dump_modify append yes`` writes its restart step again in the same
    file.

    ``unwrapped``: the positions are to be LAMMPS's unwrapped ones (``xu yu zu``,
    ``xsu ysu zsu``, or wrapped ones plus image flags ``ix iy iz``), used in preference
    to wrapped columns the dump may hold as well; a dump with wrapped coordinates only
    is refused."""
    frames: list[DumpFrame] = []
    damage = None
    try:
        with open_dump(path) as fh:
            try:
                while (frame := _next_dump_frame(fh, path, data_file, atom_ids, len(frames),
                                                 unwrapped)):
                    frames.append(frame)
            except AtomsLostInDump as exc:     # the frames before it are the run's
                exc.segments = _split_at_restarts(frames)
                raise
            except READ_ERRORS as exc:
                # a damaged compressed stream yields text up to its next checksum, which
                # reads as "not a dump": the library's own verdict on the bytes tells the
                # two apart, read on from here (not from the start again)
                damage = _damage_behind(path, fh, exc, len(frames))
                raise
    except (_DumpCutOff, EOFError) as exc:  # EOFError: a cut-off compressed stream
        raise _truncated(path, frames) from exc
    except _CheckFailedAfterFrames as exc:
        raise _unlocated_damage(path, frames, exc.__cause__) from exc.__cause__
    except READ_ERRORS as exc:
        if isinstance(damage, EOFError):
            raise _truncated(path, frames) from exc
        if damage is not None:
            raise _damaged(path, frames, damage) from exc
        if isinstance(exc, AnalysisError):
            raise
        raise AnalysisError(f"cannot read {path} after frame {len(frames)}: {exc}; not a "
                            f"LAMMPS dump file, or a corrupted one") from exc
    if not frames:
        raise AnalysisError(f"trajectory file {path} has no frames (empty or truncated)")
    return _split_at_restarts(frames)


def _truncated(path: Path, frames: Sequence[DumpFrame]) -> AnalysisError:
    """The refusal of a dump cut off inside frame ``len(frames)``, with the command that
    copies its whole frames into a file of their own (the original kept as it is)."""
    n_frames = len(frames)
    if not frames:
        return AnalysisError(f"{path} ends in the middle of a frame, its first (truncated: "
                             f"the run was killed while writing?); no whole frame to read: "
                             f"rerun")
    last = f" (the last at step {frames[-1].step})"
    lines = whole_frame_lines(path, n_frames)
    whole = whole_frames_name(path)
    return AnalysisError(f"{path} ends in the middle of a frame (truncated: the run was "
                         f"killed while writing?); {n_frames} whole frames are readable"
                         f"{last}: copy them into a file of their own, the original kept as "
                         f"it is ({copy_lines_command(path, lines, whole)}) and analyse that "
                         f"with --trajectory {shlex.quote(whole.name)} ('trajectory' in "
                         f"run.json); or rerun")


def whole_frame_lines(path: Path, n_frames: int) -> int:
    """The lines of a dump's text before its frame ``n_frames`` (0-based) starts, or its
    whole lines where that frame's ``ITEM: TIMESTEP`` line is not whole (read again from
    the start: only a refusal needs this)."""
    n_lines, started = 0, 0
    try:
        with open_dump(path) as fh:
            for line in fh:
                if line.startswith("ITEM: TIMESTEP"):
                    if started == n_frames:
                        return n_lines
                    started += 1
                if not line.endswith("\n"):
                    break
                n_lines += 1
    except (EOFError, *LIBRARY_ERRORS, UnicodeDecodeError):
        pass            # the cut (or damage) behind the whole lines read so far
    return n_lines


def whole_frames_name(path: Path) -> Path:
    """The file beside ``path`` for its whole frames: ``prod.dump.gz`` ->
    ``prod.whole.dump.gz`` (a dump's name still, compressed as the original)."""
    stem, dot, rest = path.name.partition(".")
    return path.with_name(f"{stem}.whole{dot}{rest}")


#: The command that packs each compression (as :data:`UNPACK_COMMAND` unpacks it).
PACK_COMMAND = {"gzip": "gzip", "bz2": "bzip2", "xz": "xz"}


def copy_lines_command(path: Path, n_lines: int, target: Path) -> str:
    """The shell command that writes the first ``n_lines`` lines of the dump's text into
    ``target``, compressed as the dump is (a compressed file cannot be truncated in place)."""
    source, out = shlex.quote(str(path)), shlex.quote(str(target))
    kind = _readable_compression(path)
    if kind is None:
        return f"head -n {n_lines} {source} > {out}"
    return f"{UNPACK_COMMAND[kind]} {source} | head -n {n_lines} | {PACK_COMMAND[kind]} > {out}"


#: The decompressors' own errors on damaged data (EOFError, a cut-off stream, aside).
LIBRARY_ERRORS = (OSError, LZMAError, zlib.error)
#: What reading a frame raises on text that is no dump's (damaged, or another file).
READ_ERRORS = (AnalysisError, ValueError, IndexError, UnicodeDecodeError, *LIBRARY_ERRORS)

#: Text checked past the failing first frame (bytes): far enough for the library to
#: meet damage that garbled the frame, while a refusal of the frame itself (another
#: system's data file, missing columns) does not wait for the whole file to be unpacked
#: (20 s for a 1 GB gzip dump here).
FIRST_FRAME_CHECK = 64 << 20


def _damage_behind(path: Path, fh, exc: Exception, n_frames: int) -> Exception | None:
    """The library's verdict on the data behind the read error ``exc`` (see
    :func:`stream_damage`): ``exc`` itself where the decompressor raised it, else the
    rest of the open stream ``fh`` read to its end, or only past the first frame when
    that one failed. Read on from where the frames' reading stopped: unpacking the stream
    again from its start took 2 s of a 6.3 s refusal of a dump of 170 MB (78 MB gzip)
    damaged half-way."""
    if _readable_compression(path) is None:
        return None
    if isinstance(exc, LIBRARY_ERRORS):
        return exc
    return _read_through(fh.buffer, limit=None if n_frames else FIRST_FRAME_CHECK)


def _readable_compression(path: Path) -> str | None:
    """:func:`compression_of`, None also where the file cannot be read (said by the
    caller's own error)."""
    try:
        return compression_of(path)
    except OSError:
        return None


#: The command that unpacks each compression (it complains where the data is damaged).
UNPACK_COMMAND = {"gzip": "gzip -dc", "bz2": "bzip2 -dc", "xz": "xz -dc"}


def _damaged(path: Path, frames: Sequence[DumpFrame], damage: Exception) -> AnalysisError:
    """The refusal of a compressed dump whose data is damaged in frame ``len(frames)``."""
    kind = compression_of(path)
    n = len(frames)
    after = f" (after step {frames[-1].step})" if frames else ""
    unpack = (f"unpack the file ({UNPACK_COMMAND[kind]} {shlex.quote(str(path))} > "
              f"unpacked.dump; it "
              f"complains at the damage), delete from frame {n}'s 'ITEM: TIMESTEP' on and "
              f"give that file")
    if not frames:
        frames_before = ("no whole frame before it: copy the file again from where the run "
                         "wrote it, or rerun")
    elif kind == "gzip":
        # deflate can resynchronise after damage: digits change, the text still reads,
        # and only the checksum at the end of the stream tells (measured: 1 byte flipped
        # at random in 150 gzip dumps: in 6 the text had gone wrong in a frame before
        # the one refused; in 14 every frame read and only that checksum failed)
        frames_before = (f"the {n} whole frames before it read as a dump, but gzip checks "
                         f"its data only at the end of the stream, so they may hold "
                         f"damaged numbers too: copy the file again from where the run "
                         f"wrote it, or rerun; to use them anyway, {unpack}")
    else:
        frames_before = f"the {n} whole frames before it are readable: {unpack}; or rerun"
    return AnalysisError(
        f"cannot read {path} after frame {n}: the file is a corrupted one, its {kind} data "
        f"damaged in frame {n}{after} ({type(damage).__name__}: {damage}; copied while "
        f"written, or damaged on disk or in transfer?); {frames_before}")


def _unlocated_damage(path: Path, frames: Sequence[DumpFrame],
                      damage: Exception) -> AnalysisError:
    """The refusal of a compressed dump whose text read as whole frames to its end, where
    the library then found the data damaged (gzip's checksum of the whole stream)."""
    kind, n_frames = compression_of(path), len(frames)
    if kind is None:        # a plain file's read error
        return AnalysisError(f"cannot read {path} after frame {n_frames}: {damage}")
    if not frames:
        return _damaged(path, frames, damage)
    return AnalysisError(
        f"cannot read {path}: the file is a corrupted one; its {n_frames} frames read as a "
        f"dump, but then its {kind} data failed the library's check "
        f"({type(damage).__name__}: {damage}; copied while written, or damaged on disk "
        f"or in transfer?), which does not tell where: any of the frames may hold damaged "
        f"numbers; copy the file again from where the run wrote it, or rerun")


def stream_damage(path: Path, limit: int | None = None) -> Exception | None:
    """What the standard library's gzip, bz2 or lzma says of a compressed file's bytes
    read to the end, or through the first ``limit`` bytes of its text (EOFError where it
    is cut off, OSError, zlib.error or LZMAError where its data is damaged), None where
    they are intact as far as read or the file is not compressed."""
    import bz2
    import gzip
    import lzma

    packed = _readable_compression(path)
    if packed is None:
        return None
    try:
        with {"gzip": gzip, "bz2": bz2, "xz": lzma}[packed].open(path, "rb") as fh:
            return _read_through(fh, limit)
    except LIBRARY_ERRORS as exc:     # opening it
        return exc


def _read_through(stream, limit: int | None) -> Exception | None:
    """Read an open decompressing stream on to its end (or ``limit`` more bytes); what
    its library said of the data (EOFError, OSError, zlib.error, LZMAError), None where
    nothing."""
    chunk, left = 1 << 22, limit
    try:
        while left is None or left > 0:
            got = len(stream.read(chunk if left is None else min(chunk, left)))
            if not got:
                break
            left = None if left is None else left - got
    except (EOFError, *LIBRARY_ERRORS) as exc:
        return exc
    return None


#: Leading bytes of the compressed files LAMMPS's COMPRESS package writes that the
#: standard library cannot unpack, with the command that does.
UNREADABLE_COMPRESSION = {b"\x28\xb5\x2f\xfd": ("zstd", "zstd -d"),
                          b"\x04\x22\x4d\x18": ("lz4", "lz4 -d")}


COMPRESSED = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}
"""Leading bytes -> the compression ionmd unpacks (``dump custom/gz`` writes gzip)."""


def _leading_bytes(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(6)


def _compression(head: bytes) -> str | None:
    return next((name for magic, name in COMPRESSED.items() if head.startswith(magic)), None)


def compression_of(path: Path) -> str | None:
    """``"gzip"``, ``"bz2"`` or ``"xz"`` where the file's leading bytes say so, else None."""
    return _compression(_leading_bytes(path))


def open_dump(path: Path):
    """The dump as text, unpacked by its leading bytes whatever its name: gzip
    (``dump custom/gz``), bzip2, xz; zstd and lz4 (``custom/zstd``) are refused, saying
    how to unpack them."""
    import bz2
    import gzip
    import lzma

    head = _leading_bytes(path)
    packed = _compression(head)
    if packed:
        return {"gzip": gzip, "bz2": bz2, "xz": lzma}[packed].open(path, "rt")
    for magic, (name, unpack) in UNREADABLE_COMPRESSION.items():
        if head.startswith(magic):
            raise AnalysisError(f"{path} is compressed with {name} (dump custom/{name}?), "
                                f"which ionmd cannot read: unpack it first "
                                f"({unpack} {shlex.quote(str(path))}) "
                                f"and give the unpacked file, or dump as custom/gz")
    return open(path)


def _line(fh) -> str:
    line = fh.readline()
    if not line:
        raise _DumpCutOff
    return line


def _next_dump_frame(fh, path: Path, data_file: Path, atom_ids: np.ndarray,
                     n_done: int, unwrapped: bool) -> DumpFrame | None:
    """The next frame, item by item (``ITEM: UNITS`` and ``ITEM: TIME`` of
    ``dump_modify units/time yes`` are skipped); None at the end of the file."""
    try:
        first = fh.readline()
    except LIBRARY_ERRORS as exc:   # EOFError, a cut-off stream, is not this
        raise _CheckFailedAfterFrames from exc
    step = box = lo = None
    for line in chain([first], iter(fh.readline, "")) if first else ():
        item = line.strip()
        if not item:
            continue
        if not item.startswith("ITEM:"):
            raise AnalysisError(f"{path} is not a LAMMPS dump file (no 'ITEM: TIMESTEP' / "
                                f"'ITEM: NUMBER OF ATOMS' header where frame {n_done} "
                                f"should start: {item[:40]!r})")
        name = item[5:].strip()
        if name in ("UNITS", "TIME"):
            _line(fh)
        elif name == "TIMESTEP":
            step = int(_line(fh))
        elif name == "NUMBER OF ATOMS":
            _check_atom_count(path, data_file, int(_line(fh)), len(atom_ids), n_done, step)
        elif name.startswith("BOX BOUNDS"):
            box, lo = _dump_box(path, name, [_line(fh) for _ in range(3)])
        elif name.startswith("ATOMS") and step is not None and box is not None:
            positions, read_unwrapped = _dump_positions(fh, path, data_file, name.split()[1:],
                                                        atom_ids, box, lo, n_done, unwrapped)
            return DumpFrame(step, box, positions, lo, read_unwrapped)
        else:
            raise AnalysisError(f"{path}: unexpected 'ITEM: {name}' in frame {n_done}; not a "
                                f"LAMMPS dump file (no 'ITEM: TIMESTEP' / 'ITEM: NUMBER OF "
                                f"ATOMS' header)?")
    if step is not None or box is not None:
        raise _DumpCutOff
    return None


def _check_atom_count(path: Path, data_file: Path, n_dump: int, n_data: int, n_done: int,
                      step: int | None) -> None:
    """Refuse a frame whose atom count is not the data file's, saying the likely cause:
    fewer atoms, a dump of a group of atoms at the first frame, atoms lost by the run
    (``thermo_modify lost ignore``) at a later one; more atoms, another system's data file
    at the first frame, atoms added by the run (``fix deposit``) at a later one."""
    if n_dump == n_data:
        return
    if n_dump > n_data and n_done == 0:
        raise AnalysisError(f"{path} does not match {data_file}: {n_dump} atoms in the dump, "
                            f"only {n_data} in the data file, which is another system's; use "
                            f"the data file written by the same run")
    if n_dump > n_data:
        raise AnalysisError(f"{path}: {n_dump} atoms in the dump at step {step} (frame "
                            f"{n_done}), {n_data} before and in {data_file}: the run added "
                            f"atoms (fix deposit, create_atoms?), which ionmd cannot follow; "
                            f"cut the dump before that frame")
    if n_done == 0:
        raise AnalysisError(f"{path} does not match {data_file}: {n_dump} atoms in the dump, "
                            f"{n_data} in the data file; dump all atoms ('dump ID all custom "
                            f"...', not a group) and use the data file written by the same run")
    raise AtomsLostInDump(
        f"{path}: {n_dump} atoms in the dump at step {step} (frame {n_done}), {n_data} before "
        f"and in {data_file}: the run lost atoms (LAMMPS writes the frames after a loss "
        f"without them until its next thermo output stops the run, or throughout under "
        f"thermo_modify lost ignore); `ionmd analyze` reads the frames before it and reports "
        f"the loss; here, cut the dump before that frame", step, n_dump, n_data)


def _dump_box(path: Path, item: str, lines: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Cell vectors (rows) and origin ``lo`` from a BOX BOUNDS section: orthogonal, or
    LAMMPS's restricted triclinic, whose bounds are those of the tilted cell's bounding box."""
    words = item.split()
    if "abc" in words:
        raise AnalysisError(f"{path}: general triclinic box (dump_modify triclinic/general "
                            f"yes) is not supported; dump without triclinic/general")
    bounds = np.array([line.split() for line in lines], dtype=np.float64)
    xy, xz, yz = bounds[:, 2] if "xy" in words else (0.0, 0.0, 0.0)
    xlo = bounds[0, 0] - min(0.0, xy, xz, xy + xz)
    xhi = bounds[0, 1] - max(0.0, xy, xz, xy + xz)
    ylo, yhi = bounds[1, 0] - min(0.0, yz), bounds[1, 1] - max(0.0, yz)
    zlo, zhi = bounds[2, 0], bounds[2, 1]
    box = np.array([[xhi - xlo, 0.0, 0.0], [xy, yhi - ylo, 0.0], [xz, yz, zhi - zlo]])
    return box, np.array([xlo, ylo, zlo])


def _coordinate_columns(path: Path, columns: list[str],
                        unwrapped: bool) -> tuple[tuple[str, ...], bool]:
    """The coordinate columns to read, and whether image flags are to be added to them."""
    have = set(columns)
    if unwrapped:
        coords = next((c for c in UNWRAPPED_COORDINATES if set(c) <= have), None)
        if coords is not None:
            return coords, False
        coords = next((c for c in DUMP_COORDINATES[:2] if set(c) <= have), None)
        if coords is not None and set(IMAGE_FLAGS) <= have:
            return coords, True
        if coords is not None:
            raise AnalysisError(f"{path} holds wrapped coordinates only (ITEM: ATOMS "
                                f"{' '.join(columns)}) but was to be read as unwrapped "
                                f"(dump_unwrapped / --dump-unwrapped): dump xu yu zu (or "
                                f"ix iy iz as well), or analyse without dump_unwrapped")
    coords = next((c for c in DUMP_COORDINATES if set(c) <= have), None)
    if coords is None:
        raise AnalysisError(f"{path} has no coordinate columns (ITEM: ATOMS {' '.join(columns)}); "
                            f"dump x y z (or xs ys zs, xu yu zu, xsu ysu zsu)")
    return coords, False


def _dump_positions(fh, path: Path, data_file: Path, columns: list[str], atom_ids: np.ndarray,
                    box: np.ndarray, lo: np.ndarray, n_done: int,
                    unwrapped: bool) -> tuple[np.ndarray, bool]:
    """Positions (N, 3) relative to ``lo``, in atom-ID order, from a frame's ATOMS lines,
    and whether they are LAMMPS's unwrapped ones (unwrapped columns, or image flags added).
    Scaled coordinates (``xs``, ``xsu``) are ``s H``: computed here from the header rather
    than left to a reader (MDAnalysis 2.11 subtracts ``lo`` from ``s H`` too)."""
    if "id" not in columns:
        raise AnalysisError(f"{path} has no 'id' column (ITEM: ATOMS {' '.join(columns)}): "
                            f"LAMMPS writes the atoms in another order in each frame; add id "
                            f"to the dump, e.g. 'dump d all custom N md.dump id type x y z'")
    coords, add_images = _coordinate_columns(path, columns, unwrapped)
    rows = list(islice(fh, len(atom_ids)))
    words = "".join(rows).split()
    if len(rows) < len(atom_ids) or (len(words) != len(rows) * len(columns)
                                     and not rows[-1].endswith("\n")):
        raise _DumpCutOff
    if len(words) != len(rows) * len(columns):
        raise AnalysisError(f"{path}: frame {n_done} has atom lines with other than "
                            f"{len(columns)} columns ({' '.join(columns)}); corrupted file?")
    n_cols = len(columns)  # (converting only the columns used, straight from the words)
    ids = np.array(words[columns.index("id")::n_cols], dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    if not np.array_equal(ids[order], atom_ids):
        raise AnalysisError(f"{path}: the atom IDs of frame {n_done} are not those of "
                            f"{data_file}; use the data file written by the same run")
    xyz = np.array([words[columns.index(c)::n_cols] for c in coords], dtype=np.float64).T[order]
    xyz = xyz @ box if coords[0].startswith("xs") else xyz - lo
    if add_images:   # LAMMPS's unwrapped position: x + ix a + iy b + iz c
        images = np.array([words[columns.index(c)::n_cols] for c in IMAGE_FLAGS],
                          dtype=np.int64).T[order]
        xyz = xyz + images @ box
    return xyz, add_images or coords in UNWRAPPED_COORDINATES


def _split_at_restarts(frames: Sequence[DumpFrame]) -> list[DumpSegment]:
    """Runs of consecutive frames whose step increases."""
    steps = np.array([f.step for f in frames], dtype=np.int64)
    cuts = [0, *(np.flatnonzero(np.diff(steps) <= 0) + 1).tolist(), len(frames)]
    return [DumpSegment(np.array([f.positions for f in frames[a:b]]),
                        np.array([f.box for f in frames[a:b]]), steps[a:b],
                        np.array([f.lo for f in frames[a:b]]),
                        any(f.unwrapped for f in frames[a:b]))
            for a, b in zip(cuts[:-1], cuts[1:])]
