"""The self van Hove function histograms displacements, as the MSD does: a hand-built
``Trajectory`` of positions wrapped into the cell gave a G_s with a tail at a cell length
(each face crossing a jump of ~6 A) without a word. It refuses them as the MSD does
(``Trajectory.check_displacements``); unwrapped with ``ionmd.analysis.unwrap`` they give
numpy's G_s of the walk itself."""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.analysis import Trajectory, unwrap
from ionmd.analysis.structure_functions import van_hove_self
from ionmd.errors import AnalysisError

L, N_FRAMES, N_ATOMS, LAG = 6.0, 200, 8, 10
R_MAX, N_BINS = 8.0, 40


@pytest.fixture(scope="module")
def walk():
    """A random walk (0.3 A steps per axis) crossing the 6 A cubic cell's faces, the walk
    and its positions wrapped into the cell."""
    rng = np.random.default_rng(11)
    true = np.cumsum(rng.normal(0.0, 0.3, (N_FRAMES, N_ATOMS, 3)), axis=0)
    boxes = np.repeat(np.eye(3)[None] * L, N_FRAMES, axis=0)
    wrapped = true % L
    assert np.abs(np.diff(wrapped, axis=0)).max() > L / 2    # it did cross faces
    return true, wrapped, boxes


def _traj(positions, boxes):
    elements = np.array(("Li",) * 4 + ("Cl",) * 4)
    return Trajectory(positions, boxes, np.arange(N_FRAMES) * 10, elements,
                      np.where(elements == "Li", 6.94, 35.45), 2.0)


def _numpy_gs(positions) -> np.ndarray:
    """4 pi r^2 G_s at lag LAG frames of the Li atoms, over all displacements."""
    li = positions[:, :4]
    d = np.linalg.norm(li[LAG:] - li[:-LAG], axis=-1).ravel()
    hist, edges = np.histogram(d, bins=np.linspace(0.0, R_MAX, N_BINS + 1))
    return hist / (d.size * (edges[1] - edges[0]))


def test_wrapped_positions_are_refused_as_by_the_msd(walk):
    true, wrapped, boxes = walk
    # what the wrapped positions would give is not the walk's G_s
    assert np.abs(_numpy_gs(wrapped) - _numpy_gs(true)).max() > 0.05
    lag_ps = LAG * 10 * 2.0 / 1000
    with pytest.raises(AnalysisError, match=r"the self van Hove function of Li: atom \d "
                       r"\(Li\) moves .*look wrapped.*ionmd\.analysis\.unwrap"):
        van_hove_self(_traj(wrapped, boxes), "Li", lag_ps, r_max=R_MAX, n_bins=N_BINS)


def test_unwrapped_they_give_numpys_van_hove_of_the_walk(walk):
    true, wrapped, boxes = walk
    lag_ps = LAG * 10 * 2.0 / 1000
    r, g = van_hove_self(_traj(unwrap(wrapped, boxes), boxes), "Li", lag_ps, r_max=R_MAX,
                         n_bins=N_BINS)
    np.testing.assert_allclose(g, _numpy_gs(true), rtol=1e-6, atol=1e-9)
