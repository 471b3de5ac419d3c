"""A campaign with a goal: spend a budget on sigma(300 K), round after round.

Each round looks at one structure x model series as its run directories stand: the
Nernst-Einstein sigma T and its 95 % interval of every run collect counts (completed, or
stopped by a physical check after a usable stretch:
:func:`ionmd.sweep.collect_cache.counts_for_points`; ``collect``'s cached analysis, read as
``collect`` reads it: :func:`series_value`, with its flags), the cost per ps of each from
its own logs at the campaign's ranks x threads, and the budget spent so far (all the
compute the runs used: every loop, the relaxation's too, and every killed piece:
:func:`measure`). :func:`ionmd.sweep.allocate.next_step` then picks the option with the largest
expected narrowing of the sigma(300 K) interval per unit cost: extend a run (its length
grows by ``goal.step``, it resumes from its restart file) or start a run at a new
temperature of ``goal.temperatures``; a temperature whose runs' D reach zero within their
scatter (not resolved: :mod:`ionmd.analysis.aggregate`) is extended too, not left out; with
too few temperatures resolved for a fit, a new run at the coldest candidate warmer than
those without a point comes first. The series stops when sigma(300 K) is known within
``goal.sigma_300K_factor`` either way by the interval ``collect`` reports, on every point
collect fits, none of them flagged not diffusive (too few hops, an MSD not linear, a fit
start not diffusive: such a point's run is extended first, :meth:`ionmd.sweep.allocate.
Verdict.meets`; ``goal_met``; at ``goal.target_K``
where set, the round then saying where collect's 300 K extrapolation is no result), when the
budget is spent
(``budget_spent``), or when nothing is left to try (``nothing_left``); a round without a
fit and nothing to do says ``no_fit``, and the next round looks at the runs again. The runs
a goal adds count against the campaign's ``max_runs``: where one more would pass it, no new
temperature is offered (extending goes on), and a series with nothing else to do stops as
``run_limit``, looked at again each round.

The state is on disk: the runs themselves, and ``<output>/goal.json`` (the temperatures a
goal added, each round's decision and why a series stopped), so ``ionmd sweep submit``
continues where the last one ended, locally (it runs every round until the series stop)
or on SLURM (each call submits the next round once the last one finished).
"""

from __future__ import annotations

import math
import time
from contextvars import ContextVar
from dataclasses import dataclass

from ionmd.errors import AnalysisError
from ionmd.protocols.checks import temperature_folder
from ionmd.sweep.campaign import Campaign, written_as

