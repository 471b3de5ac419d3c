"""Replicas of one temperature combined (aggregate.combine_replicas): equal weights in D
for replicas alike in precision, inverse-variance ones (with Meier's correction) where one
is far more precise, a Student t interval at the Welch-Satterthwaite degrees of freedom,
widened by Welch's F where the replicas disagree. The inverse-variance mean at 1.96 of its
error, as before, covered the true D in 86 % of trials with three replicas of 8 ions at a
30 % standard error (examples/replica_coverage.py). References: scipy's Student t,
statsmodels' Welch anova and fixed-effect meta-analysis."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import t as student_t
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.oneway import anova_generic

from ionmd.analysis.replica_combination import combine_replicas
from ionmd.analysis.replica_statistics import interval_dof

N_IONS = 8
Q8 = float(student_t.ppf(0.975, N_IONS - 1))


def interval(D: float, rel_se: float, q: float = Q8) -> tuple[float, float]:
    """A run's Student t interval over its ions, clipped at zero."""
    return max(D - q * rel_se * D, 0.0), D + q * rel_se * D


def ln_se(iv, q=Q8) -> float:
    return float(np.log(iv[1] / iv[0]) / (2 * q))


def d_se(D, iv, q=Q8) -> float:
    """A run's standard error of D from its interval (its upper half where clipped at zero)."""
    return float(max(iv[1] - D, (iv[1] - iv[0]) / 2) / q)


def around(mean, err, z):
    """The expected interval where its shape is settled: log-normal about the mean at a
    relative error up to 0.2, symmetric from 0.3 (aggregate.LOG_SHAPE); None between."""
    rel = err / mean
    if rel <= 0.2:
        return mean * np.exp(np.array([-z, z]) * rel)
    return mean + np.array([-z, z]) * err if rel >= 0.3 else None


def test_alike_replicas_equal_weights_student_t_at_welch_satterthwaite():
    """Combined in D itself: the arithmetic mean (its expectation the true D), not the
    geometric one of ln D (below it by about exp(-se_rel^2 / 2))."""
    values = [1.0e-5, 1.1e-5, 0.95e-5]
    ivs = [interval(v, r) for v, r in zip(values, (0.10, 0.13, 0.09))]
    got = combine_replicas(values, ivs, [Q8] * 3)
    se = np.array([d_se(v, iv) for v, iv in zip(values, ivs)])
    var = np.sum(se ** 2) / 9
    dof = var ** 2 / np.sum((se ** 2 / 9) ** 2 / (N_IONS - 1))
    mean = np.mean(values)
    assert got["value"] == pytest.approx(mean, rel=1e-12)
    assert got["ln_err"] == pytest.approx(np.sqrt(var) / mean, rel=1e-12)
    assert got["ci95"] == pytest.approx(around(mean, np.sqrt(var), student_t.ppf(0.975, dof)),
                                        rel=1e-9)
    assert got["dof"] == pytest.approx(dof, rel=1e-9) and got["weights"] == "equal"
    # the replicas agree within their errors: Welch's test does not widen
    welch = anova_generic(np.array(values), se ** 2 * N_IONS, np.full(3, N_IONS))
    assert welch.pvalue > 0.05 and "scatter_F" not in got


def test_disagreeing_replicas_widened_by_welch_F():
    values = [1.0e-5, 1.6e-5]
    ivs = [interval(v, 0.08) for v in values]
    got = combine_replicas(values, ivs, [Q8] * 2)
    se = np.array([d_se(v, iv) for v, iv in zip(values, ivs)])
    welch = anova_generic(np.array(values), se ** 2 * N_IONS, np.full(2, N_IONS))
    assert welch.pvalue < 0.05
    err = np.sqrt(np.sum(se ** 2) / 4 * welch.statistic)
    dof = welch.df_num      # fully widened: the replicas' spread sets the error (k - 1)
    assert got["dof"] == pytest.approx(dof, rel=1e-9)
    assert got["ln_err"] * got["value"] == pytest.approx(err, rel=1e-9)
    assert got["value"] == pytest.approx(np.mean(values), rel=1e-12)
    assert got["scatter_F"] == pytest.approx(welch.statistic, rel=1e-9)
    expected = around(np.mean(values), err, student_t.ppf(0.975, dof))
    if expected is not None:
        assert got["ci95"] == pytest.approx(expected, rel=1e-9)


