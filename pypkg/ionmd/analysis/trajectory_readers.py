"""Readers of one trajectory file each into :class:`~ionmd.analysis.unwrapping.Piece`
objects: DCD through MDAnalysis, XTC through its XTC file class, ``dump custom``/``dump
atom`` files (plain or compressed) by ionmd's own reader (:func:`read_pieces`); the data
file through MDAnalysis (:func:`universe`); empty pieces of a resumed run left out
(:func:`without_empty_pieces`).
"""

from __future__ import annotations

import shlex
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from ionmd.analysis.box_origin import ORIGINLESS_FORMATS, box_origins
from ionmd.analysis.unwrapping import Piece
from ionmd.errors import AnalysisError
from ionmd.lammps.dcd import dcd_layout
from ionmd.lammps.dump import AtomsLostInDump, read_dump
from ionmd.lammps.xtc import read_xtc, xtc_atom_count, xtc_whole_frames


def universe(data_file: Path, traj_file: Path | None, atom_style: str, fmt: str | None):
    import MDAnalysis as mda

    if not Path(data_file).is_file():
        raise AnalysisError(f"data file {data_file} not found")
    kwargs = {"topology_format": "DATA", "atom_style": atom_style}
    if traj_file is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # masses guessed without a Masses section
                return mda.Universe(str(data_file), **kwargs)
        except (ValueError, IndexError) as exc:  # IndexError: fewer columns than atom_style
            raise AnalysisError(f"cannot parse data file {data_file} with atom_style "
                                f"{atom_style!r} ({exc}); give the Atoms columns, e.g. "
                                f"--atom-style 'id type q x y z'") from exc
    fmt = fmt or "LAMMPS"
    if fmt == "LAMMPS":  # LAMMPS's DCD flavour: lengths in A, time step in fs
        kwargs.update(format="LAMMPS", lengthunit="Angstrom", timeunit="fs")
    else:
        kwargs.update(format=fmt)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return mda.Universe(str(data_file), str(traj_file), **kwargs)
    except ValueError as exc:
        if "atoms" in str(exc).lower():
            raise AnalysisError(f"{traj_file} does not match {data_file}: {exc}; use the data "
                                f"file written by the same run") from exc
        raise AnalysisError(f"cannot read {traj_file}: {exc}") from exc
    except (OSError, EOFError, IndexError) as exc:
        raise AnalysisError(f"cannot read {traj_file} (empty or truncated?): {exc}") from exc


def _format_of(traj_file: Path, fmt: str | None) -> str:
    """MDAnalysis's format of a trajectory file: ``fmt`` if given, else by its suffix."""
    return fmt or ORIGINLESS_FORMATS.get(traj_file.suffix.lower(), "LAMMPSDUMP")


def _is_dump(traj_file: Path, fmt: str | None) -> bool:
    return _format_of(traj_file, fmt) == "LAMMPSDUMP"


def read_pieces(data_file: Path, traj_file: Path, atom_style: str, fmt: str | None,
                 atom_ids: np.ndarray, unwrapped: bool) -> list[Piece]:
    """The frames of one trajectory file: one piece, or several for a dump file that a
    resumed run appended to (``unwrapped``: see :func:`ionmd.lammps.dump.read_dump`)."""
    traj_file = Path(traj_file)
    if not traj_file.is_file():
        raise AnalysisError(f"trajectory file {traj_file} not found")
    if traj_file.stat().st_size == 0:
        raise AnalysisError(f"trajectory file {traj_file} is empty (did the run start?)")
    if _is_dump(traj_file, fmt):
        try:
            return _dump_pieces(read_dump(traj_file, data_file, atom_ids, unwrapped))
        except AtomsLostInDump as lost:     # the frames before the loss, for its caller
            lost.pieces = _dump_pieces(lost.segments)
            raise
    fmt = _format_of(traj_file, fmt)
    if fmt == "XTC":
        return [_read_xtc(data_file, traj_file, atom_style)]
    return [_read_dcd(data_file, traj_file, atom_style, fmt)]


def _dump_pieces(segments) -> list[Piece]:
    """A dump's segments as pieces: its positions are relative to its own lo of each
    frame, moved by it into LAMMPS's absolute frame, exact under any box motion
    (fixedpoint, fix deform), where box_origins assumes a fixed centre."""
    return [Piece(seg.positions + seg.origins[:, None, :], seg.boxes, seg.steps, (0,),
                  seg.origins, lammps_unwrapped=seg.unwrapped) for seg in segments]


