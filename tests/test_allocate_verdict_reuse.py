"""next_step's verdict reads collect's own extrapolation where it is at the target (B15):
the record just fitted holds that interval (fit_ln_line's fit.interval at T_extrapolated),
so verdict_at(fresh=True) does not recompute it, and says the same to the bit as the
recomputation (fresh=False, what a record read from a file still gets)."""
import numpy as np
import pytest

import ionmd.sweep.allocate as allocate
from ionmd.analysis.arrhenius import ArrheniusFit
from ionmd.sweep.allocate import TemperatureRun, next_step, verdict_at

TEMPS = (1000.0, 900.0, 800.0, 700.0, 600.0)
Q8 = 2.3646242515927844     # Student t 97.5 % at 7 dof: 8-ion intervals (scipy.stats.t.ppf)


def _runs(rng, max_time_ps=500.0):
    truth = 1e-4 * np.exp(-0.3 / (8.617333262e-5 * np.array(TEMPS)))
    sd = np.array([0.35, 0.25, 0.2, 0.15, 0.1])
    D = truth * (1 + sd * rng.standard_normal(sd.size))
    se = sd * np.sqrt(rng.chisquare(7, sd.size) / 7) * truth
    return [TemperatureRun(T, 50.0, float(m), (max(float(m - Q8 * s), 0.0), float(m + Q8 * s)),
                           1.0, quantile=Q8, max_time_ps=max_time_ps)
            for T, m, s in zip(TEMPS, D, se)]


def test_scipy_student_t_constant():
    from scipy.stats import t
    assert t.ppf(0.975, 7) == pytest.approx(Q8, rel=1e-14)


def test_fresh_verdict_equals_the_recomputed_one_without_recomputing(monkeypatch):
    rng = np.random.default_rng(11)
    calls = []
    interval = ArrheniusFit.interval

    def counted(self, T):
        calls.append(float(T))
        return interval(self, T)

    for _ in range(20):
        runs = _runs(rng)
        out = allocate._collect_record(runs)
        for target in (300.0, 250.0):
            old = verdict_at(out, target, "cm^2/s")
            monkeypatch.setattr(ArrheniusFit, "interval", counted)
            calls.clear()
            new = verdict_at(out, target, "cm^2/s", fresh=True)
            monkeypatch.setattr(ArrheniusFit, "interval", interval)
            assert calls == ([] if target == 300.0 else [target])    # 300: the record's own
            assert (new.value, new.ci95, new.factor, new.fit_problem) == (
                old.value, old.ci95, old.factor, old.fit_problem)
            assert new.fit.y_extrapolated_ci95 == old.fit.y_extrapolated_ci95


def test_next_step_decision_is_unchanged_bit_for_bit(monkeypatch):
    """The whole Decision (options priced) with the verdict recomputed as before."""
    rng = np.random.default_rng(5)
    cases = [(_runs(rng), t) for _ in range(15) for t in (300.0, 350.0)]
    new = [next_step(r, step_ps=10.0, target_K=t, candidates_K=(500.0, 450.0)) for r, t in cases]
    real = allocate.verdict_at
    monkeypatch.setattr(allocate, "verdict_at",
                        lambda out, t, u, fresh=False: real(out, t, u, fresh=False))
    old = [next_step(r, step_ps=10.0, target_K=t, candidates_K=(500.0, 450.0)) for r, t in cases]
    assert [repr(d) for d in new] == [repr(d) for d in old]
