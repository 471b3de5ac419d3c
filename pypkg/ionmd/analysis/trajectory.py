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
                                       fractional, looks_unwrapped, unwrap, wrap,
                                       wraps_at_faces)
from ionmd.errors import AnalysisError, IonmdNote
from ionmd.lammps.data_file import resolve_atom_style

#: The names this module gives: its own and those it gave before its parts moved out
#: (users' scripts import them here).
__all__ = ["CONSTANT_BOX_ADVICE", "MAX_STEP_FRACTION", "MIN_FRAMES_AFTER_DISCARD",
           "ORIGINLESS_FORMATS", "SAME_CONFIGURATION_A", "WRAPPED_STEP_FRACTION",
           "WRAP_JUMP_FRACTION", "Piece", "Trajectory", "box_changes", "box_origins",
           "cell_widths", "continuous_unwrapped", "dcd_origin_note", "elements_and_masses",
           "fractional", "looks_unwrapped", "moving_centre_commands", "read_frames",
           "read_lammps_trajectory", "stitch", "unwrap", "without_empty_pieces", "wrap",
           "wraps_at_faces"]

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
        if keep.sum() < MIN_FRAMES_AFTER_DISCARD:
            raise AnalysisError(
                f"run too short for the requested discard time: {discard_ps} ps discarded of "
                f"{self.times_ps[-1]:.3f} ps leaves {int(keep.sum())} frames (need >= "
                f"{MIN_FRAMES_AFTER_DISCARD}); "
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
    u = universe(data_file, None, atom_style, None)
    types = np.array([int(t) for t in u.atoms.types])
    elements, masses = elements_and_masses(data_file, types, u.atoms.masses.astype(np.float64),
                                           type_map)
    atom_ids = np.sort(u.atoms.ids.astype(np.int64))
    traj_files, empty = without_empty_pieces([Path(f) for f in traj_files])
    for f in empty:
        warnings.warn(f"trajectory piece {f} is empty (LAMMPS stopped before its first "
                      f"frame?): left out, the other pieces read", IonmdNote, stacklevel=2)
    pieces = [piece for f in traj_files
              for piece in read_pieces(data_file, Path(f), atom_style, fmt, atom_ids,
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
