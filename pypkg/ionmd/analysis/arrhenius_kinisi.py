"""The Bayesian alternative of kinisi to :func:`ionmd.analysis.arrhenius.fit_arrhenius`
(``kinisi.arrhenius``: Gaussian likelihood in y, MCMC by emcee), slower, reported as a
cross-check (``ionmd analyze --arrhenius-kinisi``)."""

from __future__ import annotations

import contextlib
import io

import numpy as np

from ionmd.analysis.arrhenius import KB_EV, fit_arrhenius
from ionmd.errors import AnalysisError


EA_PRIOR_SPAN_EV, LN_PREFACTOR_PRIOR_SPAN = 5.0, 50.0
"""Widest priors of kinisi's Arrhenius fit either side of the least-squares fit: in Ea
(eV) and in ln A."""


def kinisi_arrhenius(T: np.ndarray, y: np.ndarray, y_std: np.ndarray, *,
                     T_extrapolate: float = 300.0, n_samples: int = 400, n_walkers: int = 16,
                     n_burn: int = 200, seed: int = 0) -> dict:
    """Bayesian Arrhenius fit by kinisi (``kinisi.arrhenius.Arrhenius``, emcee MCMC).

    kinisi's likelihood is Gaussian in y with standard deviations ``y_std``. Its
    priors are set wide around the weighted least-squares fit (uniform in Ea over
    +-10 standard errors, at most 5 eV, log-uniform in A over +-10 standard errors of
    ln A, at most e^50) and the walkers start there.

    Returns
    -------
    dict
        ``Ea_eV`` (posterior median), ``Ea_ci95``, ``prefactor``, ``y_extrapolated``,
        ``y_extrapolated_ci95`` (percentiles of the posterior predictive of the mean).
    """
    import warnings

    import scipp as sc
    from kinisi.arrhenius import Arrhenius
    from scipy.stats import loguniform, uniform

    T, y, y_std = (np.asarray(a, float) for a in (T, y, y_std))
    if np.any(~(y_std > 0)):
        raise AnalysisError("kinisi Arrhenius fit needs positive per-point standard deviations")
    wls = fit_arrhenius(T, y, y_std / y, T_extrapolate=T_extrapolate)
    # bounded: points whose errors exceed their values give errors of Ea and ln A of
    # eV and ~100, and priors 10 errors wide overflowed exp (emcee: "returned NaN")
    span_ea = min(10 * wls.Ea_err_eV, EA_PRIOR_SPAN_EV)
    span_a = np.exp(min(10 * wls.ln_prefactor_err, LN_PREFACTOR_PRIOR_SPAN))
    priors = [uniform(wls.Ea_eV - span_ea, 2 * span_ea),
              loguniform(wls.prefactor / span_a, wls.prefactor * span_a)]
    data = sc.DataArray(sc.array(dims=["temperature"], values=y, variances=y_std ** 2),
                        coords={"temperature": sc.array(dims=["temperature"], values=T, unit="K")})
    # kinisi's walkers start from numpy's global generator: seeded for a reproducible fit,
    # then given back to the caller as it was (a notebook's own draws after the fit)
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")   # its MAP search starts at the prior means
            model = Arrhenius(data, priors=priors)
            model.mcmc(x0=(sc.scalar(wls.Ea_eV, unit="eV"),
                           sc.scalar(wls.prefactor, unit="cm^2/s")),
                       n_samples=n_samples, n_walkers=n_walkers, n_burn=n_burn, n_thin=4)
    finally:
        np.random.set_state(state)
    ea = np.asarray(model.activation_energy.values)
    pre = np.asarray(model.preexponential_factor.values)
    extra = pre * np.exp(-ea / (KB_EV * T_extrapolate))
    return {"method": "kinisi", "Ea_eV": float(np.median(ea)),
            "Ea_ci95": np.percentile(ea, [2.5, 97.5]).tolist(), "Ea_err_eV": float(ea.std()),
            "prefactor": float(np.median(pre)), "T_extrapolated": float(T_extrapolate),
            "y_extrapolated": float(np.median(extra)),
            "y_extrapolated_ci95": np.percentile(extra, [2.5, 97.5]).tolist(),
            "n_samples": int(ea.size)}
