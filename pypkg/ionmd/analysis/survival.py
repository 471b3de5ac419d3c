"""Survival curves across a series' replicas: Kaplan–Meier over their failure reports
(:class:`ionmd.analysis.failure.FailureReport`: a replica that failed, or one followed to its
end without failing, censored), apart from the detection of one run's failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from ionmd.errors import AnalysisError

if TYPE_CHECKING:
    from ionmd.analysis.failure import FailureReport


def kaplan_meier(times: Sequence[float], failed: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier survival curve of replicas that fail at ``times`` (``failed`` True) or
    survive to the end of their run at ``times`` (``failed`` False: censored).

    Returns
    -------
    t, S : ndarrays
        Step function: S[k] is the survival fraction from t[k] on (t[0] = 0, S[0] = 1).
    """
    times = np.asarray(times, float)
    failed = np.asarray(failed, bool)
    if times.size == 0:
        raise AnalysisError("no runs for a survival curve")
    t_out, s_out, s = [0.0], [1.0], 1.0
    for t in np.unique(times[failed]):
        at_risk = np.sum(times >= t)
        deaths = np.sum((times == t) & failed)
        s *= 1.0 - deaths / at_risk
        t_out.append(float(t))
        s_out.append(s)
    return np.array(t_out), np.array(s_out)


def survival_at(curve: dict[str, list[float]], t: float) -> float:
    """The Kaplan–Meier survival fraction of ``curve`` (:func:`survival_curves`) at time
    ``t`` (from its last step on; beyond ``end_ps`` nothing was followed: NaN)."""
    if t > curve["end_ps"]:
        return float("nan")
    times = np.asarray(curve["time_ps"])
    return float(curve["survival"][int(np.flatnonzero(times <= t)[-1])])


def survival_curves(runs: dict[str, Sequence[FailureReport]]) -> dict[str, dict[str, list[float]]]:
    """Kaplan–Meier curves per structure (key) over its replicas' failure reports: steps
    at the failures (``time_ps``, ``survival``), the times where replicas stopped without
    failing (``censored_ps``: complete, or ended early) and how far any was followed
    (``end_ps``: the curve holds its last value up to there)."""
    curves = {}
    for name, reports in runs.items():
        times = [r.first.time_ps if r.failed else r.run_end_ps for r in reports]
        t, s = kaplan_meier(times, [r.failed for r in reports])
        curves[name] = {"time_ps": t.tolist(), "survival": s.tolist(),
                        "censored_ps": sorted(r.run_end_ps for r in reports if not r.failed),
                        "end_ps": float(max(times))}
    return curves