def _read_dcd(data_file: Path, traj_file: Path, atom_style: str, fmt: str | None) -> Piece:
    """One DCD file (or another format MDAnalysis reads, ``fmt``) as a piece."""
    size = traj_file.stat().st_size
    is_lammps_dcd = (fmt or "LAMMPS") == "LAMMPS"
    layout = dcd_layout(traj_file) if is_lammps_dcd and size >= 100 else None
    if is_lammps_dcd and (size < 100 or (layout and size < layout.header)):
        # (MDAnalysis's DCD reader fails on these with a noisy error from its destructor)
        raise AnalysisError(f"{traj_file} is cut off inside its header ({size} bytes): empty "
                            f"or truncated; the run stopped before writing its first frame?")
    u = universe(data_file, traj_file, atom_style, fmt)
    reader = u.trajectory
    if len(reader) == 0:
        raise AnalysisError(f"trajectory file {traj_file} has no frames (empty or truncated)")
    is_dcd = type(reader).__name__ == "DCDReader"
    if is_dcd:
        # LAMMPS writes the first step (istart) and the dump interval (nsavc) in the header
        header = reader._file.header
        if header["nsavc"] <= 0:
            raise AnalysisError(f"{traj_file}: DCD header has no dump interval; not a LAMMPS DCD?")
    positions, boxes, steps = [], [], []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the reader's 'no dt' note: steps are used, not times
            for i, ts in enumerate(reader):
                positions.append(u.atoms.positions.astype(np.float64))
                boxes.append(ts.triclinic_dimensions.astype(np.float64))
                steps.append(header["istart"] + i * header["nsavc"] if is_dcd else ts.data["step"])
    except (OSError, EOFError, ValueError, IndexError) as exc:
        raise AnalysisError(f"cannot read {traj_file} past frame {len(steps)} (truncated?): {exc}") from exc
    if is_dcd and layout and (size - layout.header) % layout.frame:
        n_whole = layout.whole_frames(traj_file)
        raise _cut_inside_frame(traj_file, n_whole, layout.header + n_whole * layout.frame,
                                steps)
    boxes = np.array(boxes)
    origins = box_origins(data_file, boxes) if is_dcd else np.zeros((len(steps), 3))
    return Piece(np.array(positions), boxes, np.array(steps, dtype=np.int64), (0,), origins)


def _read_xtc(data_file: Path, traj_file: Path, atom_style: str) -> Piece:
    """One XTC file (``dump xtc``) as a piece: absolute positions and no box origin, as
    a DCD (:func:`box_origins`). Read without MDAnalysis's trajectory reader, which
    writes hidden index files into the run folder (:func:`ionmd.lammps.xtc.read_xtc`)."""
    n_data = len(universe(data_file, None, atom_style, None).atoms)
    if traj_file.stat().st_size == 0:
        raise AnalysisError(f"trajectory file {traj_file} has no frames (empty or truncated)")
    n_xtc = xtc_atom_count(traj_file)
    if n_xtc != n_data:
        raise AnalysisError(f"{traj_file} does not match {data_file}: {n_xtc} atoms in each "
                            f"frame, {n_data} in the data file; dump all atoms ('dump ID all "
                            f"xtc ...', not a group) and use the data file written by the "
                            f"same run")
    n_whole, end = xtc_whole_frames(traj_file)
    if end != traj_file.stat().st_size:    # (MDAnalysis reads its whole frames silently)
        raise _cut_inside_frame(traj_file, n_whole, end, _xtc_steps(traj_file, n_whole))
    try:
        positions, boxes, steps = read_xtc(traj_file)
    except (OSError, EOFError, ValueError, RuntimeError) as exc:
        raise AnalysisError(f"cannot read {traj_file}: {exc}") from exc
    return Piece(positions, boxes, steps, (0,), box_origins(data_file, boxes))


def _xtc_steps(traj_file: Path, n_frames: int) -> list[int]:
    """The steps of an XTC file's first ``n_frames`` frames (of a file cut after them)."""
    from MDAnalysis.lib.formats.libmdaxdr import XTCFile

    steps = []
    with XTCFile(str(traj_file)) as xtc:
        for _, frame in zip(range(n_frames), xtc):
            steps.append(frame.step)
    return steps


def _cut_inside_frame(traj_file: Path, n_whole: int, end: int,
                      steps: Sequence[int]) -> AnalysisError:
    """The refusal of a DCD or XTC file that ends inside a frame, its ``n_whole`` whole
    frames in its first ``end`` bytes, with the command that copies them into a file of
    their own (MDAnalysis reads a DCD's frame count from its size)."""
    if n_whole == 0:
        return AnalysisError(f"{traj_file} ends in the middle of its first frame (truncated: "
                             f"the run was killed while writing?); no whole frame to read: "
                             f"rerun")
    whole = traj_file.with_name(f"{traj_file.stem}.whole{traj_file.suffix}")
    last = f" (the last at step {steps[n_whole - 1]})" if 0 < n_whole <= len(steps) else ""
    return AnalysisError(f"{traj_file} ends in the middle of a frame (truncated: the run was "
                         f"killed while writing?); {n_whole} whole frames are readable{last}: "
                         f"copy them into a file of their own, the original kept as it is "
                         f"(head -c {end} {shlex.quote(str(traj_file))} > "
                         f"{shlex.quote(str(whole))}) and analyse that with --trajectory "
                         f"{shlex.quote(whole.name)} ('trajectory' in run.json); or rerun")


def without_empty_pieces(pieces: list[Path]) -> tuple[list[Path], list[Path]]:
    """``pieces`` split into those to read and the empty ones among several: a piece that
    LAMMPS stopped at its setup (lost atoms, a bad restart) before its first frame leaves
    an empty file, while the frames of the pieces before it are good. An empty file that
    is the only one stays (reading it says it is empty)."""
    empty = [p for p in pieces if _is_empty(p)]
    if not empty or len(empty) == len(pieces):
        return list(pieces), []
    return [p for p in pieces if p not in empty], empty


def _is_empty(path: Path) -> bool:
    """A file of no bytes, or a compressed one (``dump custom/gz``; bzip2, xz, told by its
    leading bytes as the dump reader tells them, whatever its name) of none once unpacked."""
    import lzma
    import zlib

    from ionmd.lammps.dump import compression_of, open_dump

    if not path.is_file():
        return False
    if path.stat().st_size == 0:
        return True
    if compression_of(path) is None:
        return False
    try:
        with open_dump(path) as fh:
            return fh.read(1) == ""
    except (OSError, EOFError, zlib.error, lzma.LZMAError, UnicodeDecodeError):
        return False          # cut off or damaged: reading it says so
