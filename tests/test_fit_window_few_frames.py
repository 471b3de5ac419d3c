"""A fit window of the fewest frames the MSD fit accepts (3 lags: fit_lags' rule, which a
campaign's plan checks) failed the whole analysis: the fit-start check fitted the window's
later part (from sqrt(start * end)), 2 lags, and its 'fewer than 3 MSD points' error ended
diffusion() (0.6 ps analysed at 0.1 ps a frame, fit from 0.1 ps to 0.3 ps), though the
fit itself, and the collective conductivity on the same window, are made. Now the check is
skipped where the later part is too short to fit."""

import numpy as np
import pytest

import synthetic_trajectories as st
from ionmd.analysis.conductivity import collective_conductivity
from ionmd.analysis.diffusion import diffusion, fit_lags

D_AXIS, DT = 0.3, 0.1          # A^2/ps per axis, ps per frame


@pytest.fixture(scope="module")
def short_walk():
    rng = np.random.default_rng(3)
    steps = st.brownian_steps(7, 2000, [D_AXIS] * 3, DT, rng)      # 7 frames: 0.6 ps
    return st.make(steps, L=40.0, dt_ps=DT, vib=0.0, rng=rng).true.framework_drift_removed(["Li"])


def test_the_fewest_frames_the_fit_takes_give_d(short_walk):
    assert list(fit_lags(DT, short_walk.n_frames, 0.1, 0.3)) == [1, 2, 3]
    collective_conductivity(short_walk, {"Li": 1.0}, 600.0, ["Li"], fit_start_ps=0.1)
    r = diffusion(short_walk, "Li", fit_start_ps=0.1)
    true_D = D_AXIS * 1e-4                                          # cm^2/s
    assert r.fit_end_ps == pytest.approx(0.3)
    assert r.D_ci95[0] < true_D < r.D_ci95[1]
    assert r.D == pytest.approx(true_D, rel=0.1)
