"""Diffusion coefficients with uncertainty.

Two estimates from one trajectory:

* **Main**: a straight line through the species' MSD over the fit range by generalised
  least squares, with the covariance between MSD points of a diffusing particle observed
  with vibrational noise (Bullerjahn, von Bülow & Hummer, J. Chem. Phys. 153, 024116
  (2020); :func:`msd_covariance`; the noise ratio from the line's own intercept). The
  uncertainty comes from the ions: the fit is linear in the MSD, so the species' slope is
  the mean of each ion's slope by the same weights; those are independent draws when the
  ions move independently, and their standard error and Student t interval (N - 1
  degrees of freedom) hold whether or not the covariance model fits the data (the model
  only makes the weights efficient).
* **Windowed** fits as in the PES-descriptor seed (Gagliardi et al.): non-overlapping
  15 ps windows, a line through each window's MSD from 1 to 15 ps, mean and standard
  error over windows.

Measured on synthetic walks with known D (Brownian and lattice hops, 8-32 ions, 15-80 ps,
vibrational MSD offsets, box edges oscillating by 1 % with a 5 ps period; 200 trials each):
no bias (<= 1 %), the
reported standard error equals the trials' scatter within 10 %, the 95 % interval covers
93-96 %; also with few hops (2-18 per ion on 4-32 ions, 300 trials each: bias <= 2 %,
error within 10 %, coverage 93-97 %). Compared on the same 100 trials (8 vibrating ions over 15 ps; 32 over 40 ps):
kinisi's Bayesian GLS (used here before) moved with its number of MCMC samples (its
walkers start at a zero intercept; with vibration 17 % median, up to 50 %, between 400
and 4,000 samples per walker, 13 % biased at the 400 used), reported errors 30-50 % larger
than its scatter, and scattered 1.2-1.3x more than this fit; least squares through the
MSD up to half the run scattered 1.6-2.7x more, and its error does not shrink as the run
grows (the longest lags, with ~2 time origins, dominate it).

What the ions' spread cannot see: correlations between ions (concerted migration, a
shared box fluctuation: a 2 % box-edge oscillation with a 5 ps period biased D by 3 % and
narrowed the interval's coverage to 82 %; a coherent 0.5 ps one of 1 % in volume, without
vibration, by 4 % at D = 0.02 A^2/ps: the weights, nearly a finite difference at the first
lags when the fitted noise is 0, turn the MSD's periodic wiggle into slope (-5 % with the fit
starting half a period later). Real LAMMPS NpT
runs show none of it: D within 0.3 +- 1 % of NVT's at the same volume, docs/analysis.md). Independent replicas measure those
(:mod:`ionmd.analysis.aggregate` inflates the combined error by the replicas' scatter).
The weights favour the early lags of the fit range, so ``fit_start_ps`` must be past the
MSD's sub-diffusive start (``not_linear`` flags a curved MSD, ``fit_start_not_diffusive`` a
start that pulls the fit away from its later part).

Results that are not yet diffusive are flagged rather than printed alone:
``too_few_hops`` (fewer than ``min_hops`` site-to-site hops per mobile ion, counted on the
paths by :func:`ionmd.analysis.hops.count_hops`) and ``not_linear`` (log-log slope of the
MSD's growth above its vibrational offset in the fit range, :func:`growth_exponent`,
outside ``1 ± linear_tolerance``) and ``fit_start_not_diffusive`` (the fit disagrees with the
fit over its window's later part, :func:`fit_start_check`; ``flag_notes`` names a later start
that agrees). Measured (32 ions, 21 ps at 0.01 ps per frame, fit from 0.1 ps, alpha 1 %):
Brownian walks flagged 2/100, with 0.5 Å white vibration 1/100, 2 ps runs 0/100; walks with
a caged rise (1.4 Å rms vibration, 0.1 ps correlation time, D from 0.1 ps twice the true
one) 10/10 at 21 ps and 50/50 at 2 ps, from 1 ps 0/10 (D within 1 %).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ionmd.analysis.hops import count_hops
from ionmd.analysis.msd import MSD, check_direction, compute_msd
from ionmd.analysis.trajectory import Trajectory
from ionmd.errors import AnalysisError

A2_PER_PS_TO_CM2_PER_S = 1e-4

ESTIMATOR = "gls-noise-per-ion-t"
"""Name of the estimator of D and its interval, recorded with each result so that cached
analyses made by another one are redone."""

N_DRAWS = 4000
"""Draws of D's sampling distribution kept for propagating it (Nernst–Einstein sums)."""


