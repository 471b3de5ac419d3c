"""Ionic conductivity from tracer diffusion (Nernst–Einstein) or from the collective
(charge) MSD.

Nernst–Einstein: ``sigma = (1 / H_R) sum_s N_s q_s^2 e^2 D_s / (V k_B T)`` with ``V`` the
run's average volume (NpT) and ``H_R`` the Haven ratio (1 by default: no ion-ion
correlation). The uncertainty is carried by draws of each D's sampling distribution
(:attr:`DiffusionResult.samples`; species are independent), so the interval is that of
sigma itself, not a linearised one.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
from scipy.constants import Boltzmann, elementary_charge

from ionmd.analysis.diffusion import DiffusionResult
from ionmd.analysis.trajectory import Trajectory, species_list
from ionmd.errors import AnalysisError
from ionmd.strict_json import unbounded_from_json, unbounded_to_json

#: (C^2 cm^2/s) / (A^3 J) -> mS/cm
_UNIT = 1e24 * 1e3


@dataclass
class Conductivity:
    """Conductivity in mS/cm with its 95 % interval."""

    sigma: float
    sigma_ci95: tuple[float, float]
    method: str
    temperature_K: float
    volume_A3: float
    haven_ratio: float

    def to_dict(self) -> dict:
        """Plain, strict-JSON values: an upper end with no bound is None (null), said by
        ``sigma_ci95_unbounded`` and ``sigma_ci95_note`` (:data:`UNBOUNDED_NOTE`)."""
        out = asdict(self)
        out["sigma_ci95"] = [end_to_json(v) for v in self.sigma_ci95]
        if np.isinf(self.sigma_ci95[1]):
            out["sigma_ci95_unbounded"] = True
            out["sigma_ci95_note"] = UNBOUNDED_NOTE
        out["units"] = {"sigma": "mS/cm", "volume": "A^3"}
        return out


UNBOUNDED_NOTE = ("its interval has no upper end (null): the error is so large against sigma "
                  "that sigma is not resolved within its noise; run longer (or add replicas "
                  "or a larger cell)")
"""Why a conductivity's interval has no upper end (``sigma_ci95_note`` in results.json)."""

end_to_json = unbounded_to_json
"""An interval end as strict JSON: None where it is infinite (no upper end)."""
end_from_json = unbounded_from_json
""":func:`end_to_json`'s value back: None is an upper end at infinity."""


def nernst_einstein(D_cm2_s: float | np.ndarray, n_ions: int, charge: float, volume_A3: float,
                    temperature_K: float, haven_ratio: float = 1.0) -> float | np.ndarray:
    """Nernst–Einstein conductivity (mS/cm) of one species; D may be an array of samples."""
    if volume_A3 <= 0 or temperature_K <= 0 or haven_ratio <= 0:
        raise AnalysisError("volume, temperature and Haven ratio must be positive")
    return (n_ions * (charge * elementary_charge) ** 2 * np.asarray(D_cm2_s)
            / (volume_A3 * Boltzmann * temperature_K * haven_ratio) * _UNIT)


def independent_pairing(samples: Sequence[np.ndarray], seed: int = 0) -> list[np.ndarray]:
    """Each species' draws in an order of their own, for summing draw k of one with draw
    k of another as independent draws.

    Two species' draws can be correlated in their order (the same seed drives each); one
    generator, drawn from in turn, gives each a different permutation and
    breaks that pairing (a generator seeded afresh per species would shuffle all alike)."""
    rng = np.random.default_rng(seed)
    return [rng.permutation(np.asarray(s)) for s in samples]


