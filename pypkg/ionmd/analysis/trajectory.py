"""Read LAMMPS trajectories (DCD through MDAnalysis, XTC through its XTC file class;
``dump custom``/``dump atom`` files, plain or gzipped, by ionmd's own reader) with a data
file, stitch the pieces of resumed runs and unwrap coordinates so that they stay right
under a changing box.

Unwrapping. The displacement between consecutive frames is taken as the minimum image
in the later box and summed (the "TOR" scheme of Bullerjahn, von Bülow and Hummer,
J. Chem. Phys. 158, 2023, also used by kinisi). On the coordinates LAMMPS wraps itself
(DCD by default, ``x y z`` or ``xs ys zs`` dumps) this is exact in any box history,
provided no atom moves more than half a box width between two frames; :func:`unwrap`
refuses trajectories where a step comes close to that (dump more often). Atoms crossing
many images are no problem: only the per-frame step matters.

LAMMPS's own unwrapped coordinates (``dump_modify unwrap yes``, ``xu yu zu``) are
``x + n H(t)``: once the box changes (NpT) an atom with image ``n != 0`` gets a spurious
displacement ``n dH`` every frame, growing as ions diffuse through more images. Such
input is first wrapped back into each frame's box, ``[lo(t), lo(t) + H(t))``, which
removes ``n``. A dump says by its columns whether it holds such coordinates; a DCD does
not (``dump_modify unwrap yes`` leaves no mark), so one is taken as unwrapped where no atom
ever jumps by half a cell between frames (:func:`wraps_at_faces`: LAMMPS's wrapped atoms
jump by a cell at each face they cross). Before, input was taken as unwrapped where some
atom lay more than a quarter cell outside its frame's box (:func:`looks_unwrapped`),
which missed solids under ``fix deform`` whose atoms crossed a face by less (an ``xu yu
zu`` dump kept ``n dH``: 4.2 A for one atom, MSD 4.7 % off; a DCD with ``unwrap yes``
2.05 A and 8.6 %), and took a wrapped DCD for unwrapped where ``fix deform`` moved the
box centre it is placed about (then wrapped into a box off LAMMPS's: 0.7 A, MSD 4.5 %
low). Each piece of a resumed run is judged on its own; where one is unwrapped, all are
wrapped back (:func:`stitch`).

Dumps store ``lo(t)`` in each frame, and their positions, relative to it, are moved by
it into LAMMPS's absolute frame, the one of ``compute msd`` (relative to ``lo`` every
atom would move by ``lo(0) - lo(t)`` as the box breathes: 1.67 A in a hot NpT run). DCDs
(and XTCs, ``dump xtc``, in nm to 0.001 nm: 0.005 A) hold absolute positions and store no
``lo``: it follows from the data file's box
centre, fixed by LAMMPS's barostats (``fix npt/nph``, default ``dilate all``, no
``fixedpoint``; :func:`box_origins`); where a run's logs echo a command that moves it
(``fixedpoint``, ``fix deform ... final`` off the centre), or where it has no logs to
tell, its results say that the DCD's frame is guessed (:func:`dcd_origin_note`).

One ambiguity is left: LAMMPS wraps atoms only at neighbour-list rebuilds, so an atom
that has just crossed a face may belong to either image, an error of about the box
change over one frame for that atom (measured: MSD within 0.5 % where the naive use was
16 % off, for a box growing 20 % in 0.3 ps). Wrapped output has no such ambiguity:
prefer it for NpT runs.
"""

from __future__ import annotations

import shlex
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from ionmd.errors import AnalysisError, IonmdNote
from ionmd.lammps.data_file import data_box_centre, resolve_atom_style
from ionmd.lammps.dcd import dcd_layout
from ionmd.lammps.dump import read_dump
from ionmd.lammps.xtc import read_xtc, xtc_atom_count, xtc_whole_frames

#: A frame-to-frame step longer than this fraction of the narrowest box width is
#: ambiguous for unwrapping (the minimum image may be the wrong one).
MAX_STEP_FRACTION = 0.4