def test_one_far_more_precise_replica_inverse_variance_with_meier():
    values = [1.0e-5, 1.3e-5]
    ivs = [interval(values[0], 0.04), interval(values[1], 0.3)]
    got = combine_replicas(values, ivs, [Q8] * 2)
    se = np.array([d_se(v, iv) for v, iv in zip(values, ivs)])
    fixed = combine_effects(np.array(values), se ** 2)
    assert got["value"] == pytest.approx(fixed.mean_effect_fe, rel=1e-12)
    p = (1 / se ** 2) / np.sum(1 / se ** 2)
    meier = 1 + 4 * np.sum(p * (1 - p) / (N_IONS - 1))
    err = fixed.sd_eff_w_fe * np.sqrt(meier)
    assert got["ln_err"] == pytest.approx(err / fixed.mean_effect_fe, rel=1e-9)
    assert got["weights"] == "inverse-variance"
    # narrower than an equal-weight mean would be, and than the noisy replica's own
    assert err < min(np.sqrt(np.sum(se ** 2)) / 2, se[1])


def test_interval_reaching_zero_read_as_its_neighbours_are():
    """A replica's standard error grows with its interval through the clip at zero: its
    half-width over q, the upper half once clipped (the same where the clip just begins).
    Read in ln from its upper half once clipped (before the lower half was capped), a
    replica at a 42.4 % error (8 ions: the interval reaches zero at 42.29 %) gave ln
    error 0.29 where one at 42.0 % gave 1.2: the combination shrank fourfold."""
    values = [1.0e-5, 1.0e-5]
    got = {}
    for rel in (0.4225, 0.4235):       # the interval reaches zero at 1 / Q8 = 0.4229
        ivs = [interval(values[0], 0.22), interval(values[1], rel)]
        got[rel] = combine_replicas(values, ivs, [Q8] * 2)
        assert got[rel]["weights"] == "equal" and got[rel]["resolved"]
        assert got[rel]["ln_err"] == pytest.approx(np.hypot(0.22, rel) / 2, rel=1e-9)
    assert interval(values[1], 0.4235)[0] == 0.0 < interval(values[1], 0.4225)[0]
    assert got[0.4235]["ln_err"] >= got[0.4225]["ln_err"]
    assert got[0.4235]["ln_err"] == pytest.approx(got[0.4225]["ln_err"], rel=0.01)


def steps(combos) -> float:
    """Largest change of ln value, ln error or interval ends over the value between
    neighbours (the ends linear: a fully widened interval of 2 replicas is read at Welch's 1
    dof, t 12.7, and reaches zero)."""
    rows = np.array([[np.log(c["value"]), c["ln_err"], *np.divide(c["ci95"], c["value"])]
                     for c in combos])
    return float(np.max(np.abs(np.diff(rows, axis=0))))


def test_tiny_change_of_an_error_moves_the_weighting_little():
    """Across the F test of alike errors (0.1 %): a hard switch there moved the value 1.140 ->
    1.011 and the ln error 0.122 -> 0.050 on one replica's error 0.01 % larger. Now the
    weights blend from equal to inverse-variance ones with Meier (at that end statsmodels'
    fixed effect) over a decade of the test's p-value."""
    ratios = np.linspace(2.0, 5.0, 3001)        # the noisy replica's error over the other's
    by_ratio = [combine_replicas([1.0, 1.3], [interval(1.0, 0.05), interval(1.3, 0.05 * k)],
                                 [Q8] * 2) for k in ratios]
    assert steps(by_ratio) < 5e-3
    shares = [c["inverse_variance_share"] for c in by_ratio]
    assert shares[0] == 0.0 and shares[-1] == 1.0 and any(0 < s < 1 for s in shares)
    ivs = [interval(1.0, 0.05), interval(1.3, 0.25)]
    se = np.array([d_se(v, iv) for v, iv in zip((1.0, 1.3), ivs)])
    fixed = combine_effects(np.array([1.0, 1.3]), se ** 2)
    assert by_ratio[-1]["value"] == pytest.approx(fixed.mean_effect_fe, rel=1e-12)


