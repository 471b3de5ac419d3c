"""What ``ionmd sweep collect`` reports at a goal's ``target_K``: the goal's quantity
(sigma, or the one mobile species' D where there is no sigma) there, by the same
computation as the goal's verdict (:func:`ionmd.sweep.allocate.verdict_at`), so that a
campaign whose goal is met at 620 K is not reported only as NOT A RESULT at 300 K."""

from __future__ import annotations

import math

from ionmd.sweep.campaign import Campaign


def at_goal_target(campaign: Campaign, fits: dict) -> dict | None:
    """collect's record of a series at its campaign's goal's ``target_K`` from the
    series' Arrhenius fits (``fits``: ``sigma_T`` and ``D_<X>``, each
    :func:`ionmd.analysis.aggregate.fit_series`' entry): ``temperature_K``, ``quantity``
    (``sigma`` or ``D_<X>``), ``value``, ``ci95``, ``unit``, ``factor``, ``goal_factor``,
    ``goal_met``, ``fit_problem`` (None: a result) and ``flagged_points`` (where a fitted
    point is flagged not diffusive: the goal is not met), or ``note`` where there is no fit of
    the goal's quantity. None where the campaign has no goal or its target is 300 K
    (collect's own sigma(300 K) is the goal's quantity then)."""
    from ionmd.sweep.allocate import SIGMA_T_UNIT, verdict_at

    goal = campaign.goal
    if goal is None or goal.target_K == 300.0:
        return None
    key, unit = _goal_quantity(fits)
    record = {"temperature_K": goal.target_K, "quantity": "sigma" if key == "sigma_T" else key,
              "goal_factor": goal.sigma_factor}
    entry = fits.get(key) if key else None
    if not entry or "error" in entry:
        why = (entry or {}).get("error") or "no Arrhenius fit of the goal's quantity"
        return {**record, "note": why}
    v = verdict_at(entry, goal.target_K, SIGMA_T_UNIT if key == "sigma_T" else unit)
    factor = v.factor if math.isfinite(v.factor) else None     # None: unbounded (strict JSON)
    return {**record, "value": v.value, "ci95": list(v.ci95), "unit": v.unit,
            "factor": factor, "fit_problem": v.fit_problem,
            **({"flagged_points": list(v.flagged)} if v.flagged else {}),
            "goal_met": factor is not None and v.meets(goal.sigma_factor)}


def _goal_quantity(fits: dict) -> tuple[str | None, str]:
    """Which fit the goal's verdict is on (:func:`ionmd.sweep.goal.series_point`): sigma T
    where the runs have a sigma, else the D of their one mobile species; None where
    neither (several species and no charges)."""
    species = [k for k in fits if k.startswith("D_")]
    if fits.get("sigma_T") is not None:
        return "sigma_T", "mS/cm"
    if len(species) == 1:
        return species[0], "cm^2/s"
    return None, ""


def target_line(name: str, record: dict) -> str:
    """The printed line of :func:`at_goal_target`'s record for the series ``name``."""
    T = record["temperature_K"]
    what = "sigma" if record["quantity"] == "sigma" else record["quantity"]
    head = f"{name} {what}({T:g} K), the goal's target_K:"
    if "note" in record:
        return f"{head} no value: {record['note']}"
    if record["fit_problem"]:
        return f"{head} NOT A RESULT: {record['fit_problem']}"
    lo, hi = record["ci95"]
    met = "met" if record["goal_met"] else "not met yet"
    if record.get("flagged_points"):    # not met on points whose value is not yet a D
        met += f": points flagged not diffusive: {'; '.join(record['flagged_points'])}"
    within = (f"within a factor {record['factor']:.3g}" if record["factor"] is not None
              else "unbounded below")
    return (f"{head} {record['value']:.3g} {record['unit']} [{lo:.3g}, {hi:.3g}], {within} "
            f"(goal {record['goal_factor']:g}: {met})")


__all__ = ["at_goal_target", "target_line"]
