"""Optional stopping: a run stopped by its rule (``D_rel_ci<=0.3,hops>=10``, checked every
2.5 ps as ionmd.protocols.stopping does) on lattice gases with a known D (8 Li hopping
2.5 A at 1 per ps: D = Gamma a^2 / 6). The stop selects 95 % intervals that are narrow by
chance (they covered the true D in ~90 % of such runs, examples/stopping_coverage.py); the
interval a stopped run reports (``D_ci95_at_stop``, the 99 % one) must cover at >= 95 %, and D at
the stop must not be biased. A small version of examples/stopping_coverage.py."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.stats import t as student_t

import synthetic_trajectories as st
from ionmd.analysis.convergence import convergence_values, parse_rule, rule_holds
from ionmd.analysis.diffusion import A2_PER_PS_TO_CM2_PER_S
from ionmd.protocols.stopping import decide, describe_checks

FRAME_PS, HOP_A, RATE = 0.5, 2.5, 1.0        # ps per frame, A per hop, hops/ps per ion
N_LI, EVERY, MAX_FRAME, TRIALS = 8, 5, 80, 100   # checks every 2.5 ps, at most 40 ps
D_TRUE = RATE * HOP_A ** 2 / 6 * A2_PER_PS_TO_CM2_PER_S
RULE = parse_rule("D_rel_ci<=0.3,hops>=10")


def lattice_gas(seed: int):
    rng = np.random.default_rng(seed)
    steps = st.lattice_steps(MAX_FRAME + 1, N_LI, [RATE / 3] * 3, HOP_A, FRAME_PS, rng)
    return st.make(steps, L=14.0, dt_ps=FRAME_PS, rng=rng).true.framework_drift_removed(["Li"])


def stopped_run(traj) -> tuple[str, dict]:
    """The stop reason and Li's values at the check where a rule run stops."""
    frame = EVERY
    while True:
        part = replace(traj, positions=traj.positions[:frame + 1],
                       boxes=traj.boxes[:frame + 1], steps=traj.steps[:frame + 1])
        values = convergence_values(part, ["Li"])
        reason, frame_next = decide(rule_holds(RULE, values), frame, MAX_FRAME, EVERY)
        if reason:
            return reason, values["species"]["Li"]
        frame = frame_next


@pytest.fixture(scope="module")
def stops():
    return [stopped_run(lattice_gas(7000 + k)) for k in range(TRIALS)]


def covers(interval) -> bool:
    return interval[0] <= D_TRUE <= interval[1]


def test_interval_reported_at_a_rule_stop_covers(stops):
    assert all(reason == "converged" for reason, _ in stops)
    at_stop = np.mean([covers(li["D_ci95_at_stop"]) for _, li in stops])
    plain = np.mean([covers(li["D_ci95"]) for _, li in stops])
    print(f"coverage at the stop over {TRIALS} runs: 95 % interval {plain:.2f}, "
          f"reported (99 %) {at_stop:.2f}")
    assert at_stop >= 0.95 > plain
    # the reported interval is the 95 % one's standard error at scipy's 99 % quantile
    li = stops[0][1]
    ratio = student_t.ppf(0.995, li["n_ions"] - 1) / student_t.ppf(0.975, li["n_ions"] - 1)
    assert np.ptp(li["D_ci95_at_stop"]) == pytest.approx(ratio * np.ptp(li["D_ci95"]), rel=1e-9)


def test_D_at_a_rule_stop_is_not_biased(stops):
    """ln(D_hat / D) averages to 0 within 3 standard errors (and 5 %) over the runs."""
    ln_ratio = np.log([li["D"] / D_TRUE for _, li in stops])
    bias, se = ln_ratio.mean(), ln_ratio.std(ddof=1) / np.sqrt(TRIALS)
    print(f"ln D bias at the stop {bias:+.3f} +- {se:.3f}")
    assert abs(bias) <= min(3 * se, 0.05)


def test_status_line_shows_the_interval_reported_at_a_rule_stop():
    status = {"stopping": {"until": "D_rel_ci<=0.3"}, "stop_reason": "converged",
              "checks": [{"time_ps": 20.0, "values": {"D_rel_ci": 0.28}}],
              "D_ci95_at_stop": {"Li": [1.2e-5, 3.4e-5]}}
    line = describe_checks(status)
    assert line.endswith("converged (D's interval for a stop by the rule: "
                         "Li 1.2e-05-3.4e-05 cm^2/s)")
    assert describe_checks({**status, "D_ci95_at_stop": None}).endswith("D_rel_ci=0.28; converged")
