"""A value's standard error in ln from its 95 % interval, as the Arrhenius fits, the replica
combination and the allocator read it, and the Student t quantile of a D's interval."""

from __future__ import annotations

import numpy as np

from ionmd.errors import AnalysisError


LOWER_HALF_CAP = 2 / np.log(2) - 1
"""Longest an interval's lower half in ln is read, in its upper halves (1.885): an interval
just reaching zero then reads as its relative error (D - lo) / (q D) = 1 / q."""


def ln_error_from_interval(lo: float, hi: float, quantile: float = 1.96,
                           value: float | None = None) -> float:
    """Standard error of ln y from its 95 % interval [lo, hi] (log-normal approximation: the
    mean of the interval's halves in ln, ``ln(hi / lo) / 2q``); ``quantile``: the
    interval's half-width in standard errors (1.96 for a normal one, the Student t
    quantile for a D's interval over few ions, :func:`interval_quantile`).

    With ``value`` (y itself), the lower half in ln is read as at most
    :data:`LOWER_HALF_CAP` upper halves. A Student t interval over ions is symmetric in y:
    its lower half in ln grows without bound as its lower end nears zero (8 ions: 1.2 at a
    42.0 % error, 1.45 at 42.2 %, infinite at 42.29 %, where it reaches zero and is
    clipped), so a less precise run read as more precise than its neighbours. Capped, the
    error grows with the interval through the clip, and an interval reaching zero reads
    as ``ln(hi / y) / (q ln 2)`` (its relative error 1 / q where just reaching it).
    Intervals whose lower half is shorter (below 24 % errors over 8 ions) read
    ``ln(hi / lo) / 2q`` as without ``value``, to the bit.

    An interval reaching zero (``lo <= 0``) is read only from ``value`` (inside it): its
    lower end says nothing then (put at hi / 1000, it read 1.46 over 8 ions however wide
    it was); without one, AnalysisError."""
    if value is not None and 0 < value < hi:
        upper = np.log(hi / value)
        if lo <= 0 or np.log(value / lo) > LOWER_HALF_CAP * upper:
            return float((1 + LOWER_HALF_CAP) * upper / (2 * quantile))
    if lo <= 0:
        raise AnalysisError(
            f"the interval [{lo:.4g}, {hi:.4g}] reaches zero: its ln error is read from the "
            f"value's upper half, so the value is needed (ln_error_from_interval(lo, hi, q, "
            f"value=y), with lo < y < hi; got value {value})")
    return float((np.log(hi) - np.log(lo)) / (2 * quantile))


def interval_quantile(n_ions: int | None) -> float:
    """Half-width in standard errors of a D's (or its Nernst-Einstein sigma's) 95 % interval:
    Student t over ``n_ions`` ions (2.36 for 8 ions: read as 1.96, their errors were 21 %
    too large in every replica combination and fit); 1.96 when unknown."""
    from scipy.stats import t as student_t

    return float(student_t.ppf(0.975, n_ions - 1)) if n_ions and n_ions >= 2 else 1.96
