"""Collective (charge-MSD) conductivity: does its 95 % interval cover the truth, on both sides?

Independent Brownian Li (tests/synthetic_trajectories.py, D = 0.0726 A^2/ps: 800 K of
the referee's Ea = 0.25 eV, 0.15 A^2/ps at 1000 K; 0.1 ps frames, vibrating framework,
the Li vibrating about their paths by ``vib`` A where set) have a known conductivity, the
Nernst–Einstein one. For every trial
:func:`ionmd.analysis.conductivity.collective_conductivity` gives sigma and its standard
error, and three intervals are scored on the same trials: the reported one
(:func:`ionmd.analysis.conductivity.collective_interval`: sigma / sigma_hat a scaled
chi-square, since Dec 7 2026), the normal pivot sigma / (1 +- 1.96 r) it replaced (tuned for
the weights before Dec 7 2026) and a symmetric +-1.96 se one (before Dec 2026). Printed per
setting: the mean of sigma / truth and its standard error (the bias), misses low (interval
top below the truth) and high (bottom above it), each of which should be ~2.5 %
(binomial sd 0.35 % at 2000 trials). Not a test (~8 min for 2000); run by hand:
``.venv/bin/python examples/collective_coverage.py --trials 2000``.
docs/analysis.md (Conductivity) quotes its table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import synthetic_trajectories as st  # noqa: E402

from ionmd.analysis import conductivity as cond  # noqa: E402

D_800K = 0.15 * np.exp(-0.25 / 8.617333262e-5 * (1 / 800 - 1 / 1000))  # A^2/ps
# (ions, frames, Li vibration in A)
SETTINGS = [(16, 100, 0.0), (16, 200, 0.0), (16, 400, 0.0), (32, 500, 0.0), (64, 200, 0.0),
            (16, 1000, 0.0), (16, 200, 0.3), (16, 400, 0.3), (64, 1000, 0.3)]


def one_trial(n_li: int, n_frames: int, vib: float, rng) -> tuple[float, float, float]:
    """sigma, its standard error and the true sigma of one run."""
    kept = {}

    def recording(sigma, se, level=0.95):
        kept["se"] = se
        return interval(sigma, se, level)

    interval, cond.collective_interval = cond.collective_interval, recording
    try:
        steps = st.brownian_steps(n_frames, n_li, [D_800K] * 3, 0.1, rng)
        steps = steps + np.diff(vib * rng.standard_normal((n_frames, n_li, 3)), axis=0)
        traj = st.make(steps, L=15.0, rng=rng).true.framework_drift_removed(["Li"])
        c = cond.collective_conductivity(traj, {"Li": 1}, 800.0, ["Li"])
    finally:
        cond.collective_interval = interval
    truth = cond.nernst_einstein(D_800K * 1e-4, n_li, 1.0, traj.volumes.mean(), 800.0)
    return c.sigma, kept["se"], truth


def normal_pivot_interval(sigma: np.ndarray, se: np.ndarray) -> np.ndarray:
    """The interval of Dec 7 2026 01:15 (ce0c8ab) where 1.96 r < 1: sigma / (1 +- 1.96 r)."""
    zr = 1.96 * se / sigma
    return np.stack([sigma / (1 + zr), np.where(zr < 1, sigma / (1 - zr), np.inf)], axis=-1)


def misses(ci: np.ndarray, truth: np.ndarray) -> str:
    low, high = ci[:, 1] < truth, ci[:, 0] > truth
    return f"{low.mean():>5.1%} {high.mean():>5.1%} {1 - (low | high).mean():>6.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save", help="write every trial's sigma, se and truth to this .npz")
    args = parser.parse_args()
    print(f"{'ions':>4} {'frames':>6} {'vib':>4} {'se/sigma':>8} {'sigma/truth':>15} | "
          f"{'reported: low':>13} {'high':>5} {'cover':>6} | {'pivot: low':>10} {'high':>5} "
          f"{'cover':>6} | {'symmetric: low':>14} {'high':>5} {'cover':>6}", flush=True)
    saved = {}
    z = norm.isf(0.025)
    for n_li, n_frames, vib in SETTINGS:
        rng = np.random.default_rng([args.seed, n_li, n_frames, int(vib * 10)])
        rows = [one_trial(n_li, n_frames, vib, rng) for _ in range(args.trials)]
        sigma, se, truth = (np.array(x) for x in zip(*rows))
        saved[f"{n_li}_{n_frames}_{vib}"] = np.stack([sigma, se, truth])
        reported = np.array([cond.collective_interval(s, e) for s, e in zip(sigma, se)])
        symmetric = np.stack([sigma - z * se, sigma + z * se], axis=-1)
        ratio = sigma / truth
        bias = f"{ratio.mean():.3f} +- {ratio.std(ddof=1) / np.sqrt(ratio.size):.3f}"
        print(f"{n_li:>4} {n_frames:>6} {vib:>4} {np.median(se / sigma):>8.3f} {bias:>15} | "
              f"{misses(reported, truth):>26} | {misses(normal_pivot_interval(sigma, se), truth):>23}"
              f" | {misses(symmetric, truth):>27}  (n={args.trials})", flush=True)
    if args.save:
        np.savez(args.save, **saved)


if __name__ == "__main__":
    main()
