"""Nernst–Einstein conductivity against a hand computation, and Arrhenius fits that
recover Ea and its error on synthetic D(T)."""

import numpy as np
import pytest

import synthetic_trajectories as st
from ionmd.analysis.arrhenius import KB_EV, fit_arrhenius
from ionmd.analysis.arrhenius_kinisi import kinisi_arrhenius
from ionmd.analysis.interval_errors import ln_error_from_interval
from ionmd.analysis.conductivity import (collective_conductivity, conductivity_from_diffusion,
                                         independent_pairing, nernst_einstein)
from ionmd.analysis.diffusion import DiffusionResult, diffusion
from ionmd.errors import AnalysisError


def test_nernst_einstein_units_by_hand():
    # 24 Li+ in 1500 A^3 at 600 K with D = 1e-5 cm^2/s, by hand in SI:
    # n = 24 / 1.5e-27 m^3 = 1.6e28 m^-3; D = 1e-9 m^2/s
    # sigma = n e^2 D / (kB T) = 1.6e28 * (1.602176634e-19)^2 * 1e-9 / (1.380649e-23 * 600)
    #       = 49.58 S/m = 495.8 mS/cm (1 S/m = 10 mS/cm)
    by_hand = 1.6e28 * 1.602176634e-19 ** 2 * 1e-9 / (1.380649e-23 * 600) * 10.0
    assert by_hand == pytest.approx(495.8, abs=0.05)
    assert nernst_einstein(1e-5, 24, 1.0, 1500.0, 600.0) == pytest.approx(by_hand, rel=1e-9)
    # a divalent ion counts 4x, a Haven ratio of 0.5 doubles sigma
    assert nernst_einstein(1e-5, 24, 2.0, 1500.0, 600.0, haven_ratio=0.5) == pytest.approx(8 * by_hand)


def test_conductivity_interval_from_diffusion_samples_and_collective_agrees():
    rng = np.random.default_rng(2)
    s = st.make(st.brownian_steps(300, 16, [0.1] * 3, 0.1, rng), L=12.0, breathing=0.03, rng=rng)
    traj = s.true.framework_drift_removed(["Li"])
    r = diffusion(traj, "Li", seed=3)
    sigma = conductivity_from_diffusion([r], {"Li": 1}, traj.volumes.mean(), 800.0)
    lo, hi = sigma.sigma_ci95
    assert lo < sigma.sigma < hi
    # the interval is that of D mapped through the (linear) Nernst–Einstein relation
    scale = nernst_einstein(1.0, 16, 1.0, traj.volumes.mean(), 800.0)
    assert lo == pytest.approx(r.D_ci95[0] * scale, rel=0.02)
    assert sigma.sigma == pytest.approx(r.D * scale, rel=0.02)
    truth = nernst_einstein(0.1e-4, 16, 1.0, traj.volumes.mean(), 800.0)
    assert lo <= truth <= hi
    # independent ions: the charge-MSD conductivity estimates the same number, more noisily
    coll = collective_conductivity(traj, {"Li": 1}, 800.0, ["Li"])
    assert coll.sigma_ci95[0] <= truth <= coll.sigma_ci95[1]
    with pytest.raises(AnalysisError, match="no charge for mobile species Li"):
        conductivity_from_diffusion([r], {"Cl": -1}, traj.volumes.mean(), 800.0)


def test_charge_msd_equals_mdanalysis_msd_of_the_summed_charge_path():
    """Two species of opposite charge: the charge MSD is MDAnalysis's MSD of one particle
    walking the charge-weighted sum of their paths (an independent MSD implementation)."""
    from dataclasses import replace

    from ionmd.analysis.conductivity import charge_msd
    from ionmd.analysis.msd import compute_msd

    rng = np.random.default_rng(4)
    s = st.make(st.brownian_steps(200, 6, [0.1, 0.2, 0.05], 0.1, rng), L=12.0, rng=rng)
    traj = s.true
    elements = traj.elements.copy()
    elements[3:6] = "Na"                                   # three "Na" of charge -2
    traj = replace(traj, elements=elements)
    charges = {"Li": 1.0, "Na": -2.0}
    lags = np.array([1, 4, 17, 60, 150])
    ours = charge_msd(traj, charges, ["Li", "Na"], lags)
    q = np.array([charges.get(e, 0.0) for e in elements])
    path = np.einsum("i,tij->tj", q, traj.positions)[:, None, :]
    one = replace(traj, positions=path, elements=np.array(["Li"]), masses=np.array([1.0]))
    for axis, column in zip("xyz", ours.T):
        # (MDAnalysis keeps positions in float32)
        np.testing.assert_allclose(column, compute_msd(one, "Li", axis).msd[lags], rtol=1e-6)


