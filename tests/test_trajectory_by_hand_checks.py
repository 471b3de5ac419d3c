"""A Trajectory built by hand in a notebook (from ASE frames, numpy arrays): a time step of
0, below 0, NaN or ``True`` was taken (D then refused as "fit end -1.99 ps", or a
``ValueError: cannot convert float NaN to integer`` from inside the fit), one frame gave an
``IndexError`` for its frame interval, and NaN positions (a run that blew up) a scipy
``ValueError: array must not contain infs or NaNs`` from inside D (the charge MSD: a NaN
sigma). Each is now an AnalysisError saying what is wrong. The MSD of such a trajectory is
checked against numpy's average over all time origins."""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.analysis import Trajectory
from ionmd.analysis.conductivity import collective_conductivity
from ionmd.analysis.diffusion import diffusion
from ionmd.analysis.msd import compute_msd
from ionmd.errors import AnalysisError

N_FRAMES = 120
ELEMENTS = ["Li"] * 4 + ["Cl"] * 4
MASSES = [6.94] * 4 + [35.45] * 4


def _walk(seed=0):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(0, 0.1, (N_FRAMES, 8, 3)), axis=0)


def _traj(positions=None, timestep_fs=2.0, frames=N_FRAMES):
    pos = _walk() if positions is None else positions
    return Trajectory(pos[:frames], np.tile(np.eye(3) * 10.0, (frames, 1, 1)),
                      np.arange(frames) * 10, ELEMENTS, MASSES, timestep_fs)


@pytest.mark.parametrize("dt", [0.0, -2.0, float("nan"), float("inf"), True, "2"])
def test_a_time_step_that_is_none_is_refused(dt):
    with pytest.raises(AnalysisError, match=r"timestep_fs must be the MD time step in fs, a "
                                            r"number above 0, got .*dyn\.dt / ase\.units\.fs"):
        _traj(timestep_fs=dt)


def test_one_frame_has_no_frame_interval():
    with pytest.raises(AnalysisError, match=r"1 frame\(s\) has no frame interval"):
        _traj(frames=1).frame_interval_ps


def test_positions_that_are_not_finite_are_refused_naming_the_frame():
    pos = _walk()
    pos[70:, 2] = np.nan                      # a Li lost at frame 70
    traj = _traj(pos)
    for compute in (lambda: compute_msd(traj, "Li"),
                    lambda: diffusion(traj, "Li", fit_start_ps=0.1),
                    lambda: collective_conductivity(traj, {"Li": 1, "Cl": -1}, 600, "Li",
                                                    fit_start_ps=0.1)):
        with pytest.raises(AnalysisError, match=r"positions are not finite from frame 70 "
                                                r"\(step 700\) on"):
            compute()
    assert compute_msd(traj, "Cl").msd[1] > 0        # the other species' MSD is still there


def test_the_msd_of_a_trajectory_by_hand_is_numpys():
    pos = _walk(1)
    msd = compute_msd(_traj(pos), "Li")
    li = pos[:, :4]
    ref = [np.mean(np.sum((li[k:] - li[:N_FRAMES - k]) ** 2, axis=-1)) for k in range(1, 40)]
    np.testing.assert_allclose(msd.msd[1:40], ref, rtol=1e-6)
    np.testing.assert_allclose(msd.lag_ps[:3], [0.0, 0.02, 0.04])    # 10 steps of 2 fs
