"""Structure and dynamics functions: van Hove self and distinct parts, radial distribution
functions and the probability density of a species on a grid, written as a Gaussian CUBE
file of its number density in atoms/Bohr^3 (opens in VESTA and OVITO).

Pair distances are counted over every periodic image that comes within ``r_max``
(:func:`_pair_histogram`), in any cell: a minimum image (MDAnalysis's ``InterRDF``, used
before) holds only up to half the cell's narrowest width, and g(r) beyond it fell to 0.3
where it is 1 (a 3x3x3 LiCl cell at 0.95 of its width).

Normalisation (Vineyard): ``G_s(r, t) = <delta(r - |r_i(t0 + t) - r_i(t0)|)>`` over atoms
and origins, as a radial density (integral over 4 pi r^2 dr is 1 over all r; the
histogram to ``r_max`` leaves out what lies beyond, so it integrates to the fraction
below: :func:`van_hove_self`);
``G_d(r, t) = 1/N sum_{(j, n) != (i, 0)} <delta(r - |r_j(t0 + t) + n L - r_i(t0)|)> /
(4 pi r^2 rho)`` over the periodic images n L of every atom but the centre itself (its own
images are neighbours in the periodic system), so that ``G_d -> 1`` at large r and
``G_d(r, 0) = g(r)``.

Both take one lag (returning a 1-D array) or a sequence of lags (a 2-D array, one row
per lag), so that the decay of the self part and the filling of the distinct part can be
followed in time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ionmd.analysis.trajectory import Trajectory
from ionmd.errors import AnalysisError


#: How far (in frames) a lag may be from a whole number of frames: the rounding of a lag
#: given in ps, not a lag between two frames (which would be labelled with a time it is not).
LAG_TOLERANCE_FRAMES = 1e-3


def _lag_frames(traj: Trajectory, lag_ps: float) -> int:
    frames = lag_ps / traj.frame_interval_ps
    lag = int(round(frames))
    if lag_ps < 0:
        raise AnalysisError(f"lag {lag_ps} ps is negative")
    if lag >= traj.n_frames:
        raise AnalysisError(f"lag {lag_ps} ps is longer than the run ({traj.times_ps[-1]:.3f} ps)")
    if abs(frames - lag) > LAG_TOLERANCE_FRAMES:
        below, above = np.floor(frames), np.ceil(frames)
        raise AnalysisError(f"lag {lag_ps} ps is not a whole number of frames (frames are "
                            f"{traj.frame_interval_ps:g} ps apart): use "
                            f"{below * traj.frame_interval_ps:g} or "
                            f"{above * traj.frame_interval_ps:g} ps")
    return lag


def _bin_edges(r_max: float, n_bins: int) -> np.ndarray:
    """``n_bins`` equal bins from 0 to ``r_max``; refuses an empty range (a cell's
    diagonal taken for its size is 0 on primitive fcc vectors)."""
    if not r_max > 0 or n_bins < 1:
        raise AnalysisError(f"r_max must be positive and n_bins >= 1 (got r_max = {r_max} A, "
                            f"n_bins = {n_bins}); any r_max is right, periodic images counted")
    return np.linspace(0.0, r_max, n_bins + 1)


def _image_shifts(box: np.ndarray, r_max: float) -> np.ndarray:
    """The lattice vectors (rows, in cell vectors) that can bring a periodic image of an atom of the cell
    within ``r_max`` of another atom of the cell: |n_k| <= floor(r_max / width_k) + 1 along
    each axis k, width_k the distance between the cell's faces (any cell, any r_max)."""
    from ionmd.structures.geometry import perpendicular_widths

    reach = np.floor(r_max / perpendicular_widths(box)).astype(int) + 1
    grid = np.stack(np.meshgrid(*[np.arange(-m, m + 1) for m in reach], indexing="ij"), -1)
    return grid.reshape(-1, 3)


#: Pairs found per call of MDAnalysis's ``capped_distance`` (distances, indices: 24 bytes
#: each), so that a large r_max needs no more memory than a small one.
PAIRS_PER_CALL = 4_000_000


