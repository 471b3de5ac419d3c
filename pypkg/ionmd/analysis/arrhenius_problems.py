"""Whether a campaign's Arrhenius fit says anything at all, and, where not, why in words a
user can act on (:func:`fit_problem`).

A fit always returns numbers. Over runs too short to see their ions diffuse (an audit: a
new user's campaign of 0.35 ps runs, each D's interval clipped at zero, flagged
``too_few_hops`` and ``not_linear``) ``sweep collect`` reported Ea = -0.072 eV and
sigma(300 K) = 4620 mS/cm, above its own 900 K value (244), with a 95 % interval
[2e-16, 1e23] and no flag: read as a plain number, it was a result. Such a fit is marked
(``fit_problem``: the reasons; the flag ``fit_problem``) where any of these holds:

* Ea <= 0: D (or sigma T) does not rise with temperature over the fitted points, so no
  thermally activated law is seen, and the extrapolation to 300 K rises instead of falling;
* the 95 % interval of the extrapolated value spans more than :data:`MAX_SPAN_DECADES`
  decades: the fit says next to nothing there (an ordinary campaign's spans well under one);
* every fitted temperature has a run flagged not diffusive (too few hops, an MSD not
  linear in time): the values are not yet diffusion coefficients.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

MAX_SPAN_DECADES = 4.0
"""Widest 95 % interval of an extrapolated value, in decades (``log10(hi / lo)``), still
read as a result."""

FIT_PROBLEM = "fit_problem"
"""The flag a fit gets where :func:`fit_problem` finds a reason."""


def fit_problem(Ea_eV: float, extrapolated_ci95: Sequence[float], T_extrapolated: float,
                fitted_T: Sequence[float], not_diffusive_T: Sequence[float],
                unit: str = "", check_span: bool = True) -> str | None:
    """Why a fit's Ea and extrapolation mean nothing (module docstring), as one sentence;
    None where they may be read. ``fitted_T``: the temperatures of its points;
    ``not_diffusive_T``: those with a run flagged not diffusive; ``unit``: the
    extrapolated interval's; ``check_span`` False: its width is the caller's business (a
    goal's factor is its own limit on it)."""
    reasons = []
    if not Ea_eV > 0:
        reasons.append(f"Ea = {Ea_eV:.3g} eV is not positive: the values do not rise with "
                       f"temperature, so no Arrhenius law is seen")
    lo, hi = (float(v) for v in extrapolated_ci95)
    span = float(np.log10(hi / lo)) if lo > 0 and np.isfinite(hi) else np.inf
    if check_span and not span <= MAX_SPAN_DECADES:
        reasons.append(f"its 95 % interval at {T_extrapolated:g} K, [{lo:.3g}, {hi:.3g}]"
                       f"{' ' + unit if unit else ''}, "
                       f"spans {span:.3g} decades (more than {MAX_SPAN_DECADES:g})")
    fitted = {float(t) for t in fitted_T}
    if fitted and fitted <= {float(t) for t in not_diffusive_T}:
        reasons.append("every fitted temperature (" + ", ".join(f"{t:g}" for t in sorted(fitted))
                       + " K) has a run flagged not diffusive (too few hops or an MSD not "
                       "linear): its values are not yet diffusion coefficients")
    if not reasons:
        return None
    return ("the Arrhenius fit means nothing: " + "; ".join(reasons)
            + ". Run longer (until the runs' flags clear), or at higher temperatures")


NOT_DIFFUSIVE_FLAGS = ("too_few_hops", "not_linear", "fit_start_not_diffusive")
"""A run's flags that say its D is not yet a diffusion coefficient
(:func:`ionmd.analysis.diffusion.diffusion`): too few hops per ion, an MSD not linear in
its fit range, a fit start inside the sub-diffusive rise. A longer run clears each."""


def flagged_points(points: Sequence[dict]) -> list[str]:
    """``"900 K (fit_start_not_diffusive, not_linear: run <folder>)"`` for each fitted point
    (an Arrhenius fit's ``points``, each with its ``flags`` and ``runs``) whose runs carry
    one of :data:`NOT_DIFFUSIVE_FLAGS`. A fit may be read where only some are (unlike
    :func:`fit_problem`'s every one), but a goal is not met on them: an audit's 900 K point,
    flagged fit_start_not_diffusive, was 2.8x its value from a later fit start and still
    met a goal of factor 3 (:func:`ionmd.sweep.allocate.verdict_at`)."""
    out = []
    for p in points:
        flags = [f for f in p.get("flags", []) if f in NOT_DIFFUSIVE_FLAGS]
        if flags:
            runs = ", ".join(str(r) for r in p.get("runs", []))
            out.append(f"{p['temperature_K']:g} K ({', '.join(flags)}"
                       + (f": run {runs})" if runs else ")"))
    return out
