"""Diffusion coefficients on synthetic trajectories with known answers.

* Coverage: 50 independent trials (continuous Brownian motion and lattice random walks,
  half of them in a breathing box and unwrapped from LAMMPS-style coordinates): the true
  D must lie in kinisi's reported 95 % interval in >= 90 % of them.
* Anisotropic walks: D along an axis, in a plane (n = 2) and in 3D.
* The FFT MSD equals pymatgen's DiffusionAnalyzer on the same trajectory (independent
  implementation: its own unwrapping from fractional coordinates and drift correction).
* Diffusive flags: a caged (non-diffusive) ion is flagged, a free walk is not.
"""

from dataclasses import replace

import numpy as np
import pytest

import synthetic_trajectories as st
from ionmd.analysis.diffusion import A2_PER_PS_TO_CM2_PER_S, diffusion, kinisi_diffusion
from ionmd.analysis.msd import compute_msd
from ionmd.analysis.trajectory import unwrap


def _trial(k: int):
    rng = np.random.default_rng(1000 + k)
    dt = 0.1
    if k % 2:
        D = 0.05
        steps = st.brownian_steps(150, 8, [D] * 3, dt, rng)
    else:
        a, rate = 1.5, 0.4                  # hops per ps per axis
        D = rate * a ** 2 / 2
        steps = st.lattice_steps(150, 8, [rate] * 3, a, dt, rng)
    s = st.make(steps, L=12.0, dt_ps=dt, breathing=0.05 if k % 4 >= 2 else 0.0, rng=rng)
    origins = np.zeros((len(s.true.steps), 3))  # the synthetic box's lo
    traj = replace(s.true, positions=unwrap(s.lammps_unwrapped, s.true.boxes, origins))
    return traj.framework_drift_removed(["Li"]), D * A2_PER_PS_TO_CM2_PER_S


def test_coverage_of_the_95_percent_interval():
    hits, ratios = 0, []
    n_trials = 50
    for k in range(n_trials):
        traj, D_true = _trial(k)
        # the default fit range (1 ps to half the run); a short chain keeps 50 trials fast
        samples = kinisi_diffusion(traj, "Li", "xyz", 1.0, 0.5 * traj.times_ps[-1], n_points=30,
                                   n_samples=100, n_burn=50, seed=k)
        lo, hi = np.percentile(samples, [2.5, 97.5])
        hits += lo <= D_true <= hi
        ratios.append(np.median(samples) / D_true)
    coverage = hits / n_trials
    print(f"coverage {coverage:.2f} over {n_trials} trials; median D/D_true {np.median(ratios):.3f}")
    assert coverage >= 0.90
    assert abs(np.median(ratios) - 1) < 0.1  # no bias either


def test_anisotropic_walk_axis_plane_and_3d():
    rng = np.random.default_rng(7)
    D_axes = np.array([0.2, 0.2, 0.02])     # a layered conductor: fast in xy, slow along z
    s = st.make(st.brownian_steps(300, 32, D_axes, 0.1, rng), L=14.0, rng=rng)
    traj = s.true.framework_drift_removed(["Li"])
    expected = {"xy": 0.2, "z": 0.02, "x": 0.2, "xyz": D_axes.mean()}
    results = {d: diffusion(traj, "Li", d, fit_start_ps=1.0, n_samples=150, seed=1) for d in expected}
    for direction, D in expected.items():
        r = results[direction]
        print(direction, r.D / A2_PER_PS_TO_CM2_PER_S, r.D_ci95)
        assert r.D_ci95[0] <= D * A2_PER_PS_TO_CM2_PER_S <= r.D_ci95[1], direction
        assert r.D_ci95[1] / r.D_ci95[0] < 4, "interval too wide to test anything"
    assert results["xy"].D > 5 * results["z"].D


def test_anisotropic_lattice_walk_plane_and_axis():
    """Hops of 1.5 A, fast in the plane, rare across it: D_axis = rate a^2 / 2."""
    rng = np.random.default_rng(8)
    rates, a = np.array([0.8, 0.8, 0.05]), 1.5
    s = st.make(st.lattice_steps(300, 32, rates, a, 0.1, rng), L=14.0, rng=rng)
    traj = s.true.framework_drift_removed(["Li"])
    D_axes = rates * a ** 2 / 2
    for direction, D in (("xy", D_axes[0]), ("z", D_axes[2])):
        r = diffusion(traj, "Li", direction, n_samples=150, seed=2)
        print(direction, r.D / A2_PER_PS_TO_CM2_PER_S, D)
        assert r.D_ci95[0] <= D * A2_PER_PS_TO_CM2_PER_S <= r.D_ci95[1], direction


