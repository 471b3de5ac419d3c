"""Runs that go on until their answer is good enough: a protocol's stopping rule
(``until``, see :mod:`ionmd.analysis.convergence`) applied between pieces of a run.

A run with a rule runs to a *target step*, the next multiple of ``check_every_ps`` (past
the discard), as an ordinary piece (``run TARGET upto``); LAMMPS writes a restart file
there, since targets are multiples of ``restart_every`` (the last piece, ending at the
run's maximum, may stop between them: the template's ``restart.end`` then holds its end,
if that is a frame, for a run extended later). When the piece reached its
target, :func:`after_segment` analyses the run as far as it got and records the check in
``status.json``::

    "stopping": {"until": ..., "check_every_ps": ..., "max_time_ps": ..., "fit_start_ps": ...}
    "checks": [{"step", "time_ps", "values": {...}, "met": bool}, ...]
    "target_step": the end of the next piece
    "stop_reason": converged | max_time | extended | failed   (once the run ended)
    "D_ci95_at_stop": {species: [lo, hi]}          (converged: the interval to report)

then either ends the run (``completed`` with ``converged`` or ``max_time``; ``failed``
when the post-mortem finds the framework melted or the temperature running away) or sets
the next target and leaves the run ``pending``: :func:`ionmd.protocols.execute.execute`
goes on with the next piece. Everything needed to continue is on disk, so a killed run
resumes the same loop (a check interrupted before it was recorded is simply done again:
checks are deterministic on the same frames), from any runner or SLURM task.

A run given a longer length after it ended (``RunDir.set_length``: a campaign goal's
extension, ``extended_from_step`` in its status) runs to that length and is checked there
once; it ends as ``extended`` whether the rule held or not: the extension chose its
length, not the rule, so it reports the ordinary interval (before, one the rule had
stopped at 2.5 ps and a goal took to 14.5 ps ended ``converged``, its interval at 99 %).

A run that stopped because its rule held reports as D's 95 % interval its 99 % one
(``D_ci95_at_stop``; :func:`ionmd.analysis.convergence.interval_at_stop`): the stop chose
a moment when the 95 % interval was narrow, partly by chance, and that one covered the true
D in only 89-93 % of such runs with 8 ions (docs/convergence.md). A run stopped at
``max_time`` reports the ordinary interval.
"""

from __future__ import annotations

import math

from ionmd.errors import AnalysisError, IonmdError
from ionmd.protocols.presets import Protocol


def check_steps(p: Protocol) -> int:
    return int(round(p.check_every_ps * 1000.0 / p.timestep_fs))


def check_stopping(p: Protocol) -> None:
    """Refuse a stopping rule that cannot work (called by ``check_protocol``).

    Raises
    ------
    IonmdError
        Naming the setting and what to change.
    """
    from ionmd.analysis.convergence import parse_rule

    if not p.until:
        return
    parse_rule(p.until)
    if p.family != "md":
        raise IonmdError(f"a stopping rule (until={p.until!r}) needs an MD protocol; "
                         f"{p.name} is an {p.family} protocol")
    if p.temperature_end is not None or p.pressure_end_bar is not None:
        raise IonmdError("a stopping rule cannot end a ramp early (the ramp's rate depends on "
                         "its length): drop temperature_end/pressure_end_bar or the rule")
    if not (p.check_every_ps > 0 and math.isfinite(p.check_every_ps)):
        raise IonmdError(f"check_every_ps must be > 0 (got {p.check_every_ps})")
    if p.fit_start_ps < 0:
        raise IonmdError(f"fit_start_ps must be >= 0 (got {p.fit_start_ps})")
    from ionmd.protocols.setting_ranges import steps_problem

    too_long = steps_problem("check_every_ps", p.check_every_ps, p.timestep_fs)
    if too_long:
        raise IonmdError(too_long)
    steps = check_steps(p)
    if abs(steps * p.timestep_fs / 1000.0 - p.check_every_ps) > 1e-9 * p.check_every_ps or \
            steps % p.restart_every or steps % p.dump_every:
        raise IonmdError(
            f"check every {p.check_every_ps:g} ps = {steps * p.timestep_fs / 1000.0:g} ps of "
            f"{p.timestep_fs:g} fs steps must be a whole number of steps and a multiple of "
            f"restart_every ({p.restart_every}) and dump_every ({p.dump_every}), so that each "
            f"piece ends on a restart file and a frame; e.g. --set restart_every="
            f"{math.gcd(max(steps, 1), p.restart_every)} or a check interval of "
            f"{p.restart_every * p.timestep_fs / 1000.0:g} ps")