def test_collective_interval_covers_and_its_model_error_matches_the_scatter():
    """Independent ions (so the truth is Nernst–Einstein's), Brownian and lattice walks,
    with and without vibration: the charge-MSD sigma has no bias, its model-based error
    matches the trials' scatter and its 95 % interval covers (docs/analysis.md's table:
    examples/collective_coverage.py). The interval is the pivot's, sigma/(1 + z r) to
    sigma/(1 - z r) with r = se/sigma, so (hi - lo)/(hi + lo) = z r gives the error back."""
    ratios, errors, hits = [], [], 0
    n_trials = 60
    for k in range(n_trials):
        rng = np.random.default_rng(7000 + k)
        if k % 2:
            D, steps = 0.05, st.brownian_steps(400, 16, [0.05] * 3, 0.1, rng)
        else:
            D, steps = 0.45, st.lattice_steps(400, 16, [0.4] * 3, 1.5, 0.1, rng)
        if k % 4 >= 2:
            steps = steps + np.diff(0.3 * rng.standard_normal((400, 16, 3)), axis=0)
        traj = st.make(steps, L=12.0, rng=rng).true.framework_drift_removed(["Li"])
        truth = nernst_einstein(D * 1e-4, 16, 1.0, traj.volumes.mean(), 800.0)
        c = collective_conductivity(traj, {"Li": 1}, 800.0, ["Li"])
        lo, hi = c.sigma_ci95
        hits += lo <= truth <= hi
        ratios.append(c.sigma / truth)
        errors.append(c.sigma * (hi - lo) / ((hi + lo) * 1.959964) / truth)
    scatter, reported = np.std(ratios, ddof=1), np.sqrt(np.mean(np.square(errors)))
    print(f"coverage {hits / n_trials:.2f}; mean sigma/truth {np.mean(ratios):.3f}; scatter "
          f"{scatter:.3f}, reported {reported:.3f}")
    assert hits / n_trials >= 0.85
    assert abs(np.mean(ratios) - 1) < 3 * scatter / np.sqrt(n_trials)
    assert 0.75 < reported / scatter < 1.33


def test_ions_that_never_move_conduct_nothing_with_no_error():
    """Mobile ions held still (a frozen sublattice): their charge MSD is 0 at every lag, so
    sigma is exactly 0 and so is its error. (The covariance model had no scale there and
    fell back to unit steps per frame: an interval of (0, 366) S/cm here.)"""
    rng = np.random.default_rng(5)
    still = st.make(np.zeros((200, 8, 3)), L=12.0, vib=0.0, rng=rng)
    traj = still.true.framework_drift_removed(["Li"])
    c = collective_conductivity(traj, {"Li": 1}, 800.0, ["Li"])
    assert c.sigma == 0.0 and c.sigma_ci95 == (0.0, 0.0)


def _result(species, D, std, n_ions, samples):
    return DiffusionResult(species=species, direction="xyz", D=D, D_ci95=(D - 2 * std, D + 2 * std),
                           D_std=std, D_windowed=None,
                           D_windowed_stderr=None, n_windows=0, fit_start_ps=1.0, fit_end_ps=10.0,
                           hops_per_ion=10.0, msd_exponent=1.0, n_ions=n_ions, samples=samples)


