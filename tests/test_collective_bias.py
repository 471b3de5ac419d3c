"""The collective (charge-MSD) conductivity of short runs is unbiased: over many 20 ps runs
of independent Brownian Li, whose conductivity is the Nernst-Einstein one by hand
(sigma = N q^2 e^2 D / (V k_B T)), the mean estimate is the truth within its noise.
Weighted by the line through the charge MSD itself, it came out 8-10 % low (the weights
depended on the noise they weighed)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.constants import Boltzmann, elementary_charge

from ionmd.analysis.conductivity import collective_conductivity, self_charge_msd
from ionmd.analysis.trajectory import Trajectory

D_A2_PS, DT_PS, L_A, T_K, N_LI = 0.0726, 0.1, 15.0, 800.0, 16


def brownian_run(rng, n_frames: int, vib: float) -> Trajectory:
    """Independent Brownian Li (D_A2_PS per axis), each vibrating by ``vib`` Å about its
    path, in a fixed cubic box with 8 immobile Cl."""
    steps = rng.normal(0.0, np.sqrt(2 * D_A2_PS * DT_PS), (n_frames, N_LI, 3))
    li = np.cumsum(steps, axis=0) + vib * rng.standard_normal((n_frames, N_LI, 3))
    cl = np.broadcast_to(rng.random((8, 3)) * L_A, (n_frames, 8, 3))
    return Trajectory(positions=np.concatenate([li, cl], axis=1),
                      boxes=np.broadcast_to(L_A * np.eye(3), (n_frames, 3, 3)).copy(),
                      steps=np.arange(n_frames) * 100,
                      elements=np.array(["Li"] * N_LI + ["Cl"] * 8),
                      masses=np.array([6.94] * N_LI + [35.45] * 8), timestep_fs=DT_PS * 10)


def nernst_einstein_by_hand() -> float:
    """mS/cm of N_LI unit charges diffusing independently at D_A2_PS."""
    volume_m3 = L_A ** 3 * 1e-30
    d_m2_s = D_A2_PS * 1e-20 / 1e-12
    return N_LI * elementary_charge ** 2 * d_m2_s / (volume_m3 * Boltzmann * T_K) * 10.0


@pytest.fixture(scope="module")
def short_runs():
    """800 seeded 20 ps runs (200 frames): sigma / truth and the standard error / truth."""
    rng = np.random.default_rng(20261207)
    truth = nernst_einstein_by_hand()
    rows = []
    for _ in range(800):
        c = collective_conductivity(brownian_run(rng, 200, 0.0), {"Li": 1}, T_K, ["Li"])
        lo, hi = c.sigma_ci95
        rows.append([c.sigma / truth, lo <= truth <= hi])
    return np.array(rows)


def test_short_runs_unbiased(short_runs):
    """Mean sigma / truth within 3 standard errors of 1 (before: 0.897 +- 0.014 over 500
    such runs); the trials' scatter is ~0.27, its standard error ~0.010. The reported
    interval covers (98.9 % on these 200-frame runs: the scaled chi-square interval of 71f5297
    is short of low misses below ~40 ps; each tail is checked in test_collective_interval_tails)."""
    ratio = short_runs[:, 0]
    se = ratio.std(ddof=1) / np.sqrt(ratio.size)
    assert abs(ratio.mean() - 1.0) < 3 * se
    assert 0.93 < short_runs[:, 1].mean() < 0.995


def test_self_charge_msd_is_the_ions_summed_msd():
    """Strided or not, the charge-weighted self MSD is the ions' summed squared
    displacement over the time origins (by hand), per axis."""
    rng = np.random.default_rng(1)
    traj = brownian_run(rng, 300, 0.1)
    lags = np.array([1, 7, 40])
    pos = traj.positions[:, :N_LI]
    ref = np.array([((pos[lag:] - pos[:-lag]) ** 2).sum(axis=1).mean(axis=0) for lag in lags])
    assert self_charge_msd(traj, {"Li": 2.0}, ["Li"], lags) == pytest.approx(4 * ref, rel=1e-12)
    strided = np.array([((pos[lag::3] - pos[:-lag:3][:len(pos[lag::3])]) ** 2).sum(1).mean(0)
                        for lag in lags])
    got = self_charge_msd(traj, {"Li": 1.0}, ["Li"], lags, max_values=300 * N_LI // 3)
    assert got == pytest.approx(strided, rel=1e-12)