def _pair_histogram(centres: np.ndarray, others: np.ndarray, box: np.ndarray,
                    edges: np.ndarray, same_atoms: bool) -> np.ndarray:
    """Counts of the distances from each centre to every periodic image of each other atom,
    binned by ``edges`` (no minimum image: right for any r_max and any cell). With
    ``same_atoms`` (``centres`` and ``others`` are the same atoms, possibly at two times,
    unwrapped) only each atom's own displacement is left out: the distinct pairs, its
    periodic images included, which are neighbours in the periodic crystal (as in LAMMPS's
    ``compute rdf``; leaving them out lost fcc's second shell in a 4-atom cell)."""
    from MDAnalysis.lib.distances import capped_distance

    inv = np.linalg.inv(box)
    centre_cells = np.floor(centres @ inv)     # into the cell: the shifts then suffice
    other_cells = np.floor(others @ inv)
    centres = centres - centre_cells @ box
    others = others - other_cells @ box
    shifts = _image_shifts(box, edges[-1])
    images = (others[None] + (shifts @ box)[:, None]).reshape(-1, 3)
    # centres in chunks of about PAIRS_PER_CALL pairs: memory bounded at any r_max (4000
    # atoms to 25 A at once: 2.7 GB)
    pairs_per_centre = len(others) / abs(np.linalg.det(box)) * 4 / 3 * np.pi * edges[-1] ** 3
    chunk = max(1, int(PAIRS_PER_CALL / max(pairs_per_centre, 1.0)))
    counts = np.zeros(len(edges) - 1)
    for start in range(0, len(centres), chunk):
        pairs, d = capped_distance(centres[start:start + chunk], images, edges[-1],
                                   return_distances=True)
        if same_atoms:
            i, image = pairs[:, 0] + start, pairs[:, 1]
            self_pairs = np.flatnonzero(image % len(others) == i)
            i, image = i[self_pairs], image[self_pairs]
            # the atom itself: the image whose shift undoes both wrappings
            own = np.all(shifts[image // len(others)] == other_cells[i] - centre_cells[i],
                         axis=1)
            d = np.delete(d, self_pairs[own])
        # equal bins given by number and range: numpy's fast path, the edges' counts
        counts += np.histogram(d, bins=len(edges) - 1, range=(0.0, edges[-1]))[0]
    return counts


def _per_lag(func, lag_ps: float | Sequence[float]) -> np.ndarray:
    if np.ndim(lag_ps) == 0:
        return func(float(lag_ps))
    if len(lag_ps) == 0:
        raise AnalysisError("no lag times given for the van Hove function")
    return np.stack([func(float(t)) for t in lag_ps])


def van_hove_self(traj: Trajectory, species: str, lag_ps: float | Sequence[float],
                  r_max: float = 8.0, n_bins: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """Self part ``4 pi r^2 G_s(r, t)``: bin centres, values (one row per lag when
    ``lag_ps`` is a sequence). Normalised over all displacements, those beyond ``r_max``
    included: a row integrates to the fraction of displacements below ``r_max`` (1 only
    where none reach beyond), so a fast ion does not look localised. Displacements, as the
    MSD's: positions wrapped into the cell are refused (:meth:`Trajectory.check_displacements`:
    a face crossing counted as a jump of a cell length)."""
    idx = traj.indices(species)
    traj.check_displacements(idx, f"the self van Hove function of {species}")
    edges = _bin_edges(r_max, n_bins)

    def one(t: float) -> np.ndarray:
        lag = _lag_frames(traj, t)
        d = np.linalg.norm(traj.positions[lag:, idx] - traj.positions[:-lag or None, idx], axis=-1)
        hist, _ = np.histogram(d.ravel(), bins=edges)     # leaves out d > r_max
        return hist / (d.size * (edges[1] - edges[0]))     # ... which d.size counts

    return 0.5 * (edges[1:] + edges[:-1]), _per_lag(one, lag_ps)


def van_hove_distinct(traj: Trajectory, species: str, lag_ps: float | Sequence[float],
                      r_max: float = 6.0, n_bins: int = 60,
                      max_origins: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Distinct part ``G_d(r, t)`` normalised to 1 at large r; one row per lag when
    ``lag_ps`` is a sequence. Pairs are counted over all periodic images of the later
    frame's cell (:func:`_pair_histogram`), so any ``r_max`` is right, also beyond half
    the cell's width; ``G_d(r, 0)`` is :func:`rdf`'s g(r)."""
    idx = traj.indices(species)
    n = idx.size
    if n < 2:
        raise AnalysisError(f"the distinct van Hove function needs >= 2 {species} atoms, got {n}")
    edges = _bin_edges(r_max, n_bins)
    shell = 4 / 3 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)

    def one(t: float) -> np.ndarray:
        lag = _lag_frames(traj, t)
        origins = np.unique(np.linspace(0, traj.n_frames - 1 - lag,
                                        min(max_origins, traj.n_frames - lag)).astype(int))
        g = np.zeros(n_bins)
        for t0 in origins:
            # both frames in the later frame's cell, whose images count
            box = traj.boxes[t0 + lag]
            hist = _pair_histogram(traj.positions[t0, idx], traj.positions[t0 + lag, idx], box,
                                   edges, same_atoms=True)
            g += hist * abs(np.linalg.det(box)) / (n * (n - 1) * shell)
        return g / len(origins)

    return 0.5 * (edges[1:] + edges[:-1]), _per_lag(one, lag_ps)


def rdf(traj: Trajectory, a: str, b: str, r_max: float = 6.0, n_bins: int = 60,
        step: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Partial radial distribution function g_ab(r) over every ``step``-th frame: bin
    centres, values. Pairs are counted over all periodic images (any ``r_max``, any
    cell; a minimum image misses pairs beyond half the cell's width), each frame
    normalised by its own volume with N_a (N_b - delta_ab) pairs, as LAMMPS's ``compute
    rdf`` does (g -> 1 for an ideal gas). An atom's own periodic images are counted (a
    crystal's neighbours at the cell's lattice vectors), as in LAMMPS: beyond the shortest
    lattice vector a random g_aa tends to N_a / (N_a - 1), not 1."""
    ia, ib = traj.indices(a), traj.indices(b)
    same = a == b
    if ia.size < 1 + same:
        raise AnalysisError(f"g_{a}{b}(r) needs {1 + same} or more {a} atoms, got {ia.size}")
    if step < 1:
        raise AnalysisError(f"step must be 1 or more (every step-th frame), got {step}")
    edges = _bin_edges(r_max, n_bins)
    shell = 4 / 3 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    frames = range(0, traj.n_frames, step)
    g = np.zeros(n_bins)
    for t in frames:
        hist = _pair_histogram(traj.positions[t, ia], traj.positions[t, ib], traj.boxes[t],
                               edges, same_atoms=same)
        g += hist * traj.volumes[t] / (ia.size * (ib.size - same) * shell)
    return 0.5 * (edges[1:] + edges[:-1]), g / len(frames)


def wrapped_fractions(positions: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Fractional coordinates in [0, 1) of unwrapped ``positions`` (T, N, 3) in their
    frames' cells ``boxes`` (T, 3, 3), following each atom's steps from the first frame
    and wrapping it into each frame's cell, as LAMMPS does.

    Not ``positions @ inv(box) % 1``: an unwrapped position carries the lattice vectors of
    the cell each face was crossed in, so under NpT that is off by (crossings) x (the box
    change since), a smear growing with time (a hot liquid, volume 2.6 % rms: 0.53 A mean,
    4.8 A at worst, against 0.03 A this way)."""
    steps = np.diff(positions, axis=0)
    inverses = np.linalg.inv(boxes)
    out = np.empty(np.shape(positions), dtype=np.float64)
    out[0] = positions[0] @ inverses[0] % 1.0
    for t in range(1, len(out)):
        out[t] = (out[t - 1] @ boxes[t - 1] + steps[t - 1]) @ inverses[t] % 1.0
    return out


def continuous_cells(boxes: np.ndarray) -> np.ndarray:
    """Each frame's cell (T, 3, 3) on the lattice basis followed from the first frame.
    LAMMPS flips a tilted box (b -> b - a when xy passes lx / 2) and so changes the basis,
    not the lattice: fractional coordinates on the flipped basis put the same point in
    another voxel (a crystal flipped halfway: 42 % of the counts moved), and the average
    of flipped and unflipped cells is no cell of the run. Assumes the cell deforms by
    less than half a lattice vector between frames."""
    cells = np.array(boxes, dtype=np.float64)
    for t in range(1, len(cells)):
        change = np.rint(cells[t] @ np.linalg.inv(cells[t - 1]))   # identity but at flips
        if np.any(change != np.eye(3)):
            cells[t] = np.linalg.solve(change, cells[t])
    return cells


def _density_fractions(traj: Trajectory, idx: np.ndarray) -> np.ndarray:
    """Fractional coordinates (T, n, 3) in [0, 1) of atoms ``idx`` on the continuous cells:
    the files' own (``traj.fractions``, relative to each frame's ``lo``, which moves under
    NpT) where read, else followed from the positions (:func:`wrapped_fractions`)."""
    cells = continuous_cells(traj.boxes)
    if traj.fractions is None:
        return wrapped_fractions(traj.positions[:, idx], cells)
    flips = np.rint(traj.boxes @ np.linalg.inv(cells))    # integer: box = flips @ cell
    return np.einsum("tnk,tkl->tnl", traj.fractions[:, idx].astype(np.float64), flips) % 1.0


def density_grid(traj: Trajectory, species: str, shape: tuple[int, int, int] = (40, 40, 40)
                 ) -> np.ndarray:
    """Probability density (1/Å^3, average cell) of ``species`` on a grid in fractional
    coordinates, so that a breathing box (NpT) maps every frame onto one grid; the value
    at grid point (i, j, k) is that of the voxel centred on fractional (i, j, k) / shape.
    The cells are taken on one basis through box flips (:func:`continuous_cells`); the
    fractional coordinates are the files' own where read (``Trajectory.fractions``)."""
    idx = traj.indices(species)
    frac = _density_fractions(traj, idx)
    # grid point i (at i / n, where a CUBE file puts its value) counts the atoms within
    # half a voxel of it: bins centred on the points, not starting at them
    frac = (frac + 0.5 / np.asarray(shape)) % 1.0
    hist, _ = np.histogramdd(frac.reshape(-1, 3), bins=shape, range=[(0, 1)] * 3)
    voxel = traj.volumes.mean() / np.prod(shape)
    return hist / (hist.sum() * voxel)


def write_density_cube(traj: Trajectory, species: str, path: str | Path,
                       shape: tuple[int, int, int] = (40, 40, 40)) -> Path:
    """Write the number density of ``species`` as a CUBE file with the average cell and
    the first frame's atoms (wrapped) for orientation, both placed by their fractional
    coordinates in the average cell (under NpT the first frame's cell is another).

    Values are atoms per Bohr^3, in the atomic units of the file's lengths (the Gaussian
    convention, an electron density's e/Bohr^3, which VESTA and ASE's cube reader keep):
    their sum times the voxel volume in Bohr^3 is the number of ``species`` atoms. (Was
    a probability per A^3, integral 1 in A^3: read per Bohr^3, as the file's lengths say,
    it integrated to 6.75 whatever the number of atoms.)"""
    from ase import Atoms
    from ase.io.cube import write_cube
    from ase.units import Bohr

    n_atoms = traj.indices(species).size
    grid = density_grid(traj, species, shape)
    cell = continuous_cells(traj.boxes).mean(axis=0)
    # over the file's cell, the average cell, whose volume is not the average volume
    voxel_bohr3 = abs(np.linalg.det(cell)) / grid.size / Bohr ** 3
    data = n_atoms * grid / (grid.sum() * voxel_bohr3)
    if traj.fractions is None:
        frac = traj.positions[0] @ np.linalg.inv(traj.boxes[0]) % 1.0
    else:   # the files' own, relative to lo as the density's are (positions are not)
        frac = traj.fractions[0].astype(np.float64)
    atoms = Atoms(symbols=traj.elements.tolist(), positions=frac @ cell, cell=cell, pbc=True)
    path = Path(path)
    comment = (f"ionmd: number density of {species} ({n_atoms} atoms), atoms/Bohr^3; "
               f"its integral over the cell is {n_atoms}")
    with open(path, "w") as fh:
        write_cube(fh, atoms, data=data, comment=comment)
    return path
