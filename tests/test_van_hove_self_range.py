"""The self part of the van Hove function where many displacements reach beyond r_max:
those are left out of the histogram but count in its normalisation, so that
``4 pi r^2 G_s`` integrates to the fraction of displacements below r_max (a fast ion,
most of whose displacements lie beyond, must not look localised by a histogram
renormalised to 1). Reference: the analytic G_s of Brownian motion with a known D,
whose |displacement| follows a chi distribution with 3 degrees of freedom and scale
sqrt(2 D t) (scipy)."""

from __future__ import annotations

import numpy as np
from scipy.stats import chi

import synthetic_trajectories as st
from ionmd.analysis.structure_functions import van_hove_self

D, R_MAX, LAGS = 1.0, 4.0, [1.0, 5.0, 10.0]     # A^2/ps, A, ps


def test_weight_beyond_r_max_is_not_put_back_into_the_histogram():
    rng = np.random.default_rng(7)
    s = st.make(st.brownian_steps(150, 400, [D] * 3, 0.1, rng), L=30.0, rng=rng)
    r, g = van_hove_self(s.true, "Li", LAGS, r_max=R_MAX, n_bins=40)
    dr = r[1] - r[0]
    for row, t in zip(g, LAGS):
        radial = chi(3, scale=np.sqrt(2 * D * t))
        below = radial.cdf(R_MAX)               # 0.95, 0.34, 0.15
        assert abs(row.sum() * dr - below) < 0.03, (t, row.sum() * dr, below)
        # bin by bin: the chi density (the bins' mean of 4 pi r^2 G_s)
        edges = np.append(r - dr / 2, R_MAX)
        expected = np.diff(radial.cdf(edges)) / dr
        assert np.abs(row - expected).max() < 0.1 * expected.max() + 0.01, t