@dataclass
class Trajectory:
    """Unwrapped Cartesian trajectory of one run.

    Attributes
    ----------
    positions : ndarray, shape (T, N, 3)
        Unwrapped Cartesian positions in Å (continuous in time).
    boxes : ndarray, shape (T, 3, 3)
        Cell vectors as rows, Å.
    steps : ndarray of int, shape (T,)
        MD step of each frame, strictly increasing with a constant spacing.
    elements : ndarray of str, shape (N,)
        Chemical symbol of each atom (in atom-ID order).
    masses : ndarray, shape (N,)
        Atomic masses in amu.
    timestep_fs : float
        MD integration time step in fs.
    fractions : ndarray, shape (T, N, 3), optional
        Fractional coordinates in [0, 1) of each frame's cell as the files hold them
        (LAMMPS's own wrapping, :meth:`Piece.wrapped_fractions`), float32; not moved by
        :meth:`framework_drift_removed`. What a density grid needs: fractions followed
        from the drift-removed positions carry that drift (0.20 A mean in a hot NpT
        liquid where these are 0.03 A from LAMMPS's xs ys zs). None where not read.
    """

    positions: np.ndarray
    boxes: np.ndarray
    steps: np.ndarray
    elements: np.ndarray
    masses: np.ndarray
    timestep_fs: float
    fractions: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        return self.positions.shape[0]

    @property
    def n_atoms(self) -> int:
        return self.positions.shape[1]

    @property
    def times_ps(self) -> np.ndarray:
        """Time of each frame since the first frame, ps."""
        return (self.steps - self.steps[0]) * self.timestep_fs * 1e-3

    @property
    def frame_interval_ps(self) -> float:
        return float((self.steps[1] - self.steps[0]) * self.timestep_fs * 1e-3)

    @property
    def volumes(self) -> np.ndarray:
        """Cell volume of each frame, Å^3."""
        return np.abs(np.linalg.det(self.boxes))

    def indices(self, species: str | Sequence[str]) -> np.ndarray:
        """Atom indices of one species or several; raises if one of them is absent."""
        wanted = [species] if isinstance(species, str) else list(species)
        present = sorted(set(self.elements.tolist()))
        missing = [s for s in wanted if s not in present]
        if missing:
            raise AnalysisError(f"species {missing} not in this trajectory (present: {present}); "
                                f"check the mobile species and the type -> element map")
        return np.flatnonzero(np.isin(self.elements, wanted))

    def discard(self, discard_ps: float) -> "Trajectory":
        """The trajectory without its first ``discard_ps`` ps (equilibration)."""
        keep = self.times_ps >= discard_ps - 1e-9
        if keep.sum() < 3:
            raise AnalysisError(
                f"run too short for the requested discard time: {discard_ps} ps discarded of "
                f"{self.times_ps[-1]:.3f} ps leaves {int(keep.sum())} frames (need >= 3); "
                f"lower discard_ps or run longer")
        fractions = None if self.fractions is None else self.fractions[keep]
        return replace(self, positions=self.positions[keep], boxes=self.boxes[keep],
                       steps=self.steps[keep], fractions=fractions)

    def framework_drift_removed(self, mobile: Sequence[str]) -> "Trajectory":
        """Positions with the displacement of the framework's centre of mass (all atoms
        not in ``mobile``, mass-weighted) subtracted from every atom, so a drifting
        framework does not show up as diffusion."""
        frame_idx = np.flatnonzero(~np.isin(self.elements, list(mobile)))
        if frame_idx.size == 0:
            return self
        m = self.masses[frame_idx]
        com = np.einsum("tnk,n->tk", self.positions[:, frame_idx], m) / m.sum()
        return replace(self, positions=self.positions - (com - com[0])[:, None, :])


def fractional(positions: np.ndarray, boxes: np.ndarray,
               origins: np.ndarray | None = None) -> np.ndarray:
    """Fractional coordinates (T, N, 3) relative to each frame's box origin ``lo``."""
    rel = positions if origins is None else positions - origins[:, None, :]
    return np.einsum("tnk,tkl->tnl", rel, np.linalg.inv(boxes))


def wrap(positions: np.ndarray, boxes: np.ndarray,
         origins: np.ndarray | None = None) -> np.ndarray:
    """Map Cartesian positions (T, N, 3) into their frame's cell ``[lo, lo + H)``
    (``origins`` = lo per frame, (T, 3); 0 by default)."""
    frac = fractional(positions, boxes, origins)
    frac -= np.floor(frac)
    out = np.einsum("tnk,tkl->tnl", frac, boxes)
    return out if origins is None else out + origins[:, None, :]


def looks_unwrapped(positions: np.ndarray, boxes: np.ndarray,
                    origins: np.ndarray | None = None, chunk: int = 256) -> bool:
    """True if some atom lies more than a quarter cell outside its frame's box: LAMMPS
    wraps atoms at every neighbour-list rebuild, so its wrapped output never does. In
    chunks of frames, so no (T, N, 3) temporaries."""
    for a in range(0, len(positions), chunk):
        part = slice(a, a + chunk)
        frac = fractional(positions[part], boxes[part],
                          None if origins is None else origins[part])
        if np.any(frac < -0.25) or np.any(frac > 1.25):
            return True
    return False


#: A step between two frames longer than this fraction of a cell vector is a wrap: an atom
#: LAMMPS wrapped back on crossing a face moves by one cell less its own step, which
#: unwrapping refuses beyond MAX_STEP_FRACTION anyway.
WRAP_JUMP_FRACTION = 0.5


