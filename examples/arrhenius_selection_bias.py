"""Bias and coverage of a campaign's Arrhenius fit where the coldest runs are noisy.

Known truth: D(T) = D0 exp(-Ea / k_B T) (Ea 0.4 eV, D0 1e-3 cm^2/s) at 500-900 K. Each
run's D is the mean of ``n`` normal per-ion values, its relative error growing towards the
cold end as ``1 / sqrt(D)`` (an MSD over a fixed time: its noise relative to D falls with
D), ``--rel`` at the coldest temperature (0.8 there: 0.10 at 900 K), its interval Student t
over the ions with the lower end clipped at zero, as runs report it; ``k`` replicas a
temperature. The draws go through the production path (``Point`` ->
``combine_points`` -> the fit), so a temperature whose replicas reach zero is treated as
collect treats it.

Fits compared (``--modes``):

* ``ln``: the fit before Dec 7 2026, in ln D with each temperature's ln error, the
  temperatures not resolved left out (:func:`ionmd.analysis.arrhenius.fit_arrhenius`);
* ``D_resolved``: in D itself (:func:`ionmd.analysis.arrhenius_linear.
  fit_arrhenius_linear`), the same temperatures;
* ``D_all``: in D, the temperatures not resolved too (their value and standard error);
* ``mixed``: in ln D where a point's relative error is below 0.2, in D elsewhere (the
  temperatures not resolved left out);
* ``censored``: maximum likelihood, normal in D for the resolved temperatures, and for
  each one not resolved the probability that D is below its interval's upper end (an
  upper bound, as it is reported); bias only (its coverage is printed as nan);
* ``production``: :func:`ionmd.analysis.aggregate.arrhenius_of_points` as it is now.

Printed per setting and fit: mean error of Ea (eV) and of ln D(300 K) with their standard
errors over trials, coverage of the true Ea and D(300 K) by the 95 % intervals, and the
share of trials with no fit. ``.venv/bin/python examples/arrhenius_selection_bias.py
--trials 2000`` (~1 min a setting and fit on a shared core).

Measured Dec 7 2026 (``--modes ln D_resolved D_all``; bias of Ea in eV, its se; coverage
of Ea / D(300 K)); ``production`` since is ``D_resolved`` to the digit:

=========================  =================  =================  =================
rel_cold, k, ions, trials  ln                 D_resolved         D_all
=========================  =================  =================  =================
0.2, 1, 8, 1000            -0.0015 (4) 93/93  +0.0002 (3) 94/94  +0.0002 (3) 94/94
0.5, 1, 8, 1000            -0.0068 (8) 95/94  +0.0013 (9) 95/95  +0.0017 (9) 95/95
0.8, 1, 8, 2000            -0.0166 (9) 92/92  -0.0013 (10) 94/94 +0.0023 (10) 95/95
1.2, 1, 8, 1000            -0.0232 (17) 91/90 +0.0015 (22) 94/94 +0.0127 (22) 95/95
0.8, 3, 8, 1000            -0.0081 (7) 96/96  -0.0017 (8) 97/97  +0.0008 (7) 97/97
0.8, 2, 64, 1000           -0.0120 (9) 95/95  -0.0025 (9) 97/97  +0.0006 (9) 98/98
=========================  =================  =================  =================

(se in units of 1e-4 eV.) ``--modes mixed censored`` at 0.8 / 1.2, one run of 8 ions, 1000
trials: mixed -0.0025 / +0.0017, censored -0.0001 / +0.0060.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import t as student_t

from ionmd.analysis.aggregate import Point, arrhenius_of_points, combine_points_se, point_dof
from ionmd.analysis.arrhenius import KB_EV, fit_arrhenius
from ionmd.analysis.arrhenius_linear import fit_arrhenius_linear
from ionmd.errors import AnalysisError

EA, D0 = 0.4, 1e-3
TEMPS = np.array([500.0, 600.0, 700.0, 800.0, 900.0])
MODES = ("ln", "D_resolved", "D_all", "mixed", "censored", "production")
MIXED_REL = 0.2


def true_d(T) -> np.ndarray:
    return D0 * np.exp(-EA / (KB_EV * np.asarray(T, float)))


def relative_errors(rel_cold: float, temps: np.ndarray = TEMPS) -> np.ndarray:
    """Each temperature's relative error of a run's D: ``rel_cold`` at the coldest, as
    ``1 / sqrt(D)`` above."""
    d = true_d(temps)
    return rel_cold * np.sqrt(d.min() / d)


def draw_points(rng, rel_cold: float, replicas: int, n_ions: int,
                temps: np.ndarray = TEMPS) -> list[Point]:
    """One campaign's runs as collect's Points: ``replicas`` runs a temperature, each the
    mean of ``n_ions`` normal per-ion D with its Student t interval (lower end clipped)."""
    q = float(student_t.ppf(0.975, n_ions - 1))
    D, rel = true_d(temps), relative_errors(rel_cold, temps)
    points = []
    for T, d, r in zip(temps, D, rel):
        x = rng.normal(d, d * r * np.sqrt(n_ions), (replicas, n_ions))
        m, s = x.mean(1), x.std(1, ddof=1) / np.sqrt(n_ions)
        for k in range(replicas):
            points.append(Point(float(T), float(m[k]), (max(m[k] - q * s[k], 0.0),
                                                        m[k] + q * s[k]),
                                run=f"T{T:g}/r{k}", quantile=q))
    return points


def fit_points(points: list[Point], mode: str):
    """(Ea, Ea_ci95, ln D(300 K), its ln 95 % interval) of one fit, None where it has none."""
    if mode == "production":
        out = arrhenius_of_points(points, times_T=False)
        if out is None or "error" in out:
            return None
        return (out["Ea_eV"], out["Ea_ci95"], np.log(out["extrapolated"]),
                np.log(out["extrapolated_ci95"]))
    by_T: dict[float, list[Point]] = {}
    for p in points:
        by_T.setdefault(p.temperature_K, []).append(p)
    rows = []
    for T, ps in sorted(by_T.items()):
        c, se = combine_points_se(ps)
        if c is None:
            continue
        resolved = c.get("resolved") is not False
        if not resolved and mode not in ("D_all", "censored"):
            continue
        rows.append((T, c["value"], se, c.get("ln_err", np.nan), point_dof(c, ps)
                     if resolved else float(c["dof"]), c["ci95"][1], resolved))
    if len({r[0] for r in rows}) < 2:
        return None
    T, y, se, ln_err, dof, hi, resolved = (np.array(c, float) for c in zip(*rows))
    if mode == "censored":
        return censored_fit(T, y, se, dof, hi, resolved.astype(bool))
    try:
        if mode == "ln":
            f = fit_arrhenius(T, y, ln_err, y_err_dof=dof)
        else:
            keep_ln = np.where((se / np.abs(y) < MIXED_REL) & (y > 0), ln_err, np.nan)
            f = fit_arrhenius_linear(T, y, se, y_err_dof=dof,
                                     y_err_ln=keep_ln if mode == "mixed" else None)
    except AnalysisError:
        return None
    return f.Ea_eV, f.Ea_ci95, np.log(f.y_extrapolated), np.log(f.y_extrapolated_ci95)


def censored_fit(T, y, se, dof, hi, resolved):
    """``censored``'s estimate (module docstring), from the fit in D of the resolved ones."""
    from scipy.optimize import minimize
    from scipy.special import log_ndtr

    if len(np.unique(T[resolved])) < 2:
        return None
    try:
        start = fit_arrhenius_linear(T[resolved], y[resolved], se[resolved],
                                     y_err_dof=dof[resolved])
    except AnalysisError:
        return None
    x = -1.0 / (KB_EV * T)

    def nll(c):
        f = np.exp(c[0] + c[1] * x)
        r = (y - f) / se
        return 0.5 * np.sum(r[resolved] ** 2) - np.sum(log_ndtr(((hi - f) / se)[~resolved]))

    c = minimize(nll, [np.log(start.prefactor), start.Ea_eV], method="Nelder-Mead",
                 options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 4000}).x
    nan2 = (np.nan, np.nan)
    return c[1], nan2, c[0] + c[1] * (-1.0 / (KB_EV * 300.0)), nan2