def conductivity_from_diffusion(results: Sequence[DiffusionResult], charges: dict[str, float],
                                volume_A3: float, temperature_K: float,
                                haven_ratio: float = 1.0, seed: int = 0) -> Conductivity:
    """Nernst–Einstein sigma summed over the mobile species of ``results``; its interval
    from their draws paired independently (:func:`independent_pairing`, ``seed``), its
    lower end clipped at zero like each D's."""
    for r in results:
        if r.species not in charges:
            raise AnalysisError(f"no charge for mobile species {r.species}; give it: `ionmd "
                                f"analyze --charges {r.species}=1`, `charges = "
                                f"{{{r.species} = 1}}` under a campaign's [analysis], or "
                                f"run.json 'charges'")
        if r.samples is None:
            raise AnalysisError("diffusion result has no draws of D (samples)")
    # sigma is linear in each D: one factor per species serves D and its draws
    factors = [nernst_einstein(1.0, r.n_ions, charges[r.species], volume_A3, temperature_K,
                               haven_ratio) for r in results]
    draws = independent_pairing([r.samples for r in results], seed)
    total = np.atleast_1d(sum(f * d for f, d in zip(factors, draws)))
    lo, hi = np.percentile(total, [2.5, 97.5])
    sigma = sum(f * r.D for f, r in zip(factors, results))
    return Conductivity(sigma=float(sigma), sigma_ci95=(max(float(lo), 0.0), max(float(hi), 0.0)),
                        method="nernst-einstein",
                        temperature_K=float(temperature_K), volume_A3=float(volume_A3),
                        haven_ratio=float(haven_ratio))


def charge_msd(traj: Trajectory, charges: dict[str, float], mobile: str | Sequence[str],
               lags: np.ndarray) -> np.ndarray:
    """Mean-squared displacement (e^2 Å^2) of the mobile ions' summed charge-weighted
    positions at frame ``lags``, over all time origins, per axis: shape (L, 3)."""
    mobile = species_list(mobile)
    idx = traj.indices(mobile)
    traj.check_displacements(idx, "the charge MSD")
    missing = [s for s in mobile if s not in charges]
    if missing:
        raise AnalysisError(f"no charge for {missing}; give oxidation states")
    q = np.array([charges[e] for e in traj.elements[idx]], dtype=np.float64)
    dipole = np.einsum("i,tij->tj", q, traj.positions[:, idx])
    return np.array([((dipole[lag:] - dipole[:-lag]) ** 2).mean(axis=0) for lag in lags])


