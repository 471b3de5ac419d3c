"""msd_covariance in closed form (~0.5 ms for 40 lags of 4000 frames, the sum offset by
offset it replaced ~25 ms: a speed no unit test times): the same matrix as that sum (copied
here as the reference) and the covariance a Monte-Carlo walk gives."""
import numpy as np
import pytest

from ionmd.analysis.diffusion import msd_covariance


def reference_covariance(lags, n_frames, step_var, noise_var):
    """The loop over lag pairs and offsets msd_covariance used before (as it was)."""
    n = len(lags)
    cov = np.empty((n, n))
    for p, i in enumerate(lags):
        for q in range(p, n):
            j = lags[q]
            offset = np.arange(-j, i + 1)
            overlap = np.clip(np.minimum(i, offset + j) - np.maximum(0, offset), 0, None)
            shared = ((offset == i - j).astype(float) - (offset == i) - (offset == -j)
                      + (offset == 0))
            pairs = np.clip(np.minimum(n_frames - i - 1, n_frames - j - 1 - offset)
                            - np.maximum(0, -offset) + 1, 0, None)
            cov[p, q] = cov[q, p] = (2 * (pairs * (step_var * overlap + noise_var * shared) ** 2)
                                     .sum() / ((n_frames - i) * (n_frames - j)))
    return cov


def lag_sets(n_frames):
    """Every lag (short runs), a few unsorted with repeats and the extremes, and a
    fit_lags-like grid of 40."""
    top = n_frames - 2
    if n_frames <= 40:
        yield np.arange(1, top + 1)
    yield np.array([top, 1, max(top // 2, 1), 1, top])
    yield np.array([0, 1, top])
    yield np.unique(np.linspace(1, top, 40).astype(int))


VARIANCES = [(0.5, 0.09), (1e-3, 1.0), (2.0, 0.0), (0.0, 0.3), (1.0, 1.0)]


@pytest.mark.parametrize("n_frames", [3, 4, 5, 8, 13, 40, 301, 2001])
def test_matches_offset_by_offset_sum(n_frames):
    for lags in lag_sets(n_frames):
        for step_var, noise_var in VARIANCES:
            want = reference_covariance(lags, n_frames, step_var, noise_var)
            got = msd_covariance(lags, n_frames, step_var, noise_var)
            assert np.array_equal(got, got.T)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=0,
                                       err_msg=f"lags {lags}, {step_var}, {noise_var}")


def test_long_run_matches_to_rounding():
    """Past ~6000 frames the counts' products leave float64's exact integers."""
    lags = np.linspace(10, 50000, 40).astype(int)
    want = reference_covariance(lags, 100000, 0.5, 0.1)
    np.testing.assert_allclose(msd_covariance(lags, 100000, 0.5, 0.1), want, rtol=1e-12)


def test_monte_carlo_walk_with_noise():
    """Gaussian steps plus Gaussian noise: the sample covariance of the time-averaged
    squared displacements over 40000 walks agrees within 5 standard errors per entry."""
    n_frames, lags, step_var, noise_var = 24, np.array([1, 3, 7, 11]), 0.7, 0.2
    rng = np.random.default_rng(11)
    walks = 40000
    path = np.cumsum(rng.normal(0, np.sqrt(step_var), (walks, n_frames)), axis=1)
    seen = path + rng.normal(0, np.sqrt(noise_var), path.shape)
    tasd = np.stack([((seen[:, i:] - seen[:, :-i]) ** 2).mean(1) for i in lags], axis=1)
    centred = tasd - tasd.mean(0)
    products = centred[:, :, None] * centred[:, None, :]
    sample = products.mean(0) * walks / (walks - 1)
    stderr = products.std(0, ddof=1) / np.sqrt(walks)
    model = msd_covariance(lags, n_frames, step_var, noise_var)
    assert np.all(np.abs(sample - model) < 5 * stderr), (sample - model) / stderr
    # the noise terms matter here: the model without them is far off at lag 1
    without_noise = msd_covariance(lags, n_frames, step_var, 0.0)
    assert abs(sample[0, 0] - without_noise[0, 0]) > 20 * stderr[0, 0]