FINISHED = ("completed", "failed-physical", "failed-error")


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
    target_K: float = 300.0     # the goal's: its factor is of sigma there
    fit_problem: str | None = None   # a fit that is NOT A RESULT: why (no factor then)

    def line(self, budget: float, unit: str) -> str:
        # a fit that means nothing is said as such, not as 'no fit yet' (audit A18); its
        # reason once, where the detail does not give it already
        problem = (f"sigma({self.target_K:g} K) fitted, NOT A RESULT"
                   + ("" if f"NOT A RESULT: {self.fit_problem}" in self.detail
                      else f": {self.fit_problem}")) if self.fit_problem else "no fit yet"
        f = (f"sigma({self.target_K:g} K) within a factor {self.factor:.3g}" if self.factor
             else problem)
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
    from ionmd.sweep.allocate import SIGMA_T_UNIT

    if key is None or key == "sigma_T":
        return "the Nernst-Einstein sigma T", SIGMA_T_UNIT
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
    """The allocator's view of a series' runs that collect counts (:func:`_counted_results`;
    :func:`series_value` of each, with collect's flags and failure; a failed run without a
    point too, its D NaN: it bounds the new runs, :func:`ionmd.sweep.allocate_first.failed_below`),
    and the budget they spent: all the compute their LAMMPS used
    (:func:`ionmd.sweep.cost.used_core_seconds`: every finished loop, the relaxation's
    minimisation included, steps run again after a restart, pieces killed before their
    first restart file and those of a retried run) in the budget's unit at the
    campaign's ranks x threads; a piece killed inside its run at its run's MD cost per
    step (a run without a finished MD loop: the series' median; none at all: the
    piece's wall time so far). The allocator's cost per ps of a run is that of its MD
    loops (what extending it costs)."""
    from ionmd.sweep.allocate import TemperatureRun, cost_per_ps_from_logs
    from ionmd.sweep.collect_cache import failure_text
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
        res = _counted_results(campaign, run)
        if res is None:
            continue
        point = series_point(res)
        cost = costs[run.path] or typical
        failed = failure_text(res)
        if point is None and failed:
            # a failed run without a point still bounds the candidates (nothing at or above
            # a melt: allocate_first.failed_below) and, where every run failed, sends the
            # next one colder; before, it never reached the allocator. No usable D (NaN:
            # left out of every fit, said as failed), nor a cost where none is known
            quantity, unit = series_quantity(res)
            measured.append(TemperatureRun(temperature_K=run.temperature, time_ps=float(
                res.get("run_length_ps", 0.0) or 0.0), D=float("nan"),
                D_ci95=(float("nan"), float("nan")), cost_per_ps=cost or float("nan"),
                key=run, quantity=quantity, unit=unit, failed=failed))
            continue
        if point is None or not cost:
            continue
        quantity, unit = series_quantity(res)     # named in the allocator's messages
        # the level too: a rule-stopped run's 99 % quantile read at 95 % is another dof
        measured.append(TemperatureRun(temperature_K=run.temperature,
                                       time_ps=float(res.get("run_length_ps", 0.0)),
                                       D=point.value, D_ci95=point.ci95, cost_per_ps=cost,
                                       key=run, quantile=point.quantile, level=point.level,
                                       D_ci95_unwidened=point.ci95_unwidened,
                                       quantity=quantity, unit=unit,
                                       failed=failed,
                                       # collect's not-diffusive flags of the point: those
                                       # of the species that carry sigma, not a frozen
                                       # framework's (aggregate.carriers_flags), so a fit
                                       # collect marks NOT A RESULT for them never meets
                                       # the goal (reported_state)
                                       flags=list(point.flags)))
    return measured, spent


def _counted_results(campaign: Campaign, run) -> dict | None:
    """``run``'s results (:func:`_run_results`) where they enter collect's points
    (:func:`ionmd.sweep.collect_cache.counts_for_points`: a completed run, or one a
    physical check stopped after a usable stretch, which collect fits and marks failed);
    None for a run without a folder, still going on or stopped on an error. Before, the
    goal took completed runs only, and could be met (or not) on other points than the
    ones collect prints."""
    from ionmd.sweep.collect_cache import ANALYSED, counts_for_points

    if not run.rundir.path.is_dir() or _run_class(run) not in ANALYSED:
        return None         # its class first: an open run's results are not read
    res = _run_results(campaign, run)
    return res if counts_for_points(res) else None