def self_charge_msd(traj: Trajectory, charges: dict[str, float], mobile: str | Sequence[str],
                    lags: np.ndarray, max_values: int = 2_000_000) -> np.ndarray:
    """The mobile ions' charge-weighted self MSD ``sum_i q_i^2 <dr_i^2>`` (e^2 Å^2) at frame
    ``lags``, per axis, shape (L, 3): the charge MSD's uncorrelated part, whose line (far
    less noisy, averaged over ions) gives the collective fit its weights. Time origins are
    strided to at most ``max_values`` displacements a lag (a shape needs no more)."""
    idx = traj.indices(species_list(mobile))
    q2 = np.array([charges[e] for e in traj.elements[idx]], dtype=np.float64) ** 2
    pos = traj.positions[:, idx]
    stride = max(1, -(-pos.shape[0] * pos.shape[1] // max_values))
    return np.array([np.einsum("i,tij->j", q2, (pos[lag::stride][:len(pos[:-lag:stride])]
                                                 - pos[:-lag:stride]) ** 2)
                     / len(pos[:-lag:stride]) for lag in lags])


def collective_conductivity(traj: Trajectory, charges: dict[str, float], temperature_K: float,
                            mobile: str | Sequence[str], fit_start_ps: float = 1.0,
                            fit_end_ps: float | None = None, n_points: int = 40) -> Conductivity:
    """Conductivity from the mean-squared displacement of the mobile ions' summed charge
    (Einstein–Helfand): includes ion-ion correlations (no Haven ratio). Each axis' MSD is
    fitted as D is (:func:`ionmd.analysis.diffusion.gls_line`, same fit range); there is
    one such displacement per run, so its error comes from the covariance model itself
    (diffusion with vibrational noise, its variances from the fitted line), not from a
    spread over ions. The GLS weights come from the line through the ions' own
    (charge-weighted self) MSD (:func:`self_charge_msd`), the error model from the line
    through the charge MSD. Weights from the charge MSD's own line (before Dec 7 2026)
    depend on the very noise they weigh: sigma came out low on short runs of 16
    independent Brownian Li (0.1 ps frames, 500 runs each, mean sigma / truth): 20 ps
    0.897 +- 0.014, 40 ps 0.954 +- 0.009 (without vibration), 20 ps with 0.3 A of vibration
    1.00 +- 0.02 but a scatter of 0.42 and its interval missing high 12 % of the time; now
    0.986 +- 0.012, 0.994 +- 0.008, 0.984 +- 0.014 (scatter 0.27, 0.19, 0.32), the reported
    interval covering 97-99 % (tests/test_collective_bias.py). Its interval
    (:func:`collective_interval`) is wider
    above than below, and has no upper end beyond a relative error of 4.9
    (:func:`reported_interval`). Far noisier than Nernst–Einstein's."""
    from ionmd.analysis.diffusion import (A2_PER_PS_TO_CM2_PER_S, fit_end_of, fit_lags, gls_line,
                                          line_model, msd_covariance)

    dt = traj.frame_interval_ps
    fit_end_ps = fit_end_of(float(traj.times_ps[-1]), fit_end_ps)
    lags = fit_lags(dt, traj.n_frames, fit_start_ps, fit_end_ps, n_points)
    per_axis = charge_msd(traj, charges, mobile, lags)
    shapes = self_charge_msd(traj, charges, mobile, lags)
    slope = variance = 0.0
    for y, shape in zip(per_axis.T, shapes.T):
        # weights from the ions' own MSD, not from this one displacement's line: weights
        # taken from the line they fit made the slope 8 % low over 20 ps (see doc)
        weights = gls_line(shape, lags, dt, traj.n_frames, 1).weights
        line = weights @ y
        cov = msd_covariance(lags, traj.n_frames, *line_model(*line, dt, 1, float(y.mean())))
        slope += float(line[0])
        variance += float(weights[0] @ cov @ weights[0])
    volume = float(traj.volumes.mean())
    # the charge MSD's "D" (slope / 2n) in Nernst–Einstein with one unit charge
    to_sigma = nernst_einstein(A2_PER_PS_TO_CM2_PER_S / 6, 1, 1.0, volume, temperature_K)
    sigma, se = slope * to_sigma, np.sqrt(variance) * to_sigma
    return Conductivity(sigma=float(sigma), sigma_ci95=reported_interval(sigma, se),
                        method="collective", temperature_K=float(temperature_K),
                        volume_A3=volume, haven_ratio=1.0)


def collective_interval(sigma: float, se: float, level: float = 0.95) -> tuple[float, float]:
    """``level`` interval of a charge-MSD conductivity ``sigma`` with standard error ``se``.

    Since its GLS weights come from the self MSD (Dec 7 2026), ``sigma`` is a fixed-weight
    sum of one charge path's squared displacements: a quadratic form of Gaussian steps, whose
    sampling distribution is skewed to the right like a chi-square. With ``r = se / sigma``
    the relative error (``se`` scales with the estimate, the error model taking its variances
    from the fitted line), ``sigma / truth`` is taken as the scaled chi-square of the same mean
    and variance, ``chi2_k / k`` with ``k = 2 / r^2`` (Satterthwaite), so (95 %)
    ``sigma k / chi2_k(0.975)`` to ``sigma k / chi2_k(0.025)``, wider above. The normal pivot
    ``sigma / (1 +- 1.96 r)`` (ce0c8ab, tuned for the weights from the charge MSD's own line)
    ignored that skew: over 2000 seeded runs each of examples/collective_coverage.py the truth
    lay below its bottom in 2.5-4.3 %, above its top in 0-1.6 % (now 1.7-2.8 % and 0-2.3 %;
    tests/test_collective_interval_tails.py). Beyond a relative error of 4.9 (95 %; 11.3 at
    99 %: :func:`lower_end_turn`) ``k`` is so small that ``chi2_k(0.975)`` falls faster than
    ``k`` and that lower end rises again (0.21 sigma at r = 10, sigma itself at 13.5: an
    interval above its own estimate); it is held at its lowest there (0.087 sigma at 95 %),
    so that a noisier sigma never gets a higher lower end. A sigma <= 0 keeps ``+- z se``
    (``z`` the normal quantile) clipped at 0."""
    from scipy.stats import norm

    below = (1 - level) / 2  # each tail's probability
    if sigma <= 0 or se <= 0:
        half = norm.isf(below) * se
        return max(float(sigma - half), 0.0), max(float(sigma + half), 0.0)
    rel = se / sigma
    ends = _chi_square_ends(sigma, rel, level)
    if rel > LOWER_END_TURN_FROM and rel > (turn := lower_end_turn(level)):
        return _chi_square_ends(sigma, turn, level)[0], ends[1]
    return ends


def reported_interval(sigma: float, se: float, level: float = 0.95) -> tuple[float, float]:
    """:func:`collective_interval` as a run reports it: without an upper end (inf; null in
    results.json) where the relative error ``r = se / sigma`` of a positive sigma is beyond
    :func:`upper_end_limit` (4.9 at 95 %).

    There the scaled chi-square has ``k = 2 / r^2 < 0.082`` degrees of freedom: its lower end
    is no longer its own (held at the turn), and its upper end is no bound a reader can use,
    sigma times 2e37 at the limit, 1e158 at r = 10, 1e290 at 13.5, inf from ~13.9 (float
    overflow); in a fit in logs it would weigh 1 / (ln(2e37) / 1.96)^2 = 5e-4 of a point
    with a 2x error, yet stand in tables and plots as a bound. So such a sigma is an
    estimate within its noise, said so, and left out of fits as one with no upper end."""
    lo, hi = collective_interval(sigma, se, level)
    if sigma > 0 and se > upper_end_limit(level) * sigma:
        return lo, float(np.inf)
    return lo, hi


def upper_end_limit(level: float = 0.95) -> float:
    """The relative error beyond which a collective sigma's interval is reported without an
    upper end (:func:`reported_interval`): :func:`lower_end_turn`, where the scaled
    chi-square stops giving the interval's lower end."""
    return lower_end_turn(level)


LOWER_END_TURN_FROM = 0.5
"""A relative error below :func:`lower_end_turn` at every level from 50 % (1.0 there, 4.9 at
95 %): below it the turn is not looked for."""


def _chi_square_ends(sigma: float, rel: float, level: float) -> tuple[float, float]:
    """``sigma k / chi2_k(upper)`` and ``sigma k / chi2_k(lower)`` at ``level``, ``k = 2 /
    rel^2`` (:func:`collective_interval`'s ends before the lower one is held)."""
    from scipy.stats import chi2

    below = (1 - level) / 2
    k = 2 / rel ** 2
    top = chi2.ppf(below, k)  # 0 where k is tiny: no upper end
    with np.errstate(divide="ignore", over="ignore"):    # an end beyond floats: inf
        return (float(sigma * k / chi2.isf(below, k)),
                float(sigma * k / top) if top > 0 else np.inf)


@functools.lru_cache(maxsize=8)
def lower_end_turn(level: float = 0.95) -> float:
    """The relative error at which the scaled chi-square's lower end is lowest (4.9 at 95 %,
    11.3 at 99 %): :func:`collective_interval` holds it there at larger errors."""
    from scipy.optimize import minimize_scalar

    found = minimize_scalar(lambda r: np.log(_chi_square_ends(1.0, r, level)[0]),
                            bounds=(LOWER_END_TURN_FROM, 40.0), method="bounded",
                            options={"xatol": 1e-6})
    return float(found.x)