def test_two_species_sigma_interval_pairs_their_samples_independently():
    """Two mobile species whose draws of D come in the same order (each drawn from the
    same seed): summed sample by sample as given, their errors would add
    linearly. Paired independently, the samples summed are uncorrelated and the interval of
    sigma is that of a sum of independent normals: 2 x 1.96 x sqrt(var_Li + var_Mg)."""
    n, V, T = 20000, 1500.0, 800.0
    z = np.random.default_rng(7).standard_normal(n)
    li = _result("Li", 2e-5, 3e-6, 16, 2e-5 + 3e-6 * z)
    mg = _result("Mg", 5e-6, 1e-6, 4, 5e-6 + 1e-6 * z)        # same order: correlation 1
    assert np.corrcoef(li.samples, mg.samples)[0, 1] == pytest.approx(1.0)
    a, b = independent_pairing([li.samples, mg.samples])
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(n)        # 4 standard errors of r = 0
    assert sorted(a) == sorted(li.samples) and sorted(b) == sorted(mg.samples)
    charges = {"Li": 1, "Mg": 2}
    sigma = conductivity_from_diffusion([li, mg], charges, V, T)
    # Nernst–Einstein is linear in D: each species' sigma samples are D samples x a factor
    spread = {r.species: nernst_einstein(1.0, r.n_ions, charges[r.species], V, T) * np.std(r.samples)
              for r in (li, mg)}
    by_hand = 2 * 1.959964 * np.sqrt(spread["Li"] ** 2 + spread["Mg"] ** 2)
    lo, hi = sigma.sigma_ci95
    assert hi - lo == pytest.approx(by_hand, rel=0.03)
    centre = sum(nernst_einstein(r.D, r.n_ions, charges[r.species], V, T) for r in (li, mg))
    assert sigma.sigma == pytest.approx(centre, rel=0.01)
    # reproducible: the same seed, the same interval
    assert conductivity_from_diffusion([li, mg], charges, V, T).sigma_ci95 == sigma.sigma_ci95


def test_sigma_interval_of_a_solid_is_clipped_at_both_ends():
    """A solid with no hops: the MSD's slope, D and every draw of it below zero (NaCl at
    1000 K). Each D's interval is clipped at zero at both ends; sigma's upper end was not,
    so sigma printed as -115 mS/cm [0, -94.6], an interval whose ends are inverted."""
    z = np.random.default_rng(3).standard_normal(4000)
    solid = _result("Na", -3e-6, 2e-7, 32, -3e-6 + 2e-7 * z)
    assert solid.samples.max() < 0
    lo, hi = conductivity_from_diffusion([solid], {"Na": 1}, 1500.0, 1000.0).sigma_ci95
    assert lo <= hi
    assert (lo, hi) == (0.0, 0.0)


def test_arrhenius_recovers_ea_and_its_error():
    kB = 8.617333262e-5
    Ea, A = 0.30, 1e-3                       # eV, cm^2/s
    T = np.array([600.0, 700.0, 800.0, 900.0, 1000.0, 1200.0])
    rel = 0.15                               # 15 % (1 sigma) error on each D
    rng = np.random.default_rng(0)
    ea, err, covered, ea_covered = [], [], 0, 0
    D300 = A * np.exp(-Ea / (kB * 300))
    for _ in range(400):
        D = A * np.exp(-Ea / (kB * T)) * np.exp(rel * rng.standard_normal(T.size))
        fit = fit_arrhenius(T, D, np.full(T.size, rel))
        ea.append(fit.Ea_eV)
        err.append(fit.Ea_err_eV)
        lo, hi = fit.y_extrapolated_ci95
        covered += lo <= D300 <= hi
        ea_covered += fit.Ea_ci95[0] <= Ea <= fit.Ea_ci95[1]
    ea, err = np.array(ea), np.array(err)
    assert ea.mean() == pytest.approx(Ea, abs=0.005)          # unbiased
    assert err.mean() == pytest.approx(ea.std(), rel=0.1)      # the reported error is the scatter
    assert 0.92 <= covered / 400 <= 0.98                       # 95 % interval at 300 K
    assert 0.92 <= ea_covered / 400 <= 0.98
    # exact data: exact parameters
    fit = fit_arrhenius(T, A * np.exp(-Ea / (kB * T)), np.full(T.size, 0.1))
    assert fit.Ea_eV == pytest.approx(Ea, rel=1e-10) and fit.prefactor == pytest.approx(A, rel=1e-9)
    assert ln_error_from_interval(np.exp(-1.96), np.exp(1.96)) == pytest.approx(1.0)


