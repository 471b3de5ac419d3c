"""The allocator's error model against synthetic runs: lattice random walks of 16 ions
(2.5 A hops at an Arrhenius rate, 0.3 A of vibration), analysed by ionmd's own D
estimator (ionmd.analysis.diffusion). The relative variance of D across seeds (var(D) over
its mean squared: collect fits in D, and the allocator prices a run by its variance in D over
the fitted curve) is the reference for what the allocator expects of a run it has not made
yet."""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.analysis.arrhenius import KB_EV
from ionmd.analysis.diffusion import diffusion
from ionmd.analysis.trajectory import Trajectory
from ionmd.sweep.allocate import TemperatureRun, ln_var_at, new_run_K, next_step

N_IONS, HOP_A, FRAME_PS, RUN_PS = 16, 2.5, 0.1, 20.0
EA_EV, RATE_1000K = 0.25, 8.0          # hops per ion per ps


def hop_rate(T):
    return RATE_1000K * np.exp(-EA_EV / KB_EV * (1.0 / T - 1.0 / 1000.0))


def walk(rng, rate):
    """Unwrapped positions of N_IONS ions hopping on a cubic lattice at ``rate`` per ps."""
    n = int(round(RUN_PS / FRAME_PS)) + 1
    hops = rng.poisson(rate * FRAME_PS, size=(n - 1, N_IONS))
    m = hops.max() + 1
    axis = rng.integers(0, 3, size=(n - 1, N_IONS, m))
    sign = rng.choice([-1.0, 1.0], size=(n - 1, N_IONS, m))
    real = np.arange(m)[None, None, :] < hops[..., None]
    step = np.stack([((axis == ax) * sign * real).sum(-1) * HOP_A for ax in range(3)], -1)
    pos = np.concatenate([np.zeros((1, N_IONS, 3)), np.cumsum(step, 0)]) + 50.0
    pos += rng.normal(0.0, 0.3, pos.shape)
    return Trajectory(pos, np.repeat(np.eye(3)[None] * 100.0, n, 0), np.arange(n) * 100,
                      np.array(["Li"] * N_IONS), np.full(N_IONS, 6.94), 1.0)


def measured_run(rng, T) -> TemperatureRun:
    from scipy.stats import t as student_t

    r = diffusion(walk(rng, hop_rate(T)), "Li", fit_start_ps=1.0)
    return TemperatureRun(T, RUN_PS, r.D, tuple(r.D_ci95), 1.0, key=T,
                          quantile=float(student_t.ppf(0.975, r.n_ions - 1)))


@pytest.fixture(scope="module")
def seeds_variance():
    """var(D) / mean(D)^2 across 60 seeds of a 20 ps run at 600 K (1.2 hops per ion per ps)."""
    rng = np.random.default_rng(11)
    D = np.array([diffusion(walk(rng, hop_rate(600.0)), "Li").D for _ in range(60)])
    return float(np.var(D, ddof=1) / np.mean(D) ** 2)


def test_a_new_low_temperature_is_priced_near_the_variance_it_will_have(seeds_variance):
    """Campaigns measured at 700-1000 K (2.3-8 hops per ion per ps, where var * t stops
    falling as 1 / D) price a new 20 ps run at 600 K. The median K of the runs made it
    2.2x the seeds' variance on average (new low temperatures looked far less useful than
    they are); K of the nearest run in 1 / T gives 1.0x (0.6-2.1x per campaign: each run's
    own interval is a noisy estimate of its variance)."""
    rng = np.random.default_rng(3)
    ratios, median_ratios = [], []
    for _ in range(5):
        runs = [measured_run(rng, T) for T in (700.0, 800.0, 900.0, 1000.0)]
        D_600 = hop_rate(600.0) * HOP_A ** 2 / 6 * 1e-4       # cm^2/s
        expected = new_run_K(runs, 600.0) / (D_600 * RUN_PS)
        ratios.append(expected / seeds_variance)
        median_ratios.append(np.median([r.K for r in runs]) / (D_600 * RUN_PS) / seeds_variance)
        # next_step prices the 600 K option with it (D from the runs' own fit)
        d = next_step(runs, step_ps=RUN_PS, candidates_K=(600.0,))
        (new,) = [o for o in d.options if o.action == "new"]
        T = np.array([r.temperature_K for r in runs])
        # the fit in D's ln errors: each run's variance in D over the fitted curve squared
        var = np.array([r.linear_var for r in runs]) / np.exp(2 * d.fit.predict_ln(T)[0])
        D_fit = float(np.exp(d.fit.predict_ln(np.array(600.0))[0]))
        v_new = new_run_K(runs, 600.0) / (D_fit * RUN_PS)
        assert new.ln_var_after == pytest.approx(ln_var_at(np.append(T, 600.0),
                                                           np.append(var, v_new), 300.0), rel=1e-9)
    mean_ratio = float(np.exp(np.mean(np.log(ratios))))
    print(f"\npriced / seeds' var(D) / D^2 at 600 K: nearest K {np.round(ratios, 2)}, "
          f"median K {np.round(median_ratios, 2)}")
    assert 0.7 < mean_ratio < 2.0
    assert float(np.exp(np.mean(np.log(median_ratios)))) > 1.6


def test_new_run_K_interpolates_between_temperatures():
    """ln K linear in 1 / T between the neighbours, their median per temperature, the
    nearest end beyond; runs without a usable interval do not count."""
    def run(T, K, key=None):        # var(D) / D^2 = K / (D t), its interval symmetric in D
        D, t = 1e-5, 10.0
        sd = D * np.sqrt(K / (D * t))
        return TemperatureRun(T, t, D, (D - 1.96 * sd, D + 1.96 * sd), 1.0, key=key)

    runs = [run(800.0, 1e-7), run(800.0, 4e-7), run(800.0, 2e-7), run(1000.0, 8e-7),
            TemperatureRun(900.0, 10.0, 0.0, (0.0, 1e-6), 1.0)]
    x = (1 / 900.0 - 1 / 1000.0) / (1 / 800.0 - 1 / 1000.0)
    assert new_run_K(runs, 900.0) == pytest.approx(np.exp(np.log(8e-7) + x * np.log(2e-7 / 8e-7)))
    assert new_run_K(runs, 600.0) == pytest.approx(2e-7)
    assert new_run_K(runs, 1200.0) == pytest.approx(8e-7)
