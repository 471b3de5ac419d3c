"""The studentized quantile's memory grows with points x draws per estimate, not with the
square of the points: 6f39eeb centred each draw by all pairs of points (an array of
estimates x points x points x draws: 2.7 GiB for the 100 estimates of an Arrhenius
figure's band over 40 temperatures, review RV7). numpy's arrays are traced by tracemalloc,
so the peak is counted, not timed."""

from __future__ import annotations

import tracemalloc

import numpy as np

from ionmd.analysis.arrhenius_bootstrap import QUANTILE_DRAWS, studentized_quantile

KB = 8.617333262e-5


def test_the_quantile_of_many_estimates_over_many_points_holds_no_pair_array():
    points, estimates = 40, 30
    x = -1 / (KB * np.linspace(500, 1200, points))
    x0 = np.stack([np.ones(estimates), -1 / (KB * np.linspace(300, 1200, estimates))], 1)
    pair_array = estimates * points * points * QUANTILE_DRAWS * 8
    tracemalloc.start()
    try:
        q = studentized_quantile(x0, x, np.full(points, 0.1), np.full(points, 3.0), scaled=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.all(np.isfinite(q)) and np.all(q > 1.96)     # a Student-like quantile, > normal's
    # (measured: 103 MiB, with the null draws of every point; 6f39eeb's: 824 MiB)
    assert peak < pair_array / 2, (peak / 2**20, pair_array / 2**20)