def test_arrhenius_bad_input():
    with pytest.raises(AnalysisError, match="positive"):
        fit_arrhenius([600, 700, 800], [1e-6, 0.0, 1e-5])
    with pytest.raises(AnalysisError, match="distinct temperatures"):
        fit_arrhenius([600, 600], [1e-6, 2e-6], [0.1, 0.1])
    with pytest.raises(AnalysisError, match="needs >= 3 temperatures"):
        fit_arrhenius([600, 700], [1e-6, 2e-6])
    with pytest.raises(AnalysisError, match="one per temperature"):
        fit_arrhenius([600, 700, 800], [1e-6, 2e-6, 3e-6], [0.1, 0.1])


def _coverage(T, n_trials, make_fit, rng, Ea=0.35, A=2e-3, rel=0.2):
    """Fraction of trials whose Ea and 300 K intervals contain the truth, and flagged trials."""
    D300 = A * np.exp(-Ea / (KB_EV * 300))
    ea_in = ex_in = flagged = 0
    for _ in range(n_trials):
        D = A * np.exp(-Ea / (KB_EV * T)) * np.exp(rel * rng.standard_normal(T.size))
        fit = make_fit(D)
        ea_in += fit.Ea_ci95[0] <= Ea <= fit.Ea_ci95[1]
        ex_in += fit.y_extrapolated_ci95[0] <= D300 <= fit.y_extrapolated_ci95[1]
        flagged += "scatter_exceeds_errors" in fit.flags
    return ea_in / n_trials, ex_in / n_trials, flagged / n_trials


def test_arrhenius_intervals_stay_honest_without_or_with_wrong_point_errors():
    rng = np.random.default_rng(4)
    # three temperatures, no per-point errors: Student's t with 1 dof (12.7, not 1.96)
    T3 = np.array([700.0, 850.0, 1000.0])
    ea_cov, ex_cov, _ = _coverage(T3, 2000, lambda D: fit_arrhenius(T3, D), rng)
    assert 0.93 <= ea_cov <= 0.97 and 0.93 <= ex_cov <= 0.97, (ea_cov, ex_cov)
    # per-point errors 4x too small (scatter 20 %, claimed 5 %): the chi-square test
    # catches it and the Birge-scaled intervals still cover
    T6 = np.linspace(600.0, 1200.0, 6)
    ea_cov, ex_cov, flagged = _coverage(T6, 1000, lambda D: fit_arrhenius(T6, D, np.full(6, 0.05)),
                                        rng)
    assert flagged > 0.9
    assert ea_cov >= 0.9 and ex_cov >= 0.9, (ea_cov, ex_cov)
    # correct errors: flagged only at the chi-square test's own false-alarm rate
    _, _, flagged = _coverage(T6, 1000, lambda D: fit_arrhenius(T6, D, np.full(6, 0.2)), rng)
    assert flagged < 0.08


def test_kinisi_bayesian_arrhenius_agrees_with_weighted_least_squares():
    """kinisi's own Arrhenius model (Gaussian likelihood in D, emcee) as the independent
    reference for the least-squares fit on ln D, for errors small enough (8 %) that a
    Gaussian in D and in ln D are the same."""
    rng = np.random.default_rng(9)
    T = np.linspace(600.0, 1200.0, 6)
    Ea, A, rel = 0.3, 1e-3, 0.08
    D = A * np.exp(-Ea / (KB_EV * T)) * (1 + rel * rng.standard_normal(T.size))
    wls = fit_arrhenius(T, D, np.full(T.size, rel))
    bayes = kinisi_arrhenius(T, D, rel * D, n_samples=200, seed=1)
    assert bayes["Ea_eV"] == pytest.approx(wls.Ea_eV, abs=0.3 * wls.Ea_err_eV)
    width = bayes["Ea_ci95"][1] - bayes["Ea_ci95"][0]
    assert width == pytest.approx(wls.Ea_ci95[1] - wls.Ea_ci95[0], rel=0.25)
    assert bayes["y_extrapolated"] == pytest.approx(wls.y_extrapolated, rel=0.3)
    assert bayes["Ea_ci95"][0] < Ea < bayes["Ea_ci95"][1]


