"""Optional stopping: is the D reported by a run stopped by its rule honest?

A run with ``until="D_rel_ci<=r,hops>=10"`` is checked every ``c`` ps and stops at the
first check where the rule holds. Checking an interval repeatedly and stopping when it is
first narrow could select runs whose D happened to come out high (the interval's width
scales with D) or whose ions happened to agree. This script measures it by Monte Carlo on
lattice gases with a known D (``D = Gamma a^2 / 6``, Gamma hops per ps per ion, hops of
``a`` = 2.5 A along the cube axes; tests/synthetic_trajectories.py): for every trial the
quantities of :func:`ionmd.analysis.convergence.convergence_values` (those the checks of
:mod:`ionmd.protocols.stopping` compute: same discard, same fit range) are evaluated at
every check up to the maximum time, and from them

* a **fixed-length** run: the result at the maximum time (and at the check nearest the
  rule's median stop, the same cost on average);
* a **rule-stopped** run: the result at the first check where the rule holds
  (:func:`ionmd.protocols.stopping.decide`), else at the maximum time.

Printed per setting and rule: the bias of ln D (mean of ln(D_hat / D) with its standard
error), the coverage of the reported 95 % interval (``cover``) and of the same interval at
97.5 % (``@97.5``), the coverage of what the run reports (``@99``: the interval at
:data:`ionmd.analysis.convergence.STOPPED_LEVEL`, 99 %, where its rule stopped it, the 95 %
one where it ran to the maximum; for a fixed length the 99 % one), the factor by which the
half-width would have to grow for 95 % of the intervals to cover (``need``), the fraction
of runs that converged and their median stop. Not a test (minutes); run by hand, e.g.
``.venv/bin/python examples/stopping_coverage.py --trials 160 --workers 2 --save /tmp/trials``
(the installed ionmd; ~20 min on 2 busy cores; ``--load /tmp/trials`` prints the table again
from the kept checks). docs/convergence.md quotes its table.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import synthetic_trajectories as st  # noqa: E402
from ionmd.analysis.convergence import (STOPPED_LEVEL, convergence_values, parse_rule,  # noqa: E402
                                        rule_holds)
from ionmd.analysis.diffusion import A2_PER_PS_TO_CM2_PER_S  # noqa: E402
from ionmd.protocols.stopping import decide  # noqa: E402

HOP_A = 2.5                      # lattice spacing, A


@dataclass(frozen=True)
class Setting:
    name: str
    n_li: int
    hops_per_ps: float           # Gamma, per ion
    frame_ps: float
    check_every_ps: float
    max_ps: float

    @property
    def D_cm2_s(self) -> float:
        return self.hops_per_ps * HOP_A ** 2 / 6 * A2_PER_PS_TO_CM2_PER_S


SETTINGS = (
    Setting("8 Li, frequent hops (1/ps)", 8, 1.0, 0.25, 5.0, 80.0),
    Setting("8 Li, rare hops (0.1/ps)", 8, 0.1, 0.5, 10.0, 200.0),
    Setting("32 Li, rare hops (0.05/ps)", 32, 0.05, 0.5, 10.0, 200.0),
)
RULES = ("D_rel_ci<=0.1,hops>=10", "D_rel_ci<=0.2,hops>=10", "D_rel_ci<=0.3,hops>=10")


def trial_trajectory(s: Setting, seed: int):
    rng = np.random.default_rng(seed)
    n_frames = int(round(s.max_ps / s.frame_ps)) + 1
    steps = st.lattice_steps(n_frames, s.n_li, [s.hops_per_ps / 3] * 3, HOP_A, s.frame_ps, rng)
    return st.make(steps, L=14.0, dt_ps=s.frame_ps, rng=rng).true.framework_drift_removed(["Li"])


def checks_of_trial(args) -> list[dict]:
    """The check values (D, its interval, D_rel_ci, hops) at every check of one trial."""
    s, seed = args
    traj = trial_trajectory(s, seed)
    every = int(round(s.check_every_ps / s.frame_ps))
    out = []
    for frame in range(every, traj.n_frames, every):
        part = replace(traj, positions=traj.positions[:frame + 1], boxes=traj.boxes[:frame + 1],
                       steps=traj.steps[:frame + 1])
        v = convergence_values(part, ["Li"])
        li = v.get("species", {}).get("Li")
        out.append({"frame": frame, "D_rel_ci": v["D_rel_ci"], "hops": v["hops"],
                    "D": None if li is None else li["D"],
                    "ci": None if li is None else tuple(li["D_ci95"])})
    return out


def stop_index(checks: list[dict], rule) -> tuple[int, bool]:
    """Index of the check where a run with ``rule`` stops, and whether it converged."""
    last = checks[-1]["frame"]
    for i, c in enumerate(checks):
        reason, _ = decide(rule_holds(rule, c), c["frame"], last, 1)
        if reason:
            return i, reason == "converged"
    raise AssertionError("decide never stopped")


def summary(picked: list[dict], D: float, n_li: int, by_rule=None) -> dict:
    """Bias of ln D (with its standard error), coverage of the picked checks' 95 %
    intervals and of the same intervals widened to 97.5 % (same standard error, Student t
    quantile at 1 - 0.025/2), and the widening that would make 95 % of them cover (the
    95th percentile of |D_hat - D| / half-width)."""
    from scipy.stats import t as student_t

    lnr = np.array([np.log(c["D"] / D) if c["D"] and c["D"] > 0 else np.nan for c in picked])
    covered = np.array([c["ci"] is not None and c["ci"][0] <= D <= c["ci"][1] for c in picked])
    ok = np.isfinite(lnr)
    half = np.array([(c["ci"][1] - c["ci"][0]) / 2 if c["ci"] else np.nan for c in picked])
    miss = np.abs(np.array([c["D"] if c["D"] is not None else np.nan for c in picked]) - D) / half
    wider = [student_t.ppf(0.5 + level / 2, n_li - 1) / student_t.ppf(0.975, n_li - 1)
             for level in (0.975, STOPPED_LEVEL)]
    return {"bias": float(np.mean(lnr[ok])), "bias_se": float(np.std(lnr[ok], ddof=1)
                                                              / np.sqrt(ok.sum())),
            "coverage": float(covered.mean()), "coverage_975": float(np.mean(miss <= wider[0])),
            # what a run reports: the wider interval where its rule stopped it
            "coverage_at_stop": float(np.mean(np.where(
                by_rule if by_rule is not None else True, miss <= wider[1], covered))),
            "needed": float(np.nanpercentile(miss, 95)), "n": len(picked)}


def row(label: str, res: dict, extra: str = "") -> str:
    return (f"  {label:<34s} {res['bias']:+7.3f} +- {res['bias_se']:.3f}   "
            f"{res['coverage']:6.3f}  {res['coverage_975']:6.3f}  {res['coverage_at_stop']:6.3f}  "
            f"{res['needed']:5.2f}   {extra}")


def report(s: Setting, trials: list[list[dict]], frame_ps: float) -> None:
    D = s.D_cm2_s
    print(f"\n{s.name}: D = {D:.3g} cm^2/s, checks every {s.check_every_ps:g} ps up to "
          f"{s.max_ps:g} ps, {len(trials)} trials")
    print(f"  {'run':<34s} {'ln D bias':>16s}   {'cover':>6s}  {'@97.5':>6s}  {'@99':>6s}  "
          f"{'need':>5s}   stops")
    print(row(f"fixed {s.max_ps:g} ps", summary([t[-1] for t in trials], D, s.n_li)))
    for text in RULES:
        rule = parse_rule(text)
        stops = [stop_index(t, rule) for t in trials]
        picked = [t[i] for t, (i, _) in zip(trials, stops)]
        conv = [t[i]["frame"] * frame_ps for t, (i, c) in zip(trials, stops) if c]
        median = float(np.median(conv)) if conv else s.max_ps
        extra = f"{len(conv) / len(trials):.0%} converged, median {median:g} ps"
        by_rule = np.array([c for _, c in stops])
        print(row(f"until {text}", summary(picked, D, s.n_li, by_rule), extra))
        k = min(range(len(trials[0])), key=lambda i: abs(trials[0][i]["frame"] * frame_ps
                                                         - median))
        fixed_at = trials[0][k]["frame"] * frame_ps
        print(row(f"  fixed {fixed_at:g} ps (same median)",
                  summary([t[k] for t in trials], D, s.n_li)))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--settings", default="all", help="comma-separated indices or 'all'")
    ap.add_argument("--save", help="prefix of .npy files keeping every trial's checks")
    ap.add_argument("--load", help="tabulate the checks kept by --save instead of computing")
    args = ap.parse_args(argv)
    chosen = (SETTINGS if args.settings == "all"
              else [SETTINGS[int(i)] for i in args.settings.split(",")])
    for s in chosen:
        start = time.time()
        if args.load:
            trials = list(np.load(f"{args.load}{SETTINGS.index(s)}.npy", allow_pickle=True))
        else:
            jobs = [(s, args.seed + 100_000 * SETTINGS.index(s) + i) for i in range(args.trials)]
            with Pool(args.workers) as pool:
                trials = pool.map(checks_of_trial, jobs, chunksize=4)
        report(s, trials, s.frame_ps)
        print(f"  ({time.time() - start:.0f} s)", flush=True)
        if args.save:
            np.save(f"{args.save}{SETTINGS.index(s)}.npy", np.array(trials, dtype=object),
                    allow_pickle=True)


if __name__ == "__main__":
    main()
