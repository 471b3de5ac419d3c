"""A campaign with a goal: spend a budget on sigma(300 K), round after round.

Each round looks at one structure x model series as its run directories stand: the
Nernst-Einstein sigma T and its 95 % interval of every completed run (``collect``'s cached
analysis, read as ``collect`` reads it: :func:`series_value`), the cost per ps of each from
its own logs at the campaign's ranks x threads, and the budget spent so far (all the
compute the runs used: every loop, the relaxation's too, and every killed piece:
:func:`measure`). :func:`ionmd.sweep.allocate.next_step` then picks the option with the largest
expected narrowing of the sigma(300 K) interval per unit cost: extend a run (its length
grows by ``goal.step``, it resumes from its restart file) or start a run at a new
temperature of ``goal.temperatures``; a temperature whose runs' D reach zero within their
scatter (not resolved: :mod:`ionmd.analysis.aggregate`) is extended too, not left out; with
too few temperatures resolved for a fit, a new run at the coldest candidate warmer than
those without a point comes first. The series stops when sigma(300 K) is known within
``goal.sigma_300K_factor`` either way by the interval ``collect`` reports
(:func:`ionmd.sweep.allocate.reported_factor`: ``goal_met``), when the budget is spent
(``budget_spent``), or when nothing is left to try (``nothing_left``); a round without a
fit and nothing to do says ``no_fit``, and the next round looks at the runs again.

The state is on disk: the runs themselves, and ``<output>/goal.json`` (the temperatures a
goal added, each round's decision and why a series stopped), so ``ionmd sweep submit``
continues where the last one ended, locally (it runs every round until the series stop)
or on SLURM (each call submits the next round once the last one finished).
"""

from __future__ import annotations

import json
import math
import time
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from ionmd import strict_json
from ionmd.errors import AnalysisError
from ionmd.protocols.checks import temperature_folder
from ionmd.sweep.campaign import Campaign

GOAL_FILE = "goal.json"
FINISHED = ("completed", "failed-physical", "failed-error")


def goal_path(campaign: Campaign) -> Path:
    return campaign.output / GOAL_FILE


GOAL_STATE_VERSION = 2
"""What ``goal.json`` holds (its ``version``): 1 (no key), the releases before it: a
stopped series without its ``spent`` (the first ones), a ``factor`` or round ``spent``
null or absent, ``Infinity`` where no fit had a factor; 2 adds the key. Every one is read
(:func:`read_goal_state`); a newer one is refused, naming the ionmd that wrote it."""


def read_goal_state(campaign: Campaign) -> dict:
    """``<output>/goal.json``, refused where it holds the rounds of another campaign file
    of this output (:func:`check_goal_owner`). Every goal.json an ionmd release wrote is
    read (:data:`GOAL_STATE_VERSION`): keys it lacks, or holds as null, take what they
    meant then (:func:`_series_as_read`).

    Raises
    ------
    IonmdError
        A file that is no goal.json (not JSON, or not the shape any release wrote) or one
        of a newer ionmd: naming the file, what is wrong and how to go on.
    """
    f = goal_path(campaign)
    if not f.is_file():
        return {"series": {}}
    try:
        state = json.loads(f.read_text())
    except (OSError, ValueError) as exc:
        raise _unreadable(f, f"it is no JSON ({exc})") from exc
    if not isinstance(state, dict):
        raise _unreadable(f, f"it holds a {type(state).__name__}, not an object")
    version = state.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _unreadable(f, f"its version is {version!r}, not a whole number >= 1")
    if version > GOAL_STATE_VERSION:
        from ionmd.errors import IonmdError

        raise IonmdError(f"{f} was written by a newer ionmd (goal.json version {version}; "
                         f"this one reads up to {GOAL_STATE_VERSION}): update ionmd to go on "
                         f"with its goal")
    series = state.get("series")
    if series is None:
        series = {}
    if not isinstance(series, dict):
        raise _unreadable(f, f"its series is a {type(series).__name__}, not an object")
    state["series"] = {key: _series_as_read(f, key, value) for key, value in series.items()}
    check_goal_owner(campaign, state)
    return state