def test_kinisi_sigma_at_300_k_is_in_ms_per_cm_like_the_least_squares_one():
    """A sigma T series: kinisi's entry carries sigma(300 K) in mS/cm next to its sigma T
    (before, only sigma T: 300x the least-squares sigma(300 K) it is shown beside)."""
    from ionmd.analysis.aggregate import Point, arrhenius_of_points

    rng = np.random.default_rng(0)
    T = np.array([500.0, 600, 700, 800, 1000])
    sigma = 6e3 * np.exp(-0.3 / (KB_EV * T)) * np.exp(0.05 * rng.standard_normal(T.size))
    points = [Point(t, s * t, (0.9 * s * t, 1.1 * s * t)) for t, s in zip(T, sigma)]
    entry = arrhenius_of_points(points, times_T=True, kinisi=True, n_samples=100, seed=1)
    bayes = entry["kinisi"]
    assert bayes["sigma_extrapolated_mS_cm"] == pytest.approx(bayes["y_extrapolated"] / 300.0)
    assert bayes["sigma_extrapolated_mS_cm"] == pytest.approx(entry["sigma_extrapolated_mS_cm"],
                                                              rel=0.3)
    lo, hi = bayes["sigma_extrapolated_ci95"]
    assert lo < entry["sigma_extrapolated_mS_cm"] < hi


def test_kinisi_arrhenius_of_points_that_carry_no_information():
    """Two collective-sigma points of short runs, their errors 8x their values (as
    `ionmd analyze --collective --arrhenius-kinisi` met them): the priors, 10 errors of Ea
    and ln A wide, overflowed and emcee stopped ("returned NaN"), taking the whole
    analysis down. Now the priors are bounded and the posterior, being the prior, says so:
    an interval of Ea several eV wide around the least-squares value."""
    T = np.array([800.0, 900.0])
    y, y_std = np.array([8.8e6, 9.7e6]), np.array([7.1e7, 7.9e7])
    wls = fit_arrhenius(T, y, y_std / y)
    bayes = kinisi_arrhenius(T, y, y_std, n_samples=100, seed=1)
    lo, hi = bayes["Ea_ci95"]
    assert lo < wls.Ea_eV < hi and hi - lo > 3.0
    assert np.isfinite([bayes["prefactor"], bayes["y_extrapolated"]]).all()


def test_a_failing_kinisi_fit_is_recorded_and_the_least_squares_fit_stays(monkeypatch,
                                                                         tmp_path):
    """kinisi's fit is an optional second opinion: when its sampler raises, the series
    keeps its least-squares fit and records why kinisi's is missing."""
    import csv

    from ionmd.analysis import aggregate
    from ionmd.analysis.summary_files import write_arrhenius_csv

    def failing(*args, **kwargs):
        raise ValueError("Probability function returned NaN")

    monkeypatch.setattr(aggregate, "kinisi_arrhenius", failing)
    T = np.array([600.0, 800.0, 1000.0])
    D = 1e-3 * np.exp(-0.3 / (KB_EV * T))
    points = [aggregate.Point(t, d, (0.8 * d, 1.2 * d)) for t, d in zip(T, D)]
    fit = aggregate.arrhenius_of_points(points, times_T=False, kinisi=True)
    assert fit["Ea_eV"] == pytest.approx(0.3, rel=1e-6)
    assert "returned NaN" in fit["kinisi"]["error"]
    write_arrhenius_csv({"s": {"D_Li": fit}}, tmp_path / "arrhenius.csv")
    with open(tmp_path / "arrhenius.csv") as fh:
        assert [row["method"] for row in csv.DictReader(fh)] == ["linear"]   # the fit in D