def study(rel_cold: float, replicas: int, n_ions: int, trials: int, modes, seed: int = 1
          ) -> dict[str, dict]:
    """Each mode's bias, its standard error, coverage and share without a fit, over the
    same ``trials`` campaigns."""
    rng = np.random.default_rng([seed, int(rel_cold * 100), replicas, n_ions])
    campaigns = [draw_points(rng, rel_cold, replicas, n_ions) for _ in range(trials)]
    truth_ln300 = float(np.log(true_d(300.0)))
    out = {}
    for mode in modes:
        fits = [f for f in (fit_points(c, mode) for c in campaigns) if f is not None]
        ea = np.array([f[0] for f in fits])
        ea_ci = np.array([f[1] for f in fits], float)
        ln300 = np.array([f[2] for f in fits])
        ln_ci = np.array([f[3] for f in fits], float)
        out[mode] = {
            "Ea_bias": float(ea.mean() - EA), "Ea_bias_se": float(ea.std() / np.sqrt(ea.size)),
            "ln300_bias": float(ln300.mean() - truth_ln300),
            "ln300_bias_se": float(ln300.std() / np.sqrt(ea.size)),
            "Ea_cover": _cover(ea_ci, EA), "D300_cover": _cover(ln_ci, truth_ln300),
            "no_fit": 1.0 - ea.size / trials}
    return out


def _cover(ci: np.ndarray, truth: float) -> float:
    """Share of intervals (rows) holding ``truth``; nan where there are none."""
    if np.isnan(ci).all():
        return float("nan")
    return float(np.mean((ci[:, 0] <= truth) & (truth <= ci[:, 1])))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--rel", type=float, nargs="+", default=[0.2, 0.5, 0.8, 1.2])
    ap.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--ions", type=int, nargs="+", default=[8, 64])
    ap.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    args = ap.parse_args()
    print("rel_cold k ions | mode | Ea bias (se) eV | ln D300 bias (se) | cover Ea | "
          "cover D300 | no fit")
    for rel in args.rel:
        for k in args.replicas:
            for n in args.ions:
                start = time.time()
                res = study(rel, k, n, args.trials, args.modes)
                for mode, r in res.items():
                    print(f"{rel:4.2f} {k} {n:2d} | {mode:10s} | {r['Ea_bias']:+.4f} "
                          f"({r['Ea_bias_se']:.4f}) | {r['ln300_bias']:+.3f} "
                          f"({r['ln300_bias_se']:.3f}) | {r['Ea_cover']:.3f} | "
                          f"{r['D300_cover']:.3f} | {r['no_fit']:.3f}", flush=True)
                print(f"  ({time.time() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
