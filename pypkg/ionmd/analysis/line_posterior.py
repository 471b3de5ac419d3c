"""Exact posterior samples of a straight line through correlated data: kinisi's model of
an MSD (or a mean-squared charge displacement), drawn without MCMC.

kinisi (McCluskey et al., JCTC 2024) models the MSD as ``y = m t + c`` with Gaussian errors
of the covariance it estimates between lags, flat priors and ``m >= 0``, and samples that
posterior with emcee from walkers that all start at ``c = 1e-20`` with a spread of 1e-3 of
that. A linear model with a Gaussian likelihood has a bivariate normal posterior (the
generalised-least-squares estimate and its covariance), here truncated at ``m >= 0``, so it
is drawn directly: no burn-in, the same answer for any number of samples. (kinisi 2.1's
chain had not left its start in the 200 burn-in steps ionmd gave it: D moved by 40 %
between 100 and 1600 samples, and a stopping rule read about half the converged
D_rel_ci.)
"""

from __future__ import annotations

import numpy as np

from ionmd.errors import AnalysisError


def line_posterior(x: np.ndarray, y: np.ndarray, cov: np.ndarray, n_samples: int,
                   seed: int = 0) -> np.ndarray:
    """Samples ``(n_samples, 2)`` of (slope, intercept) of ``y = slope x + intercept``
    given ``y``'s covariance ``cov``, with flat priors and ``slope >= 0``.

    ``cov`` is inverted as kinisi does (``scipy.linalg.pinvh``), so an ill-conditioned
    estimate (kinisi has already bounded its condition number) gives kinisi's likelihood.

    Raises
    ------
    AnalysisError
        If almost all of the posterior lies at negative slopes (no diffusion in the fit
        range).
    """
    from scipy.linalg import pinvh

    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    inverse = pinvh(np.asarray(cov, np.float64))
    design = np.column_stack([x, np.ones_like(x)])
    post_cov = np.linalg.inv(design.T @ inverse @ design)
    post_cov = 0.5 * (post_cov + post_cov.T)
    mean = post_cov @ (design.T @ inverse @ y)
    rng = np.random.default_rng(seed)
    kept: list[np.ndarray] = []
    n_kept = 0
    for _ in range(100):          # rejection of slopes < 0: the truncation
        draw = rng.multivariate_normal(mean, post_cov, size=2 * (n_samples - n_kept) + 64)
        draw = draw[draw[:, 0] >= 0]
        kept.append(draw)
        n_kept += len(draw)
        if n_kept >= n_samples:
            return np.concatenate(kept)[:n_samples]
    raise AnalysisError(f"the MSD's slope is {mean[0]:.3g} +- {np.sqrt(post_cov[0, 0]):.3g}: "
                        "almost surely below 0, no diffusion in the fit range; run longer or "
                        "fit a later range")
