"""Structure and dynamics functions: van Hove self and distinct parts, radial distribution
functions (MDAnalysis ``InterRDF``) and the probability density of a species on a grid,
written as a Gaussian CUBE file (opens in VESTA and OVITO).

Normalisation (Vineyard): ``G_s(r, t) = <delta(r - |r_i(t0 + t) - r_i(t0)|)>`` over atoms
and origins, as a radial density (integral over 4 pi r^2 dr is 1);
``G_d(r, t) = 1/N sum_{i != j} <delta(r - |r_j(t0 + t) - r_i(t0)|)> / (4 pi r^2 rho)``
so that ``G_d -> 1`` at large r and ``G_d(r, 0) = g(r)``.

Both take one lag (returning a 1-D array) or a sequence of lags (a 2-D array, one row
per lag), so that the decay of the self part and the filling of the distinct part can be
followed in time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ionmd.analysis.trajectory import Trajectory, wrap
from ionmd.errors import AnalysisError


def _lag_frames(traj: Trajectory, lag_ps: float) -> int:
    lag = int(round(lag_ps / traj.frame_interval_ps))
    if lag < 0:
        raise AnalysisError(f"lag {lag_ps} ps is negative")
    if lag >= traj.n_frames:
        raise AnalysisError(f"lag {lag_ps} ps is longer than the run ({traj.times_ps[-1]:.3f} ps)")
    return lag


def _per_lag(func, lag_ps: float | Sequence[float]) -> np.ndarray:
    if np.ndim(lag_ps) == 0:
        return func(float(lag_ps))
    if len(lag_ps) == 0:
        raise AnalysisError("no lag times given for the van Hove function")
    return np.stack([func(float(t)) for t in lag_ps])


def van_hove_self(traj: Trajectory, species: str, lag_ps: float | Sequence[float],
                  r_max: float = 8.0, n_bins: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """Self part ``4 pi r^2 G_s(r, t)`` (integrates to 1 over r): bin centres, values
    (one row per lag when ``lag_ps`` is a sequence)."""
    idx = traj.indices(species)
    edges = np.linspace(0, r_max, n_bins + 1)

    def one(t: float) -> np.ndarray:
        lag = _lag_frames(traj, t)
        d = np.linalg.norm(traj.positions[lag:, idx] - traj.positions[:-lag or None, idx], axis=-1)
        hist, _ = np.histogram(d.ravel(), bins=edges)
        return hist / (d.size * (edges[1] - edges[0]))

    return 0.5 * (edges[1:] + edges[:-1]), _per_lag(one, lag_ps)


def van_hove_distinct(traj: Trajectory, species: str, lag_ps: float | Sequence[float],
                      r_max: float = 6.0, n_bins: int = 60,
                      max_origins: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Distinct part ``G_d(r, t)`` normalised to 1 at large r (minimum image); one row
    per lag when ``lag_ps`` is a sequence."""
    from MDAnalysis.lib.distances import distance_array

    from ionmd.analysis.cell_frame import canonical_frame

    idx = traj.indices(species)
    n = idx.size
    if n < 2:
        raise AnalysisError(f"the distinct van Hove function needs >= 2 {species} atoms, got {n}")
    edges = np.linspace(0, r_max, n_bins + 1)
    shell = 4 / 3 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    rho = (n - 1) / traj.volumes.mean()

    def one(t: float) -> np.ndarray:
        lag = _lag_frames(traj, t)
        origins = np.unique(np.linspace(0, traj.n_frames - 1 - lag,
                                        min(max_origins, traj.n_frames - lag)).astype(int))
        hist = np.zeros(n_bins)
        for t0 in origins:
            # both frames turned alike, with the later frame's box, whose images count
            later, dims = canonical_frame(traj.positions[t0 + lag, idx], traj.boxes[t0 + lag])
            earlier = canonical_frame(traj.positions[t0, idx], traj.boxes[t0 + lag])[0]
            d = distance_array(earlier, later, box=dims)
            hist += np.histogram(d[~np.eye(n, dtype=bool)], bins=edges)[0]
        return hist / (len(origins) * n * rho * shell)

    return 0.5 * (edges[1:] + edges[:-1]), _per_lag(one, lag_ps)


def rdf(traj: Trajectory, a: str, b: str, r_max: float = 6.0, n_bins: int = 60,
        step: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Radial distribution function g_ab(r) by MDAnalysis ``InterRDF``."""
    from MDAnalysis.analysis.rdf import InterRDF

    from ionmd.analysis.msd import to_universe

    traj.indices([a, b])
    u = to_universe(traj, canonical=True)
    ga, gb = u.select_atoms(f"type {a}"), u.select_atoms(f"type {b}")
    # same species: drop i == j pairs (exclusion block of 1 x 1)
    run = InterRDF(ga, gb, nbins=n_bins, range=(0.0, r_max),
                   exclusion_block=(1, 1) if a == b else None).run(step=step)
    return np.asarray(run.results.bins), np.asarray(run.results.rdf)


def density_grid(traj: Trajectory, species: str, shape: tuple[int, int, int] = (40, 40, 40)
                 ) -> np.ndarray:
    """Probability density (1/Å^3, average cell) of ``species`` on a grid in fractional
    coordinates, so that a breathing box (NpT) maps every frame onto one grid."""
    idx = traj.indices(species)
    frac = np.einsum("tnk,tkl->tnl", traj.positions[:, idx], np.linalg.inv(traj.boxes))
    frac -= np.floor(frac)
    hist, _ = np.histogramdd(frac.reshape(-1, 3), bins=shape, range=[(0, 1)] * 3)
    voxel = traj.volumes.mean() / np.prod(shape)
    return hist / (hist.sum() * voxel)


def write_density_cube(traj: Trajectory, species: str, path: str | Path,
                       shape: tuple[int, int, int] = (40, 40, 40)) -> Path:
    """Write the density of ``species`` as a CUBE file with the average cell and the
    first frame's atoms (wrapped) for orientation."""
    from ase import Atoms
    from ase.io.cube import write_cube

    data = density_grid(traj, species, shape)
    cell = traj.boxes.mean(axis=0)
    atoms = Atoms(symbols=traj.elements.tolist(),
                  positions=wrap(traj.positions[:1], traj.boxes[:1])[0], cell=cell, pbc=True)
    path = Path(path)
    with open(path, "w") as fh:
        write_cube(fh, atoms, data=data)
    return path