def uncharged_note(campaign: Campaign, structure: str, runs) -> str | None:
    """Why ended runs (:func:`_counted_results`) gave the goal's fit nothing where the charges leave out a mobile
    species they measured D of (``[analysis] charges = {Li = 1}`` with ``mobile_species =
    ["Cl", "Li"]``): no run has a sigma, and several species' D make no sigma T either.
    None where that is not why."""
    from ionmd.sweep.collect import charges_for

    charges = charges_for(campaign, structure)
    missing, temps = set(), set()
    for run in runs:
        res = _counted_results(campaign, run)
        if res is None:
            continue
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
    """``"<what> of run <folder> at <T> K: <why>"`` of each run collect counts that gave
    :func:`measure` nothing (a post-mortem failure, an analysis error: collect's
    :func:`ionmd.analysis.aggregate.why_left_out` words, or no cost known), which the
    allocator never sees and so cannot say is left out."""
    from ionmd.analysis.aggregate import why_left_out

    seen = {getattr(m.key, "path", m.key) for m in measured}     # keys: the campaign's runs
    out = []
    for run in runs:
        res = None if run.path in seen else _counted_results(campaign, run)
        if res is None:
            continue
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
    from ionmd.sweep.allocate import extrapolation_problem, next_step, reported_verdict
    from ionmd.sweep.state import release_claim

    goal, key = campaign.goal, f"{structure}/{model}"
    state = read_goal_state(campaign)
    series = state["series"].setdefault(key, {"added_K": [], "rounds": []})
    if series.get("stopped") in ("no_fit", RUN_LIMIT) or met_by_older_checks(series):
        # not for good: the runs may give a fit now (a run.json edit analysed again, an
        # ionmd that combines or extends what an older one left out); before, the series
        # stayed stopped with its budget unspent until goal.json was edited by hand. A goal
        # met by an older ionmd's checks is looked at again with collect's (MET_CHECKS), a
        # series stopped at the campaign's max_runs once the file may have raised it
        del series["stopped"]
    elif series.get("stopped"):     # as its last round left it: nothing to analyse again
        return SeriesRound(key, series["stopped"], series.get("factor"), series["spent"],
                           target_K=goal.target_K, fit_problem=_last_fit_problem(series))
    runs = _series_runs(campaign, structure, model)
    open_runs = [r for r in runs if _run_class(r) not in FINISHED]
    measured, spent = measure(campaign, runs)
    if open_runs:
        return SeriesRound(key, "waiting", series.get("factor"), spent,
                           _waiting_for(open_runs), goal.target_K,
                           _last_fit_problem(series))
    # a temperature with a run folder already (a failed run, one without a usable D) is
    # no new temperature: adding it again would reopen that run
    taken = {temperature_folder(r.temperature) for r in runs}
    candidates = [t for t in goal.candidates_K if temperature_folder(t) not in taken]
    # the runs a goal adds count against the campaign's bound, as its file's own do
    limit = _run_limit(campaign, state) if candidates else None
    try:
        decision = next_step(measured, step_ps=goal.step_ps, target_K=goal.target_K,
                             candidates_K=[] if limit else candidates,
                             discard_ps=lambda T: campaign.protocol.schedule(T)[1],
                             budget_left=max(goal.budget - spent, 0.0))
    except AnalysisError as exc:       # nothing to plan by; collect may still have a fit
        decision, no_plan = None, exc
    # the goal is met by the interval collect reports (PDG-scaled where the points scatter
    # more than their intervals say) on every point collect fits (a failed run's stretch
    # too), not by the model's that ranks the options and may leave failed points out
    # inf: too few resolved temperatures for collect's fit (runs not resolved extended first)
    # a fit that means nothing (Ea <= 0, every point not diffusive, ...) has no factor: a
    # narrow interval over noise never meets the goal, and its reason is said instead
    # a point flagged not diffusive (fit_start_not_diffusive, too_few_hops, not_linear)
    # meets no goal either: its value is not yet a D (an audit's 900 K point was 2.8x too
    # high); its run is extended first (allocate._flagged_first)
    if decision:
        reported, problem, flagged = (decision.reported_factor, decision.fit_problem,
                                      decision.flagged_points)
    else:
        verdict = reported_verdict(measured, goal.target_K)
        reported, problem, flagged = ((verdict.factor, verdict.fit_problem, list(verdict.flagged))
                                      if verdict else (math.inf, None, []))
    factor = reported if math.isfinite(reported) and not problem else None
    met = factor is not None and factor <= goal.sigma_factor and not flagged
    if decision is None and not met:
        # with max_runs withholding every new temperature, that is why there is nothing to
        # plan by (one usable temperature: a new one would give the fit), not the fit's
        # words alone: said, and looked at again once the bound is raised
        # (not where the budget is spent: raising max_runs would buy nothing)
        if spent >= goal.budget * (1 - 1e-9) or _budget_over(series, goal, None, spent):
            limit = None
        stop = RUN_LIMIT if limit else "no_fit"
        series.update(stopped=stop, spent=spent)
        last = series["rounds"][-1] if series["rounds"] else {}
        if limit and (last.get("run_limit"), last.get("spent")) != (limit, spent):
            # one round per change: a series held at the bound is looked at each submit,
            # and a round appended each time would bury the one before it (its
            # last_step_of_budget, which _budget_over reads)
            series["rounds"].append({"time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                     "factor": None, "spent": spent, "choice": None,
                                     "stopped": stop, "run_limit": limit})
        write_goal_state(campaign, state)
        why = uncharged_note(campaign, structure, runs) or "; left out: ".join(
            [str(no_plan), *unmeasured(campaign, runs, measured)])
        return SeriesRound(key, stop, None, spent, "; ".join([limit, why]) if limit else why,
                           goal.target_K, problem)
    # the goal's quantity is sigma(target_K): the span is checked there (reported_state);
    # where that is not 300 K, collect's 300 K extrapolation may still be no result: said
    beyond = (extrapolation_problem(measured) if factor is not None
              and goal.target_K != 300.0 else None)
    ignored_why = (decision.ignored_why if decision else
                   [w for w in (m.why_left_out() for m in measured) if w])
    not_resolved = decision.not_resolved if decision else []
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "factor": factor, "spent": spent,
              "runs_factor": (decision.factor if decision and math.isfinite(decision.factor)
                              else None),
              "choice": (decision.choice.describe(problem) if decision and decision.choice
                         else None),
              "left_out": [*ignored_why, *unmeasured(campaign, runs, measured)],
              **({"not_resolved": not_resolved} if not_resolved else {}),
              **({"fit_problem": problem} if problem else {}),
              **({"flagged_points": flagged} if flagged else {}),
              **({"not_a_result_300K": beyond} if beyond else {}),
              **({"run_limit": limit} if limit else {})}
    # said every round: a run the fit leaves out (ions that did not diffuse, a failed
    # analysis) is never extended, and its temperature is no longer a candidate
    # a temperature whose runs reach zero within their scatter is extended, not left out
    left = "; ".join([*([f"NOT A RESULT: {problem}"] if problem else []),
                      *([f"sigma({goal.target_K:g} K) known within a factor {factor:.3g}; "
                         f"the 300 K extrapolation is not a result: {beyond}"] if beyond else []),
                      *(f"left out: {why}" for why in record["left_out"]),
                      *not_resolved,
                      *([f"not met on points flagged not diffusive, their values not yet a "
                         f"D: {'; '.join(flagged)}"] if flagged else []),
                      *([limit] if limit else [])])
    choice = decision.choice if decision else None
    budget_over = None if met else _budget_over(series, goal, choice, spent)
    stopped = ("goal_met" if met else
               "budget_spent" if spent >= goal.budget * (1 - 1e-9) or budget_over else
               # a new run would pass max_runs: looked at again (the bound raised)
               RUN_LIMIT if choice is None and limit else
               # nothing to try and a fit that means nothing: no_fit (looked at again)
               "no_fit" if choice is None and problem else
               "nothing_left" if choice is None else None)
    # kept current each round: it was the first round's (read back from it) until a stop
    series.update(factor=factor, spent=spent)
    if stopped:
        left = "; ".join(x for x in (budget_over, left) if x)
        series.update(stopped=stopped)
        series["rounds"].append({**record, "choice": None, "stopped": stopped,
                                 **({"met_checks": MET_CHECKS} if stopped == "goal_met" else {}),
                                 **({"budget_over": budget_over} if budget_over else {})})
        write_goal_state(campaign, state)
        return SeriesRound(key, stopped, factor, spent, left, goal.target_K, problem)
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
    # a step the budget's rest shortened is the last one: the next round stops
    # (_budget_over), whatever its shorter piece left unspent
    last = ({LAST_STEP_KEY: goal.budget}
            if choice.cost >= max(goal.budget - spent, 0.0) * (1 - 1e-6) else {})
    series["rounds"].append({**record, "did": f"{what} {detail}", **last})
    write_goal_state(campaign, state)
    return SeriesRound(key, what, factor, spent,
                       f"{detail} ({choice.describe(problem)})" + (f"; {left}" if left else ""),
                       goal.target_K, problem)


