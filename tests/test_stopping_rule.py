"""The stopping rule on synthetic trajectories with a known D: the decision loop of
ionmd.protocols.stopping (``decide``) on the quantities of ionmd.analysis.convergence,
checked against the rule evaluated independently on every prefix, and the coverage of the
interval reported where the rule stopped."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import synthetic_trajectories as st
from ionmd.analysis.convergence import convergence_values, parse_rule, rule_holds
from ionmd.analysis.diffusion import A2_PER_PS_TO_CM2_PER_S
from ionmd.errors import IonmdError
from ionmd.protocols.stopping import decide

DT_PS = 0.2          # ps per frame


def prefix(traj, n_frames: int):
    return replace(traj, positions=traj.positions[:n_frames], boxes=traj.boxes[:n_frames],
                   steps=traj.steps[:n_frames])


def values_at(traj, frame: int) -> dict:
    return convergence_values(prefix(traj, frame + 1), ["Li"], fit_start_ps=1.0)


def run_rule(traj, rule, every: int, max_frame: int):
    """What a run with the rule does: check at every `every` frames, stop as decided."""
    frame = every
    while True:
        values = values_at(traj, frame)
        reason, nxt = decide(rule_holds(rule, values), frame, max_frame, every)
        if reason:
            return frame, reason, values
        frame = nxt


def brownian(seed: int, D: float, n_frames: int, n_li: int = 16):
    rng = np.random.default_rng(seed)
    s = st.make(st.brownian_steps(n_frames, n_li, [D] * 3, DT_PS, rng), L=14.0, dt_ps=DT_PS,
                rng=rng)
    return s.true.framework_drift_removed(["Li"])


def test_parse_rule_and_refusals():
    rule = parse_rule("D_rel_ci<=0.2, hops>=10")
    assert [str(c) for c in rule] == ["D_rel_ci<=0.2", "hops>=10"]
    assert rule_holds(rule, {"D_rel_ci": 0.2, "hops": 10.0})
    assert not rule_holds(rule, {"D_rel_ci": 0.21, "hops": 10.0})
    assert not rule_holds(rule, {"D_rel_ci": None, "hops": 50.0})   # not computable yet
    for bad, says in (("D_rel<=0.2", "unknown quantity 'D_rel'"), ("hops=>3", "cannot read"),
                      ("hops>=1e999", "finite"), ("", "empty")):
        with pytest.raises(IonmdError, match=says):
            parse_rule(bad)


def test_decide():
    assert decide(True, 400, 1000, 200) == ("converged", 400)
    assert decide(False, 400, 1000, 200) == (None, 600)
    assert decide(False, 900, 1000, 200) == (None, 1000)      # the last piece is shorter
    assert decide(False, 1000, 1000, 200) == ("max_time", 1000)


@pytest.mark.parametrize("text", ["hops>=60", "hops>=40,D_rel_ci<=0.25"])
def test_stops_at_the_first_check_that_holds(text):
    """The loop stops at the first check where the rule holds on the frames so far, which
    is within one check interval of the moment the rule first holds (found on a grid four
    times finer)."""
    rule = parse_rule(text)
    every, max_frame = 40, 400                  # 8 ps checks, at most 80 ps
    for seed in range(2):
        traj = brownian(seed, 0.05, max_frame + 1)
        stop, reason, _ = run_rule(traj, rule, every, max_frame)
        assert reason == "converged"
        holds = {f: rule_holds(rule, values_at(traj, f))
                 for f in range(every // 4, stop + 1, every // 4)}
        first = min(f for f, ok in holds.items() if ok)
        checks_that_hold = [f for f, ok in holds.items() if ok and f % every == 0]
        print(f"{text} seed {seed}: first holds at {first * DT_PS:g} ps, stopped at "
              f"{stop * DT_PS:g} ps")
        assert stop == checks_that_hold[0]
        assert first <= stop <= first + every


def test_interval_at_the_stop_covers_the_true_D():
    """Stopping when the interval got narrow enough must not make the interval wrong:
    over repeated trials the 95 % interval reported at the stop covers the true D at about
    the nominal rate."""
    rule = parse_rule("D_rel_ci<=0.12")
    every, max_frame, n_trials = 25, 500, 30     # checks every 5 ps, at most 100 ps
    hits, stops = 0, []
    for trial in range(n_trials):
        D = 0.02 * 3 ** (trial % 3)             # 0.02, 0.06, 0.18 A^2/ps
        traj = brownian(100 + trial, D, max_frame + 1)
        stop, reason, values = run_rule(traj, rule, every, max_frame)
        lo, hi = values["species"]["Li"]["D_ci95"]
        hits += lo <= D * A2_PER_PS_TO_CM2_PER_S <= hi
        stops.append((reason, stop * DT_PS))
    coverage = hits / n_trials
    print(f"coverage {coverage:.2f} over {n_trials} trials; stops (ps): "
          f"{sorted(s for _, s in stops)}")
    assert all(reason == "converged" for reason, _ in stops)
    assert coverage >= 0.85
