"""Replicas of one temperature are combined in D itself (aggregate.combine_replicas), not in
ln D: a run's D (the mean over its ions of normal per-ion D's here) is unbiased, and so is
the replicas' mean in D, where their mean in ln D (a geometric mean) is low by about
exp(-se_rel^2 / 2). Before, 2000 draws at a true D of 1.4-2 run standard errors gave
0.92-0.93x the true D, at a 30 % error 0.96x. Reference: the true D (1, by construction),
numpy's mean and geometric mean of the same replicas, the mean's sampling noise. The old
code fails the first assertion: 0.91-0.96x, 6-12 times the noise from 1. A temperature
whose combination in D reaches zero is said on its own line (the summary's notes)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import t as student_t

from ionmd.analysis.replica_combination import combine_replicas

TRIALS = 2000


def replicas(rng, n_ions: int, count: int, rel: float):
    """``TRIALS`` x ``count`` runs' D (true D 1, a run's relative standard error ``rel``) and
    their Student t 95 % intervals over the ions, clipped at zero as runs report them."""
    x = rng.normal(1.0, rel * np.sqrt(n_ions), (TRIALS, count, n_ions))
    m = x.mean(-1)
    q = float(student_t.ppf(0.975, n_ions - 1))
    half = q * x.std(-1, ddof=1) / np.sqrt(n_ions)
    return m, np.maximum(m - half, 0.0), m + half, q


@pytest.mark.parametrize("n_ions, count, rel", [(16, 3, 0.5), (8, 2, 0.7), (8, 3, 0.3)])
def test_combined_D_is_unbiased(n_ions, count, rel):
    rng = np.random.default_rng(20261207 + count)
    m, lo, hi, q = replicas(rng, n_ions, count, rel)
    got = [combine_replicas(m[i], list(zip(lo[i], hi[i])), [q] * count) for i in range(TRIALS)]
    values = np.array([c["value"] for c in got])
    noise = values.std() / np.sqrt(TRIALS)           # the mean's own sampling error
    assert abs(values.mean() - 1.0) < 4 * noise, (values.mean(), noise)
    # alike replicas get equal weights: the combined value is their mean (numpy's); a
    # replica whose interval is all below zero (rare) is left out
    equal = np.array([c.get("weights") == "equal" and len(c["replicas"]) == count
                      for c in got])
    assert equal.mean() > 0.95
    assert values[equal] == pytest.approx(m[equal].mean(-1), rel=1e-12, abs=1e-14)
    # the combination before, by numpy (equal weights): the geometric mean where every
    # replica is positive, the mean in D where one is below zero; far off, beyond the noise
    positive = (m > 0).all(-1)
    with np.errstate(invalid="ignore"):
        before = np.where(positive, np.exp(np.log(m).mean(-1)), m.mean(-1))
    assert 1.0 - before.mean() > 6 * noise, (before.mean(), noise)
    # and the combined 95 % interval covers the true D as it says (binomial sd 0.5 %)
    covered = np.mean([c["ci95"][0] <= 1.0 <= c["ci95"][1] for c in got])
    assert 0.935 <= covered <= 0.985, covered


def test_a_temperature_not_resolved_is_said_on_its_own_line(tmp_path):
    """Two replicas at 400 K, one below zero within its scatter: combined in D (their mean,
    numpy's) the interval reaches zero, so the fit leaves 400 K out. Before, only each run's
    left_out reason said so; now the summary's notes (printed by `ionmd analyze` on a line
    each) say it once, with the series and quantity."""
    from ionmd.analysis.report import analyze_runs

    def run(name, T, D, lo, hi):
        return {"run": str(tmp_path / name), "structure": "X", "temperature_K": T,
                "complete": True, "diffusion": [{"species": "Li", "direction": "xyz", "D": D,
                                                 "D_ci95": [lo, hi], "flags": [], "n_ions": 8}]}

    results = [run("a", 600.0, 1e-6, 0.8e-6, 1.2e-6), run("b", 800.0, 3e-6, 2.5e-6, 3.5e-6),
               run("c", 1000.0, 6e-6, 5e-6, 7e-6),
               run("d1", 400.0, -0.2e-7, 0.0, 1.5e-7), run("d2", 400.0, 0.3e-7, 0.0, 1.8e-7)]
    summary = analyze_runs(results, {}, tmp_path / "out")
    (note,) = [n for n in summary["notes"] if "not resolved" in n]
    assert note.startswith("X D_Li: not resolved at 400 K: its 2 replicas combined give")
    assert f"give {np.mean([-0.2e-7, 0.3e-7]):.3g} " in note
    fit = summary["arrhenius"]["X"]["D_Li"]
    assert [p["temperature_K"] for p in fit["points"]] == [600.0, 800.0, 1000.0]