def wraps_at_faces(positions: np.ndarray, boxes: np.ndarray,
                   seams: Sequence[int] = ()) -> bool:
    """Whether some atom jumps by more than :data:`WRAP_JUMP_FRACTION` of a cell vector
    between two frames (in the later frame's cell; the steps into the frames ``seams``
    aside, where a resumed piece begins, wrapped anew): LAMMPS wrapped it back into the
    box at a face. Its unwrapped coordinates, ``x + n H(t)``, never jump so."""
    jump = _longest_fractional_steps(positions, np.linalg.inv(boxes))
    jump[[s - 1 for s in seams if 0 < s <= len(jump)]] = 0.0
    return bool(jump.size and jump.max() > WRAP_JUMP_FRACTION)


def box_changes(boxes: np.ndarray) -> bool:
    """Whether the cell (T, 3, 3) differs between frames by more than 1e-6 A."""
    return not np.allclose(boxes, boxes[0], rtol=0, atol=1e-6)


def cell_widths(boxes: np.ndarray) -> np.ndarray:
    """Distances between opposite faces of each cell (T, 3): V / |a_j x a_k|."""
    from ionmd.structures.geometry import perpendicular_widths

    return perpendicular_widths(boxes)


def unwrap(positions: np.ndarray, boxes: np.ndarray,
           origins: np.ndarray | None = None, advice: str = "dump positions more often"
           ) -> np.ndarray:
    """Continuous positions from wrapped (or LAMMPS-unwrapped) ones in a changing box.

    Parameters
    ----------
    positions : ndarray, shape (T, N, 3)
        Cartesian positions: as LAMMPS wrapped them, or LAMMPS-unwrapped (then give
        ``origins``, or the box must be constant).
    boxes : ndarray, shape (T, 3, 3)
        Cell vectors (rows) of each frame.
    origins : ndarray, shape (T, 3), optional
        Box origin ``lo`` of each frame: the positions are first wrapped into
        ``[lo, lo + H)``, which removes LAMMPS's image counts exactly (see module doc).
    advice : str
        What the refusal of a too-long step tells the user to do.

    Returns
    -------
    ndarray, shape (T, N, 3)
        Continuous positions starting from the (wrapped) first frame.

    Raises
    ------
    AnalysisError
        If an atom moves more than ``MAX_STEP_FRACTION`` of the narrowest box width
        between two frames, where the minimum image is no longer unambiguous.
    """
    if not np.all(np.isfinite(positions)):
        raise AnalysisError("trajectory has NaN/Inf coordinates; run failure detection "
                            "(ionmd analyze --failures-only) to see where the run broke")
    wrapped = positions if origins is None else wrap(positions, boxes, origins)
    step = np.diff(wrapped, axis=0)
    inv_next = np.linalg.inv(boxes[1:])
    frac = np.einsum("tnk,tkl->tnl", step, inv_next)
    step -= np.einsum("tnk,tkl->tnl", np.round(frac), boxes[1:])
    limit = MAX_STEP_FRACTION * cell_widths(boxes)[1:].min(axis=1)
    longest = np.linalg.norm(step, axis=-1).max(axis=1) if step.size else np.zeros(0)
    bad = np.flatnonzero(longest > limit)
    if bad.size:
        t = bad[0]
        raise AnalysisError(
            f"an atom moves {longest[t]:.2f} A between frames {t} and {t + 1}, more than "
            f"{MAX_STEP_FRACTION} of the box width ({limit[t]:.2f} A): unwrapping is ambiguous; "
            f"{advice}")
    out = np.empty_like(wrapped)
    out[0] = wrapped[0]
    out[1:] = wrapped[0] + np.cumsum(step, axis=0)
    return out


