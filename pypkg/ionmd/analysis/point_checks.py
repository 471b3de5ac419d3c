"""Whether one run's value with its interval can enter a replica combination or an
Arrhenius fit, and, where not, why in words a user can act on (used by
:mod:`ionmd.analysis.replica_combination` and :mod:`ionmd.analysis.aggregate`)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ionmd.analysis.conductivity import end_from_json


def point_problem(value: float, interval: Sequence[float], *, quantity: str = "the value",
                  unit: str = "", level: float = 0.95) -> str | None:
    """Why a value with its 95 % interval cannot enter a replica combination or a fit (in
    log space, weighted by ``1 / se(ln)^2``), in words a user can act on; None when it can.
    ``quantity`` names what is judged and where it comes from (``"D of Li at 600 K"``),
    ``unit`` its unit: the caller's, so that every command says it alike; ``level`` the
    interval's (0.99 where a run stopped by its D-interval rule reports it).

    A value or upper end that is not positive has no logarithm. Where the (zero-clipped)
    interval is all at zero, the MSD falls over its fit window beyond its scatter: the ions
    did not diffuse there. Where it reaches above zero, the value is below zero within its
    own scatter (a collective sigma, one displacement per run, often is): noise, not ions
    that stood still. One not finite was not estimated. An interval of zero width (or
    upside down) has no error: its weight would be infinite, and the combined value and
    interval NaN; one reaching zero is read from the value's upper half
    (:func:`~ionmd.analysis.interval_errors.ln_error_from_interval`), which a value at or above
    its upper end has not. An upper end at infinity (None in results.json: a collective
    sigma whose error is beyond ~14 times itself) is a value not resolved within its noise,
    with no finite ln error."""
    lo, hi = (end_from_json(v) for v in interval)
    told = _value_text(quantity, value, lo, hi, unit, level)
    if np.isfinite([value, lo]).all() and hi == np.inf:
        return (f"{told}: its interval has no upper end: {quantity.split(' at ')[0]} is not "
                f"resolved within its noise (its error far beyond its value), so it has "
                f"no finite ln error for the fit; run it longer (or add replicas or a "
                f"larger cell)")
    if not np.isfinite([value, lo, hi]).all():
        return (f"{told}: not a number, the analysis could not estimate it (too few frames "
                f"in the MSD's fit window, or too few ions?); look at the run's analysis "
                f"(results.json, msd.png) and analyse it again with a longer run or fit window")
    if not (value > 0 and hi > 0):
        return f"{told}: not positive, so it has no logarithm for the Arrhenius fit. " + (
            _within_scatter(hi, unit) if hi > 0 else _not_diffusing())
    if not hi > lo:
        return (f"{told}: an interval of zero width, no error, it would get an infinite "
                f"weight; look at the run's analysis (a D from one ion, or from too few "
                f"frames?) and analyse it again")
    if lo <= 0 and not value < hi:
        return (f"{told}: an interval reaching zero with the value at or above its upper "
                f"end: its ln error is read from the value's upper half, which it has not; "
                f"look at the run's analysis and analyse it again")
    return None


def _within_scatter(hi: float, unit: str) -> str:
    """Why a value at or below zero whose interval reaches above it is so: noise."""
    unit = f" {unit}" if unit else ""
    return (f"Its interval reaches {hi:.3g}{unit}: below zero within its own scatter, not "
            f"a sign that the ions stood still; the run is too short (or has too few ions) "
            f"to tell how fast they move. Run it longer, or add replicas or a larger cell")


def _not_diffusing() -> str:
    """Why a value whose whole interval is at zero is so (the interval is clipped there)."""
    return ("The MSD it comes from falls over the fit window beyond its scatter: the ions "
            "did not diffuse there (a run too short for them to leave their sites, or a "
            "temperature too low for them to hop); run it longer (or fit a later, longer "
            "window: fit_start_ps, fit_end_ps) or hotter, or leave this temperature out")


def _value_text(quantity: str, value: float, lo: float, hi: float, unit: str,
                level: float) -> str:
    """``D of Li at 600 K = -2.7e-07 cm^2/s (95 % interval [0, 0])``."""
    unit = f" {unit}" if unit else ""
    return f"{quantity} = {value:.3g}{unit} ({level * 100:g} % interval [{lo:.3g}, {hi:.3g}])"


def usable(value: float, interval: Sequence[float]) -> bool:
    """Whether a value with its 95 % interval can enter a fit (:func:`point_problem`)."""
    return point_problem(value, interval) is None


def within_scatter(value: float, interval: Sequence[float]) -> bool:
    """Whether a value is below zero with its interval reaching above zero: noise about a
    small D (or sigma), not a failed run. Such a replica enters its temperature's
    combination in linear space (module docstring), where its standard error is its upper
    half-width over its quantile (:func:`linear_se`). A value of exactly zero is no MSD's
    slope by chance but a run without displacements (the allocator's "without hops"): left
    out, with its :func:`point_problem`."""
    lo, hi = (float(v) for v in interval)
    return bool(np.isfinite([value, lo, hi]).all() and value < 0 < hi)


def enters(value: float, interval: Sequence[float]) -> bool:
    """Whether a replica enters its temperature's combination: :func:`usable`, or
    :func:`within_scatter` (then in linear space)."""
    return usable(value, interval) or within_scatter(value, interval)
