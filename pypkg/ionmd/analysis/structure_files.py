"""The structure-function files of an analysed run (``ionmd analyze
--structure``): density CUBE files, ``rdf.csv`` and ``van_hove.csv``
(:func:`write_structure_functions`), and the check of the van Hove lags asked for, made
before the transport work (:func:`check_van_hove_lags`).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Sequence

import numpy as np

from ionmd.analysis.trajectory import Trajectory
from ionmd.errors import AnalysisError


STRUCTURE_R_MAX = 6.0
"""Range (A) of ``rdf.csv`` and ``van_hove.csv``: the first coordination shells of an
electrolyte and a Li hop (~2-4 A). Pairs are counted over every periodic image, so it is
right in any cell, smaller or tilted (it was half the cell's diagonal element, 0 on ASE's
primitive fcc vectors)."""


RDF_MAX_FRAMES = 100
"""Frames ``rdf.csv`` averages at most (every k-th frame, evenly over the run): pairs
over every image cost about 1.7 s a frame for the 10 partials of a 4000-atom
four-element cell (2 busy cores), 28 min for 1000 frames; 100 frames of such a cell
count over 10^7 pairs a partial, and consecutive frames add little beyond them."""


def rdf_step(n_frames: int) -> int:
    """Every how many frames ``rdf.csv`` takes one: :data:`RDF_MAX_FRAMES` at most."""
    return max(1, math.ceil(n_frames / RDF_MAX_FRAMES))


def default_van_hove_lags(traj: Trajectory) -> list[float]:
    """5, 10, 25 and 50 % of the run, on whole frames (at least one frame)."""
    frames = np.unique(np.maximum(1, np.round(np.array([0.05, 0.1, 0.25, 0.5])
                                              * (traj.n_frames - 1)).astype(int)))
    return (frames * traj.frame_interval_ps).tolist()


def check_van_hove_lags(lags_ps: Sequence[float], steps: np.ndarray, timestep_fs: float,
                        discard_ps: float) -> None:
    """Refuse van Hove lags that are not a whole number of frames of the run analysed
    (``steps`` of its frames, ``discard_ps`` then left out) or longer than it, naming the
    lags there are; :mod:`ionmd.analysis.structure_functions` would refuse them only after
    the transport analysis.

    Raises
    ------
    AnalysisError
        Naming the lags refused and those available.
    """
    from ionmd.analysis.structure_functions import LAG_TOLERANCE_FRAMES

    times = (np.asarray(steps) - steps[0]) * timestep_fs * 1e-3
    if len(times) < 2 or not times[1] > 0:
        return                  # too few frames: the transport analysis says so
    n_frames = int(np.sum(times >= discard_ps - 1e-9))
    interval = float(times[1])
    frames = np.asarray(lags_ps, dtype=float) / interval
    whole = np.round(frames)
    bad = [t for t, f, n in zip(lags_ps, frames, whole)
           if not (t >= 0 and abs(f - n) <= LAG_TOLERANCE_FRAMES and n < n_frames)]
    if not bad:
        return
    longest = (n_frames - 1) * interval
    shown = ", ".join(f"{k * interval:g}" for k in range(1, min(n_frames, 5)))
    raise AnalysisError(
        f"--van-hove-lags-ps {', '.join(f'{t:g}' for t in bad)}: a lag must be a whole number "
        f"of frames of the run analysed (frames {interval:g} ps apart, {longest:g} ps after "
        f"the {discard_ps:g} ps discarded); the lags available are the multiples of "
        f"{interval:g} ps up to {longest:g} ps ({shown}{', ...' if n_frames > 5 else ''})")


def write_structure_functions(traj: Trajectory, mobile: Sequence[str], out: Path,
                              van_hove_lags_ps: Sequence[float] | None = None) -> list[str]:
    """Density CUBE files, ``rdf.csv`` (over every :func:`rdf_step`-th frame) and
    ``van_hove.csv`` (self and distinct parts of the first mobile species at each lag: by
    default :func:`default_van_hove_lags`)."""
    from ionmd.analysis.structure_functions import (rdf, van_hove_distinct, van_hove_self,
                                                    write_density_cube)

    from ionmd.analysis.trajectory import species_list

    mobile = species_list(mobile)
    files = []
    for s in mobile:
        files.append(str(write_density_cube(traj, s, out / f"density_{s}.cube")))
    species = sorted(set(traj.elements.tolist()))
    cols, names = [], []
    for i, a in enumerate(species):
        for b in species[i:]:
            r, g = rdf(traj, a, b, r_max=STRUCTURE_R_MAX, step=rdf_step(traj.n_frames))
            cols.append(g)
            names.append(f"g_{a}{b}")
    _write_columns(out / "rdf.csv", ["r_A"] + names, [r] + cols)
    lags = list(van_hove_lags_ps) if van_hove_lags_ps else default_van_hove_lags(traj)
    s = mobile[0]
    r, gs = van_hove_self(traj, s, lags, r_max=STRUCTURE_R_MAX, n_bins=60)
    _, gd = van_hove_distinct(traj, s, lags, r_max=STRUCTURE_R_MAX, n_bins=60)
    _write_columns(out / "van_hove.csv",
                   ["r_A"] + [f"4pi_r2_Gs_{s}_{t:.4g}ps" for t in lags]
                   + [f"Gd_{s}_{t:.4g}ps" for t in lags], [r, *gs, *gd])
    return files + [str(out / "rdf.csv"), str(out / "van_hove.csv")]


def _write_columns(path: Path, header: list[str], cols: list[np.ndarray]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(np.stack(cols, -1).tolist())
