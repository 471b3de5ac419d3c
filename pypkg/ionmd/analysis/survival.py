"""Survival curves across a series' replicas: Kaplan–Meier over their failure reports
(:class:`ionmd.analysis.failure.FailureReport`: a replica that failed, or one followed to its
end without failing, censored), apart from the detection of one run's failure; one curve
per series and condition (:func:`survival_by_condition`: a temperature, or the ramp run).
"""

from __future__ import annotations

import json
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


def run_condition(temperature_K: float | None, temperature_end_K: float | None = None,
                  pressure_ramp: dict | None = None) -> dict:
    """The condition a run's survival is of: its thermostat's ``temperature_K`` (a ramp's
    start), a ramp's ``temperature_end_K`` and ``pressure_ramp`` (``{"start", "end",
    "unit"}``: :func:`ionmd.analysis.run_inputs.ramp_of`); {} where the temperature is not
    known."""
    if temperature_K is None:
        return {}
    out = {"temperature_K": float(temperature_K)}
    if temperature_end_K is not None and temperature_end_K != temperature_K:
        out["temperature_end_K"] = float(temperature_end_K)
    if pressure_ramp:
        out["pressure_ramp"] = dict(pressure_ramp)
    return out


def condition_label(condition: dict) -> str:
    """``600 K``, ``300->2100 K`` (a thermostat ramp), ``300 K, 1->50000 bar`` (a
    barostat ramp); ``condition not recorded`` for {}."""
    if not condition:
        return "condition not recorded"
    label = f"{condition['temperature_K']:g}"
    if "temperature_end_K" in condition:
        label += f"->{condition['temperature_end_K']:g}"
    label += " K"
    if "pressure_ramp" in condition:
        p = condition["pressure_ramp"]
        label += f", {p['start']:g}->{p['end']:g} {p.get('unit', 'bar')}"
    return label


def survival_by_condition(series: dict[str, Sequence[tuple[dict, FailureReport]]]
                          ) -> dict[str, dict]:
    """Kaplan–Meier curves (:func:`survival_curves`) per series (key) and condition
    (:func:`run_condition`: temperature, or the ramp the run ran): replicas at 600 K and
    at 1200 K, or a heating ramp beside runs held at its start, are the survival of no one
    condition pooled. ``series``: each series' ``(condition, report)`` of its runs. A series
    whose runs share one condition keeps its name as its curve's key; one of several gets a
    curve per condition, keyed ``"<series> @ <condition_label>"`` (``LiCl @ 600 K``). Each
    curve also says its ``series``, ``condition`` (the label) and the condition's fields."""
    curves: dict[str, dict] = {}
    for name, pairs in series.items():
        groups: dict[str, tuple[dict, list]] = {}
        for condition, report in pairs:
            key = json.dumps(condition, sort_keys=True)
            groups.setdefault(key, (condition, []))[1].append(report)
        ordered = sorted(groups.values(), key=lambda g: (not g[0], _order(g[0])))
        for condition, reports in ordered:
            label = condition_label(condition)
            key = name if len(groups) == 1 else f"{name} @ {label}"
            curve = survival_curves({key: reports})[key]
            curves[key] = {**curve, "series": name, "condition": label, **condition}
    return curves


def _order(condition: dict) -> tuple:
    """Curves of a series by temperature, a ramp after the run held at its start."""
    ramp = condition.get("pressure_ramp") or {}
    return (condition.get("temperature_K", 0.0),
            condition.get("temperature_end_K", condition.get("temperature_K", 0.0)),
            ramp.get("start", 0.0), ramp.get("end", 0.0))