@dataclass
class Piece:
    """Frames as read: raw positions (any image; a dump's moved by its own ``lo`` of each
    frame into LAMMPS's absolute frame, a DCD's as written), boxes, steps; ``starts`` are the frame
    indices where a trajectory file begins (``[0]`` for one file)."""

    positions: np.ndarray
    boxes: np.ndarray
    steps: np.ndarray
    starts: tuple[int, ...] = (0,)
    origins: np.ndarray | None = None   # box lo per frame (T, 3); None: 0
    #: (first frame, end frame, lattice vectors (N, 3)): :func:`stitch`'s alignment of a
    #: resumed piece with the frame it repeats (see :meth:`aligned`)
    seam_shifts: tuple[tuple[int, int, np.ndarray], ...] = ()
    #: the positions are LAMMPS's unwrapped ones (a dump's ``xu``/``xsu`` columns, image
    #: flags added); None where the file does not say (DCD): see :meth:`holds_lammps_unwrapped`.
    #: Of stitched pieces: those of some piece are (:func:`stitch`)
    lammps_unwrapped: bool | None = None
    #: of stitched pieces: those of some piece are wrapped (its columns, or a DCD's atoms
    #: jumping a cell at faces), so that ``lammps_unwrapped`` is not true of every frame
    wrapped_part: bool = False

    def aligned(self) -> np.ndarray:
        """The positions with each resumed piece moved by the lattice vectors that make
        its repeated first frame coincide with the previous piece's last one (image flags
        restart when a run resumes from a data file; LAMMPS wraps atoms when it resumes).
        ``positions`` stay as written: those lattice vectors are of the seam's box, no
        lattice vectors of a later box that has deformed (or flipped) since, so periodic
        distances and wrapping must not see them."""
        if not self.seam_shifts:
            return self.positions
        out = self.positions.copy()
        for first, end, shift in self.seam_shifts:
            out[first:end] += shift
        return out

    def unwrapped(self) -> np.ndarray:
        """Continuous positions: TOR unwrapping of the aligned positions (exact across the
        seams), or, when the box changes and the coordinates are LAMMPS-unwrapped, of the
        positions wrapped into ``[lo, lo + H)`` (see module doc)."""
        changing = box_changes(self.boxes)
        if changing and self.holds_lammps_unwrapped():
            origins = self.origins if self.origins is not None else np.zeros((len(self.steps), 3))
            return unwrap(self.positions, self.boxes, origins)
        # in a constant box, unwrapped coordinates or image flags are exact at any interval
        advice = "dump positions more often" + ("" if changing else CONSTANT_BOX_ADVICE)
        return unwrap(self.aligned(), self.boxes, advice=advice)

    def holds_lammps_unwrapped(self) -> bool:
        """Whether the positions are LAMMPS's unwrapped ones, ``x + n H(t)``: as the
        dump's columns say, else (a DCD) where no atom jumps by half a cell between two
        frames (:func:`wraps_at_faces`), whichever box its frames are placed in. Wrapped
        frames in which no atom ever crossed a face are the same either way but for an
        atom LAMMPS had not wrapped yet (see module doc). An atom moving half a cell
        between two frames makes unwrapping ambiguous anyway (:func:`unwrap`)."""
        if self.lammps_unwrapped is not None:
            return self.lammps_unwrapped
        # (the steps into each resumed piece aside: no aligned copy of every frame needed)
        seams = (*self.starts, *(first for first, _, _ in self.seam_shifts))
        return not wraps_at_faces(self.positions, self.boxes, seams)

    def wrapped_fractions(self) -> np.ndarray:
        """Fractional coordinates in [0, 1) of each frame's cell, float32 (T, N, 3): the
        files' own wrapping. LAMMPS-unwrapped input, ``lo + (s + n) H(t)``, gives the same
        ``s``: the image count ``n`` is an integer in the frame's own cell."""
        frac = fractional(self.positions, self.boxes, self.origins)
        return (frac - np.floor(frac)).astype(np.float32)


#: Added to the "dump positions more often" refusal where the box is constant.
CONSTANT_BOX_ADVICE = (
    ", or, the box being constant, analyse with --dump-unwrapped ('dump_unwrapped' in "
    "run.json) if the files hold LAMMPS's unwrapped coordinates or image flags (dump custom "
    "with xu yu zu, or x y z ix iy iz; dump dcd with 'dump_modify ID unwrap yes'): exact "
    "at any dump interval")


def _universe(data_file: Path, traj_file: Path | None, atom_style: str, fmt: str | None):
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


#: MDAnalysis's formats of the trajectories LAMMPS writes with no box origin (``dump dcd``,
#: ``dump xtc``), told by their suffix; any other file is read as a ``dump custom``/``atom``.
ORIGINLESS_FORMATS = {".dcd": "LAMMPS", ".xtc": "XTC"}


def _format_of(traj_file: Path, fmt: str | None) -> str:
    """MDAnalysis's format of a trajectory file: ``fmt`` if given, else by its suffix."""
    return fmt or ORIGINLESS_FORMATS.get(traj_file.suffix.lower(), "LAMMPSDUMP")


def _is_dump(traj_file: Path, fmt: str | None) -> bool:
    return _format_of(traj_file, fmt) == "LAMMPSDUMP"