def test_msd_matches_pymatgen_diffusion_analyzer():
    from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer
    from pymatgen.core import Lattice, Structure

    rng = np.random.default_rng(11)
    s = st.make(st.brownian_steps(400, 12, [0.1, 0.05, 0.02], 0.1, rng), L=12.0,
                drift=np.array([0.01, 0.0, -0.005]), rng=rng)
    lattice = Lattice(s.true.boxes[0])
    structures = [Structure(lattice, s.true.elements.tolist(), frame, coords_are_cartesian=True)
                  for frame in s.wrapped]
    ref = DiffusionAnalyzer.from_structures(structures, "Li", temperature=600,
                                            time_step=s.true.timestep_fs, step_skip=100,
                                            smoothed="max", min_obs=30)
    ours = replace(s.true, positions=unwrap(s.wrapped, s.true.boxes)).framework_drift_removed(["Li"])
    lag_fs = ours.times_ps * 1e3
    idx = np.searchsorted(lag_fs, ref.dt)
    assert np.allclose(lag_fs[idx], ref.dt)
    m = compute_msd(ours, "Li", "xyz")
    np.testing.assert_allclose(m.msd[idx], ref.msd, rtol=1e-6)
    for j, axis in enumerate("xyz"):
        np.testing.assert_allclose(compute_msd(ours, "Li", axis).msd[idx],
                                   ref.msd_components[:, j], rtol=1e-6)


def test_caged_ion_is_flagged_not_diffusive_and_free_walk_is_not():
    rng = np.random.default_rng(5)
    n_frames, n_li = 300, 8
    caged = 0.3 * rng.standard_normal((n_frames, n_li, 3))   # rattling about a site
    s = st.make(np.diff(caged, axis=0), L=12.0, rng=rng)
    r = diffusion(s.true.framework_drift_removed(["Li"]), "Li", seed=0)
    assert "too_few_hops" in r.flags and "not_linear" in r.flags and not r.diffusive
    assert r.hops_per_ion == 0 and r.ions_that_hopped == 0
    s = st.make(st.brownian_steps(n_frames, n_li, [0.3] * 3, 0.1, rng), L=12.0, rng=rng)
    r = diffusion(s.true.framework_drift_removed(["Li"]), "Li", seed=0)
    assert r.flags == [] and r.diffusive and r.ions_that_hopped == n_li
    # 6 D t / hop_length^2 = 6 * 0.3 * 29.9 / 1.5^2 ~ 24: counted hops are of that order
    assert 5 < r.hops_per_ion < 100
    assert r.n_windows == 1 and r.D_windowed == pytest.approx(0.3e-4, rel=0.5)


def test_long_dump_interval_with_lammps_unwrapped_coordinates():
    """Frames 2 ps apart in a 10 A box (rms step 3.5 A per axis): only LAMMPS's own
    unwrapped coordinates (constant box) keep these moves; kinisi must not fold them
    back into the box (it gets an inflated box), and the collective conductivity is
    rescaled to the true volume."""
    from ionmd.analysis.conductivity import collective_conductivity, nernst_einstein

    rng = np.random.default_rng(21)
    D = 3.0
    s = st.make(st.brownian_steps(200, 16, [D] * 3, 2.0, rng), L=10.0, dt_ps=2.0, rng=rng)
    traj = s.true.framework_drift_removed(["Li"])   # = continuous_unwrapped of such files
    r = diffusion(traj, "Li", fit_start_ps=2.0, seed=2)
    assert r.D / (D * A2_PER_PS_TO_CM2_PER_S) == pytest.approx(1.0, abs=0.3)
    assert r.D / r.D_ols == pytest.approx(1.0, abs=0.2)
    coll = collective_conductivity(traj, {"Li": 1}, 1000.0, ["Li"], fit_start_ps=2.0, seed=2)
    ne = nernst_einstein(D * A2_PER_PS_TO_CM2_PER_S, 16, 1.0, traj.volumes.mean(), 1000.0)
    assert coll.sigma_ci95[0] < ne < coll.sigma_ci95[1]


def test_fit_range_beyond_the_run_and_unknown_direction_are_clear_errors():
    from ionmd.errors import AnalysisError

    rng = np.random.default_rng(1)
    traj = st.make(st.brownian_steps(30, 4, [0.1] * 3, 0.1, rng), rng=rng).true   # 2.9 ps
    with pytest.raises(AnalysisError, match="fit start 5.0 ps is not before the fit end"):
        diffusion(traj, "Li", fit_start_ps=5.0)
    with pytest.raises(AnalysisError, match="direction 'xx' not one of"):
        diffusion(traj, "Li", "xx")
    with pytest.raises(AnalysisError, match="species \\['Na'\\] not in this trajectory"):
        diffusion(traj, "Na")
