"""A collective sigma's interval never gets a higher lower end from a larger error: the
scaled chi-square's own lower end turns back up beyond a relative error of 4.9 (95 %) and
reaches sigma at 13.5; conductivity.collective_interval holds it at its lowest there."""

import numpy as np
import pytest
from scipy.stats import chi2

from ionmd.analysis.conductivity import collective_interval

REL = np.linspace(0.05, 14.0, 2000)


def chi_square_lower_end(rel: np.ndarray, level: float) -> np.ndarray:
    """``k / chi2_k(upper)`` of sigma 1, ``k = 2 / rel^2``, from scipy directly."""
    k = 2.0 / rel ** 2
    with np.errstate(divide="ignore"):
        return k / chi2.isf((1 - level) / 2, k)


@pytest.mark.parametrize("level", [0.95, 0.99])
def test_lower_end_falls_with_the_error_and_stays_below_sigma(level):
    own = chi_square_lower_end(REL, level)
    ends = np.array([collective_interval(1.0, r, level) for r in REL])
    assert np.all(np.diff(ends[:, 0]) <= 0)
    assert np.all(ends[:, 0] < 1.0)
    # the scaled chi-square's own up to its lowest point, held at that lowest beyond
    lowest = int(np.argmin(own))
    assert ends[:lowest, 0] == pytest.approx(own[:lowest], rel=1e-9)
    assert ends[lowest:, 0] == pytest.approx(np.full(len(REL) - lowest, own.min()), rel=1e-6)
    # the upper end is the scaled chi-square's at every error
    with np.errstate(divide="ignore", over="ignore"):
        upper = 2.0 / REL ** 2 / chi2.ppf((1 - level) / 2, 2.0 / REL ** 2)
    finite = np.isfinite(upper)
    assert np.array_equal(np.isfinite(ends[:, 1]), finite)
    assert ends[finite, 1] == pytest.approx(upper[finite], rel=1e-9)
