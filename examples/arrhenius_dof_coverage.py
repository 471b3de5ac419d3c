"""Coverage of Arrhenius fits' 95 % intervals (Ea, D(300 K)) when each point's ln error is
estimated over few ions.

Each trial: one run per temperature, its D the mean over ``n`` ions of normal per-ion
values (relative error ``rel`` of the mean, Ea 0.3 eV), its interval Student t over the
ions (dof n - 1), read as collect reads it (:class:`ionmd.analysis.aggregate.Point` at the
run's quantile, :func:`ionmd.analysis.aggregate.arrhenius_of_points`). Compared:

* ``1.96``: the fit given the ln errors alone (known normal errors; Birge + t(n - 2) on
  excess scatter): what the fits did before ``y_err_dof``;
* ``ws``: as collect fits now: Student t at the Welch-Satterthwaite dof of Ea and of
  ln D(300 K), where no scatter correction applies.

Not a test (about 5 s per 10,000 trials and case, a minute for the 12 cases):
``.venv/bin/python examples/arrhenius_dof_coverage.py --trials 10000``.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.stats import t as student_t

from ionmd.analysis.aggregate import Point, arrhenius_of_points
from ionmd.analysis.arrhenius import KB_EV, fit_arrhenius, ln_error_from_interval

EA, LN_D0 = 0.3, np.log(1e-5)


def true_ln_d(T: np.ndarray | float) -> np.ndarray:
    return LN_D0 - EA / (KB_EV * np.asarray(T, float))


def run_points(rng: np.random.Generator, temps: np.ndarray, n: int, rel: float) -> list[Point] | None:
    """One run per temperature over ``n`` ions; None where a mean is not positive."""
    D = np.exp(true_ln_d(temps))
    q = float(student_t.ppf(0.975, n - 1))
    x = rng.normal(D[:, None], (D * rel * np.sqrt(n))[:, None], (temps.size, n))
    m, s = x.mean(1), x.std(1, ddof=1) / np.sqrt(n)
    if np.any(m <= 0):
        return None
    return [Point(float(T), float(v), (max(v - q * e, 0.0), v + q * e), quantile=q)
            for T, v, e in zip(temps, m, s)]


def covered(lo: float, hi: float, truth: float) -> bool:
    return lo <= truth <= hi


def coverage(temps, n: int, rel: float, trials: int, seed: int = 1) -> dict[str, tuple[float, float]]:
    """Coverage of the true Ea and D(300 K) by each reading's 95 % intervals."""
    rng = np.random.default_rng(seed)
    temps = np.asarray(temps, float)
    d300 = float(np.exp(true_ln_d(300.0)))
    hits = {"1.96": np.zeros(2), "ws": np.zeros(2)}
    done = 0
    while done < trials:
        points = run_points(rng, temps, n, rel)
        if points is None:
            continue
        done += 1
        err = [ln_error_from_interval(*p.ci95, quantile=p.quantile, value=p.value) for p in points]
        old = fit_arrhenius(temps, np.array([p.value for p in points]), np.array(err))
        new = arrhenius_of_points(points, times_T=False)
        hits["1.96"] += [covered(*old.Ea_ci95, EA), covered(*old.y_extrapolated_ci95, d300)]
        hits["ws"] += [covered(*new["Ea_ci95"], EA), covered(*new["extrapolated_ci95"], d300)]
    return {k: (v[0] / trials, v[1] / trials) for k, v in hits.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=2000)
    args = ap.parse_args()
    for temps in ((600, 800, 1000), (600, 700, 800, 900, 1000)):
        for n in (4, 8, 16):
            for rel in (0.1, 0.2):
                c = coverage(temps, n, rel, args.trials)
                print(f"{len(temps)} T n={n:2d} rel={rel}  " + "  ".join(
                    f"{k}: Ea {a:.3f} D300 {b:.3f}" for k, (a, b) in c.items()), flush=True)


if __name__ == "__main__":
    main()
