"""kinisi_arrhenius seeded numpy's global generator (``np.random.seed(seed)``: kinisi's
walkers start from it) and left it so: a notebook's own ``np.random`` draws after the fit
were the same on every call, whatever came before. The caller's generator state is now
given back; the fit stays reproducible by its ``seed``."""

from __future__ import annotations

import numpy as np

from ionmd.analysis.arrhenius import KB_EV
from ionmd.analysis.arrhenius_kinisi import kinisi_arrhenius

T = np.array([500.0, 600.0, 700.0, 800.0])
D = 1e-3 * np.exp(-0.3 / (KB_EV * T))


def _fit(seed=1):
    return kinisi_arrhenius(T, D, 0.1 * D, n_samples=60, n_walkers=8, n_burn=20, seed=seed)


def test_the_callers_global_generator_is_left_as_it_was():
    np.random.seed(123)
    expected = np.random.random(4)
    np.random.seed(123)
    first = _fit()
    assert np.array_equal(np.random.random(4), expected)   # was the draws after seed(1)
    np.random.seed(7)                                        # another state: same fit
    assert _fit() == first
    assert abs(first["Ea_eV"] - 0.3) < 0.1
