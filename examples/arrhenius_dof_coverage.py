"""Coverage of Arrhenius fits' 95 % intervals (Ea, D(300 K)) when each point's ln error is
estimated over few ions: the old rule (Student t at the Welch-Satterthwaite dof) against
the studentized bootstrap quantile (:func:`ionmd.analysis.arrhenius_bootstrap.studentized_quantile`)
in ln D, and the fit in D collect makes since Dec 7 2026
(:func:`ionmd.analysis.arrhenius_linear.fit_arrhenius_linear`, the same quantile on its
linearised errors), with the PDG scale
``max(1, chi2 / (n - 2))`` (collect's default) and without it (``scatter_p=0``).

Each trial: one run per temperature, its D the mean over ``n`` ions of normal per-ion values
(relative error ``rel`` of the mean, Ea 0.3 eV), its interval Student t over the ions (dof
n - 1), its ln error read from it as collect reads it
(:func:`ionmd.analysis.interval_errors.ln_error_from_interval`). With ``excess`` each run's true D
is also off the Arrhenius line by a normal ln offset of ``excess`` times its error
(variance x2 at 1: the errors too small). The old rule is computed vectorised (the same
numbers as fit_arrhenius before Dec 7 2026: WLS, the scale, WS dof, t); the new one by
:func:`ionmd.analysis.arrhenius.fit_arrhenius` itself.

Printed per case and mode: coverage of Ea and of D(300 K), old -> ln -> D, and the median
ln half-width of the 300 K interval, old -> ln -> D; then the largest step of the new 300 K
factor over a fine scan of one residual pattern's size (3 points over 4 ions), which must
stay small. Not a test (about 3 min a case at 2000 trials on a loaded 2-core machine,
2026-12-07: the 12 cases of ``--rel 0.1 --no-excess --no-scan``, the ordinary case alone,
about 35 min; the default's 28 cases and the scan longer still):
``.venv/bin/python examples/arrhenius_dof_coverage.py --trials 2000``.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.special import stdtrit
from scipy.stats import t as student_t

from ionmd.analysis.arrhenius import KB_EV, fit_arrhenius
from ionmd.analysis.arrhenius_linear import fit_arrhenius_linear
from ionmd.analysis.interval_errors import LOWER_HALF_CAP

EA, LN_D0 = 0.3, np.log(1e-5)
TEMPS = {3: (600.0, 800.0, 1000.0), 4: (600.0, 733.0, 867.0, 1000.0),
         6: (600.0, 680.0, 760.0, 840.0, 920.0, 1000.0)}


def true_ln_d(T) -> np.ndarray:
    return LN_D0 - EA / (KB_EV * np.asarray(T, float))


def design(T) -> np.ndarray:
    T = np.asarray(T, float)
    return np.stack([np.ones_like(T), -1.0 / (KB_EV * T)], -1)


def lone_runs(rng, temps: np.ndarray, n: int, rel: float, trials: int, excess: float = 0.0):
    """Values, ln errors and standard errors in D (rows: trials; a row with a mean <= 0
    dropped) of one run per
    temperature over ``n`` ions, the ln error read from the Student t interval with
    ln_error_from_interval's rule (vectorised: lower half capped at LOWER_HALF_CAP upper
    halves)."""
    D = np.exp(true_ln_d(temps) + excess * rel * rng.standard_normal((trials, temps.size)))
    x = rng.standard_normal((trials, temps.size, n)) * (D * rel * np.sqrt(n))[..., None]
    m = D + x.mean(-1)
    s = x.std(-1, ddof=1) / np.sqrt(n)
    keep = np.all(m > 0, axis=1)
    m, s = m[keep], s[keep]
    q = student_t.ppf(0.975, n - 1)
    lo, hi = np.maximum(m - q * s, 0.0), m + q * s
    upper = np.log(hi / m)
    with np.errstate(divide="ignore"):
        lower = np.log(m / lo)
    capped = lower > LOWER_HALF_CAP * upper
    err = np.where(capped, (1 + LOWER_HALF_CAP) * upper, upper + np.where(capped, 0.0, lower))
    return m, err / (2 * q), s


def old_rule(temps, y, err, nu, scaled: bool) -> dict:
    """Each trial's (estimate, 95 % half-width) of Ea and ln D(300 K) by the old rule."""
    X, w = design(temps), 1.0 / err ** 2
    cov = np.linalg.inv(np.einsum("ki,nk,kj->nij", X, w, X))
    coef = np.einsum("nij,nj->ni", cov, np.einsum("ki,nk,nk->ni", X, w, np.log(y)))
    chi2 = np.sum(w * (np.log(y) - coef @ X.T) ** 2, 1)
    scale = np.maximum(1.0, chi2 / (len(temps) - 2)) if scaled else 1.0
    out = {}
    for name, x0 in (("Ea", np.array([0.0, 1.0])), ("D300", design(300.0))):
        part = (np.einsum("i,nij,kj,nk->nk", x0, cov, X, w) * err) ** 2
        ws = part.sum(1) ** 2 / np.sum(part ** 2 / nu, 1)
        out[name] = coef @ x0, stdtrit(ws, 0.975) * np.sqrt(part.sum(1) * scale)
    return out