def _series_as_read(f: Path, key: str, series) -> dict:
    """One series of goal.json with every key its readers use, as an older release left it
    (:data:`GOAL_STATE_VERSION`): ``added_K`` and ``rounds`` empty where absent or null, a
    stopped series' ``spent`` its last round's (0 without one), a round's ``spent`` 0 where
    null, a ``factor`` None where null, absent or infinite (no fit)."""
    if not isinstance(series, dict):
        raise _unreadable(f, f"its series {key!r} is a {type(series).__name__}, not an object")
    out = dict(series)
    added = out.get("added_K") or []
    if not isinstance(added, list) or not all(_number(t) for t in added):
        raise _unreadable(f, f"series {key!r}: added_K is {added!r}, not a list of "
                             f"temperatures in K")
    rounds = out.get("rounds") or []
    if not isinstance(rounds, list) or not all(isinstance(r, dict) for r in rounds):
        raise _unreadable(f, f"series {key!r}: rounds is not a list of objects")
    rounds = [{**r, "spent": float(r["spent"]) if _number(r.get("spent")) else 0.0,
               "factor": _factor(r.get("factor"))} for r in rounds]
    out.update(added_K=[float(t) for t in added], rounds=rounds, factor=_factor(out.get("factor")))
    if out.get("stopped") is not None and not isinstance(out["stopped"], str):
        raise _unreadable(f, f"series {key!r}: stopped is {out['stopped']!r}, not a reason")
    if not _number(out.get("spent")):       # the first releases: stopped without it
        out["spent"] = rounds[-1]["spent"] if rounds else 0.0
    return out


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _factor(value) -> float | None:
    """A recorded factor: None where there was none (null, absent, or the first releases'
    Infinity: no fit yet), as the rounds write it now."""
    return float(value) if _number(value) and math.isfinite(value) else None


def _unreadable(f: Path, why: str):
    from ionmd.errors import IonmdError

    return IonmdError(f"{f} cannot be read as a goal's rounds: {why}. Restore it, or delete "
                      f"it to start the goal's rounds over (the runs stay; a temperature the "
                      f"goal added is then planned only if the campaign file lists it)")


def check_goal_owner(campaign: Campaign, state: dict) -> None:
    """goal.json is one per output folder, its series keyed by structure/model only: a
    second campaign file with this output and a goal would take the first one's added
    temperatures as its own runs (planned, submitted, collected), its budget spent and its
    stops. Refused while the file that wrote it (``campaign`` in goal.json) exists, is not
    this one and has this output; a goal.json of a renamed file, of a copied campaign
    folder, or written before it named its file is this campaign's.

    Raises
    ------
    IonmdError
        Naming both files and the fixes.
    """
    from ionmd.errors import IonmdError
    from ionmd.sweep.collect import other_campaign_of_output

    recorded = state.get("campaign") if isinstance(state, dict) else None
    other = other_campaign_of_output(campaign, Path(recorded) if isinstance(
        recorded, str) and recorded else None)
    if other is None:
        return
    name = campaign.path.name
    raise IonmdError(
        f"{goal_path(campaign)} holds the goal rounds of campaign {other}, another campaign "
        f"file with the same output ({campaign.output}); the goal of {campaign.path} would "
        f"take its added temperatures, budget spent and stops as its own. Give {name} an "
        f"output of its own (output = \"...\"), or remove or rename {other.name} where "
        f"{name} replaces it")


def write_goal_state(campaign: Campaign, state: dict) -> None:
    campaign.output.mkdir(parents=True, exist_ok=True)
    state["campaign"] = str(campaign.path.resolve())       # whose rounds (check_goal_owner)
    state["version"] = GOAL_STATE_VERSION
    tmp = goal_path(campaign).with_suffix(".tmp")
    tmp.write_text(strict_json.dumps(state, indent=1, what=str(goal_path(campaign))) + "\n")
    tmp.replace(goal_path(campaign))


def added_temperatures(campaign: Campaign, structure: str, model: str) -> tuple[float, ...]:
    """Temperatures the goal added to a series (``plan_campaign`` plans their runs too)."""
    series = read_goal_state(campaign)["series"].get(f"{structure}/{model}", {})
    return tuple(float(t) for t in series.get("added_K", []))


def cost_units(campaign: Campaign) -> float:
    """What one run occupies in the budget's unit."""
    r, unit = campaign.resources, campaign.goal.unit
    return {"GPU-h": float(r.gpus), "core-h": float(r.cores), "h": 1.0}[unit]