def _read_pieces(data_file: Path, traj_file: Path, atom_style: str, fmt: str | None,
                 atom_ids: np.ndarray, unwrapped: bool) -> list[Piece]:
    """The frames of one trajectory file: one piece, or several for a dump file that a
    resumed run appended to (``unwrapped``: see :func:`ionmd.lammps.dump.read_dump`)."""
    traj_file = Path(traj_file)
    if not traj_file.is_file():
        raise AnalysisError(f"trajectory file {traj_file} not found")
    if traj_file.stat().st_size == 0:
        raise AnalysisError(f"trajectory file {traj_file} is empty (did the run start?)")
    if _is_dump(traj_file, fmt):
        pieces = []
        for seg in read_dump(traj_file, data_file, atom_ids, unwrapped):
            # the dump's positions are relative to its own lo of each frame: moved by it
            # into LAMMPS's absolute frame, exact under any box motion (fixedpoint,
            # fix deform), where box_origins assumes a fixed centre
            pieces.append(Piece(seg.positions + seg.origins[:, None, :], seg.boxes, seg.steps,
                                (0,), seg.origins, lammps_unwrapped=seg.unwrapped))
        return pieces
    fmt = _format_of(traj_file, fmt)
    if fmt == "XTC":
        return [_read_xtc(data_file, traj_file, atom_style)]
    return [_read_dcd(data_file, traj_file, atom_style, fmt)]


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
                    log_files: Sequence[str | Path]) -> str | None:
    """Where a run's trajectory is a DCD (no box origin stored) and its logs echo a
    command that may move the box centre (:func:`moving_centre_commands`), or there are
    no logs to tell, a note that its absolute frame is guessed (:func:`box_origins`):
    fractional coordinates (density grids) and absolute positions may be off by the
    centre's motion. None otherwise, e.g. under the default ``fix npt``, which dilates
    about the centre."""
    kinds = {Path(f).suffix.lower() for f in traj_files} & ORIGINLESS_FORMATS.keys()
    if not kinds:
        return None
    kind = "/".join(sorted(k[1:].upper() for k in kinds))
    texts = [Path(f).read_text(errors="replace") for f in log_files if Path(f).is_file()]
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


def _read_dcd(data_file: Path, traj_file: Path, atom_style: str, fmt: str | None) -> Piece:
    """One DCD file (or another format MDAnalysis reads, ``fmt``) as a piece."""
    size = traj_file.stat().st_size
    is_lammps_dcd = (fmt or "LAMMPS") == "LAMMPS"
    layout = dcd_layout(traj_file) if is_lammps_dcd and size >= 100 else None
    if is_lammps_dcd and (size < 100 or (layout and size < layout.header)):
        # (MDAnalysis's DCD reader fails on these with a noisy error from its destructor)
        raise AnalysisError(f"{traj_file} is cut off inside its header ({size} bytes): empty "
                            f"or truncated; the run stopped before writing its first frame?")
    u = _universe(data_file, traj_file, atom_style, fmt)
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
    n_data = len(_universe(data_file, None, atom_style, None).atoms)
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


def stitch(pieces: Sequence[Piece]) -> Piece:
    """Join the pieces of a resumed run in the given order.

    A resumed run writes its restart step again: frames whose step is not after the
    last kept step are dropped. A piece that starts before the previous one ended goes
    back to its first step s: the previous piece's frames after s are of a run abandoned
    there (killed after its last restart file, it went on; the next piece ran those steps
    again on another trajectory). Its frame at s stays where both hold one configuration
    (a restart's); where they do not (``reset_timestep 0`` after an equilibration dumped
    to a file of its own: the production starts at step 0 again, from the
    equilibration's last state), the previous piece's frames from s on are all dropped.
    When the dropped frame is that same step, the two copies
    are one configuration, so the later piece is to be shifted by the lattice vector
    between them (image flags restart when a run resumes from a data file; atoms outside
    the box are wrapped when a run resumes): recorded in ``seam_shifts``, applied by
    :meth:`Piece.aligned`, while ``positions`` stay as written. The dump interval must be
    the same everywhere and the pieces must leave no gap.

    Returns
    -------
    Piece
        ``starts`` lists where each piece begins; seams aligned through a repeated frame
        are not listed after the first (they need no further joining).
        ``lammps_unwrapped``: some piece holds LAMMPS-unwrapped positions (its columns
        say so or, in a changing box, a DCD's own frames show it:
        :func:`_holds_lammps_unwrapped`), ``wrapped_part``: not every piece does.
    """
    if not pieces:
        raise AnalysisError("no trajectory pieces given")
    kept: list[_Kept] = []
    for k, piece in enumerate(pieces):
        if kept and len(piece.steps) and piece.steps[0] < kept[-1].steps[-1]:
            if piece.steps[0] < kept[-1].steps[0]:
                raise AnalysisError(f"trajectory piece {k} starts at step {piece.steps[0]}, "
                                    f"before the previous piece (from step "
                                    f"{kept[-1].steps[0]}); check the piece order")
            before = kept.pop()
            cut = (before.steps <= piece.steps[0] if _same_configuration(before, piece)
                   else before.steps < piece.steps[0])
            if cut.any():
                kept.append(before.rows(cut))
        last = kept[-1].steps[-1] if kept else None
        sel = np.ones(len(piece.steps), bool) if last is None else piece.steps > last
        if not sel.any():
            raise AnalysisError(f"trajectory piece {k} adds no frame after step {last}; "
                                f"check the piece order")
        shift, joined = (kept[-1].shift, False) if kept else (np.zeros(3), True)
        dup = np.flatnonzero(piece.steps == last) if kept else ()
        if len(dup):
            # the lattice vectors between the two copies as written, in their box;
            # added to the earlier pieces' (one constant per atom: exact for TOR)
            shift = shift + _lattice_gap(kept[-1].positions[-1], piece.positions[dup[0]],
                                         kept[-1].boxes[-1])
            joined = True
        origins = (piece.origins[sel] if piece.origins is not None
                   else np.zeros((int(sel.sum()), 3)))
        kept.append(_Kept(piece.positions[sel], piece.boxes[sel], piece.steps[sel], origins,
                          joined, shift, piece.lammps_unwrapped))
    return _joined(kept)


