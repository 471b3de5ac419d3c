"""A hand-built ``ionmd.analysis.Trajectory`` given positions wrapped into the cell (a
notebook's ``atoms.get_positions()`` of wrapped frames) gave an MSD with jumps of a cell
length, without a word. The MSD and the charge MSD refuse them, naming the atom and the
frames and saying how to unwrap; unwrapped with ``ionmd.analysis.unwrap`` they give the
MSD numpy computes from the walk itself. Structure functions still take wrapped positions."""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.analysis import Trajectory, unwrap
from ionmd.analysis.conductivity import charge_msd
from ionmd.analysis.msd import compute_msd
from ionmd.errors import AnalysisError

L, N_FRAMES, N_ATOMS = 6.0, 200, 8


@pytest.fixture(scope="module", params=["constant", "breathing"])
def walk(request):
    """A random walk (0.3 A steps per axis) that crosses the 6 A cell's faces many times,
    its positions wrapped into each frame's cell and the cells (constant, or breathing by
    +-3 % in a tilted cell as under NpT)."""
    rng = np.random.default_rng(7)
    true = np.cumsum(rng.normal(0.0, 0.3, (N_FRAMES, N_ATOMS, 3)), axis=0)
    cell = np.eye(3) * L if request.param == "constant" else \
        np.array([[L, 0, 0], [0.8, L, 0], [0.3, -0.5, L]])
    scale = 1 + (0.03 * np.sin(np.arange(N_FRAMES) / 9) if request.param == "breathing"
                 else np.zeros(N_FRAMES))
    boxes = cell[None] * scale[:, None, None]
    frac = np.einsum("tnk,tkl->tnl", true, np.linalg.inv(boxes)) % 1.0
    wrapped = np.einsum("tnk,tkl->tnl", frac, boxes)
    assert np.abs(np.diff(wrapped, axis=0)).max() > L / 2    # it did cross faces
    return true, wrapped, boxes, request.param


def _traj(positions, boxes, elements=("Li",) * 4 + ("Cl",) * 4):
    return Trajectory(positions, boxes, np.arange(N_FRAMES) * 10, np.array(elements),
                      np.where(np.array(elements) == "Li", 6.94, 35.45), 2.0)


def test_wrapped_positions_are_refused_with_what_to_do(walk):
    _, wrapped, boxes, _ = walk
    traj = _traj(wrapped, boxes)
    with pytest.raises(AnalysisError, match=r"the MSD of Li: atom \d \(Li\) moves 0\.\d\d of "
                       r"cell vector [abc] between frames \d+ and \d+ .*look wrapped.*"
                       r"ionmd\.analysis\.unwrap\(positions, boxes\)"):
        compute_msd(traj, "Li")
    with pytest.raises(AnalysisError, match=r"the charge MSD: .*look wrapped"):
        charge_msd(traj, {"Li": 1.0, "Cl": -1.0}, "Li", np.array([1, 2]))


def test_unwrapped_they_give_numpys_msd(walk):
    """In a constant cell the walk itself; in a breathing one unwrapping keeps the box's
    own motion of each image (unwrapping module doc), so only that it is taken."""
    true, wrapped, boxes, kind = walk
    msd = compute_msd(_traj(unwrap(wrapped, boxes), boxes), "Li")
    if kind == "constant":
        li = true[:, :4]
        expected = [np.mean(np.sum((li[lag:] - li[:-lag]) ** 2, axis=-1))
                    for lag in (1, 10, 50)]
        np.testing.assert_allclose(msd.msd[[1, 10, 50]], expected, rtol=1e-6)  # MDAnalysis float32
    assert np.all(np.isfinite(msd.msd))


def test_structure_functions_still_take_wrapped_positions(walk):
    from ionmd.analysis.structure_functions import rdf

    _, wrapped, boxes, _ = walk
    r, g = rdf(_traj(wrapped, boxes), "Li", "Cl", r_max=2.9, n_bins=10)[:2]
    assert np.all(np.isfinite(g))
