"""Coverage of Arrhenius fits' 95 % intervals (Ea, D(300 K)) when each point's ln error is
estimated over few ions, the scatter test's false flags, and how far its correction moves an
interval on a tiny change of data.

Each trial: one run per temperature, its D the mean over ``n`` ions of normal per-ion
values (relative error ``rel`` of the mean, Ea 0.3 eV), its interval Student t over the
ions (dof n - 1), read as collect reads it (:class:`ionmd.analysis.aggregate.Point` at the
run's quantile, :func:`ionmd.analysis.aggregate.arrhenius_of_points`). With ``excess`` > 0
each run's true D is also off the Arrhenius line by a normal ln offset of ``excess`` times
its error (the errors then too small: the scatter test should flag). Compared:

* ``1.96``: the fit given the ln errors alone (known normal errors; Birge + t(n - 2) on
  excess scatter): what the fits did before ``y_err_dof``;
* ``switch``: Student t at the Welch-Satterthwaite dof of Ea and of ln D(300 K), switched
  to Birge + t(n - 2) where the chi-square test flags (p < 5 %), as the fits did before
  the scatter test knew the errors were estimated (rebuilt here by hand);
* ``new``: as collect fits now: the same t, the covariance scaled by the Birge ratio where
  it exceeds 1, and the flag from :func:`ionmd.analysis.arrhenius.scatter_p_value`'s
  simulated null.

``flag``: the share of fits flagged ``scatter_exceeds_errors`` (with ``excess`` 0 the data
scatter exactly as their errors say: 5 % is nominal).

Then the largest step of the 300 K factor (sqrt(hi / lo)) over a fine scan of one
residual pattern's size (3 points, ln errors 0.1 over 4 ions or known, 3001 sizes from 0.5
to 8 errors, steps of 0.0025 errors): a tiny change of data must not move the interval far.

Not a test (about 15 s per 1000 trials and case on a shared machine: 7 minutes for the 14
cases at the default 2000):
``.venv/bin/python examples/arrhenius_dof_coverage.py --trials 2000``.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.stats import chi2 as chi2_dist
from scipy.stats import t as student_t

from ionmd.analysis.aggregate import Point, arrhenius_of_points
from ionmd.analysis.arrhenius import KB_EV, fit_arrhenius, ln_error_from_interval

EA, LN_D0 = 0.3, np.log(1e-5)
T3 = np.array([600.0, 800.0, 1000.0])


def true_ln_d(T: np.ndarray | float) -> np.ndarray:
    return LN_D0 - EA / (KB_EV * np.asarray(T, float))


def run_points(rng: np.random.Generator, temps: np.ndarray, n: int, rel: float,
               excess: float = 0.0) -> list[Point] | None:
    """One run per temperature over ``n`` ions; None where a mean is not positive."""
    D = np.exp(true_ln_d(temps) + excess * rel * rng.standard_normal(temps.size))
    q = float(student_t.ppf(0.975, n - 1))
    x = rng.normal(D[:, None], (D * rel * np.sqrt(n))[:, None], (temps.size, n))
    m, s = x.mean(1), x.std(1, ddof=1) / np.sqrt(n)
    if np.any(m <= 0):
        return None
    return [Point(float(T), float(v), (max(v - q * e, 0.0), v + q * e), quantile=q)
            for T, v, e in zip(temps, m, s)]


def covered(lo: float, hi: float, truth: float) -> bool:
    return lo <= truth <= hi


def switch_fit(temps, y, err, dof) -> tuple[tuple, tuple, bool]:
    """Ea and D(300 K) intervals as before the gradual correction: Welch-Satterthwaite t, or
    Birge + t(n - 2) where the chi-square p-value is below 5 %; and whether flagged."""
    fit = fit_arrhenius(temps, y, err, y_err_dof=dof, scatter_p=0.0)
    if chi2_dist.sf(fit.chi2, temps.size - 2) >= 0.05:
        return fit.Ea_ci95, fit.y_extrapolated_ci95, False
    cov = fit.covariance * fit.chi2 / (temps.size - 2)
    q = float(student_t.ppf(0.975, temps.size - 2))
    x = np.array([1.0, -1.0 / (KB_EV * 300.0)])
    mean, sd = x @ [np.log(fit.prefactor), fit.Ea_eV], np.sqrt(x @ cov @ x)
    ea_sd = np.sqrt(cov[1, 1])
    return ((fit.Ea_eV - q * ea_sd, fit.Ea_eV + q * ea_sd),
            tuple(np.exp([mean - q * sd, mean + q * sd])), True)


def coverage(temps, n: int, rel: float, trials: int, excess: float = 0.0,
             seed: int = 1) -> dict[str, np.ndarray]:
    """Coverage of the true Ea and D(300 K) by each reading's 95 % intervals, and its share
    of flagged fits."""
    rng = np.random.default_rng(seed)
    temps = np.asarray(temps, float)
    d300 = float(np.exp(true_ln_d(300.0)))
    hits = {"1.96": np.zeros(3), "switch": np.zeros(3), "new": np.zeros(3)}
    done = 0
    while done < trials:
        points = run_points(rng, temps, n, rel, excess)
        if points is None:
            continue
        done += 1
        y = np.array([p.value for p in points])
        err = np.array([ln_error_from_interval(*p.ci95, quantile=p.quantile, value=p.value)
                        for p in points])
        old = fit_arrhenius(temps, y, err)
        ea, d, flagged = switch_fit(temps, y, err, np.full(temps.size, n - 1.0))
        new = arrhenius_of_points(points, times_T=False)
        hits["1.96"] += [covered(*old.Ea_ci95, EA), covered(*old.y_extrapolated_ci95, d300),
                         "scatter_exceeds_errors" in old.flags]
        hits["switch"] += [covered(*ea, EA), covered(*d, d300), flagged]
        hits["new"] += [covered(*new["Ea_ci95"], EA), covered(*new["extrapolated_ci95"], d300),
                        "scatter_exceeds_errors" in new["flags"]]
    return {k: v / trials for k, v in hits.items()}


def factor_scan(fit, steps: int = 3001) -> tuple[float, float, float, float]:
    """Largest ratio of neighbouring 300 K factors over the scan, the residual size (in
    errors) where it lies, and the factors at sizes 2 and 4; ``fit(y)`` gives the factor."""
    pattern = 0.1 * np.array([1.0, -2.0, 1.0]) / np.sqrt(6)
    sizes = np.linspace(0.5, 8.0, steps)
    ln_factor = np.log([fit(np.exp(true_ln_d(T3) + k * pattern)) for k in sizes])
    jump = np.abs(np.diff(ln_factor))
    i = int(jump.argmax())
    at = [float(np.exp(ln_factor[np.argmin(abs(sizes - k))])) for k in (2.0, 4.0)]
    return float(np.exp(jump[i])), float(sizes[i]), *at


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=2000)
    args = ap.parse_args()
    cases = [(temps, n, rel, 0.0) for temps in ((600, 800, 1000), (600, 700, 800, 900, 1000))
             for n in (4, 8, 16) for rel in (0.1, 0.2)]
    cases += [((600, 700, 800, 900, 1000), n, 0.1, 1.0) for n in (4, 16)]
    for temps, n, rel, excess in cases:
        c = coverage(temps, n, rel, args.trials, excess)
        print(f"{len(temps)} T n={n:2d} rel={rel} excess={excess:g}  " + "  ".join(
            f"{k}: Ea {a:.3f} D300 {b:.3f} flag {f:.3f}" for k, (a, b, f) in c.items()),
            flush=True)

    for nu in (3.0, np.inf):
        def new(y):
            fit = fit_arrhenius(T3, y, np.full(3, 0.1), y_err_dof=np.full(3, nu))
            lo, hi = fit.y_extrapolated_ci95
            return np.sqrt(hi / lo)

        def switch(y):
            _, (lo, hi), _ = switch_fit(T3, y, np.full(3, 0.1), np.full(3, nu))
            return np.sqrt(hi / lo)

        for name, fit in (("switch", switch), ("new", new)):
            step, size, f2, f4 = factor_scan(fit)
            print(f"dof {nu:g} {name}: largest step of the 300 K factor x{step:.4g} at residuals "
                  f"{size:.4f} errors; factor {f2:.3g} at 2 errors, {f4:.3g} at 4")


if __name__ == "__main__":
    main()