@dataclass
class _Kept:
    """The frames :func:`stitch` keeps of one piece, whether they were joined to the
    previous piece's through a repeated frame, and the lattice vectors aligning them."""

    positions: np.ndarray
    boxes: np.ndarray
    steps: np.ndarray
    origins: np.ndarray
    joined: bool
    shift: np.ndarray
    lammps_unwrapped: bool | None = None

    def rows(self, which: np.ndarray) -> "_Kept":
        return _Kept(self.positions[which], self.boxes[which], self.steps[which],
                     self.origins[which], self.joined, self.shift, self.lammps_unwrapped)


def _lattice_gap(a: np.ndarray, b: np.ndarray, box: np.ndarray) -> np.ndarray:
    """The lattice vectors (of ``box``, rows) nearest to ``a - b``, per atom."""
    return np.round((a - b) @ np.linalg.inv(box)) @ box


#: Two frames are of one configuration where their atoms are this close (Å, the median
#: atom, lattice vectors aside): the same state written twice differs by the files'
#: rounding (DCD's float32, a text dump's 6 digits: ~1e-5 Å near the box), where
#: the states of an MD run at two times differ by their atoms' thermal motion (~0.1 Å
#: within one dump interval).
SAME_CONFIGURATION_A = 1e-2


def _same_configuration(before: _Kept, piece: Piece) -> bool:
    """Whether ``before`` holds a frame at ``piece``'s first step with the same positions,
    lattice vectors aside (a restart's state, written by the run killed after it and by
    the run resumed from it)."""
    at = np.flatnonzero(before.steps == piece.steps[0])
    if not at.size or before.positions.shape[1:] != piece.positions.shape[1:]:
        return False
    a, b, box = before.positions[at[0]], piece.positions[0], before.boxes[at[0]]
    apart = np.linalg.norm(a - b - _lattice_gap(a, b, box), axis=-1)
    return bool(np.median(apart) <= SAME_CONFIGURATION_A)


def _joined(kept: list[_Kept]) -> Piece:
    """The :class:`Piece` of the frames :func:`stitch` kept, checked for even spacing."""
    starts, seam_shifts, first = [0], [], 0
    for k, part in enumerate(kept):
        if k and not part.joined:
            starts.append(first)
        if k and np.any(part.shift):
            seam_shifts.append((first, first + len(part.steps), part.shift))
        first += len(part.steps)
    steps = np.concatenate([p.steps for p in kept])
    spacing = np.diff(steps)
    if len(steps) > 1 and (np.any(spacing <= 0) or np.any(spacing != spacing[0])):
        where = np.flatnonzero(spacing != spacing[0])
        raise AnalysisError(f"frames are not evenly spaced after stitching (steps "
                            f"{steps[where[0]]} -> {steps[where[0] + 1]}, expected spacing "
                            f"{spacing[0]}): a piece is missing or dumps at another interval")
    boxes = np.concatenate([p.boxes for p in kept])
    # a DCD's frames are judged only where it matters, in a changing box (NVT: no pass)
    changing = box_changes(boxes)
    flags = [_holds_lammps_unwrapped(p) if changing else p.lammps_unwrapped for p in kept]
    return Piece(np.concatenate([p.positions for p in kept]), boxes, steps, tuple(starts),
                 np.concatenate([p.origins for p in kept]), tuple(seam_shifts),
                 True if True in flags else (False if False in flags else None),
                 wrapped_part=any(f is not True for f in flags))


def _holds_lammps_unwrapped(part: _Kept) -> bool | None:
    """Whether one piece's kept frames are LAMMPS-unwrapped: as its columns say, else (a
    DCD) as its own frames show (:func:`wraps_at_faces`; None, not known, from a
    single frame). Judged piece by piece: a run resumed with ``dump_modify unwrap yes``
    added wraps atoms back at faces in its first DCD only, and judged as one its second
    kept ``n dH`` (2.3 A for one atom). Where some piece is unwrapped, all are wrapped
    back under a changing box: a no-op for wrapped ones but for atoms LAMMPS had not
    wrapped yet."""
    if part.lammps_unwrapped is not None or len(part.steps) < 2:
        return part.lammps_unwrapped
    return not wraps_at_faces(part.positions, part.boxes)