@dataclass
class DiffusionResult:
    """Diffusion coefficient of one species along one direction set; D in cm^2/s."""

    species: str
    direction: str
    D: float                       # GLS slope of the species' MSD / (2 n)
    D_ci95: tuple[float, float]    # 95 % Student t interval over ions, clipped at 0
    D_std: float                   # standard error from the ions' spread
    D_windowed: float | None
    D_windowed_stderr: float | None
    n_windows: int
    fit_start_ps: float
    fit_end_ps: float
    hops_per_ion: float            # counted site-to-site hops, mean over ions
    msd_exponent: float            # log-log slope of the MSD above its offset
    n_ions: int
    ions_that_hopped: int = 0
    flags: list[str] = field(default_factory=list)
    flag_notes: dict[str, str] = field(default_factory=dict)  # flag -> what to do about it
    samples: np.ndarray | None = field(default=None, repr=False)

    @property
    def diffusive(self) -> bool:
        return not self.flags

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("samples")
        out["D_ci95"] = list(self.D_ci95)
        out["estimator"] = ESTIMATOR
        out["units"] = {"D": "cm^2/s", "fit": "ps"}
        return out


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from scipy.stats import linregress

    fit = linregress(x, y)
    return float(fit.slope), float(fit.stderr)


def lag_grid(first: int, last: int, n_points: int) -> np.ndarray:
    """About ``n_points`` integer lags from ``first`` to ``last``, evenly spaced."""
    stride = max(1, (last - first) // max(n_points - 1, 1))
    return np.arange(first, last + 1, stride)


def fit_lags(frame_interval_ps: float, n_frames: int, fit_start_ps: float, fit_end_ps: float,
             n_points: int = 40) -> np.ndarray:
    """About ``n_points`` frame lags spanning the fit range (at most ``n_frames - 2``: a
    lag needs two time origins)."""
    dt = frame_interval_ps
    first = max(1, int(round(fit_start_ps / dt)))
    last = min(n_frames - 2, int(round(fit_end_ps / dt)))
    if last - first < 2:
        raise AnalysisError(f"fit range {fit_start_ps}-{fit_end_ps} ps holds fewer than 3 MSD "
                            f"points at {dt} ps per frame; lower fit_start_ps or run longer")
    return lag_grid(first, last, n_points)


def fit_end_of(run_ps: float, fit_end_ps: float | None = None) -> float:
    """The end of the MSD fit of a run of ``run_ps`` ps (what is left after the discard):
    ``fit_end_ps`` where given, clipped to the run; else half the run, past which each lag
    has fewer than two independent time origins. The one rule of :func:`diffusion`, the
    collective conductivity and a campaign's plan-time check of its fit window."""
    return 0.5 * run_ps if fit_end_ps is None else min(fit_end_ps, run_ps)


def _origin_pairs(offset: np.ndarray, i: np.ndarray, j: np.ndarray, n_frames: float) -> np.ndarray:
    """Number of origin pairs (s, s + offset) whose windows of ``i`` and ``j`` frames both
    fit in ``n_frames`` frames."""
    return np.clip(np.minimum(n_frames - i - 1, n_frames - j - 1 - offset)
                   - np.maximum(0, -offset) + 1, 0, None)


def _steps_shared(offset: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Steps shared by the displacements over [s, s+i) and [s+offset, s+offset+j)."""
    return np.clip(np.minimum(i, offset + j) - np.maximum(0, offset), 0, None)


def _ends_shared(offset: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Signed count of the frames both displacements end or start on (their noise terms)."""
    return 1.0 * (offset == i - j) - (offset == i) - (offset == -j) + (offset == 0)


def _sum_over_segment(p0, p1, o0, o1, length):
    """sum over k < ``length`` of (p0 + p1 k)(o0 + o1 k)^2, by the power sums of k."""
    s1 = length * (length - 1) / 2
    s2 = (length - 1) * length * (2 * length - 1) / 6
    return (p0 * o0 ** 2 * length + (p1 * o0 ** 2 + 2 * p0 * o0 * o1) * s1
            + (p0 * o1 ** 2 + 2 * p1 * o0 * o1) * s2 + p1 * o1 ** 2 * s1 ** 2)


def _msd_covariance_parts(lags: np.ndarray, n_frames: int):
    """(A, B, C) with msd_covariance = step_var^2 A + step_var noise_var B + noise_var^2 C.

    A sums origin pairs x shared steps^2 over the offsets -j..i of each lag pair (i, j).
    Both factors are piecewise linear in the offset with kinks only at -j, i - n_frames,
    0, i - j, n_frames - j and i + 1, so A is a sum of cubics over at most 5 segments,
    each summed in closed form; B and C need the <= 4 offsets where ends are shared.
    The counts are integers, exact in float64 below 2^53 (terms reach ~4 n_frames^4: up to
    ~6000 frames); at 100000 frames they agree with the sum offset by offset to 4e-16."""
    lag = np.asarray(lags, dtype=np.int64).astype(float)
    i, j = (g[..., None] for g in np.meshgrid(lag, lag, indexing="ij"))
    n = float(n_frames)
    zero = np.zeros_like(i)
    kinks = np.concatenate([-j, i - n, zero, i - j, n - j, i + 1], axis=-1)
    kinks = np.sort(np.clip(kinks, -j, i + 1), axis=-1)
    start, length = kinks[..., :-1], np.diff(kinks, axis=-1)
    p0, o0 = _origin_pairs(start, i, j, n), _steps_shared(start, i, j)
    # slopes from the next offset; unused (power sums 0) where a segment holds one offset
    p1, o1 = _origin_pairs(start + 1, i, j, n) - p0, _steps_shared(start + 1, i, j) - o0
    a = _sum_over_segment(p0, p1, o0, o1, length).sum(-1)

    ends = np.concatenate([i - j, i, -j, zero], axis=-1)
    # count each offset once where they coincide (i == j: i - j is 0)
    first = np.ones(ends.shape, dtype=bool)
    for k in range(1, ends.shape[-1]):
        first[..., k] = (ends[..., k:k + 1] != ends[..., :k]).all(-1)
    pairs = _origin_pairs(ends, i, j, n) * first
    shared = _ends_shared(ends, i, j)
    b = 2 * (pairs * _steps_shared(ends, i, j) * shared).sum(-1)
    c = (pairs * shared ** 2).sum(-1)
    norm = 2.0 / ((n - i[..., 0]) * (n - j[..., 0]))
    return tuple(_mirror_upper(norm * part) for part in (a, b, c))


def _mirror_upper(m: np.ndarray) -> np.ndarray:
    """``m`` made exactly symmetric from its upper triangle."""
    return np.triu(m) + np.triu(m, 1).T


def msd_covariance(lags: np.ndarray, n_frames: int, step_var: float,
                   noise_var: float) -> np.ndarray:
    """Covariance between time-averaged squared displacements at frame ``lags`` (all time
    origins of ``n_frames`` frames) of one coordinate that takes independent Gaussian
    steps of variance ``step_var`` per frame and is observed with independent Gaussian
    noise of variance ``noise_var`` (vibration about the path).

    For Gaussian displacements cov(a^2, b^2) = 2 cov(a, b)^2; cov(a, b) of the
    displacements over [s, s+i) and [s', s'+j) is ``step_var`` times their overlap plus
    ``noise_var`` times the end points they share. Summed over the origin pairs by their
    offset, in closed form (:func:`_msd_covariance_parts`: 0.5 ms for 40 lags, where the
    loop over lag pairs took 20 ms and 83 % of :func:`diffusion`)."""
    a, b, c = _msd_covariance_parts(lags, n_frames)
    return step_var ** 2 * a + step_var * noise_var * b + noise_var ** 2 * c


def line_model(slope: float, intercept: float, dt: float, n_dim: int,
               level: float) -> tuple[float, float]:
    """Step and noise variance per coordinate of the model behind an MSD line (MSD =
    n_dim (step_var t / dt + 2 noise_var)), each at least 0. A line that stays <= 0 (slope
    and intercept <= 0: GLS can pass below every point of a flat, noisy MSD) gives the
    model no scale; the MSD is then read as flat at its mean ``level`` (vibration only),
    and both are 0 for an MSD that is 0 everywhere (ions that never move)."""
    step_var = max(slope, 0.0) * dt / n_dim
    noise_var = max(intercept, 0.0) / (2 * n_dim)
    if step_var == 0 and noise_var == 0:
        noise_var = max(level, 0.0) / (2 * n_dim)
    return step_var, noise_var


def gls_weights(lags: np.ndarray, dt: float, cov: np.ndarray) -> np.ndarray:
    """(2, L) weights giving slope and intercept of a straight line through MSD points at
    ``lags`` by generalised least squares with covariance ``cov``. ``W @ X`` is the
    identity whatever ``cov``, so the slope is unbiased for any straight-line MSD."""
    from scipy import linalg

    cov = cov / np.trace(cov) + 1e-12 * np.eye(len(lags))  # scale; a guard on rounding
    X = np.column_stack([lags * dt, np.ones(len(lags))])
    cinv_x = linalg.solve(cov, X, assume_a="pos")
    return np.linalg.solve(X.T @ cinv_x, cinv_x.T)


@dataclass
class GlsLine:
    """A GLS line through MSD points: its weights, the line, and the covariance model
    behind the weights (absolute: ``slope_variance`` is the slope's model variance)."""

    weights: np.ndarray          # (2, L): slope and intercept = weights @ MSD points
    slope: float
    intercept: float
    step_var: float              # per coordinate, of the model (:func:`line_model`)
    noise_var: float
    covariance: np.ndarray       # msd_covariance(lags, n_frames, step_var, noise_var)

    @property
    def slope_variance(self) -> float:
        return float(self.weights[0] @ self.covariance @ self.weights[0])


def gls_line(y: np.ndarray, lags: np.ndarray, dt: float, n_frames: int, n_dim: int,
             iterations: int = 2) -> GlsLine:
    """The GLS line through MSD points ``y`` at ``lags`` (summed over ``n_dim``
    coordinates), the covariance model's step and noise variances taken from the line
    itself (:func:`line_model`), refined ``iterations`` times from an ordinary
    least-squares start."""
    x = lags * dt
    xc = x - x.mean()
    slope = float(xc @ y / (xc @ xc))
    line = (slope, float(y.mean() - slope * x.mean()))
    for _ in range(iterations):
        model = line_model(*line, dt, n_dim, float(y.mean()))
        cov = msd_covariance(lags, n_frames, *model)
        # an MSD that is 0 everywhere has no error; any weights give its line (0, 0)
        shape = cov if model != (0.0, 0.0) else msd_covariance(lags, n_frames, 1.0, 0.0)
        weights = gls_weights(lags, dt, shape)
        line = tuple(float(v) for v in weights @ y)
    return GlsLine(weights, *line, *model, cov)


def growth_exponent(msd: np.ndarray, lag_ps: np.ndarray, offset: float) -> float:
    """Log-log slope of the MSD's growth above its offset (the fitted line's intercept:
    the vibrational plateau), 1 for diffusion. The MSD's own log-log slope is below 1
    wherever the offset is not negligible (measured: 93 % of diffusive walks with 0.3 A
    of vibration had it below 0.8); a caged or sub-diffusive MSD still gives far from 1.
    When fewer than half the points lie above the offset (a flat MSD), the MSD's own."""
    above = msd - max(offset, 0.0)
    use = above > 0
    if use.sum() < max(3, len(msd) // 2):
        use, above = msd > 0, msd
        if use.sum() < 2:
            return 0.0
    return float(np.polyfit(np.log(lag_ps[use]), np.log(above[use]), 1)[0])


@dataclass
class SlopeOverIons:
    """MSD slope (Å^2/ps) of a species and its sampling distribution over the ions."""

    slope: float
    stderr: float
    ci95: tuple[float, float]
    dof: int
    intercept: float                                 # the line's (the vibrational offset)
    lags: np.ndarray = field(repr=False)             # frame lags of the fit
    per_ion: np.ndarray | None = field(default=None, repr=False)  # each ion's slope

    def draws(self, n: int, seed: int) -> np.ndarray:
        """``n`` draws of the slope's sampling distribution (scaled Student t)."""
        t = np.random.default_rng(seed).standard_t(self.dof, n)
        return self.slope + self.stderr * t


def slope_over_ions(m: MSD, frame_interval_ps: float, n_frames: int, fit_start_ps: float,
                    fit_end_ps: float, n_points: int = 40, iterations: int = 2) -> SlopeOverIons:
    """GLS slope of ``m``'s MSD between the fit bounds on a grid of about ``n_points``
    lags, with a Student t interval from the ions' own slopes by the same weights (see
    the module docstring; the weights: :func:`gls_line`)."""
    from scipy.stats import t as student_t

    dt = frame_interval_ps
    lags = fit_lags(dt, n_frames, fit_start_ps, fit_end_ps, n_points)
    n_ions = m.by_particle.shape[1]
    if n_ions < 2:
        raise AnalysisError(f"one {m.species} ion: its D has no error bar from the spread over "
                            f"ions; use a supercell with at least two (better: eight or more)")
    line = gls_line(m.msd[lags], lags, dt, n_frames, m.n_dim, iterations)
    slope = line.slope
    per_ion = line.weights[0] @ m.by_particle[lags]             # each ion's slope
    stderr = float(per_ion.std(ddof=1) / np.sqrt(n_ions))
    half = float(student_t.ppf(0.975, n_ions - 1)) * stderr
    # D cannot be negative: clipping the interval at zero keeps its coverage (the slope
    # itself may be, for an MSD that falls: not diffusive, and flagged so)
    ci95 = (max(slope - half, 0.0), max(slope + half, 0.0))
    return SlopeOverIons(slope, stderr, ci95, n_ions - 1, line.intercept, lags, per_ion)


@dataclass
class StartCheck:
    """The whole fit window against its later part (from the window's geometric middle)."""

    whole: float                 # slope over the window, Å^2/ps
    later: float                 # slope from ``later_start_ps`` to the window's end
    later_start_ps: float
    t: float                     # paired Student t of (whole - later) over the ions
    consistent: bool


def fit_start_check(m: MSD, frame_interval_ps: float, n_frames: int, fit_start_ps: float,
                    fit_end_ps: float, whole: SlopeOverIons | None = None,
                    alpha: float = 0.001, material: float = 0.1) -> StartCheck:
    """Whether the fit from ``fit_start_ps`` agrees with the fit over the window's later
    part, from the geometric middle sqrt(start * end) on. The GLS weights lean on the
    first lags, so a start still in the caged/ballistic rise of the MSD (log-log slope
    below/above 1 there) pulls the whole fit away from the later part's slope. Both
    slopes are the same linear map of each ion's MSD, so their difference per ion is an
    independent draw per ion: a paired t test over the ions (two-sided, ``alpha``). A
    difference counts only where it is also ``material`` (a tenth of the later slope).
    At 1 % alone the test flagged ~2 % of honest Brownian fits, among them the 600 K
    point (16 ions, t = 3.2) of tests/test_analysis_cli.py's Arrhenius, which then left
    the fit; a caged start is 30 %+ off with |t| ~ 4 over 32 ions (the audit's 900 K run).
    A window whose later part holds fewer than 3 lags (the fit's own minimum: a window of 3
    lags, 0.1-0.3 ps at 0.1 ps a frame) cannot be tested and is taken as consistent."""
    from scipy.stats import t as student_t

    dt = frame_interval_ps
    if whole is None:
        whole = slope_over_ions(m, dt, n_frames, fit_start_ps, fit_end_ps)
    later_start = float(np.sqrt(max(fit_start_ps, dt) * fit_end_ps))
    try:
        later = slope_over_ions(m, dt, n_frames, later_start, fit_end_ps)
    except AnalysisError:       # the later part holds < 3 lags (a window of 3-4): no test
        return StartCheck(whole.slope, whole.slope, later_start, 0.0, True)
    diff = whole.per_ion - later.per_ion
    se = float(diff.std(ddof=1) / np.sqrt(diff.size))
    t = float(diff.mean() / se) if se > 0 else 0.0
    significant = abs(t) > student_t.ppf(1 - alpha / 2, diff.size - 1)
    consistent = not (significant and abs(whole.slope - later.slope) > material * abs(later.slope))
    return StartCheck(whole.slope, later.slope, later_start, t, bool(consistent))


def later_fit_start(m: MSD, frame_interval_ps: float, n_frames: int, fit_start_ps: float,
                    fit_end_ps: float) -> float | None:
    """The first of 2, 4, 8... times ``fit_start_ps`` from which the fit agrees with its
    later part (:func:`fit_start_check`); None when none does with at least a quarter of
    the window (in log time) left."""
    start = 2 * max(fit_start_ps, frame_interval_ps)
    while start <= fit_end_ps / 4:
        if fit_start_check(m, frame_interval_ps, n_frames, start, fit_end_ps).consistent:
            return start
        start *= 2
    return None


def fit_start_note(check: StartCheck, fit_start_ps: float, fit_end_ps: float,
                   suggestion: float | None, scale: float) -> str:
    """What ``fit_start_not_diffusive`` means for this fit, and the start to use instead."""
    told = (f"fit start {fit_start_ps:g} ps is not yet diffusive: D from {fit_start_ps:g}-"
            f"{fit_end_ps:g} ps is {check.whole * scale:.3g} cm^2/s, from "
            f"{check.later_start_ps:.3g}-{fit_end_ps:g} ps {check.later * scale:.3g} cm^2/s "
            f"(paired t = {check.t:.1f} over the ions)")
    if suggestion is None:
        return told + "; no later start agrees with its window: run longer"
    return told + f"; set fit_start_ps to {suggestion:.3g} ps or later"


def windowed_diffusion(traj: Trajectory, species: str, direction: str, window_ps: float = 15.0,
                       fit_start_ps: float = 1.0) -> tuple[float | None, float | None, int]:
    """PES-seed windowed fits: mean D (cm^2/s), its standard error and the window count;
    each window's MSD is fitted from ``fit_start_ps`` (:func:`diffusion` passes its own) to
    the window's length, and a window shorter than that start gives none.

    The standard error is the spread of the windows' D over sqrt(N), N the window count
    (``n_windows``, ``D_windowed_n`` in diffusion.csv): with the usual 2-3 windows it has
    1-2 degrees of freedom, so it is a consistency check of D over N windows, not an
    interval (+-1.96 of it covered the true D in 47 of 80 audited runs); no interval is
    made from it, D's interval is the ions' (:func:`diffusion`)."""
    per_window = int(round(window_ps / traj.frame_interval_ps)) + 1
    n_windows = traj.n_frames // per_window
    values = []
    for w in range(n_windows):
        sl = slice(w * per_window, (w + 1) * per_window)
        part = Trajectory(traj.positions[sl], traj.boxes[sl], traj.steps[sl], traj.elements,
                          traj.masses, traj.timestep_fs)
        m = compute_msd(part, species, direction)
        sel = (m.lag_ps >= fit_start_ps - 1e-9) & (m.lag_ps <= window_ps + 1e-9)
        if sel.sum() < 2:
            continue
        slope, _ = _ols(m.lag_ps[sel], m.msd[sel])
        values.append(slope / (2 * m.n_dim) * A2_PER_PS_TO_CM2_PER_S)
    if not values:
        return None, None, 0
    values = np.array(values)
    err = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else None
    return float(values.mean()), err, len(values)


def diffusion(traj: Trajectory, species: str, direction: str = "xyz", *,
              fit_start_ps: float = 1.0, fit_end_ps: float | None = None,
              window_ps: float = 15.0, hop_length: float = 1.5, smooth_ps: float = 0.25,
              min_hops: float = 1.0,
              linear_tolerance: float = 0.2, seed: int = 0,
              msd: MSD | None = None) -> DiffusionResult:
    """Diffusion coefficient of ``species`` along ``direction`` with its uncertainty.

    Parameters
    ----------
    traj : Trajectory
        Unwrapped, equilibration discarded, framework drift removed.
    species : str
        Element whose tracer diffusion is wanted.
    direction : str
        ``xyz``, a plane (``xy``...) or an axis (``x``...).
    fit_start_ps, fit_end_ps : float
        Fit range of the MSD. The default end is half the run: past it each lag has fewer
        than two independent time origins.
    window_ps : float
        Window length of the PES-seed windowed fits.
    hop_length : float
        Distance (Å) an ion must move from where it last settled for a hop to count
        (a little shorter than the shortest site-to-site distance).
    smooth_ps : float
        Running-mean window (ps) applied to the paths before counting hops, so that
        vibration about a site does not count.
    min_hops : float
        Fewer hops per ion than this flags ``too_few_hops``.
    linear_tolerance : float
        The MSD's growth exponent (:func:`growth_exponent`) must lie in ``1 ± linear_tolerance``,
        else ``not_linear``.
    seed : int
        Seed of the draws of D's sampling distribution kept in ``samples`` (D and its
        interval do not depend on it).
    msd : MSD, optional
        A precomputed MSD of the same species/direction.
    """
    check_direction(direction)
    idx = traj.indices(species)
    total = float(traj.times_ps[-1])
    fit_end_ps = fit_end_of(total, fit_end_ps)
    if fit_start_ps >= fit_end_ps:
        raise AnalysisError(f"fit start {fit_start_ps:g} ps is not before the fit end "
                            f"{fit_end_ps:.6g} "
                            f"ps (run length {total:.3f} ps); lower fit_start_ps or run longer")
    m = msd if msd is not None else compute_msd(traj, species, direction)
    fit = slope_over_ions(m, traj.frame_interval_ps, traj.n_frames, fit_start_ps,
                          fit_end_ps)
    scale = A2_PER_PS_TO_CM2_PER_S / (2 * m.n_dim)
    # the windows' fits start where the whole run's does: past the sub-diffusive start
    D_win, D_win_err, n_win = windowed_diffusion(traj, species, direction, window_ps,
                                                 fit_start_ps)

    exponent = growth_exponent(m.msd[fit.lags], fit.lags * traj.frame_interval_ps, fit.intercept)
    window = max(1, int(round(smooth_ps / traj.frame_interval_ps)))
    per_ion = count_hops(traj.positions[:, idx], hop_length, window)
    hops = float(per_ion.mean())
    flags = []
    if hops < min_hops:
        flags.append("too_few_hops")
    if abs(exponent - 1.0) > linear_tolerance:
        flags.append("not_linear")
    notes = {}
    check = fit_start_check(m, traj.frame_interval_ps, traj.n_frames, fit_start_ps,
                            fit_end_ps, whole=fit)
    if not check.consistent:
        flags.append("fit_start_not_diffusive")
        suggestion = later_fit_start(m, traj.frame_interval_ps, traj.n_frames, fit_start_ps,
                                     fit_end_ps)
        notes["fit_start_not_diffusive"] = fit_start_note(check, fit_start_ps, fit_end_ps,
                                                          suggestion, scale)
    return DiffusionResult(
        species=species, direction=direction, D=fit.slope * scale,
        D_ci95=(fit.ci95[0] * scale, fit.ci95[1] * scale), D_std=fit.stderr * scale,
        D_windowed=D_win, D_windowed_stderr=D_win_err, n_windows=n_win,
        fit_start_ps=float(fit_start_ps), fit_end_ps=float(fit_end_ps), hops_per_ion=float(hops),
        msd_exponent=float(exponent), n_ions=int(idx.size),
        ions_that_hopped=int(np.count_nonzero(per_ion)), flags=flags, flag_notes=notes,
        samples=fit.draws(N_DRAWS, seed) * scale)
