"""Coverage of Arrhenius fits' 95 % intervals (Ea, D(300 K)) when each point's ln error is
estimated over few ions, the scatter test's flags, the intervals' mean width, and how far
an interval moves on a tiny change of data.

Each trial: one run per temperature, its D the mean over ``n`` ions of normal per-ion
values (relative error ``rel`` of the mean, Ea 0.3 eV), its interval Student t over the
ions (dof n - 1), read as collect reads it (:class:`ionmd.analysis.aggregate.Point` at the
run's quantile, :func:`ionmd.analysis.aggregate.arrhenius_of_points`). With ``excess`` > 0
each run's true D is also off the Arrhenius line by a normal ln offset of ``excess`` times
its error (variance x2 at 1: the errors then too small, the scatter test should flag).
Compared, all with Student t at the Welch-Satterthwaite dof of Ea and of ln D(300 K):

* ``old`` (5f76f45): switched to the Birge-scaled covariance and t(n - 2) where the
  chi-square test flags (p < 5 %);
* ``d9a7246``: flagged where the simulated null's p (:func:`scatter_p_value`) is below
  5 %, the correction growing from none at 5 % to all of the Birge scale and t at n - 2
  plus the WS dof at 0.5 %;
* ``new``: as collect fits now: the covariance always scaled by max(1, chi2 / (n - 2))
  (the PDG scale factor S^2), the flag informational (simulated p < 5 %).

``flag``: the share of fits flagged ``scatter_exceeds_errors`` (with ``excess`` 0 the data
scatter exactly as their errors say: 5 % is nominal); ``wEa``: mean half-width of Ea's
interval (meV); ``w300``: geometric mean of the 300 K factor sqrt(hi / lo).

Then known errors (the points' ln errors given as 0.1, dof inf; with ``excess`` the data
scatter more, at sqrt(15) 4x their errors): the package's rule (1.96, the correction
growing to Birge + t(n - 2) from p 5 % to 0.5 %) against PDG's scale at 1.96.

Then the largest step of the 300 K factor over a fine scan of one residual pattern's size
(3 points, ln errors 0.1 over 4 ions or known, 3001 sizes from 0.5 to 8 errors, steps of
0.0025 errors): a tiny change of data must not move the interval far.

Not a test (about 13 minutes for the cases at the default 2000 trials on a shared machine):
``.venv/bin/python examples/arrhenius_dof_coverage.py --trials 2000``.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.stats import chi2 as chi2_dist
from scipy.stats import t as student_t

from ionmd.analysis.aggregate import Point, arrhenius_of_points
from ionmd.analysis.arrhenius import (KB_EV, fit_arrhenius, ln_error_from_interval,
                                      scatter_p_value, scatter_share, t95)

EA, LN_D0 = 0.3, np.log(1e-5)
T3 = np.array([600.0, 800.0, 1000.0])
X300 = np.array([1.0, -1.0 / (KB_EV * 300.0)])


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
    return [Point(float(t), float(v), (max(v - q * e, 0.0), v + q * e), quantile=q)
            for t, v, e in zip(temps, m, s)]


def intervals(fit, cov, q_ea: float, q_300: float) -> tuple[tuple, tuple]:
    """Ea's and D(300 K)'s 95 % intervals of ``fit``'s estimates with covariance ``cov``."""
    ea_sd, sd = np.sqrt(cov[1, 1]), np.sqrt(X300 @ cov @ X300)
    mean = X300 @ [np.log(fit.prefactor), fit.Ea_eV]
    return ((fit.Ea_eV - q_ea * ea_sd, fit.Ea_eV + q_ea * ea_sd),
            tuple(np.exp([mean - q_300 * sd, mean + q_300 * sd])))


def old_rule(fit) -> tuple[tuple, tuple, bool]:
    """5f76f45: Welch-Satterthwaite t, or Birge + t(n - 2) where chi-square p < 5 %.
    ``fit``: the unscaled one (``scatter_p=0``)."""
    dof = fit.n_points - 2
    if chi2_dist.sf(fit.chi2, dof) >= 0.05:
        return fit.Ea_ci95, fit.y_extrapolated_ci95, False
    return (*intervals(fit, fit.covariance * fit.chi2 / dof, t95(dof), t95(dof)), True)


def d9a7246_rule(fit, p: float) -> tuple[tuple, tuple, bool]:
    """d9a7246: a share of the correction (none at p 5 %, all at 0.5 %) towards the Birge
    scale and t at n - 2 plus the WS dof. ``fit``: the unscaled one, ``p``: simulated."""
    dof, share = fit.n_points - 2, scatter_share(p, 0.05)
    cov = fit.covariance * (1 + share * max(fit.chi2 / dof - 1, 0.0))
    q_ea = (1 - share) * t95(fit.Ea_dof) + share * t95(dof + fit.Ea_dof)
    q_300 = (1 - share) * t95(fit.extrapolation_dof) + share * t95(dof + fit.extrapolation_dof)
    return (*intervals(fit, cov, q_ea, q_300), p < 0.05)


def pdg_known_rule(fit) -> tuple[tuple, tuple, bool]:
    """Known errors read as PDG does: the covariance scaled by max(1, chi2 / (n - 2)), 1.96.
    ``fit``: the unscaled one."""
    dof = fit.n_points - 2
    cov = fit.covariance * max(1.0, fit.chi2 / dof)
    return (*intervals(fit, cov, 1.96, 1.96), chi2_dist.sf(fit.chi2, dof) < 0.05)


