"""Wrapping and unwrapping arithmetic of frames in a changing box, and :class:`Piece`, the
frames of a trajectory as read.

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
wrapped back (:func:`ionmd.analysis.stitching.stitch`).

The box origin ``lo(t)`` of each frame comes from a dump itself, or, for a DCD or XTC,
from the data file's box centre (:mod:`ionmd.analysis.box_origin`).

One ambiguity is left: LAMMPS wraps atoms only at neighbour-list rebuilds, so an atom
that has just crossed a face may belong to either image, an error of about the box
change over one frame for that atom (measured: MSD within 0.5 % where the naive use was
16 % off, for a box growing 20 % in 0.3 ps). Wrapped output has no such ambiguity:
prefer it for NpT runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ionmd.errors import AnalysisError


#: A frame-to-frame step longer than this fraction of the narrowest box width is
#: ambiguous for unwrapping (the minimum image may be the wrong one).
MAX_STEP_FRACTION = 0.4


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
    jump = longest_fractional_steps(positions, np.linalg.inv(boxes))
    jump[[s - 1 for s in seams if 0 < s <= len(jump)]] = 0.0
    return bool(jump.size and jump.max() > WRAP_JUMP_FRACTION)


#: Most cells the positions of wrapped frames span along a cell vector (fractions of each
#: frame's cell from a fixed origin): 1, and a little more where the box origin moves (NpT).
WRAPPED_SPAN_CELLS = 1.1


def first_wrap_jump(positions: np.ndarray, boxes: np.ndarray, atoms: np.ndarray,
                    chunk: int = 256) -> tuple[int, int, int, float] | None:
    """``(frame, atom, axis, fraction)`` of the first step of one of ``atoms`` between
    consecutive frames (into ``frame + 1``) longer than :data:`WRAP_JUMP_FRACTION` of a
    cell vector of the later frame's cell, where every one of ``atoms`` stays within one
    cell's span along every cell vector (fractions of each frame's cell, whatever the
    origin): positions wrapped into the cell. Else None: no such step, or positions that
    leave the cell's span, unwrapped (LAMMPS's ``xu`` dumped rarely in a constant box:
    long steps the readers keep). In chunks of frames, so no (T, N, 3) temporaries."""
    if len(positions) < 2 or not np.all(np.abs(np.linalg.det(boxes)) > 1e-12):
        return None                     # one frame, or no cell: nothing wraps
    inverse = np.linalg.inv(boxes)
    jump, low, high = None, np.inf, -np.inf
    for a in range(0, len(positions) - 1, chunk):
        part = positions[a:a + chunk + 1][:, atoms]
        frac = np.einsum("tnk,tkl->tnl", part, inverse[a:a + len(part)])
        low, high = np.minimum(low, frac.min(axis=0)), np.maximum(high, frac.max(axis=0))
        if jump is None:
            step = np.abs(np.einsum("tnk,tkl->tnl", np.diff(part, axis=0),
                                    inverse[a + 1:a + len(part)]))
            big = np.argwhere(step > WRAP_JUMP_FRACTION)
            if big.size:
                t, n, k = (int(i) for i in big[0])
                jump = (a + t, int(atoms[n]), k, float(step[t, n, k]))
    # a wrapped NpT run's span is a little over one cell: its box origin moves by a few %
    return jump if jump is not None and np.all(high - low <= WRAPPED_SPAN_CELLS) else None


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


def longest_fractional_steps(positions: np.ndarray, inverse: np.ndarray,
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
    #: a dump frame after these held fewer atoms (the run lost atoms; the frames end
    #: before it): (its step, its atoms, the atoms before); None: none lost
    atoms_lost: tuple[int, int, int] | None = None

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
