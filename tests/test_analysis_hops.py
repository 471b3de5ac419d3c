"""Site-to-site hop counting against the hops a synthetic lattice walk actually made."""

import numpy as np
import pytest

import synthetic_trajectories as st
from ionmd.analysis.hops import count_hops
from ionmd.errors import AnalysisError

A = 2.5  # site spacing, A


def _walk(vibration: float, seed: int = 0, n_frames: int = 2000, n_ions: int = 16,
          p_hop: float = 0.01):
    """Hops on a cubic lattice (probability ``p_hop`` per axis per frame) plus Gaussian
    rattling. Returns positions and the true number of site changes of each ion."""
    rng = np.random.default_rng(seed)
    steps = st.lattice_steps(n_frames, n_ions, [p_hop] * 3, A, 1.0, rng)
    sites = np.concatenate([np.zeros((1, n_ions, 3)), np.cumsum(steps, axis=0)])
    true = np.count_nonzero(np.any(steps != 0, axis=-1), axis=0)
    return sites + vibration * rng.standard_normal(sites.shape), true


def test_counts_every_hop_of_a_lattice_walk_exactly():
    pos, true = _walk(vibration=0.1)
    assert true.sum() > 500
    np.testing.assert_array_equal(count_hops(pos, hop_length=1.5), true)


def test_smoothing_removes_false_hops_from_strong_vibration():
    # residence ~170 frames >> the 3-frame running mean (as ps >> a vibration period)
    pos, true = _walk(vibration=0.35, seed=1, n_frames=5000, p_hop=0.002)
    raw = count_hops(pos, hop_length=1.5)
    smoothed = count_hops(pos, hop_length=1.5, window=3)
    assert true.sum() > 300
    assert raw.sum() > 1.5 * true.sum()                   # rattling counted as hops
    # only hops closer together than the window merge
    assert smoothed.sum() == pytest.approx(true.sum(), rel=0.05)
    # a long jump (two sites at once) is one hop, also when smoothed
    jump = np.zeros((40, 1, 3))
    jump[20:, 0, 0] = 2 * A
    assert count_hops(jump, 1.5, window=5).tolist() == [1]
    # a caged ion (rattling only) never hops
    rng = np.random.default_rng(2)
    assert count_hops(0.3 * rng.standard_normal((2000, 8, 3)), 1.5, window=5).sum() == 0
    with pytest.raises(AnalysisError, match="hop_length must be positive"):
        count_hops(pos, 0.0)
