"""Which values of the analysis settings a user edits in ``run.json`` (``discard_ps``,
``mobile_species``) the analysis can use: one rule, applied where the analysis reads a run
(:func:`ionmd.analysis.run_spec.load_run_spec`) and where a run is launched
(:mod:`ionmd.protocols.run_json_edits`), so that neither takes a value the other refuses.

A number is a JSON number: a quoted ``"0.2"`` is refused in both places rather than read as
0.2 (its neighbours ``"20ps"`` and ``"0,2"`` cannot be read, and which unit a quoted value
meant is a guess), and so is ``true`` (Python reads it as 1.0 ps). Whether a discard leaves
enough frames depends on the run's length: the launch checks it against the planned run,
the analysis against the frames it read (:meth:`ionmd.analysis.trajectory.Trajectory.discard`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Real


def is_number(value) -> bool:
    """Whether ``value`` is a finite JSON number (not a bool, a string, NaN or Infinity)."""
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def discard_problem(value) -> str | None:
    """What is wrong with ``value`` as ``discard_ps`` whatever the run's length (None: the
    analysis can use it)."""
    if not is_number(value):
        return "is not a number of ps"
    if value < 0:
        return "is negative"
    return None


def mobile_problem(value, elements: Iterable[str] | None = None) -> str | None:
    """What is wrong with ``value`` as ``mobile_species`` (None: the analysis can use it):
    not a non-empty list of strings (a bare ``"Li"`` would be read as ``L`` and ``i``), or,
    where the structure's ``elements`` are known, a species it does not hold."""
    if not (isinstance(value, list) and value and all(isinstance(s, str) for s in value)):
        return "is not a list of element symbols"
    if elements is None:
        return None
    elements = list(elements)
    missing = [s for s in value if s not in elements]
    if missing:
        return (f"names {', '.join(missing)}, which this run's structure does not hold "
                f"(elements: {', '.join(elements)})")
    return None