def new_rule(temps, y, err, nu, scaled: bool) -> dict:
    """The same from fit_arrhenius."""
    rows = []
    for yi, ei in zip(y, err):
        f = fit_arrhenius(temps, yi, ei, y_err_dof=np.full(len(temps), nu),
                          scatter_p=0.05 if scaled else 0.0)
        lo, hi = np.log(f.y_extrapolated_ci95)
        rows.append([f.Ea_eV, (f.Ea_ci95[1] - f.Ea_ci95[0]) / 2, (lo + hi) / 2, (hi - lo) / 2])
    r = np.array(rows)
    return {"Ea": (r[:, 0], r[:, 1]), "D300": (r[:, 2], r[:, 3])}


def linear_rule(temps, y, se, nu, scaled: bool) -> dict:
    """The same from the fit in D (collect's since Dec 7 2026: fit_arrhenius_linear, each
    run's standard error in D its interval's half-width over the Student t quantile)."""
    rows = []
    for yi, si in zip(y, se):
        f = fit_arrhenius_linear(temps, yi, si, y_err_dof=np.full(len(temps), nu),
                                 scatter_p=0.05 if scaled else 0.0)
        lo, hi = np.log(f.y_extrapolated_ci95)
        rows.append([f.Ea_eV, (f.Ea_ci95[1] - f.Ea_ci95[0]) / 2, (lo + hi) / 2, (hi - lo) / 2])
    r = np.array(rows)
    return {"Ea": (r[:, 0], r[:, 1]), "D300": (r[:, 2], r[:, 3])}


def covers(rule: dict) -> tuple[float, float, float]:
    """Coverage of Ea and of ln D(300 K), median ln half-width at 300 K."""
    (ea, h_ea), (d, h_d) = rule["Ea"], rule["D300"]
    return (float(np.mean(np.abs(ea - EA) <= h_ea)),
            float(np.mean(np.abs(d - true_ln_d(300.0)) <= h_d)), float(np.median(h_d)))


def factor_scan(steps: int = 3001) -> tuple[float, float]:
    """Largest ratio of neighbouring 300 K factors (new rule, 3 points, ln errors 0.1 over 4
    ions) over residual sizes 0.5-8 errors, and where."""
    T = np.array(TEMPS[3])
    pattern = 0.1 * np.array([1.0, -2.0, 1.0]) / np.sqrt(6)
    sizes = np.linspace(0.5, 8.0, steps)
    ln_f = []
    for k in sizes:
        f = fit_arrhenius(T, np.exp(true_ln_d(T) + k * pattern), np.full(3, 0.1),
                          y_err_dof=np.full(3, 3.0))
        ln_f.append(np.log(f.y_extrapolated_ci95[1] / f.y_extrapolated_ci95[0]) / 2)
    jump = np.abs(np.diff(ln_f))
    return float(np.exp(jump.max())), float(sizes[jump.argmax()])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--rel", type=float, nargs="+", default=[0.1, 0.2],
                    help="relative errors of the runs (cases without excess scatter)")
    ap.add_argument("--no-excess", action="store_true", help="skip the excess-scatter cases")
    ap.add_argument("--no-scan", action="store_true", help="skip the factor scan")
    ap.add_argument("--ions", type=int, nargs="+", default=[4, 8, 16, 64])
    ap.add_argument("--scaled-only", action="store_true", help="with the PDG scale only")
    ap.add_argument("--skip-ln", action="store_true",
                    help="skip the studentized fit in ln D (print the old rule's twice)")
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    cases = [(k, n, rel, 0.0) for k in (3, 4, 6) for n in args.ions for rel in args.rel]
    if not args.no_excess:
        cases += [(k, n, 0.1, 1.0) for k in (3, 6) for n in (8, 16)]
    print("case | mode | Ea old -> ln -> D | D300 old -> ln -> D | 300 K ln half-width "
          "old -> ln -> D")
    for k, n, rel, excess in cases:
        temps = np.array(TEMPS[k])
        y, err, se = lone_runs(rng, temps, n, rel, args.trials, excess)
        nu = np.full(err.shape, n - 1.0)
        for scaled in (True,) if args.scaled_only else (True, False):
            o = covers(old_rule(temps, y, err, nu, scaled))
            w = o if args.skip_ln else covers(new_rule(temps, y, err, n - 1.0, scaled))
            d = covers(linear_rule(temps, y, se, n - 1.0, scaled))
            print(f"{k}T n={n:2d} rel={rel} excess={excess:g} | {'PDG  ' if scaled else 'plain'} | "
                  f"{o[0]:.3f} -> {w[0]:.3f} -> {d[0]:.3f} | {o[1]:.3f} -> {w[1]:.3f} -> "
                  f"{d[1]:.3f} | {o[2]:.3f} -> {w[2]:.3f} -> {d[2]:.3f}", flush=True)
    if args.no_scan:
        return
    step, at = factor_scan()
    print(f"largest step of the new 300 K factor: x{step:.4f} at residuals {at:.4f} errors")


if __name__ == "__main__":
    main()
