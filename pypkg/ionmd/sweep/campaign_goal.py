"""A campaign's ``goal``: spend a budget (per structure x model) on narrowing sigma at a
target temperature until it is known within a factor either way; what the rounds of
:mod:`ionmd.sweep.goal` need, checked against the protocol and the resources."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ionmd.errors import IonmdError
from ionmd.protocols.presets import PRESETS, Protocol, parse_temperatures, parse_time_ps
from ionmd.protocols.setting_ranges import range_problem, steps_problem
from ionmd.sweep.campaign_problems import Problems, check_keys, check_range
from ionmd.sweep.campaign_resources import Resources
from ionmd.sweep.source import Source

GOAL_KEYS = ("sigma_300K_factor", "budget", "step", "temperatures", "target_K")
BUDGET_UNITS = {"gpu-h": "GPU-h", "core-h": "core-h", "h": "h"}


@dataclass
class Goal:
    """Spend ``budget`` (per structure x model) on narrowing sigma(target_K) until it is
    known within ``sigma_factor`` either way (:mod:`ionmd.sweep.goal`)."""

    sigma_factor: float
    budget: float
    unit: str                       # "GPU-h", "core-h" or "h" (wall hours of a run)
    step_ps: float                  # analysed ps added per decision
    candidates_K: tuple[float, ...]  # where new runs may start
    target_K: float = 300.0


def parse_budget(value) -> tuple[float, str]:
    """``"200 GPU-h"``, ``"50 core-h"``, ``"3 h"`` -> (amount, unit).

    Raises
    ------
    ValueError
        If it is none of these.
    """
    m = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([A-Za-z-]+)\s*", str(value))
    if not m or m.group(2).lower() not in BUDGET_UNITS:
        raise ValueError(value)
    amount = float(m.group(1))
    if not 0 < amount < float("inf"):
        raise ValueError(value)
    return amount, BUDGET_UNITS[m.group(2).lower()]


def read_goal(src: Source, errors: Problems, protocol: Protocol | None,
              resources: Resources) -> Goal | None:
    """The goal table, or None where there is none or it cannot be met as written (said
    in ``errors``)."""
    table = src.data.get("goal")
    if table is None:
        return None
    if not isinstance(table, dict):
        errors.add(("goal",), 'goal must be a table, e.g. goal = {sigma_300K_factor = 3, '
                              'budget = "200 GPU-h"}')
        return None
    check_keys(errors, table, ("goal",), GOAL_KEYS)
    ok = True
    why = _ramp_problem(protocol)
    if why:
        errors.add(("goal",), why)
        ok = False
    factor = table.get("sigma_300K_factor")
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not factor > 1:
        errors.add(("goal", "sigma_300K_factor") if "sigma_300K_factor" in table else ("goal",),
                   f"goal.sigma_300K_factor must be a number > 1: sigma({_target_text(table)}) "
                   f"known within that factor either way (got {factor!r})")
        ok = False
    elif not check_range(errors, ("goal", "sigma_300K_factor"), factor):
        ok = False
    try:
        budget, unit = parse_budget(table.get("budget"))
    except ValueError:
        errors.add(("goal", "budget") if "budget" in table else ("goal",),
                   f"goal.budget must be an amount with a unit: \"200 GPU-h\", \"50 core-h\" "
                   f"or \"3 h\" (wall hours) (got {table.get('budget')!r})")
        budget, unit, ok = 0.0, "h", False
    if unit == "GPU-h" and resources.gpus == 0:
        errors.add(("goal", "budget"), "goal.budget is in GPU-h but resources.gpus is 0: give "
                                       "the budget in core-h (or h), or give the runs GPUs")
        ok = False
    step_ps = protocol.check_every_ps if protocol is not None else 20.0
    if "step" in table:
        try:
            step_ps = parse_time_ps(str(table["step"]))
        except IonmdError as exc:
            errors.add(("goal", "step"), f"goal.step: {exc}")
            ok = False
    target = table.get("target_K", 300.0)
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not target > 0:
        errors.add(("goal", "target_K"), f"goal.target_K must be a temperature > 0 (got {target!r})")
        ok = False
    elif not check_range(errors, ("goal", "target_K"), target):
        ok = False
    if protocol is None or not ok:
        return None
    candidates = _new_run_temperatures(src, errors, protocol, table, step_ps)
    if candidates is None:
        return None
    return Goal(sigma_factor=float(factor), budget=budget, unit=unit, step_ps=step_ps,
                candidates_K=candidates, target_K=float(target))


def _ramp_problem(protocol: Protocol | None) -> str | None:
    """Why a goal cannot be pursued on the protocol's ramp, else None: it fits sigma of
    runs each held at one temperature, and lengthens them. A thermostat ramp's runs get
    their length and a failure check only (no D nor sigma: they planned, ran, and never
    fitted); a pressure ramp's sigma is of no one pressure, and a longer run ramps at
    another rate (as a stopping rule on a ramp,
    :func:`ionmd.protocols.stopping.check_stopping`)."""
    if protocol is None:
        return None
    if protocol.temperature_end is not None:
        return (f"a goal fits sigma of runs held at one temperature each, but the protocol's "
                f"temperature_end = {protocol.temperature_end:g} ramps every run's thermostat "
                f"to {protocol.temperature_end:g} K (a ramp's runs get their length and a "
                f"failure check only: no D nor sigma to fit): "
                f"{_without(protocol, 'temperature_end')}")
    if protocol.pressure_end_bar is not None:
        return (f"a goal lengthens runs and fits their sigma, but the protocol's "
                f"pressure_end_bar = {protocol.pressure_end_bar:g} ramps every run's pressure "
                f"(its sigma is of no one pressure, and a longer run would ramp at another "
                f"rate): {_without(protocol, 'pressure_end_bar')}")
    return None


def _without(protocol: Protocol, ramp: str) -> str:
    """How to go without the ramp ``ramp``: drop it from [protocol], or, where it is the
    preset's own (stability's temperature_end, pressure-ramp's pressure_end_bar: not in
    [protocol] to drop), set it to "none" there."""
    preset = PRESETS.get(protocol.name)
    if preset is not None and getattr(preset, ramp) == getattr(protocol, ramp):
        return (f"the preset {protocol.name!r} ramps by its own {ramp}: set {ramp} = \"none\" "
                f"in [protocol], or drop the goal")
    return f"drop {ramp} from [protocol] or the goal"


def _target_text(table: dict) -> str:
    """The goal's temperature as its messages name it: ``"600 K"`` for ``target_K = 600``
    (the factor is of sigma there, whatever the key's name says), ``"300 K"`` without it,
    ``"target_K"`` where it is no temperature (said apart)."""
    target = table.get("target_K", 300.0)
    if isinstance(target, bool) or not isinstance(target, (int, float)) or range_problem(
            "goal.target_K", target) or not target > 0:
        return "target_K"
    return f"{target:g} K"


def _new_run_temperatures(src: Source, errors: Problems, protocol: Protocol, table: dict,
                          step_ps: float) -> tuple[float, ...] | None:
    """Where the goal's new runs may start; None (said in ``errors``) where the protocol
    does not allow its rounds: a new run LAMMPS can count, >= 2 temperatures to fit,
    single runs."""
    longest_discard = max(protocol.discard_ps, protocol.long_discard_ps or 0.0)
    too_long = steps_problem("a new run (discard_ps + goal.step)", longest_discard + step_ps,
                             protocol.timestep_fs)
    if too_long:    # a new run is discard + step long: one LAMMPS would refuse in a round
        errors.add(("goal", "step"), too_long)
        return None
    temps = sorted(protocol.temperatures)
    if "temperatures" in table:
        try:
            candidates = parse_temperatures(str(table["temperatures"]).strip("[]"))
        except IonmdError as exc:
            errors.add(("goal", "temperatures"), f"goal.temperatures: {exc}")
            return None
        why = range_problem("temperatures", candidates)
        if why:     # where new runs may start: the protocol's temperatures' range
            errors.add(("goal", "temperatures"), f"goal.{why}")
            return None
    else:                       # every 50 K inside the campaign's range
        candidates = tuple(float(t) for t in np.arange(temps[0] + 50.0, temps[-1], 50.0))
    if len(set(temps)) < 2:
        errors.add(("temperatures",) if "temperatures" in src.data else ("protocol",),
                   f"a goal needs runs at >= 2 temperatures (an Arrhenius fit extrapolates "
                   f"to {_target_text(table)})")
        return None
    if protocol.replicas != 1:
        errors.add(("replicas",) if "replicas" in src.data else ("goal",),
                   "a goal extends single runs: use replicas = 1 (the budget buys longer runs "
                   "instead of replicas)")
        return None
    return tuple(candidates)