@dataclass
class SeriesRound:
    """What one round did for one series."""

    series: str
    state: str          # "waiting", "extended", "added", or why it stopped
    factor: float | None = None
    spent: float = 0.0
    detail: str = ""

    def line(self, budget: float, unit: str) -> str:
        f = f"sigma(300 K) within a factor {self.factor:.3g}" if self.factor else "no fit yet"
        return (f"{self.series}: {self.state}: {f}; spent {self.spent:.3g} of {budget:g} {unit}"
                + (f"; {self.detail}" if self.detail else ""))


def _series_runs(campaign: Campaign, structure: str, model: str):
    from ionmd.sweep.plan import plan_campaign

    return [r for r in plan_campaign(campaign) if r.structure == structure and r.model == model]


def series_point(res: dict):
    """What a run (its results with ``temperature_K``) gives the goal's fit: ``(value, 95 %
    interval (99 % for a run stopped by its D-interval rule), its quantile, its level)`` of its
    Nernst-Einstein sigma T, the quantity whose 300 K value the goal is on and that
    ``collect``'s sigma(300 K) is fitted from (every mobile species summed, the frozen
    framework or a second mobile ion included as they contribute), read as collect reads
    it; without charges (no sigma) the D of its one mobile species (sigma T is
    proportional to it), as collect's :class:`ionmd.analysis.aggregate.Point`. None: neither
    (several species and no charges)."""
    from ionmd.analysis.aggregate import series_points

    points = series_points([res])
    key = _series_key(points)
    return None if key is None else points[key][0]


def _series_key(points: dict) -> str | None:
    """Which of a run's series the goal fits (:func:`series_point`)."""
    if "sigma_T" in points:
        return "sigma_T"
    species = [k for k in points if k.startswith("D_")]
    return species[0] if len(species) == 1 else None


def series_quantity(res: dict) -> tuple[str, str]:
    """What :func:`series_point` gives of a run (its results with ``temperature_K``),
    named for messages, and its unit."""
    from ionmd.analysis.aggregate import series_points

    key = _series_key(series_points([res]))
    if key is None or key == "sigma_T":
        return "the Nernst-Einstein sigma T", "mS K/cm"
    return f"D of {key[2:]}", "cm^2/s"


def series_value(res: dict) -> tuple[float, tuple[float, float], float, float] | None:
    """:func:`series_point`'s ``(value, interval, quantile, level)``; None where it has none."""
    p = series_point(res)
    return None if p is None else (p.value, p.ci95, p.quantile, p.level)


_READS: ContextVar[dict | None] = ContextVar("goal_round_reads", default=None)
"""One round's reads of its runs (:func:`advance_series`): each run's class and cached
analysis, read once and shared by :func:`measure`, :func:`unmeasured` and
:func:`uncharged_note`. Before, each read them again: a no-fit round of 100 completed runs
made 400 ``classify`` and 300 ``cached_run_results`` calls (an analysis that fails is not
cached: it is redone on every read). None outside a round: read afresh."""


def _run_class(run) -> str:
    """``classify`` of ``run`` (its class as this round read it, :data:`_READS`)."""
    from ionmd.sweep.state import classify

    reads = _READS.get()
    if reads is None:
        return classify(run.rundir)
    key = ("class", str(run.path))
    if key not in reads:
        reads[key] = classify(run.rundir)
    return reads[key]


def _run_results(campaign: Campaign, run) -> dict:
    """``collect``'s cached analysis of ``run`` with its ``temperature_K`` (as this round
    read it, :data:`_READS`)."""
    from ionmd.sweep.collect import cached_run_results, charges_for

    reads = _READS.get()
    key = ("results", str(run.path))
    if reads is not None and key in reads:
        return reads[key]
    res = {**cached_run_results(run, campaign, charges_for(campaign, run.structure)),
           "temperature_K": run.temperature}
    if reads is not None:
        reads[key] = res
    return res


