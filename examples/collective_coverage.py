"""Collective (charge-MSD) conductivity: does its 95 % interval cover the truth, on both sides?

Independent Brownian Li (tests/synthetic_trajectories.py, D = 0.0726 A^2/ps: 800 K of
the referee's Ea = 0.25 eV, 0.15 A^2/ps at 1000 K; 0.1 ps frames, vibrating framework)
have a known conductivity, the Nernst–Einstein one. For every trial
:func:`ionmd.analysis.conductivity.collective_conductivity` is run and its standard error
kept, and two intervals are scored: the reported one
(:func:`ionmd.analysis.conductivity.collective_interval`, wider above) and a symmetric +-1.96 se one
(before Dec 2026). Printed per setting: the mean of sigma / truth and its standard error
(the bias: 20 ps runs came out 8-10 % low before Dec 7 2026, when the fit's weights came
from the charge MSD's own line), misses low (interval top below the truth) and high
(bottom above it), each of which should be ~2.5 %. Not a test (~3 min for 2000);
run by hand: ``.venv/bin/python examples/collective_coverage.py --trials 2000``.
docs/analysis.md (Conductivity) quotes its table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import synthetic_trajectories as st  # noqa: E402

from ionmd.analysis import conductivity as cond  # noqa: E402

D_800K = 0.15 * np.exp(-0.25 / 8.617333262e-5 * (1 / 800 - 1 / 1000))  # A^2/ps
SETTINGS = [(16, 200), (16, 400), (32, 500), (16, 1000), (16, 2000)]  # (ions, frames)


def one_trial(n_li: int, n_frames: int, rng) -> tuple[float, float, tuple, float]:
    """sigma, its standard error, the reported interval and the true sigma of one run."""
    kept = {}

    def recording(sigma, se):
        kept["se"] = se
        return interval(sigma, se)

    interval, cond.collective_interval = cond.collective_interval, recording
    try:
        steps = st.brownian_steps(n_frames, n_li, [D_800K] * 3, 0.1, rng)
        traj = st.make(steps, L=15.0, rng=rng).true.framework_drift_removed(["Li"])
        c = cond.collective_conductivity(traj, {"Li": 1}, 800.0, ["Li"])
    finally:
        cond.collective_interval = interval
    truth = cond.nernst_einstein(D_800K * 1e-4, n_li, 1.0, traj.volumes.mean(), 800.0)
    return c.sigma, kept["se"], c.sigma_ci95, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"{'ions':>4} {'frames':>6} {'se/sigma':>8} {'sigma/truth':>15} | reported: low high "
          f"cover | symmetric: low high cover")
    for n_li, n_frames in SETTINGS:
        rng = np.random.default_rng([args.seed, n_li, n_frames])
        rows = [one_trial(n_li, n_frames, rng) for _ in range(args.trials)]
        sigma, se, ci, truth = (np.array(x) for x in zip(*rows))
        low, high = ci[:, 1] < truth, ci[:, 0] > truth
        s_low, s_high = sigma + 1.96 * se < truth, sigma - 1.96 * se > truth
        n = args.trials
        ratio = sigma / truth
        bias = f"{ratio.mean():.3f} +- {ratio.std(ddof=1) / np.sqrt(ratio.size):.3f}"
        print(f"{n_li:>4} {n_frames:>6} {np.median(se / sigma):>8.3f} {bias:>15} | "
              f"{low.mean():>8.1%} {high.mean():>4.1%} {1 - (low | high).mean():>5.1%} | "
              f"{s_low.mean():>9.1%} {s_high.mean():>4.1%} {1 - (s_low | s_high).mean():>5.1%}"
              f"  (n={n})")


if __name__ == "__main__":
    main()
