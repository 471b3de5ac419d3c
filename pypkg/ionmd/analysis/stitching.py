"""Stitching the pieces of a resumed run into one (:func:`stitch`: repeated and abandoned
frames dropped, seams aligned by lattice vectors), and the continuous positions of
LAMMPS-unwrapped coordinates in a constant box (:func:`continuous_unwrapped`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import warnings

import numpy as np

from ionmd.analysis.unwrapping import (Piece, box_changes, longest_fractional_steps,
                                       looks_unwrapped, unwrap, wraps_at_faces)
from ionmd.errors import AnalysisError, IonmdNote


class SupersededNote(IonmdNote):
    """Frames :func:`stitch` dropped because a later piece starts again at an earlier step
    from another state (``reset_timestep 0`` after an equilibration, or a run continued
    with ``read_data``, which restarts the step count: the frames cannot tell the two
    apart). ``piece``/``by``: indices of the piece that lost frames and of the one that
    replaced them (in the order given, ``n_pieces`` in all); ``frames``, ``first_step``,
    ``last_step``: what was dropped; ``restart_step``: the later piece's first step;
    ``continues_at``: the earlier piece's last step where the later piece's first frame is
    its last state (lattice vectors aside: a data file written there), else None. The
    analysis reports it (results.json ``superseded_frames``)."""

    def __init__(self, piece: int, by: int, n_pieces: int, frames: int, first_step: int,
                 last_step: int, restart_step: int, continues_at: int | None):
        self.piece, self.by, self.n_pieces, self.frames = piece, by, n_pieces, frames
        self.first_step, self.last_step = first_step, last_step
        self.restart_step, self.continues_at = restart_step, continues_at
        super().__init__(self.text(f"trajectory piece {piece}", f"trajectory piece {by}"))

    def text(self, piece: str, by: str, ps: float | None = None) -> str:
        """The note in words, the pieces named ``piece`` and ``by``, with the time dropped
        (``ps``) where it is known."""
        time = "" if ps is None else f", {ps:g} ps"
        what = (f"{by} starts again at step {self.restart_step} from another state: {piece}'s "
                f"{self.frames} frames (steps {self.first_step}-{self.last_step}{time}) were "
                f"replaced, as after an equilibration")
        if self.continues_at is None:
            return what
        return (f"{what}; if it continues {piece} (read_data), add `reset_timestep "
                f"{self.continues_at}` in its input")


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
            same = _same_configuration(before, piece)
            cut = before.steps <= piece.steps[0] if same else before.steps < piece.steps[0]
            if not same:        # time of another trajectory lost: said, never silently
                _note_superseded(before, ~cut, k, len(pieces), piece)
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
        kept.append(_kept_rows(piece, sel, joined, shift, k))
    return _joined(kept)


def _note_superseded(before: "_Kept", dropped: np.ndarray, k: int, n_pieces: int,
                     piece: Piece) -> None:
    """Warn (:class:`SupersededNote`) of the frames ``dropped`` of ``before`` that piece
    ``k``, starting again at an earlier step from another state, replaces."""
    if not dropped.any():
        return
    last = before.positions[-1]
    continues = (before.positions.shape[1:] == piece.positions.shape[1:]
                 and _coincide(last, piece.positions[0], before.boxes[-1]))
    steps = before.steps[dropped]
    warnings.warn(SupersededNote(before.index, k, n_pieces, int(dropped.sum()), int(steps[0]),
                                 int(steps[-1]), int(piece.steps[0]),
                                 int(before.steps[-1]) if continues else None), stacklevel=3)


def _kept_rows(piece: Piece, sel: np.ndarray, joined: bool, shift: np.ndarray,
               index: int = 0) -> "_Kept":
    """The frames ``sel`` of ``piece``; where it keeps them all, its own arrays (a boolean
    mask copies: a 1.5 GB trajectory held twice more for nothing)."""
    rows = slice(None) if sel.all() else sel        # a slice gives a view
    steps = piece.steps[rows]
    origins = piece.origins[rows] if piece.origins is not None else np.zeros((len(steps), 3))
    return _Kept(piece.positions[rows], piece.boxes[rows], steps, origins, joined, shift,
                 piece.lammps_unwrapped, index)


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
    index: int = 0          # of the piece, in the order given

    def rows(self, which: np.ndarray) -> "_Kept":
        return _Kept(self.positions[which], self.boxes[which], self.steps[which],
                     self.origins[which], self.joined, self.shift, self.lammps_unwrapped,
                     self.index)


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
    return _coincide(before.positions[at[0]], piece.positions[0], before.boxes[at[0]])


def _coincide(a: np.ndarray, b: np.ndarray, box: np.ndarray) -> bool:
    """Whether frames ``a`` and ``b`` are one configuration, lattice vectors (of ``box``)
    aside: :data:`SAME_CONFIGURATION_A`."""
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
    steps = _concatenated([p.steps for p in kept])
    spacing = np.diff(steps)
    if len(steps) > 1 and (np.any(spacing <= 0) or np.any(spacing != spacing[0])):
        where = np.flatnonzero(spacing != spacing[0])
        raise AnalysisError(f"frames are not evenly spaced after stitching (steps "
                            f"{steps[where[0]]} -> {steps[where[0] + 1]}, expected spacing "
                            f"{spacing[0]}): a piece is missing or dumps at another interval")
    boxes = _concatenated([p.boxes for p in kept])
    # a DCD's frames are judged only where it matters, in a changing box (NVT: no pass)
    changing = box_changes(boxes)
    flags = [_holds_lammps_unwrapped(p) if changing else p.lammps_unwrapped for p in kept]
    return Piece(_concatenated([p.positions for p in kept]), boxes, steps, tuple(starts),
                 _concatenated([p.origins for p in kept]), tuple(seam_shifts),
                 True if True in flags else (False if False in flags else None),
                 wrapped_part=any(f is not True for f in flags))


def _concatenated(arrays: list[np.ndarray]) -> np.ndarray:
    """``arrays`` one after another; one array as it is (np.concatenate copies even one:
    the stitched piece of a single file shares its reader's arrays, which nothing else
    holds after stitching)."""
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


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
    jump = longest_fractional_steps(aligned, np.linalg.inv(piece.boxes[0]))
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