class Tally:
    """Coverage of Ea and D(300 K), flag rate, mean widths over the trials of one rule."""

    def __init__(self):
        self.rows = []

    def add(self, ea, d300, flagged):
        self.rows.append([covered(*ea, EA), covered(*d300, float(np.exp(true_ln_d(300.0)))),
                          flagged, (ea[1] - ea[0]) / 2 * 1e3, np.log(d300[1] / d300[0]) / 2])

    def text(self) -> str:
        ea, d, f, w_ea, ln_w = np.mean(self.rows, axis=0)
        return f"Ea {ea:.3f} D300 {d:.3f} flag {f:.3f} wEa {w_ea:.1f} w300 {np.exp(ln_w):.2f}"


def covered(lo: float, hi: float, truth: float) -> bool:
    return lo <= truth <= hi


def coverage(temps, n: int, rel: float, trials: int, excess: float = 0.0,
             seed: int = 1) -> dict[str, Tally]:
    """Each rule's tally over ``trials`` fits of runs over ``n`` ions."""
    rng = np.random.default_rng(seed)
    temps = np.asarray(temps, float)
    tally = {"old": Tally(), "d9a7246": Tally(), "new": Tally()}
    done = 0
    while done < trials:
        points = run_points(rng, temps, n, rel, excess)
        if points is None:
            continue
        done += 1
        y = np.array([p.value for p in points])
        err = np.array([ln_error_from_interval(*p.ci95, quantile=p.quantile, value=p.value)
                        for p in points])
        dof = np.full(temps.size, n - 1.0)
        bare = fit_arrhenius(temps, y, err, y_err_dof=dof, scatter_p=0.0)
        p = scatter_p_value(bare.chi2, np.stack([np.ones_like(temps), -1 / (KB_EV * temps)], -1),
                            err, dof)
        tally["old"].add(*old_rule(bare))
        tally["d9a7246"].add(*d9a7246_rule(bare, p))
        new = arrhenius_of_points(points, times_T=False)
        tally["new"].add(new["Ea_ci95"], new["extrapolated_ci95"],
                         "scatter_exceeds_errors" in new["flags"])
    return tally


def known_coverage(temps, rel: float, trials: int, excess: float = 0.0,
                   seed: int = 2) -> dict[str, Tally]:
    """The package's and PDG's rule on points whose ln errors ``rel`` are exact."""
    rng = np.random.default_rng(seed)
    temps = np.asarray(temps, float)
    err = np.full(temps.size, rel)
    tally = {"package": Tally(), "pdg 1.96": Tally()}
    for _ in range(trials):
        y = np.exp(true_ln_d(temps) + rel * np.hypot(1.0, excess) * rng.standard_normal(temps.size))
        fit = fit_arrhenius(temps, y, err)
        tally["package"].add(fit.Ea_ci95, fit.y_extrapolated_ci95,
                             "scatter_exceeds_errors" in fit.flags)
        tally["pdg 1.96"].add(*pdg_known_rule(fit_arrhenius(temps, y, err, scatter_p=0.0)))
    return tally


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


def scan_rules(nu: float) -> dict:
    """``y -> 300 K factor`` of each rule on the 3-point scan, errors 0.1 with dof ``nu``."""
    err, dof = np.full(3, 0.1), np.full(3, nu)
    X3 = np.stack([np.ones(3), -1 / (KB_EV * T3)], -1)

    def factor(rule):
        def f(y):
            _, (lo, hi), _ = rule(fit_arrhenius(T3, y, err, y_err_dof=dof, scatter_p=0.0), y)
            return np.sqrt(hi / lo)
        return f

    def package(fit, y):
        new = fit_arrhenius(T3, y, err, y_err_dof=dof)
        return new.Ea_ci95, new.y_extrapolated_ci95, None

    rules = {"old": lambda fit, y: old_rule(fit), "new": package}
    if np.isfinite(nu):
        rules["d9a7246"] = lambda fit, y: d9a7246_rule(
            fit, scatter_p_value(fit.chi2, X3, err, dof))
    else:
        rules["pdg 1.96"] = lambda fit, y: pdg_known_rule(fit)
    return {name: factor(rule) for name, rule in rules.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=2000)
    args = ap.parse_args()
    cases = [(temps, n, rel, 0.0) for temps in ((600, 800, 1000), (600, 700, 800, 900, 1000))
             for n in (4, 8, 16) for rel in (0.1, 0.2)]
    cases += [(temps, n, rel, 0.0) for temps, n in (((600, 733, 867, 1000), 2),
                                                    ((600, 680, 760, 840, 920, 1000), 32))
              for rel in (0.1, 0.2)]
    cases += [((600, 700, 800, 900, 1000), n, 0.1, 1.0) for n in (4, 16)]
    for temps, n, rel, excess in cases:
        c = coverage(temps, n, rel, args.trials, excess)
        print(f"{len(temps)} T n={n:2d} rel={rel} excess={excess:g}\n" + "\n".join(
            f"    {k:8s} {v.text()}" for k, v in c.items()), flush=True)
    for temps in ((600, 800, 1000), (600, 700, 800, 900, 1000)):
        for excess in (0.0, 1.0, np.sqrt(15.0)):          # sqrt(15): errors 4x too small
            c = known_coverage(temps, 0.1, args.trials, excess)
            print(f"known errors {len(temps)} T excess={excess:.3g}\n" + "\n".join(
                f"    {k:8s} {v.text()}" for k, v in c.items()), flush=True)
    for nu in (3.0, np.inf):
        for name, fit in scan_rules(nu).items():
            step, size, f2, f4 = factor_scan(fit)
            print(f"dof {nu:g} {name}: largest step of the 300 K factor x{step:.4g} at residuals "
                  f"{size:.4f} errors; factor {f2:.3g} at 2 errors, {f4:.3g} at 4", flush=True)


if __name__ == "__main__":
    main()