def _last_fit_problem(series: dict) -> str | None:
    """Why the series' last round's fit was NOT A RESULT (its ``fit_problem``), if it was."""
    return (series.get("rounds") or [{}])[-1].get("fit_problem")


LAST_STEP_KEY = "last_step_of_budget"
"""A goal.json round whose step was shortened to what the budget had left: the budget it
was shortened to. The series' next round stops as ``budget_spent`` (:func:`_budget_over`)."""

MIN_LAST_STEP = 0.1
"""The shortest step, as a fraction of ``goal.step``, that the budget's rest is spent on:
less stops the series as ``budget_spent`` (:func:`_budget_over`). A shorter round narrows
sigma little and still costs a launch (a SLURM job) and an analysis: an audit's goal of
0.008 core-h in 1 ps steps ran a last round of 0.015 ps (20 MD steps, ~5 s of launch and
analysis for 0.06 s of MD)."""


def _budget_over(series: dict, goal, choice, spent: float) -> str | None:
    """Why the series stops as ``budget_spent`` with some budget left; None where it goes
    on. The budget's last step is shortened to what it has left, once
    (docs/sweeps.md): a shortened piece costs less than the cost per ps it was priced by
    (the per-ps cost is that of long loops), which left budget each time, and the audit's
    series ran 0.48, 0.14, then 0.015 ps steps. So the series stops once a shortened
    step has run (its round records :data:`LAST_STEP_KEY`; a budget raised since goes
    on), or where what is left would buy less than :data:`MIN_LAST_STEP` of a step."""
    rounds = series.get("rounds") or []
    shortened_to = rounds[-1].get(LAST_STEP_KEY) if rounds else None
    left = goal.budget - spent
    if isinstance(shortened_to, (int, float)) and goal.budget <= shortened_to * (1 + 1e-9):
        return (f"the step shortened to the budget's rest has run ({left:.3g} {goal.unit} "
                f"left, which the shorter piece did not use)")
    if (choice is not None and choice.cost >= left * (1 - 1e-6)
            and choice.step_ps < MIN_LAST_STEP * goal.step_ps):
        return (f"the budget's rest ({left:.3g} {goal.unit}) buys {choice.step_ps:.3g} ps, "
                f"less than {MIN_LAST_STEP:g} of a {goal.step_ps:g} ps step: not worth a round")
    return None


