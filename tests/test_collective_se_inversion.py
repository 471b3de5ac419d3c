"""A collective sigma replica's standard error is recovered from its interval (the scaled
chi-square of conductivity.collective_interval) at every relative error, also beyond the
error (4.9 at 95 %) where the interval's lower end turns back up."""

import numpy as np
import pytest
from scipy.stats import chi2

from ionmd.analysis.replica_combination import collective_se
from ionmd.analysis.conductivity import lower_end_turn

SIGMA = 2.5


def chi_square_interval(sigma: float, rel: float, level: float) -> tuple[float, float]:
    """``sigma k / chi2_k(upper)`` to ``sigma k / chi2_k(lower)``, ``k = 2 / rel^2``, from
    scipy directly."""
    k = 2.0 / rel**2
    below = (1 - level) / 2
    with np.errstate(divide="ignore", over="ignore"):    # the upper end: inf beyond ~12
        return sigma * k / chi2.isf(below, k), sigma * k / chi2.ppf(below, k)


@pytest.mark.parametrize("level, rel", [(0.95, r) for r in (0.02, 0.3, 1.0, 3.0, 4.5, 6.0, 8.0,
                                                           10.0, 12.0)]
                         + [(0.99, r) for r in (0.3, 2.0, 9.0, 11.0)])
def test_se_recovered_from_interval(level, rel):
    interval = chi_square_interval(SIGMA, rel, level)
    assert np.isfinite(interval).all()
    assert collective_se(SIGMA, interval, level) == pytest.approx(rel * SIGMA, rel=1e-6)


@pytest.mark.parametrize("level", [0.95, 0.99])
def test_lower_end_turn_is_the_lowest_lower_end(level):
    rel = np.linspace(0.5, 15.0, 2901)
    lows = np.array([chi_square_interval(1.0, r, level)[0] for r in rel])
    assert lower_end_turn(level) == pytest.approx(rel[np.argmin(lows)], abs=0.01)
    # two errors give one lower end beyond the turn: why the upper end tells them apart
    assert lows[-1] > lows.min() * 1.05