def continuous_unwrapped(piece: Piece) -> np.ndarray:
    """Positions from already-unwrapped coordinates (``dump_modify unwrap yes`` or
    ``xu yu zu``) in a constant box: exact however far atoms move between frames. A
    piece that does not repeat the previous piece's last step (see :func:`stitch`, which
    aligns those that do) is joined to it by the minimum image."""
    if box_changes(piece.boxes):
        raise AnalysisError("the box changes: LAMMPS's unwrapped coordinates are wrong under "
                            "NpT; analyse without 'dump_unwrapped' (minimum-image unwrapping)")
    pos = piece.aligned().copy()
    _refuse_wrapped(piece, pos)
    for start in piece.starts[1:]:
        joint = unwrap(pos[start - 1:start + 1], piece.boxes[start - 1:start + 1])
        pos[start:] += (joint[1] - joint[0]) - (pos[start] - pos[start - 1])
    return pos


#: A step longer than this fraction of a cell vector between two frames while no atom
#: ever leaves the cell by :func:`looks_unwrapped`'s margin: the coordinates are wrapped
#: (a face crossing is a step of one cell less the atom's own step).
WRAPPED_STEP_FRACTION = 0.75


def _refuse_wrapped(piece: Piece, aligned: np.ndarray) -> None:
    """Refuse coordinates given as LAMMPS-unwrapped (``dump_unwrapped``) that are evidently
    wrapped (a DCD without ``dump_modify unwrap yes``; used as they are, every face
    crossing is a jump of one cell: MSD 2.6x and 32x too large in NVT runs): no atom ever lies a
    quarter cell outside its frame's cell, while some atom's step between two frames
    (seams aside) is more than 3/4 of a cell vector. Unwrapped coordinates of a run where
    an atom crosses nearly a whole cell in one interval, from near one face to near the
    other, have, with all atoms diffusing that far, atoms well outside the cell; LAMMPS's
    wrapped ones never do. Frames all of whose pieces are unwrapped (``xu``, ``xsu``, image
    flags: :attr:`Piece.lammps_unwrapped`) are not judged: their atoms may well cross most
    of a cell in one interval of a long one, what ``dump_unwrapped`` is for."""
    if ((piece.lammps_unwrapped and not piece.wrapped_part)
            or looks_unwrapped(piece.positions, piece.boxes, piece.origins)):
        return
    jump = _longest_fractional_steps(aligned, np.linalg.inv(piece.boxes[0]))
    jump[[s - 1 for s in piece.starts[1:]]] = 0.0    # a resumed piece may be wrapped anew
    if jump.size and jump.max() > WRAPPED_STEP_FRACTION:
        t = int(np.argmax(jump))
        raise AnalysisError(
            f"the coordinates read as unwrapped (dump_unwrapped / --dump-unwrapped) are "
            f"wrapped: no atom ever leaves the cell, yet an atom moves {jump[t]:.2f} of a "
            f"cell vector between frames {t} and {t + 1} (a face crossing); analyse without "
            f"--dump-unwrapped (minimum-image unwrapping), or dump unwrapped coordinates "
            f"('dump_modify ID unwrap yes' for dump dcd, xu yu zu or ix iy iz for dump "
            f"custom)")


def _longest_fractional_steps(positions: np.ndarray, inverse: np.ndarray,
                              chunk: int = 256) -> np.ndarray:
    """Per pair of consecutive frames, the longest step along a cell vector (fractions of
    it): of a constant cell (``inverse`` (3, 3)) or of the later frame's (``inverse``
    (T, 3, 3), each frame's); in chunks of frames, so no (T, N, 3) temporaries."""
    out = np.zeros(max(len(positions) - 1, 0))
    for a in range(0, len(out), chunk):
        step = np.diff(positions[a:a + chunk + 1], axis=0)
        step = (step @ inverse if inverse.ndim == 2
                else np.einsum("tnk,tkl->tnl", step, inverse[a + 1:a + 1 + len(step)]))
        out[a:a + len(step)] = np.abs(step).max(axis=(1, 2))
    return out


def _elements_from_masses(masses: np.ndarray) -> np.ndarray:
    from ase.data import atomic_masses, chemical_symbols

    out = []
    for m in masses:
        z = int(np.argmin(np.abs(atomic_masses[1:] - m))) + 1
        if abs(atomic_masses[z] - m) > 0.1:
            raise AnalysisError(f"cannot tell the element of mass {m:.3f} amu; give a type -> "
                                f"element map (run.json 'type_map' or --type-map 1=Li,2=Cl)")
        out.append(chemical_symbols[z])
    return np.array(out)


def _masses_of(elements: np.ndarray) -> np.ndarray:
    from ase.data import atomic_masses, atomic_numbers

    unknown = sorted(set(elements.tolist()) - set(atomic_numbers))
    if unknown:
        raise AnalysisError(f"type map names {unknown}, not chemical elements; give element "
                            f"symbols, e.g. --type-map 1=Li,2=Cl")
    return np.array([atomic_masses[atomic_numbers[e]] for e in elements])