RUN_LIMIT = "run_limit"
"""Where a series stops when its next run would pass the campaign's ``max_runs``, nothing
else left to try (looked at again each round: a raised bound lets it go on)."""


def _run_limit(campaign: Campaign, state: dict) -> str | None:
    """Why the goal may add no run now: the run folders the campaign plans (its goal's
    added ones counted, :func:`ionmd.sweep.goal_state.planned_run_count`) plus one new
    temperature's replicas would pass its ``max_runs``; None where they fit."""
    from ionmd.sweep.goal_state import planned_run_count

    planned, bound = planned_run_count(campaign, state), campaign.max_runs
    if planned + campaign.protocol.replicas <= bound:
        return None
    said = "its max_runs" if "max_runs" in campaign.source.data else \
        "the bound a campaign plans unless its file says otherwise"
    wanted = written_as(campaign.source, "max_runs", planned + campaign.protocol.replicas)
    return (f"no new temperature: the campaign plans {planned} run folders (its goal's "
            f"added runs counted) and one more would pass {said}, {bound}; raise the bound "
            f"at the top of {campaign.path} ({wanted} or more) to let the goal add runs "
            f"(the next submit goes on)")


def _waiting_for(open_runs) -> str:
    """What a waiting series waits for: its runs still to finish, and each run whose files
    cannot be read (:data:`~ionmd.sweep.state.DAMAGED`: no result, never handed out; the
    series decides nothing until it is restored or moved away), with which file and what
    to do. The other series go on."""
    from ionmd.sweep.state import DAMAGED, run_damage

    damaged = [r for r in open_runs if _run_class(r) == DAMAGED]
    said = [f"{len(open_runs) - len(damaged)} run(s) to finish first"] \
        if len(damaged) < len(open_runs) else []
    said += [f"{r.path} is {DAMAGED}: {run_damage(r.rundir)}" for r in damaged]
    return "; ".join(said)


def advance(campaign: Campaign) -> list[SeriesRound]:
    """One round for every series of the campaign."""
    return [advance_series(campaign, s.name, m.name) for s in campaign.structures
            for m in campaign.models]


# goal.json (goal_state) and the rounds' driver (goal_pursue): importers' names here
from ionmd.sweep.goal_state import (GOAL_FILE, GOAL_STATE_VERSION, MET_CHECKS,  # noqa: E402
                                    added_temperatures, added_without_goal_note,
                                    check_goal_owner, goal_path, goal_summary,
                                    met_by_older_checks, read_goal_state, write_goal_state)
from ionmd.sweep.goal_pursue import HAND_OUT_AGAIN, pursue  # noqa: E402

__all__ = ["FINISHED", "GOAL_FILE", "GOAL_STATE_VERSION", "HAND_OUT_AGAIN", "MET_CHECKS",
           "RUN_LIMIT", "SeriesRound", "met_by_older_checks",
           "added_temperatures", "added_without_goal_note", "advance", "advance_series",
           "check_goal_owner", "cost_units", "goal_path", "goal_summary", "measure", "pursue",
           "read_goal_state", "series_point", "series_quantity", "series_value", "unmeasured",
           "write_goal_state"]
