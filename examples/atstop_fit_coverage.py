"""Optional stopping and the fits: what should replica combinations and Arrhenius fits take
from runs stopped by their rule?

A run stopped by ``D_rel_ci<=r`` reports a widened interval (the 99 % Student t one,
:data:`ionmd.analysis.convergence.STOPPED_LEVEL`; docs/convergence.md): its own 95 % one
covered the true D in only 89-93 % of such runs with 8 ions. A fit over such runs reads
each interval back as a standard error of ln D (its half-width over ``Point.quantile``).
Two readings are compared, on lattice gases with a known Arrhenius D (8 Li hopping 2.5 A,
``Gamma = Gamma0 exp(-Ea / k T)`` at 1000, 800 and 667 K, two replicas each, every run
stopped by ``D_rel_ci<=0.3,hops>=10`` checked every 5 ps, as ionmd.protocols.stopping
does; tests/synthetic_trajectories.py):

* ``se``: the run's own standard error (the widened interval read at its own 99 %
  quantile): what ionmd does;
* ``widened``: the widened interval read at the 95 % quantile (its standard error x1.48).

Printed: the coverage of the true D by the replicas' combined 95 % interval at each
temperature and by the combined interval reported (at 99 %, normal quantile, where the
replicas were stopped by their rule: :func:`ionmd.analysis.replica_combination.combine_replicas`), and of the true D at 300 K by the fit's extrapolated 95 % interval
(:func:`ionmd.analysis.aggregate.arrhenius_of_points`, the code analyze and collect use).
Not a test (minutes): ``.venv/bin/python examples/atstop_fit_coverage.py --trials 100``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from scipy.stats import t as student_t

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import synthetic_trajectories as st  # noqa: E402
from ionmd.analysis.aggregate import Point, arrhenius_of_points  # noqa: E402
from ionmd.analysis.arrhenius import KB_EV  # noqa: E402
from ionmd.analysis.convergence import (STOPPED_LEVEL, convergence_values, parse_rule,  # noqa: E402
                                        rule_holds)
from ionmd.analysis.diffusion import A2_PER_PS_TO_CM2_PER_S  # noqa: E402
from ionmd.protocols.stopping import decide  # noqa: E402

HOP_A, N_LI, FRAME_PS, EVERY_PS, MAX_PS = 2.5, 8, 0.5, 5.0, 160.0
TEMPS, EA_EV, RATE_TOP = (1000.0, 800.0, 667.0), 0.2, 1.0     # hops/ps per ion at 1000 K
REPLICAS = 2
RULE = parse_rule("D_rel_ci<=0.3,hops>=10")


def rate(T: float) -> float:
    return RATE_TOP * np.exp(-EA_EV / KB_EV * (1 / T - 1 / TEMPS[0]))


def true_D(T: float) -> float:
    return rate(T) * HOP_A ** 2 / 6 * A2_PER_PS_TO_CM2_PER_S


def stopped_run(args) -> dict:
    """Li's check values where a rule run at ``T`` stops, and whether its rule stopped it."""
    T, seed = args
    rng = np.random.default_rng(seed)
    n_frames = int(round(MAX_PS / FRAME_PS)) + 1
    steps = st.lattice_steps(n_frames, N_LI, [rate(T) / 3] * 3, HOP_A, FRAME_PS, rng)
    traj = st.make(steps, L=14.0, dt_ps=FRAME_PS, rng=rng).true.framework_drift_removed(["Li"])
    every, last = int(round(EVERY_PS / FRAME_PS)), n_frames - 1
    frame = every
    while True:
        part = replace(traj, positions=traj.positions[:frame + 1],
                       boxes=traj.boxes[:frame + 1], steps=traj.steps[:frame + 1])
        values = convergence_values(part, ["Li"])
        reason, frame_next = decide(rule_holds(RULE, values), frame, last, every)
        if reason:
            return {"T": T, "converged": reason == "converged", **values["species"]["Li"]}
        frame = frame_next


def points(runs: list[dict], reading: str) -> list[Point]:
    """The runs as a fit takes them: a rule-stopped run's widened interval, read at its own
    quantile (``se``) or at the 95 % one (``widened``)."""
    q95 = float(student_t.ppf(0.975, N_LI - 1))
    q_stop = float(student_t.ppf(0.5 + STOPPED_LEVEL / 2, N_LI - 1))
    out = []
    for r in runs:
        ci = r["D_ci95_at_stop"] if r["converged"] else r["D_ci95"]
        q = q_stop if r["converged"] and reading == "se" else q95
        out.append(Point(r["T"], r["D"], tuple(ci), quantile=q,
                         level=STOPPED_LEVEL if r["converged"] else 0.95))
    return out


def covered(lo_hi, value) -> bool:
    return lo_hi[0] <= value <= lo_hi[1]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20261206)
    args = ap.parse_args(argv)
    start = time.time()
    jobs = [(T, args.seed + 1000 * k + 10 * i + j) for k in range(args.trials)
            for i, T in enumerate(TEMPS) for j in range(REPLICAS)]
    with Pool(args.workers) as pool:
        runs = pool.map(stopped_run, jobs, chunksize=4)
    trials = [runs[k * len(TEMPS) * REPLICAS:(k + 1) * len(TEMPS) * REPLICAS]
              for k in range(args.trials)]
    conv = np.mean([r["converged"] for r in runs])
    single = np.mean([covered(r["D_ci95"], true_D(r["T"])) for r in runs])
    reported = np.mean([covered(r["D_ci95_at_stop"] if r["converged"] else r["D_ci95"],
                                true_D(r["T"])) for r in runs])
    print(f"{len(runs)} runs ({conv:.0%} stopped by the rule): a run's 95 % interval covers "
          f"{single:.3f}, the reported one {reported:.3f}")
    print(f"{'reading':<9s} {'replicas combined: 95 %':>24s} {'reported':>9s} "
          f"{'fit at 300 K (95 %)':>21s} {'median width 300 K':>19s}")
    for reading in ("se", "widened"):
        comb, comb_reported, fit, width = [], [], [], []
        for trial in trials:
            entry = arrhenius_of_points(points(trial, reading), times_T=False)
            for q in entry["points"]:
                comb.append(covered(q.get("ci95_unwidened", q["ci95"]), true_D(q["temperature_K"])))
                comb_reported.append(covered(q["ci95"], true_D(q["temperature_K"])))
            fit.append(covered(entry["extrapolated_ci95"], true_D(300.0)))
            width.append(np.log(entry["extrapolated_ci95"][1] / entry["extrapolated_ci95"][0]))
        # the widened reading's combined intervals are 99 % ones of 1.48x errors: no case
        reported = f"{np.mean(comb_reported):.3f}" if reading == "se" else "-"
        print(f"{reading:<9s} {np.mean(comb):>24.3f} {reported:>9s} "
              f"{np.mean(fit):>21.3f} "
              f"{'x' + format(np.exp(np.median(width) / 2), '.2f'):>19s}")
    print(f"({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
