"""Read LAMMPS trajectories (DCD through MDAnalysis, XTC through its XTC file class;
``dump custom``/``dump atom`` files, plain or gzipped, by ionmd's own reader) with a data
file, stitch the pieces of resumed runs and unwrap coordinates so that they stay right
under a changing box: :func:`read_frames` (raw stitched frames) and
:func:`read_lammps_trajectory` (unwrapped, a :class:`Trajectory`).

The parts live in modules of their own, whose public names this module still gives:
unwrapping (why and how, :mod:`ionmd.analysis.unwrapping`), the box origin of DCD and
XTC frames (:mod:`ionmd.analysis.box_origin`), the readers of each format
(:mod:`ionmd.analysis.trajectory_readers`), stitching the pieces of a resumed run
(:mod:`ionmd.analysis.stitching`) and the atoms' elements and masses
(:mod:`ionmd.analysis.atom_elements`).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from ionmd.analysis.atom_elements import elements_and_masses
from ionmd.analysis.box_origin import (ORIGINLESS_FORMATS, box_origins, dcd_origin_note,
                                       moving_centre_commands)
from ionmd.analysis.stitching import (SAME_CONFIGURATION_A, WRAPPED_STEP_FRACTION,
                                      continuous_unwrapped, stitch)
from ionmd.analysis.trajectory_readers import read_pieces, universe, without_empty_pieces
from ionmd.analysis.unwrapping import (CONSTANT_BOX_ADVICE, MAX_STEP_FRACTION,
                                       WRAP_JUMP_FRACTION, Piece, box_changes, cell_widths,
                                       first_wrap_jump, fractional, looks_unwrapped,
                                       unwrap, wrap, wraps_at_faces)
from ionmd.errors import AnalysisError, IonmdNote
from ionmd.lammps.data_file import resolve_atom_style
from ionmd.lammps.dump import AtomsLostInDump

#: The names this module gives: its own and those it gave before its parts moved out
#: (users' scripts import them here).
__all__ = ["CONSTANT_BOX_ADVICE", "MAX_STEP_FRACTION", "MIN_FRAMES_AFTER_DISCARD",
           "ORIGINLESS_FORMATS", "SAME_CONFIGURATION_A", "WRAPPED_STEP_FRACTION",
           "WRAP_JUMP_FRACTION", "Piece", "Trajectory", "box_changes", "box_origins",
           "cell_widths", "continuous_unwrapped", "dcd_origin_note", "elements_and_masses",
           "fractional", "looks_unwrapped", "moving_centre_commands", "read_frames",
           "read_lammps_trajectory", "species_list", "stitch", "unwrap", "without_empty_pieces",
           "wrap", "wraps_at_faces"]

#: Frames the analysis needs after the discarded equilibration (:meth:`Trajectory.discard`
#: refuses fewer; a run.json edit of ``discard_ps`` is checked against it).
MIN_FRAMES_AFTER_DISCARD = 3


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

    def __post_init__(self):
        # lists (a notebook's steps=list(range(...))) become arrays; the MSD takes one frame
        # interval from the first two frames, so uneven or non-increasing steps are refused
        # here, where every entry point builds its trajectory (a 50 ps gap in 100 ps of
        # frames gave D 7.45e-6 for a true 5.00e-6 cm^2/s without a flag)
        self.positions = np.asarray(self.positions)
        self.boxes = np.asarray(self.boxes)
        self.steps = np.asarray(self.steps)
        self.elements = np.asarray(self.elements)
        self.masses = np.asarray(self.masses, dtype=np.float64)
        _check_shapes(self)
        _check_steps(self.steps)
        # a time step of 0, below 0 or NaN (an ASE timestep in its own units gone wrong)
        # was taken: D came out as "fit end -1.99 ps" or a ValueError from inside the fit
        if not (isinstance(self.timestep_fs, (int, float, np.number))
                and not isinstance(self.timestep_fs, bool)
                and np.isfinite(self.timestep_fs) and self.timestep_fs > 0):
            raise AnalysisError(f"Trajectory timestep_fs must be the MD time step in fs, a "
                                f"number above 0, got {self.timestep_fs!r} (from ASE's "
                                f"units: dyn.dt / ase.units.fs)")

    @property
    def n_frames(self) -> int:
        return self.positions.shape[0]

    @property
    def n_atoms(self) -> int:
        return self.positions.shape[1]

    @property
    def times_ps(self) -> np.ndarray:
        """Time of each frame since the first frame, ps."""
        # / 1000, not * 1e-3: one rounding (27900 steps of 0.5 fs: 13.95 ps, not 13.950000000000001)
        return (self.steps - self.steps[0]) * self.timestep_fs / 1000.0

    @property
    def frame_interval_ps(self) -> float:
        if self.n_frames < 2:       # was an IndexError
            raise AnalysisError(f"a trajectory of {self.n_frames} frame(s) has no frame "
                                f"interval: the MSD needs at least 2 frames")
        return float((self.steps[1] - self.steps[0]) * self.timestep_fs * 1e-3)

    @property
    def volumes(self) -> np.ndarray:
        """Cell volume of each frame, Å^3."""
        return np.abs(np.linalg.det(self.boxes))

    def indices(self, species: str | Sequence[str]) -> np.ndarray:
        """Atom indices of one species or several; raises if one of them is absent."""
        wanted = species_list(species)
        present = sorted(set(self.elements.tolist()))
        missing = [s for s in wanted if s not in present]
        if missing:
            raise AnalysisError(f"species {missing} not in this trajectory (present: {present}); "
                                f"check the mobile species and the type -> element map")
        return np.flatnonzero(np.isin(self.elements, wanted))

    def check_finite(self, indices: np.ndarray, what: str) -> None:
        """Refuse positions of atoms ``indices`` that are not finite (a run that blew up),
        naming the first such frame, before ``what`` turns them into NaN or a traceback."""
        bad = ~np.isfinite(self.positions[:, indices]).all(axis=(1, 2))
        if bad.any():
            k = int(np.argmax(bad))
            raise AnalysisError(
                f"{what}: positions are not finite from frame {k} (step {self.steps[k]}) on "
                f"(the run blew up?); analyse the frames before it (Trajectory.discard keeps "
                f"the later ones; slice the arrays for the earlier), or see what failed with "
                f"`ionmd analyze --failures-only`")

    def check_displacements(self, indices: np.ndarray, what: str) -> None:
        """Refuse positions of atoms ``indices`` that ``what`` (an MSD) cannot take
        displacements of: not finite (:meth:`check_finite`), or wrapped into the cell (an
        atom stepping over half a cell vector between frames while all stay within one
        cell's span: :func:`~ionmd.analysis.unwrapping.first_wrap_jump`), which added jumps
        of a cell length to a hand-built trajectory's MSD without a word. The readers unwrap;
        structure functions (RDF, density) take wrapped positions, so this is the MSD's."""
        self.check_finite(indices, what)
        jump = first_wrap_jump(self.positions, self.boxes, np.asarray(indices))
        if jump is None:
            return
        k, atom, axis, fraction = jump
        raise AnalysisError(
            f"{what}: atom {atom} ({self.elements[atom]}) moves {fraction:.2f} of cell vector "
            f"{'abc'[axis]} between frames {k} and {k + 1} (steps {self.steps[k]} and "
            f"{self.steps[k + 1]}): the positions look wrapped into the cell (an atom crossing "
            f"a face comes back a cell away), which would add cell-length jumps to the MSD. "
            f"Give unwrapped positions: ionmd.analysis.unwrap(positions, boxes) unwraps "
            f"wrapped ones with each frame's cell (or read the file with "
            f"ionmd.analysis.read_ase_trajectory / read_lammps_trajectory, which unwrap); "
            f"positions already unwrapped are frames too far apart: save frames more often")

    def discard(self, discard_ps: float) -> "Trajectory":
        """The trajectory without its first ``discard_ps`` ps (equilibration)."""
        keep = self.times_ps >= discard_ps - 1e-9
        if keep.sum() < MIN_FRAMES_AFTER_DISCARD:
            raise AnalysisError(
                f"run too short for the requested discard time: {discard_ps} ps discarded of "
                f"{self.times_ps[-1]:.3f} ps leaves {int(keep.sum())} frames (need >= "
                f"{MIN_FRAMES_AFTER_DISCARD}); "
                f"lower discard_ps or run longer")
        fractions = None if self.fractions is None else self.fractions[keep]
        return replace(self, positions=self.positions[keep], boxes=self.boxes[keep],
                       steps=self.steps[keep], fractions=fractions)

    def framework_drift_removed(self, mobile: str | Sequence[str]) -> "Trajectory":
        """Positions with the displacement of the framework's centre of mass (all atoms
        not in ``mobile``, one species or several, mass-weighted) subtracted from every
        atom, so a drifting framework does not show up as diffusion."""
        frame_idx = np.flatnonzero(~np.isin(self.elements, species_list(mobile)))
        if frame_idx.size == 0:
            return self
        m = self.masses[frame_idx]
        com = np.einsum("tnk,n->tk", self.positions[:, frame_idx], m) / m.sum()
        return replace(self, positions=self.positions - (com - com[0])[:, None, :])


def species_list(species: str | Sequence[str]) -> list[str]:
    """One species (``"Li"``) or several (``["Li", "Na"]``) as a list: ``list("Li")`` is
    ``['L', 'i']``, which treated every atom as framework (D 21 % low, no word)."""
    if isinstance(species, str):
        return [species]
    wanted = list(species)
    odd = [s for s in wanted if not isinstance(s, str)]
    if odd:
        raise AnalysisError(f"species must be element symbols (str), got {odd!r} in "
                            f"{species!r}; give e.g. 'Li' or ['Li', 'Na']")
    return wanted


def _check_shapes(traj: Trajectory) -> None:
    """Refuse arrays whose shapes disagree, naming each one's shape."""
    pos = traj.positions
    if pos.ndim != 3 or pos.shape[2] != 3:
        raise AnalysisError(f"Trajectory positions must have shape (frames, atoms, 3), got "
                            f"{pos.shape}")
    n_frames, n_atoms = pos.shape[:2]
    expected = {"boxes": (traj.boxes, (n_frames, 3, 3)), "steps": (traj.steps, (n_frames,)),
                "elements": (traj.elements, (n_atoms,)), "masses": (traj.masses, (n_atoms,))}
    wrong = [f"{name} {arr.shape} (expected {shape})" for name, (arr, shape) in expected.items()
             if arr.shape != shape]
    if wrong:
        raise AnalysisError(f"Trajectory arrays disagree with positions {pos.shape} (frames, "
                            f"atoms, 3): {'; '.join(wrong)}; give one box (3x3 rows) and one "
                            f"step per frame, one element and one mass per atom")


def _check_steps(steps: np.ndarray) -> None:
    """Refuse steps that do not increase with one constant spacing: the MSD's lags are
    multiples of the first spacing (:attr:`Trajectory.frame_interval_ps`)."""
    if steps.size < 2:
        return
    if steps.dtype.kind == "u":         # np.diff of unsigned steps wraps below zero
        steps = steps.astype(np.int64)
    spacing = np.diff(steps)
    bad = np.flatnonzero(spacing <= 0)
    if bad.size:
        k = int(bad[0]) + 1
        raise AnalysisError(
            f"Trajectory steps must be strictly increasing: frame {k} is at step "
            f"{steps[k]} after step {steps[k - 1]}; sort the frames by step and drop repeated "
            f"ones (a resumed run's overlapping pieces: read them together with "
            f"read_lammps_trajectory, which stitches them)")
    if np.issubdtype(spacing.dtype, np.integer):
        uneven = np.flatnonzero(spacing != spacing[0])
    else:
        uneven = np.flatnonzero(~np.isclose(spacing, spacing[0], rtol=1e-9, atol=0.0))
    if uneven.size:
        k = int(uneven[0]) + 1
        raise AnalysisError(
            f"Trajectory steps are not evenly spaced: frame {k} is at step {steps[k]}, "
            f"{spacing[k - 1]} steps after the one before where the first frames are "
            f"{spacing[0]} apart (a missing piece, or pieces dumped at another interval); "
            f"the MSD takes one frame interval, so D would be wrong. Re-stitch the run's "
            f"pieces in order (read_lammps_trajectory with every piece), or resample onto "
            f"one interval (keep frames whose step is a multiple of a common spacing) and "
            f"analyse each stretch without a gap separately")


def read_frames(data_file: str | Path, traj_files: str | Path | Sequence[str | Path], *,
                type_map: dict[int, str] | None = None, atom_style: str | None = None,
                fmt: str | None = None, unwrapped: bool = False,
                until_atoms_lost: bool = False) -> tuple[Piece, np.ndarray, np.ndarray]:
    """Raw stitched frames (positions as written, in LAMMPS's absolute frame: see
    :class:`Piece`), elements and masses; no unwrapping, so
    that a broken run (NaN, exploded) can still be examined. ``atom_style``: the data
    file's Atoms columns, by default those its ``Atoms # <style>`` line names
    (:func:`resolve_atom_style`). ``unwrapped``: the files hold LAMMPS-unwrapped
    coordinates (a dump's unwrapped columns are then read, not its wrapped ones). An
    empty piece among several (one LAMMPS stopped at its setup) is left out with a warning
    (:func:`without_empty_pieces`). A dump frame with fewer atoms than the data file (the
    run lost atoms) is refused (:class:`~ionmd.lammps.dump.AtomsLostInDump`), or with
    ``until_atoms_lost`` ends the frames, recorded in the result's ``atoms_lost`` (for the
    failure post-mortem, which reports the loss)."""
    if isinstance(traj_files, (str, os.PathLike)):   # one file ("trajectory file s not found")
        traj_files = [traj_files]
    if not traj_files:
        raise AnalysisError("no trajectory files given")
    data_file = Path(data_file)
    if not data_file.is_file():
        raise AnalysisError(f"data file {data_file} not found")
    atom_style = resolve_atom_style(data_file, atom_style)
    u = universe(data_file, None, atom_style, None)
    types = np.array([int(t) for t in u.atoms.types])
    elements, masses = elements_and_masses(data_file, types, u.atoms.masses.astype(np.float64),
                                           type_map)
    atom_ids = np.sort(u.atoms.ids.astype(np.int64))
    traj_files, empty = without_empty_pieces([Path(f) for f in traj_files])
    for f in empty:
        warnings.warn(f"trajectory piece {f} is empty (LAMMPS stopped before its first "
                      f"frame?): left out, the other pieces read", IonmdNote, stacklevel=2)
    pieces, lost = [], None
    for f in traj_files:
        try:
            read = read_pieces(data_file, Path(f), atom_style, fmt, atom_ids, unwrapped)
        except AtomsLostInDump as exc:
            if not until_atoms_lost:
                raise
            # the run lost atoms there: LAMMPS stopped it (or went on without them)
            read, lost = exc.pieces, (int(exc.step), exc.n_dump, exc.n_data)
        else:
            if lost is not None and read and read[0].steps[0] <= lost[0]:
                lost = None     # resumed from a restart before the loss: run again
        pieces += read
    return replace(stitch(pieces), atoms_lost=lost), elements, masses


def read_lammps_trajectory(data_file: str | Path,
                           traj_files: str | Path | Sequence[str | Path], *,
                           timestep_fs: float, type_map: dict[int, str] | None = None,
                           atom_style: str | None = None, fmt: str | None = None,
                           dump_unwrapped: bool = False) -> Trajectory:
    """Read, stitch and unwrap a LAMMPS trajectory.

    Parameters
    ----------
    data_file : path
        LAMMPS data file of the run (topology: atom IDs, types, masses).
    traj_files : path or sequence of paths
        One file, or the pieces of a resumed run: DCD (``.dcd``) or ``dump custom``/``dump atom`` files (``.gz`` too), in run order
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
