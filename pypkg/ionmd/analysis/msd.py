"""Mean-squared displacement per species and direction, by MDAnalysis's FFT Einstein MSD.

The trajectory handed in should already be unwrapped (:mod:`ionmd.analysis.unwrapping`)
and have the framework's centre-of-mass drift removed
(:meth:`Trajectory.framework_drift_removed`). ``direction`` is a subset of ``xyz``: ``x``
(n = 1), ``xy`` (planar, n = 2, as in the MACE-SSE seed's layered conductors), ``xyz``
(n = 3); the diffusion coefficient of the MSD is ``slope / (2 n)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ionmd.analysis.trajectory import Trajectory
from ionmd.errors import AnalysisError

DIRECTIONS = ("xyz", "xy", "xz", "yz", "x", "y", "z")


@dataclass
class MSD:
    """MSD of one species along one direction set.

    Attributes
    ----------
    lag_ps : ndarray, shape (L,)
        Lag times, ps (starting at 0).
    msd : ndarray, shape (L,)
        MSD averaged over time origins and atoms, Å^2.
    by_particle : ndarray, shape (L, N_species)
        MSD of each atom, Å^2.
    species, direction : str
    n_dim : int
        Number of Cartesian directions summed.
    """

    lag_ps: np.ndarray
    msd: np.ndarray
    by_particle: np.ndarray
    species: str
    direction: str

    @property
    def n_dim(self) -> int:
        return len(self.direction)


def check_direction(direction: str) -> str:
    if direction not in DIRECTIONS:
        raise AnalysisError(f"direction {direction!r} not one of {DIRECTIONS}")
    return direction


def to_universe(traj: Trajectory, canonical: bool = False):
    """An in-memory MDAnalysis Universe of the (unwrapped) trajectory, atom types = elements.

    ``canonical``: the positions turned into the orientation the box dimensions mean
    (:mod:`ionmd.analysis.cell_frame`), as minimum-image distances need for a cell read
    through ASE; without it they stay in the input's frame (an MSD along x is the input's x)
    and the box dimensions describe only the cell's shape."""
    import MDAnalysis as mda
    from MDAnalysis.coordinates.memory import MemoryReader
    from MDAnalysis.lib.mdamath import triclinic_box

    from ionmd.analysis.cell_frame import canonical_trajectory

    u = mda.Universe.empty(traj.n_atoms, trajectory=True)
    u.add_TopologyAttr("type", traj.elements.tolist())
    u.add_TopologyAttr("masses", traj.masses)
    if canonical:
        positions, dims = canonical_trajectory(traj.positions, traj.boxes)
    else:
        positions, dims = traj.positions, np.array([triclinic_box(*b) for b in traj.boxes])
    u.load_new(positions, format=MemoryReader, dimensions=dims, dt=traj.frame_interval_ps)
    return u


def compute_msd(traj: Trajectory, species: str, direction: str = "xyz") -> MSD:
    """FFT MSD (MDAnalysis ``EinsteinMSD``) of ``species`` along ``direction``."""
    from MDAnalysis.analysis.msd import EinsteinMSD

    check_direction(direction)
    if not isinstance(species, str):    # ["Li"] became the selection "type ['Li']"
        raise AnalysisError(f"the MSD and D are of one species (a str such as 'Li'), got "
                            f"{species!r}; compute one per species")
    # a clear error for an absent species, for NaN positions (scipy's "array must not
    # contain infs or NaNs" from inside the fit before) and for wrapped ones (cell jumps)
    traj.check_displacements(traj.indices(species), f"the MSD of {species}")
    u = to_universe(traj)
    run = EinsteinMSD(u, select=f"type {species}", msd_type=direction, fft=True).run()
    # one frame interval: Trajectory refuses steps that are not evenly spaced
    lag = np.arange(traj.n_frames) * traj.frame_interval_ps
    return MSD(lag_ps=lag, msd=np.asarray(run.results.timeseries, float),
               by_particle=np.asarray(run.results.msds_by_particle, float),
               species=species, direction=direction)