def first_target(p: Protocol, temperature: float, max_steps: int | None = None,
                 discard_ps: float | None = None) -> int:
    """The end of a rule run's first piece: the first check step past the discard
    (``discard_ps``, default the protocol's; a run's own is
    :func:`ionmd.protocols.run_json_edits.effective_discard_ps`), or the whole run
    (``max_steps``, default the protocol's) when that comes first."""
    every = check_steps(p)
    if discard_ps is None:
        discard_ps = p.schedule(temperature)[1]
    discard_steps = discard_ps * 1000.0 / p.timestep_fs
    first = (int(discard_steps // every) + 1) * every
    return min(first, p.steps(temperature) if max_steps is None else max_steps)


def run_first_target(rd, max_steps: int | None = None) -> int:
    """:func:`first_target` of the run ``rd`` (to ``max_steps``, default its planned
    length), past the discard its analysis will use: ``run.json``'s where a user edited it,
    so that the rule checks first where the analysis has frames past the discard."""
    from ionmd.protocols.run_json_edits import effective_discard_ps

    return first_target(rd.protocol, rd.temperature,
                        rd.planned_steps if max_steps is None else max_steps,
                        effective_discard_ps(rd))


def first_check_retarget(rd) -> dict:
    """``{"target_step": ...}`` for a rule run not checked yet whose first target no longer
    follows its discard (``run.json``'s discard edited since the target was set), where the
    new one is still ahead of the step the run reached; {} otherwise. Written at the
    launch of a piece, before its input (``run TARGET upto``) is."""
    status = rd.status
    if not rd.protocol.until or status.get("checks"):
        return {}
    target = run_first_target(rd)
    if target == status.get("target_step") or target <= int(status.get("step") or 0):
        return {}
    return {"target_step": target}


def stopping_record(p: Protocol, max_steps: int) -> dict:
    """The ``stopping`` entry of ``status.json``: the rule as the run applies it."""
    return {"until": p.until, "check_every_ps": p.check_every_ps,
            "max_time_ps": max_steps * p.timestep_fs / 1000.0, "fit_start_ps": p.fit_start_ps}


def after_segment(rd, step: int, common: dict) -> dict:
    """Check the rule on a run whose piece reached its target ``step``; record the check
    and end the run or set its next target (see the module docstring). Returns the
    status written."""
    from ionmd.analysis.convergence import check_run, parse_rule, rule_holds, unknown_values

    p = rd.protocol
    rule = parse_rule(p.until)
    try:
        values = check_run(rd.path, fit_start_ps=p.fit_start_ps)
    except AnalysisError as exc:     # e.g. unreadable frames: not met, the run goes on
        values = unknown_values(note=str(exc))
    met = values.get("failure") is None and rule_holds(rule, values)
    check = {"step": step, "time_ps": step * p.timestep_fs / 1000.0, "values": values,
             "met": met}
    checks = [c for c in rd.status.get("checks", []) if c["step"] != step] + [check]
    # an extended run's stop is its extension's (module docstring): the rule, held or not,
    # stops nothing and selects no interval
    extended = rd.status.get("extended_from_step") is not None
    # an extension an ionmd before extended_from_step began (a run resumed across the
    # upgrade): a check before this one that met the rule stopped the run there, so the
    # run going on past it was extended (it ended 'converged' at 99 % again)
    earlier_stop = max((c["step"] for c in rd.status.get("checks", [])
                        if c.get("met") and c["step"] < step), default=None)
    if not extended and earlier_stop is not None:
        extended, common = True, dict(common, extended_from_step=int(earlier_stop))
    stops = met and not extended
    # None unless the rule stopped the run here (drops one left by an earlier stop of an
    # extended run)
    at_stop = ({sp: v["D_ci95_at_stop"] for sp, v in values.get("species", {}).items()}
               if stops else None)
    fields = dict(common, checks=checks, stopping=stopping_record(p, rd.planned_steps),
                  D_ci95_at_stop=at_stop)
    failure = values.get("failure")
    if failure is not None:
        # a rule run has no ramp (refused): its target is the run's temperature
        return rd.set_status("failed", resumable=False, stop_reason="failed",
                             failure_mode=failure["mode"], failed_step=failure["step"],
                             failed_temperature_K=rd.temperature,
                             reason=f"post-mortem at the check of step {step}: "
                                    f"{failure['mode']} at step {failure['step']}: "
                                    f"{failure['detail']}", **fields)
    reason, target = decide(stops, step, rd.planned_steps, check_steps(p))
    if reason is not None:
        reason = "extended" if extended else reason
        return rd.set_status("completed", resumable=False, stop_reason=reason, target_step=step,
                             **fields)
    return rd.set_status("pending", resumable=True, target_step=target, **fields)


def decide(met: bool, step: int, max_steps: int, every: int) -> tuple[str | None, int]:
    """After the check at ``step``: ``("converged", step)`` when the rule held,
    ``("max_time", step)`` at the maximum, else ``(None, next target)``."""
    if met:
        return "converged", step
    if step >= max_steps:
        return "max_time", step
    return None, min(step + every, max_steps)


def describe_checks(status: dict) -> str | None:
    """One line on a rule run: its last check and why it stopped (None without a rule)."""
    stopping = status.get("stopping")
    if not stopping:
        return None
    checks = status.get("checks", [])
    head = f"until {stopping['until']}"
    if not checks:
        return f"{head}: no check yet"
    last = checks[-1]
    shown = ", ".join(f"{k}={_fmt(last['values'].get(k))}"
                      for k in _rule_quantities(stopping["until"]))
    why = status.get("stop_reason") or f"next check at step {status.get('target_step')}"
    at_stop = status.get("D_ci95_at_stop")
    if at_stop:
        why += " (D's interval for a stop by the rule: " + ", ".join(
            f"{sp} {_fmt(lo)}-{_fmt(hi)} cm^2/s" for sp, (lo, hi) in at_stop.items()) + ")"
    return f"{head}: {len(checks)} check(s), last at {last['time_ps']:g} ps: {shown}; {why}"


def _rule_quantities(until: str) -> list[str]:
    from ionmd.analysis.convergence import parse_rule

    return list(dict.fromkeys(c.quantity for c in parse_rule(until)))


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3g}"
