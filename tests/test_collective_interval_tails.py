"""The collective conductivity's 95 % interval misses ~2.5 % on each side.

Since its GLS weights come from the ions' self MSD (201e78d), the collective estimate is a
fixed-weight sum of one charge path's squared displacements: a quadratic form of Gaussian
steps, skewed to the right like a chi-square (numpy draws it here, vectorised over runs).
The normal pivot sigma / (1 +- 1.96 r) (ce0c8ab, tuned for the weights before) put its
bottom above the truth too often (3.6-3.7 % of these runs, 2.5-4.3 % of full runs in
examples/collective_coverage.py) and its top too rarely below it (1.0-1.1 %); the scaled
chi-square of the same mean and variance (k = 2 / r^2) holds the high tail at 2.1-2.3 %. Its
low tail is 2.8-3.6 % here: the GLS slope weighs the short lags negatively, so the form is
less skewed than a chi-square (in full runs, whose r is estimated per run, 0-2.3 %)."""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.analysis.conductivity import collective_interval
from ionmd.analysis.diffusion import fit_end_of, fit_lags, gls_line, msd_covariance

DT, STEP_VAR, N_RUNS = 0.1, 1.0, 12000


def charge_runs(n_frames: int, rng) -> tuple[np.ndarray, float, float]:
    """``N_RUNS`` slopes of one Brownian charge path per run (3 axes, weights fixed by the
    expected MSD as the self MSD fixes them), the true slope and the slope's relative error
    from the covariance model."""
    lags = fit_lags(DT, n_frames, 1.0, fit_end_of((n_frames - 1) * DT, None), 40)
    expected = STEP_VAR * lags  # per axis: step_var per frame
    weights = gls_line(expected, lags, DT, n_frames, 1).weights[0]
    slopes = np.zeros(N_RUNS)
    for _ in range(3):  # axes, one at a time to keep memory small
        path = np.cumsum(rng.normal(0.0, np.sqrt(STEP_VAR), (N_RUNS, n_frames)), axis=1)
        msd = np.stack([((path[:, lag:] - path[:, :-lag]) ** 2).mean(axis=1) for lag in lags],
                       axis=1)
        slopes += msd @ weights
    true_slope = 3 * STEP_VAR / DT
    r = np.sqrt(3 * weights @ msd_covariance(lags, n_frames, STEP_VAR, 0.0) @ weights) / true_slope
    return slopes, true_slope, float(r)


@pytest.fixture(scope="module", params=[120, 200])
def runs(request):
    slopes, truth, r = charge_runs(request.param, np.random.default_rng(request.param))
    return slopes, truth, r


def test_the_slopes_are_unbiased_and_the_model_error_is_their_scatter(runs):
    slopes, truth, r = runs
    assert slopes.mean() / truth == pytest.approx(1.0, abs=4 * r / np.sqrt(N_RUNS))
    assert slopes.std() / truth == pytest.approx(r, rel=0.05)


def tails(intervals: np.ndarray, truth: float) -> tuple[float, float]:
    return float((intervals[:, 1] < truth).mean()), float((intervals[:, 0] > truth).mean())


def test_each_tail_misses_about_2_5_percent(runs):
    """Binomial sd of a 2.5 % tail over 12000 runs: 0.14 %; the normal pivot's high tail
    (3.6-3.7 %) is 5 sd above the bound, the chi-square's (2.1-2.3 %) 4-6 sd below it."""
    slopes, truth, r = runs
    low, high = tails(np.array([collective_interval(s, r * s) for s in slopes]), truth)
    assert 0.018 < high < 0.029, (low, high)
    assert 0.019 < low < 0.040, (low, high)
