"""Replicas of the collective sigma combined through the series' own path (series_points,
combine_points): each replica's standard error is the one its interval was built with
(conductivity.collective_interval, wider above, inverted), and the weights do not follow the
value (its error is proportional to it). Reference: the replicas' sampling distribution, a
scaled chi-square (conductivity.collective_interval's own model) drawn with numpy at a known
truth, and the analytic error of a mean of identical replicas."""

import numpy as np
import pytest

from ionmd.analysis.aggregate import combine_points, series_points
from ionmd.analysis.conductivity import collective_interval

T_K = 600.0


def _run(sigma: float, rel: float, name: str) -> dict:
    """A run's results with a collective sigma of relative error ``rel`` (error model: the
    standard error scales with the estimate)."""
    return {"run": name, "temperature_K": T_K,
            "diffusion": [{"direction": "xyz", "species": "Li", "D": 1e-5,
                           "D_ci95": [0.8e-5, 1.2e-5], "flags": [], "n_ions": 16}],
            "conductivity_collective": {"sigma": sigma,
                                        "sigma_ci95": list(collective_interval(sigma, rel * sigma))}}


def _combined(sigmas, rel: float) -> dict:
    runs = [_run(s, rel, f"r{i}") for i, s in enumerate(sigmas)]
    return combine_points(series_points(runs)["sigma_collective_T"])


@pytest.mark.parametrize("rel", [0.1, 0.27, 0.4])
def test_identical_replicas_halve_the_variance(rel):
    """Two identical replicas: the mean's relative error is rel / sqrt(2) (old: 0.083,
    0.304, 0.571 from their upper halves, and the interval reached zero at 0.4)."""
    c = _combined([2.0, 2.0], rel)
    assert c["value"] == pytest.approx(2.0 * T_K)
    assert c["ln_err"] == pytest.approx(rel / np.sqrt(2), rel=1e-6)
    assert c["ci95"][0] > 0


@pytest.fixture(scope="module")
def draws():
    """3 replicas at a 30 % error, 400 trials: sigma / truth ~ chi2_k / k, k = 2 / r^2."""
    rng = np.random.default_rng(7)
    rel, k = 0.3, 2 / 0.3 ** 2
    rows = []
    for sigmas in rng.chisquare(k, (400, 3)) / k:
        c = _combined(sigmas, rel)
        lo, hi = (v / T_K for v in c["ci95"])
        rows.append((c["value"] / T_K, lo <= 1.0 <= hi, np.mean(sigmas)))
    return np.array(rows, float)


def test_combined_is_unbiased(draws):
    """Inverse-variance weights on errors proportional to the value favoured the low replica:
    0.889 +- 0.005 of the truth (1500 trials); now 0.996 +- 0.004. The mean's own noise
    here is 0.009; the plain mean of the same draws is the reference."""
    mean, noise = draws[:, 0].mean(), draws[:, 0].std() / np.sqrt(len(draws))
    assert abs(mean - 1.0) < 4 * noise + 0.01
    assert abs(mean - draws[:, 2].mean()) < 0.02


def test_combined_interval_covers(draws):
    """Coverage of the truth by the combined 95 % interval: 96.1 % over 1500 trials (binomial
    sd here 1.0 %)."""
    assert 0.925 <= draws[:, 1].mean() <= 0.99


def test_a_replica_below_zero_leaves_equal_weights():
    """One collective replica below zero within its scatter: the others' errors, proportional
    to their values, must not weigh them (the lowest dominated: [0.3, 1.5, -0.2] combined to
    0.317); the plain mean of the three, by numpy."""
    runs = [_run(0.3, 0.4, "r0"), _run(1.5, 0.4, "r1"), _run(1.0, 0.4, "r2")]
    runs[2]["conductivity_collective"] = {"sigma": -0.2, "sigma_ci95": [0.0, 0.78]}
    c = combine_points(series_points(runs)["sigma_collective_T"])
    assert c["value"] == pytest.approx(np.mean([0.3, 1.5, -0.2]) * T_K, rel=1e-12)
    assert c["weights"] == "equal"