def test_tiny_change_of_a_replica_value_moves_the_scatter_widening_little():
    """Welch's F widens the error in full where statsmodels' Welch ANOVA rejects at 5 %, not
    at all from 50 %, part of the way between (a hard switch at 5 %: 2.1-fold)."""
    seconds = np.linspace(1.15, 1.45, 3001)     # the second replica's D, errors 8 % alike
    by_value = [combine_replicas([1.0, v], [interval(1.0, 0.08), interval(v, 0.08)], [Q8] * 2)
                for v in seconds]
    assert steps(by_value) < 5e-3
    for v, c in zip(seconds[::100], by_value[::100]):
        se = np.array([0.08, 0.08 * v])
        welch = anova_generic(np.array([1.0, v]), se ** 2 * N_IONS, np.full(2, N_IONS))
        err = c["ln_err"] * c["value"]
        if welch.pvalue <= 0.05:
            assert err == pytest.approx(np.sqrt(np.sum(se ** 2) / 4 * welch.statistic),
                                        rel=1e-9)
        if welch.pvalue >= 0.5:
            assert err == pytest.approx(np.sqrt(np.sum(se ** 2)) / 2, rel=1e-9)


def test_replicas_with_normal_intervals_inverse_variance():
    """Intervals at the normal quantile (the collective sigma's: known errors, dof inf): by
    inverse variance unless their errors are equal (statsmodels' fixed effect), a normal
    interval; a blend share of 1 (its p-value 0 divided by zero before)."""
    values = [1.0, 1.1]
    ivs = [interval(1.0, 0.1, 1.96), interval(1.1, 0.12, 1.96)]
    got = combine_replicas(values, ivs, [1.96, 1.96])
    se = np.array([d_se(v, iv, 1.96) for v, iv in zip(values, ivs)])
    fixed = combine_effects(np.array(values), se ** 2)
    assert got["weights"] == "inverse-variance" and got["dof"] == np.inf
    assert got["value"] == pytest.approx(fixed.mean_effect_fe, rel=1e-12)
    assert got["ln_err"] == pytest.approx(fixed.sd_eff_w_fe / fixed.mean_effect_fe, rel=1e-9)
    assert got["ci95"] == pytest.approx(
        around(fixed.mean_effect_fe, fixed.sd_eff_w_fe, 1.959963984540054), rel=1e-9)


def test_single_replica_keeps_its_interval_and_dof_read_back():
    iv = interval(1e-5, 0.2)
    got = combine_replicas([1e-5], [iv], [Q8])
    assert got["ci95"] == list(iv) and got["ln_err"] == pytest.approx(ln_se(iv), rel=1e-12)
    assert interval_dof(Q8) == pytest.approx(N_IONS - 1, rel=1e-9)
    assert interval_dof(float(student_t.ppf(0.995, 15)), 0.99) == pytest.approx(15, rel=1e-9)
    assert interval_dof(1.96) == np.inf


def old_covers(values, ivs) -> bool:
    """The combination before: inverse-variance mean of ln D, Birge-scaled, at 1.96."""
    ln, se = np.log(values), np.array([np.log(hi / max(lo, hi * 1e-3)) / (2 * Q8)
                                       for lo, hi in ivs])
    w = 1 / se ** 2
    mean = np.sum(w * ln) / np.sum(w)
    err = np.sqrt(max(1.0, np.sum(w * (ln - mean) ** 2) / (len(ln) - 1)) / np.sum(w))
    return abs(mean) <= 1.96 * err


@pytest.mark.parametrize("kind, bound", [("normal", 0.935), ("lognormal", 0.90)])
def test_combined_interval_covers(kind, bound):
    """Three replicas of 8 ions, each D with a 30 % standard error (per-ion D normal or
    log-normal, true D 1): 3000 seeded trials. Before: 85 % either way; now 95 % and 92 %
    (the runs' own intervals cover 95 % and 88 %: skewed ions)."""
    rng = np.random.default_rng(7)
    spread = 0.3 * np.sqrt(N_IONS)
    if kind == "normal":
        x = rng.normal(1.0, spread, (3000, 3, N_IONS))
    else:
        s = np.sqrt(np.log1p(spread ** 2))
        x = rng.lognormal(-s * s / 2, s, (3000, 3, N_IONS))
    m = x.mean(-1)
    half = Q8 * x.std(-1, ddof=1) / np.sqrt(N_IONS)
    new, old = [], []
    for mi, hi_half in zip(m, half):
        if np.any(mi <= 0):
            continue
        ivs = [(max(a - h, 0.0), a + h) for a, h in zip(mi, hi_half)]
        c = combine_replicas(mi, ivs, [Q8] * 3)
        new.append(c["ci95"][0] <= 1.0 <= c["ci95"][1])
        old.append(old_covers(mi, ivs))
    assert np.mean(old) < bound - 0.03          # the old combination: too narrow
    assert np.mean(new) >= bound