def elements_and_masses(data_file: Path, types: np.ndarray, masses: np.ndarray,
                        type_map: dict[int, str] | None) -> tuple[np.ndarray, np.ndarray]:
    """Element and mass of each atom: elements from the type map (else from the masses),
    masses from the data file (else, without a Masses section, from the type map's
    elements).

    Raises
    ------
    AnalysisError
        If the type map misses a type, or neither masses nor a type map are given.
    """
    has_masses = bool(np.all(np.isfinite(masses) & (masses > 0)))
    if not type_map:
        if not has_masses:
            raise AnalysisError(f"{data_file} has no Masses section: give a type -> element map "
                                f"(run.json 'type_map' or --type-map 1=Li,2=Cl)")
        return _elements_from_masses(masses), masses
    missing = sorted(set(types.tolist()) - set(type_map))
    if missing:
        raise AnalysisError(f"type map {type_map} has no element for LAMMPS types {missing}")
    elements = np.array([type_map[t] for t in types])
    return elements, (masses if has_masses else _masses_of(elements))


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


def read_frames(data_file: str | Path, traj_files: Sequence[str | Path], *,
                type_map: dict[int, str] | None = None, atom_style: str | None = None,
                fmt: str | None = None,
                unwrapped: bool = False) -> tuple[Piece, np.ndarray, np.ndarray]:
    """Raw stitched frames (positions as written, in LAMMPS's absolute frame: see
    :class:`Piece`), elements and masses; no unwrapping, so
    that a broken run (NaN, exploded) can still be examined. ``atom_style``: the data
    file's Atoms columns, by default those its ``Atoms # <style>`` line names
    (:func:`resolve_atom_style`). ``unwrapped``: the files hold LAMMPS-unwrapped
    coordinates (a dump's unwrapped columns are then read, not its wrapped ones). An
    empty piece among several (one LAMMPS stopped at its setup) is left out with a warning
    (:func:`without_empty_pieces`)."""
    if not traj_files:
        raise AnalysisError("no trajectory files given")
    data_file = Path(data_file)
    if not data_file.is_file():
        raise AnalysisError(f"data file {data_file} not found")
    atom_style = resolve_atom_style(data_file, atom_style)
    u = _universe(data_file, None, atom_style, None)
    types = np.array([int(t) for t in u.atoms.types])
    elements, masses = elements_and_masses(data_file, types, u.atoms.masses.astype(np.float64),
                                           type_map)
    atom_ids = np.sort(u.atoms.ids.astype(np.int64))
    traj_files, empty = without_empty_pieces([Path(f) for f in traj_files])
    for f in empty:
        warnings.warn(f"trajectory piece {f} is empty (LAMMPS stopped before its first "
                      f"frame?): left out, the other pieces read", IonmdNote, stacklevel=2)
    pieces = [piece for f in traj_files
              for piece in _read_pieces(data_file, Path(f), atom_style, fmt, atom_ids,
                                        unwrapped)]
    return stitch(pieces), elements, masses


def read_lammps_trajectory(data_file: str | Path, traj_files: Sequence[str | Path], *,
                           timestep_fs: float, type_map: dict[int, str] | None = None,
                           atom_style: str | None = None, fmt: str | None = None,
                           dump_unwrapped: bool = False) -> Trajectory:
    """Read, stitch and unwrap a LAMMPS trajectory.

    Parameters
    ----------
    data_file : path
        LAMMPS data file of the run (topology: atom IDs, types, masses).
    traj_files : sequence of paths
        DCD (``.dcd``) or ``dump custom``/``dump atom`` files (``.gz`` too), in run order
        (resumed pieces; a dump file appended to after a restart is split at its seams).
    timestep_fs : float
        MD time step in fs.
    type_map : dict, optional
        LAMMPS atom type -> element; by default from the data file's masses.
    atom_style : str, optional
        MDAnalysis atom_style of the data file's Atoms section; by default from its
        ``Atoms # <style>`` line (:func:`resolve_atom_style`).
    fmt : str, optional
        MDAnalysis format (``"LAMMPS"`` for DCD, ``"LAMMPSDUMP"``); by file suffix.
    dump_unwrapped : bool
        The files hold LAMMPS-unwrapped coordinates and the box is constant (NVT): use
        them as they are (:func:`continuous_unwrapped`), which stays exact for frames too
        far apart for minimum-image unwrapping. Refused when the box changes.
    """
    joined, elements, masses = read_frames(data_file, traj_files, type_map=type_map,
                                           atom_style=atom_style, fmt=fmt,
                                           unwrapped=dump_unwrapped)
    if len(joined.steps) < 2:
        raise AnalysisError("trajectory has fewer than 2 frames; nothing to analyse")
    positions = continuous_unwrapped(joined) if dump_unwrapped else joined.unwrapped()
    return Trajectory(positions=positions, boxes=joined.boxes,
                      steps=joined.steps, elements=elements, masses=masses,
                      timestep_fs=float(timestep_fs), fractions=joined.wrapped_fractions())