def measure(campaign: Campaign, runs) -> tuple[list, float]:
    """The allocator's view of a series' completed runs (:func:`series_value` of each),
    and the budget they spent: all the compute their LAMMPS used
    (:func:`ionmd.sweep.cost.used_core_seconds`: every finished loop, the relaxation's
    minimisation included, steps run again after a restart, pieces killed before their
    first restart file and those of a retried run) in the budget's unit at the
    campaign's ranks x threads; a piece killed inside its run at its run's MD cost per
    step (a run without a finished MD loop: the series' median; none at all: the
    piece's wall time so far). The allocator's cost per ps of a run is that of its MD
    loops (what extending it costs)."""
    from ionmd.sweep.allocate import TemperatureRun, cost_per_ps_from_logs
    from ionmd.sweep.cost import md_core_seconds_per_step, used_core_seconds

    units, dt_fs = cost_units(campaign), campaign.protocol.timestep_fs
    cores = campaign.resources.cores
    present = [run for run in runs if run.rundir.path.is_dir()]
    costs = {run.path: cost_per_ps_from_logs(run.path, timestep_fs=dt_fs, units=units,
                                             cores=cores)
             for run in present}
    known = sorted(c for c in costs.values() if c)
    typical = known[len(known) // 2] if known else None
    per_step = {run.path: md_core_seconds_per_step(run.path) for run in present}
    known_steps = sorted(c for c in per_step.values() if c)
    typical_step = known_steps[len(known_steps) // 2] if known_steps else None
    spent = sum(used_core_seconds(run.path, per_step[run.path] or typical_step)
                for run in present) * units / cores / 3600.0
    measured = []
    for run in present:
        if _run_class(run) != "completed":
            continue
        res = _run_results(campaign, run)
        point = series_point(res)
        cost = costs[run.path] or typical
        if point is None or not cost:
            continue
        quantity, unit = series_quantity(res)     # named in the allocator's messages
        # the level too: a rule-stopped run's 99 % quantile read at 95 % is another dof
        measured.append(TemperatureRun(temperature_K=run.temperature,
                                       time_ps=float(res.get("run_length_ps", 0.0)),
                                       D=point.value, D_ci95=point.ci95, cost_per_ps=cost,
                                       key=run, quantile=point.quantile, level=point.level,
                                       D_ci95_unwidened=point.ci95_unwidened,
                                       quantity=quantity, unit=unit, failed=_failed(res)))
    return measured, spent


def _failed(res: dict) -> str:
    """Why a run's post-mortem says it failed (melted, lost atoms, ...), "" where it did
    not: the allocator does not read a failed run's missing point as ions that barely move
    (:attr:`ionmd.sweep.allocate.TemperatureRun.failed`)."""
    failure = res.get("failure") or {}
    if not failure.get("failed"):
        return ""
    return f"failed: {', '.join(failure.get('modes', [])) or 'see its failure report'}"


def uncharged_note(campaign: Campaign, structure: str, runs) -> str | None:
    """Why completed runs gave the goal's fit nothing where the charges leave out a mobile
    species they measured D of (``[analysis] charges = {Li = 1}`` with ``mobile_species =
    ["Cl", "Li"]``): no run has a sigma, and several species' D make no sigma T either.
    None where that is not why."""
    from ionmd.sweep.collect import charges_for

    charges = charges_for(campaign, structure)
    missing, temps = set(), set()
    for run in runs:
        if not run.rundir.path.is_dir() or _run_class(run) != "completed":
            continue
        res = _run_results(campaign, run)
        absent = {d["species"] for d in res.get("diffusion", [])} - set(charges)
        if absent and "conductivity" not in res:
            missing |= absent
            temps.add(run.temperature)
    if not missing:
        return None
    names = ", ".join(sorted(missing))
    known = ", ".join(f"{k} = {v:g}" for k, v in charges.items())
    return (f"no Arrhenius fit: the runs completed at {', '.join(f'{t:g}' for t in sorted(temps))} "
            f"K have no sigma, since the charges of the mobile species {names} are missing: "
            f"add them to the campaign's [analysis] charges (charges = {{{known}"
            f"{', ' if known else ''}{sorted(missing)[0]} = ...}}) or use charges = \"auto\"")


def unmeasured(campaign: Campaign, runs, measured) -> list[str]:
    """``"<what> of run <folder> at <T> K: <why>"`` of each completed run that gave
    :func:`measure` nothing (a post-mortem failure, an analysis error: collect's
    :func:`ionmd.analysis.aggregate.why_left_out` words, or no cost known), which the
    allocator never sees and so cannot say is left out."""
    from ionmd.analysis.aggregate import why_left_out

    seen = {getattr(m.key, "path", m.key) for m in measured}     # keys: the campaign's runs
    out = []
    for run in runs:
        if (run.path in seen or not run.rundir.path.is_dir()
                or _run_class(run) != "completed"):
            continue
        res = _run_results(campaign, run)
        quantity, _ = series_quantity(res)
        why = (why_left_out(res, "sigma_T") if series_point(res) is None else
               "no cost per ps known (no finished LAMMPS run loop in its logs, nor in another run's)")
        out.append(f"{quantity} of run {run.path} at {run.temperature:g} K: {why}")
    return out


def _end_step(campaign: Campaign, start: int, ps: float) -> int:
    """The step a run at ``start`` reaches after ``ps`` more, rounded up so that it ends
    where the next extension can resume: a whole number of frame intervals
    (``dump_every``) where the template writes a restart file at the run's end (the
    presets; before, whole restart intervals: a 0.2 ps step of 1 fs with restart_every
    10000 cost 10 ps), else of restart intervals (and, with a stopping rule, check
    intervals), where LAMMPS's periodic restart files are written."""
    from ionmd.protocols.restarts import writes_end_restart
    from ionmd.protocols.stopping import check_steps

    p = campaign.protocol
    if writes_end_restart(p):
        grain = p.dump_every
    else:
        grain = p.restart_every if not p.until else math.lcm(p.restart_every, check_steps(p))
    # rounded to 1e-6 steps first: 0.3 ps of 1 fs is 300.00000000000006 steps, not 301
    end = start + round(ps * 1000.0 / p.timestep_fs, 6)
    return max(start // grain + 1, math.ceil(end / grain)) * grain


def advance_series(campaign: Campaign, structure: str, model: str) -> SeriesRound:
    """One round for one series (module docstring): decide, and extend or add a run (which
    ``submit`` then runs); nothing while a run of the series is still to finish. Each run
    is classified and its analysis read once in the round (:data:`_READS`)."""
    token = _READS.set({})
    try:
        return _advance_series(campaign, structure, model)
    finally:
        _READS.reset(token)


def _advance_series(campaign: Campaign, structure: str, model: str) -> SeriesRound:
    from ionmd.sweep.allocate import next_step
    from ionmd.sweep.state import release_claim

    goal, key = campaign.goal, f"{structure}/{model}"
    state = read_goal_state(campaign)
    series = state["series"].setdefault(key, {"added_K": [], "rounds": []})
    if series.get("stopped") == "no_fit":
        # not for good: the runs may give a fit now (a run.json edit analysed again, an
        # ionmd that combines or extends what an older one left out); before, the series
        # stayed stopped with its budget unspent until goal.json was edited by hand
        del series["stopped"]
    elif series.get("stopped"):     # as its last round left it: nothing to analyse again
        return SeriesRound(key, series["stopped"], series.get("factor"), series["spent"])
    runs = _series_runs(campaign, structure, model)
    open_runs = [r for r in runs if _run_class(r) not in FINISHED]
    measured, spent = measure(campaign, runs)
    if open_runs:
        return SeriesRound(key, "waiting", series.get("factor"), spent,
                           f"{len(open_runs)} run(s) to finish first")
    # a temperature with a run folder already (a failed run, one without a usable D) is
    # no new temperature: adding it again would reopen that run
    taken = {temperature_folder(r.temperature) for r in runs}
    try:
        decision = next_step(measured, step_ps=goal.step_ps, target_K=goal.target_K,
                             candidates_K=[t for t in goal.candidates_K
                                           if temperature_folder(t) not in taken],
                             discard_ps=lambda T: campaign.protocol.schedule(T)[1],
                             budget_left=max(goal.budget - spent, 0.0))
    except AnalysisError as exc:
        series.update(stopped="no_fit", spent=spent)
        write_goal_state(campaign, state)
        return SeriesRound(key, "no_fit", None, spent, uncharged_note(campaign, structure, runs)
                           or "; left out: ".join([str(exc), *unmeasured(campaign, runs, measured)]))
    # the goal is met by the interval collect reports (PDG-scaled where the points scatter
    # more than their intervals say), not by the model's that ranks the options
    # inf: too few resolved temperatures for collect's fit (runs not resolved extended first)
    factor = decision.reported_factor if math.isfinite(decision.reported_factor) else None
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "factor": factor, "spent": spent,
              "runs_factor": decision.factor if math.isfinite(decision.factor) else None,
              "choice": decision.choice.describe() if decision.choice else None,
              "left_out": [*decision.ignored_why, *unmeasured(campaign, runs, measured)],
              **({"not_resolved": decision.not_resolved} if decision.not_resolved else {})}
    # said every round: a run the fit leaves out (ions that did not diffuse, a failed
    # analysis) is never extended, and its temperature is no longer a candidate
    # a temperature whose runs reach zero within their scatter is extended, not left out
    left = "; ".join([*(f"left out: {why}" for why in record["left_out"]),
                      *decision.not_resolved])
    stopped = ("goal_met" if factor is not None and factor <= goal.sigma_factor else
               "budget_spent" if spent >= goal.budget * (1 - 1e-9) else
               "nothing_left" if decision.choice is None else None)
    series["factor"] = factor
    if stopped:
        series.update(stopped=stopped, spent=spent)
        series["rounds"].append({**record, "choice": None, "stopped": stopped})
        write_goal_state(campaign, state)
        return SeriesRound(key, stopped, factor, spent, left)
    choice = decision.choice
    if choice.action == "extend":
        rd = choice.key.rundir
        steps = _end_step(campaign, int(rd.status.get("step", 0)), choice.step_ps)
        rd.set_length(steps)
        release_claim(rd)
        what, detail = "extended", f"{rd.path.name} at {choice.temperature_K:g} K to {steps} steps"
    else:
        series["added_K"] = sorted(set(series["added_K"]) | {choice.temperature_K})
        write_goal_state(campaign, state)
        from ionmd.sweep.plan import plan_campaign

        (new,) = [r for r in plan_campaign(campaign, create=True) if r.structure == structure
                  and r.model == model and r.temperature == choice.temperature_K]
        rd = new.rundir
        # the run's own discard (run.json's: longer below long_below_K), then one step
        steps = _end_step(campaign, 0, campaign.protocol.schedule(choice.temperature_K)[1]
                          + choice.step_ps)
        rd.set_length(steps)
        what, detail = "added", f"a run at {choice.temperature_K:g} K of {steps} steps"
    series["rounds"].append({**record, "did": f"{what} {detail}"})
    write_goal_state(campaign, state)
    return SeriesRound(key, what, factor, spent,
                       f"{detail} ({choice.describe()})" + (f"; {left}" if left else ""))


def advance(campaign: Campaign) -> list[SeriesRound]:
    """One round for every series of the campaign."""
    return [advance_series(campaign, s.name, m.name) for s in campaign.structures
            for m in campaign.models]


HAND_OUT_AGAIN = 2
"""Times :func:`pursue` hands out again a run whose job left the queue without finishing
it (``submit --wait``). Once covers what passes (a node that never came up, a job
preempted before it started), twice one more; what ends a job before its run a third time
(a broken node or environment, scancel) will do so again: the goal stops waiting then,
naming the runs, instead of spending the queue on them. A run whose setup failed (its
worker's error before LAMMPS, a failed setup line of its job:
:func:`ionmd.sweep.submit.setup_failure`) is not handed out again at all: the goal says so
at once, with the reason."""


def pursue(campaign: Campaign, run_round, max_rounds: int = 1000):
    """Rounds until every series stopped (local executor: ``run_round`` runs what a round
    planned) or a round leaves only series waiting for runs elsewhere (SLURM: ``run_round``
    submits them, and the next ``submit`` goes on). A series waiting on runs that no job
    holds any more (a job that died before starting its run left it pending) has them
    handed out again by ``run_round`` (as ``submit`` hands them out), each up to
    :data:`HAND_OUT_AGAIN` times, a run whose setup failed not at all; then the last round
    yielded says which runs and why, and the rounds stop. Yields each round's results."""
    from ionmd.sweep.submit import setup_failure

    handed = {}                     # run folder -> times handed out again here
    for _ in range(max_rounds):
        rounds = advance(campaign)
        if any(r.state in ("extended", "added") for r in rounds):
            yield rounds
        else:
            stranded = _stranded_runs(campaign, rounds)
            failed = {key: {str(r.path): why for r, cls in runs
                            if (why := setup_failure(campaign, r, cls))}
                      for key, runs in stranded.items()}
            given_up = {key: [str(r.path) for r, _ in runs
                              if handed.get(str(r.path), 0) >= HAND_OUT_AGAIN]
                        for key, runs in stranded.items()}
            if any(failed.values()) or any(given_up.values()):
                yield [_given_up(r, given_up.get(r.series, []), failed.get(r.series, {}))
                       for r in rounds]
                return
            yield rounds
            if not stranded:
                return
            for p in (str(r.path) for runs in stranded.values() for r, _ in runs):
                handed[p] = handed.get(p, 0) + 1
        if not run_round():
            return


def _stranded_runs(campaign: Campaign, rounds: list[SeriesRound]) -> dict[str, list]:
    """Per waiting series, its runs that no job queues or runs and that did not end: left
    pending or interrupted by a job that left the queue (``submit`` hands them out
    again), each with its class. Empty where there are none or the queue cannot be
    read."""
    from ionmd.errors import IonmdError
    from ionmd.sweep.state import classify
    from ionmd.sweep.submit import scheduler_jobs

    waiting = {r.series for r in rounds if r.state == "waiting"}
    if not waiting:
        return {}
    try:
        jobs = scheduler_jobs(campaign)
    except IonmdError:
        return {}
    stranded = {}
    for s in campaign.structures:
        for m in campaign.models:
            key = f"{s.name}/{m.name}"
            classes = [(r, classify(r.rundir, jobs)) for r in _series_runs(
                campaign, s.name, m.name)] if key in waiting else []
            runs = [(r, cls) for r, cls in classes if cls in ("new", "pending", "interrupted")]
            if runs:
                stranded[key] = runs
    return stranded


def _given_up(r: SeriesRound, given_up: list[str], failed: dict[str, str]) -> SeriesRound:
    """``r`` saying which of its runs the goal stops waiting on: those whose setup failed
    (``failed``: run folder -> why), and those (``given_up``) handed out again
    :data:`HAND_OUT_AGAIN` times and still left unfinished by their jobs."""
    said = []
    if failed:
        said.append(f"{len(failed)} run(s) whose setup failed, which a second try meets "
                    f"again: " + "; ".join(f"{p}: {why}" for p, why in failed.items()))
    given_up = [p for p in given_up if p not in failed]
    if given_up:
        said.append(f"{len(given_up)} run(s) handed out again {HAND_OUT_AGAIN} times, each "
                    f"time left unfinished by a job that left the queue (a node or "
                    f"environment that fails, scancel): {', '.join(given_up)}")
    if not said:
        return r
    return SeriesRound(r.series, "waiting", r.factor, r.spent,
                       f"stopped waiting: {'; and '.join(said)}; `ionmd sweep status` says "
                       f"why; fix that and submit again")


def goal_summary(campaign: Campaign) -> list[str]:
    """One line per series from ``goal.json`` (what ``sweep status`` prints; nothing is
    analysed: the numbers are those of the last round)."""
    goal = campaign.goal
    head = (f"goal: sigma({goal.target_K:g} K) within a factor {goal.sigma_factor:g}, budget "
            f"{goal.budget:g} {goal.unit} per series, steps of {goal.step_ps:g} ps")
    lines = [head]
    state = read_goal_state(campaign)["series"]
    for s in campaign.structures:
        for m in campaign.models:
            series = state.get(f"{s.name}/{m.name}")
            if not series or not series.get("rounds"):     # no_fit: stopped before any
                why = f"{series['stopped']}, " if series and series.get("stopped") else ""
                lines.append(f"  {s.name}/{m.name}: {why}no round yet")
                continue
            last = series["rounds"][-1]
            factor = "none yet" if last.get("factor") is None else f"{last['factor']:.3g}"
            lines.append(f"  {s.name}/{m.name}: {series.get('stopped') or 'going on'}: factor "
                         f"{factor}, spent {last['spent']:.3g} {goal.unit} after "
                         f"{len(series['rounds'])} round(s)"
                         + (f"; last: {last['did']}" if last.get("did") else ""))
    return lines
