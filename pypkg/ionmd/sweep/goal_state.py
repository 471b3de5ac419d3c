"""A goal's state on disk: ``<output>/goal.json`` (the temperatures it added, each
round's decision, why a series stopped), read as every ionmd release wrote it, owned by
one campaign file, and summed up for ``sweep status``."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ionmd import strict_json
from ionmd.sweep.campaign import Campaign

GOAL_FILE = "goal.json"


def goal_path(campaign: Campaign) -> Path:
    return campaign.output / GOAL_FILE


GOAL_STATE_VERSION = 2
"""What ``goal.json`` holds (its ``version``): 1 (no key), the releases before it: a
stopped series without its ``spent`` (the first ones), a ``factor`` or round ``spent``
null or absent, ``Infinity`` where no fit had a factor; 2 adds the key (a series going on
had the ``spent`` of its first round until Dec 2026, when it was kept current: read as its
last round's). Every one is read
(:func:`read_goal_state`); a newer one is refused, naming the ionmd that wrote it."""


MET_CHECKS = 3
"""What a ``goal_met`` round of goal.json was checked by (the round's ``met_checks``): 2,
the points collect fits (failed-physical runs with a point among them:
:func:`ionmd.sweep.collect_cache.counts_for_points`) with their not-diffusive flags, and
every check collect marks a fit NOT A RESULT by, its 4-decade span included
(:func:`ionmd.sweep.allocate.reported_state`); 3 adds that no fitted point is flagged not
diffusive (:meth:`ionmd.sweep.allocate.Verdict.meets`: 2 met a goal on a 900 K point
2.8x too high). Fewer or none recorded: an older ionmd's checks
(completed runs only, no flags nor span), which could meet a goal on a fit collect prints
as NOT A RESULT."""


def met_by_older_checks(series: dict) -> bool:
    """Whether a series of goal.json stopped as ``goal_met`` by checks older than
    :data:`MET_CHECKS` (its stopping round records none): its next round
    (:func:`ionmd.sweep.goal.advance_series`) looks at its runs again, and stops as met
    again (now recorded) or goes on spending."""
    if series.get("stopped") != "goal_met":
        return False
    last = series["rounds"][-1] if series.get("rounds") else {}
    checks = last.get("met_checks")
    return not (isinstance(checks, int) and checks >= MET_CHECKS)


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
    # any other number a release wrote as Infinity (no fit) is None, as strict JSON has it
    rounds = [{**{k: None if _number(v) and not math.isfinite(v) else v for k, v in r.items()},
               "spent": float(r["spent"]) if _number(r.get("spent")) else 0.0,
               "factor": _factor(r.get("factor"))} for r in rounds]
    out.update(added_K=[float(t) for t in added], rounds=rounds, factor=_factor(out.get("factor")))
    if out.get("stopped") is not None and not isinstance(out["stopped"], str):
        raise _unreadable(f, f"series {key!r}: stopped is {out['stopped']!r}, not a reason")
    if not _number(out.get("spent")) or (rounds and not out.get("stopped")):
        # the first releases stopped without it; a series going on had its first round's
        # (read back from it) until ionmd kept it current: its last round's is the one
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
    from ionmd.sweep.collect_folders import other_campaign_of_output

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
    series = _own_series(campaign).get(f"{structure}/{model}", {})
    return tuple(float(t) for t in series.get("added_K", []))


def planned_run_count(campaign: Campaign, state: dict) -> int:
    """The run folders the campaign plans with the temperatures its goal added (goal.json's
    ``state``), as ``plan_campaign`` lays them out: per series, the protocol's
    temperatures and the added ones (one per folder) times the replicas."""
    from ionmd.sweep.plan import with_added

    temps = campaign.protocol.temperatures
    return sum(len(with_added(temps, state["series"].get(f"{s.name}/{m.name}", {})
                              .get("added_K", []))) * campaign.protocol.replicas
               for s in campaign.structures for m in campaign.models)


def _own_series(campaign: Campaign) -> dict:
    """goal.json's series, as this campaign plans from them: a file without a goal table
    takes none from the goal.json of another campaign file of its output (that one's
    rounds, :func:`check_goal_owner`; refused only where this file has a goal itself), nor
    from one it cannot read (:func:`_goal_less_reading`: a note, not a refusal)."""
    if campaign.goal is None:
        return _goal_less_reading(campaign)[0]
    return read_goal_state(campaign)["series"]


def _goal_less_reading(campaign: Campaign) -> tuple[dict, str | None]:
    """For a campaign file without a goal table: goal.json's series it plans from, and
    what to say of the file (None where nothing). Its runs must not stop on a goal.json
    it has no use for: one another campaign file of the output wrote gives nothing, one it
    cannot read (not JSON, a newer ionmd's) gives nothing with a note; one that does not
    say which file wrote it (an older release's) is taken as this file's, the note saying
    so."""
    from ionmd.errors import IonmdError
    from ionmd.sweep.collect_folders import other_campaign_of_output

    f = goal_path(campaign)
    if not f.is_file():
        return {}, None
    try:                                    # whose: before read_goal_state refuses another's
        recorded = json.loads(f.read_text()).get("campaign")
    except (OSError, ValueError, AttributeError):
        recorded = None
    if isinstance(recorded, str) and recorded and other_campaign_of_output(
            campaign, Path(recorded)) is not None:
        return {}, None
    try:
        state = read_goal_state(campaign)
    except IonmdError as exc:
        return {}, (f"{campaign.path.name} has no goal table and plans no temperatures from "
                    f"{f}, which cannot be read: {exc}")
    if isinstance(recorded, str) and recorded:
        return state["series"], None
    return state["series"], (f"{f} does not say which campaign file's goal wrote it (an older "
                             f"ionmd): its added temperatures are taken as {campaign.path.name}'s; "
                             f"if they are another campaign file's, give {campaign.path.name} an "
                             f"output of its own")


def added_without_goal_note(campaign: Campaign) -> str | None:
    """Where goal.json holds temperatures a goal added and the campaign file has no goal
    table any more: that their runs and results stay the campaign's (planned, submitted,
    collected from the temperatures goal.json lists, :func:`added_temperatures`), and how
    to keep them for good or drop them; or why a goal.json of its output gives it nothing
    (:func:`_goal_less_reading`). None where there is nothing to say, or the file has a goal."""
    if campaign.goal is not None:
        return None
    series, said_of_file = _goal_less_reading(campaign)
    added = {key: s["added_K"] for key, s in sorted(series.items()) if s.get("added_K")}
    if not added:
        return said_of_file if not series else None
    said = "; ".join(f"{key}: {', '.join(f'{t:g}' for t in temps)} K"
                     for key, temps in added.items())
    note = (f"{campaign.path.name} has no goal table, but {goal_path(campaign)} holds "
            f"temperatures a goal added ({said}): their runs and results stay part of the "
            f"campaign (planned, submitted and collected with the others). To keep them for "
            f"good, add them to temperatures; to drop them, delete their run folders and "
            f"goal.json (or its added_K)")
    return f"{note}. {said_of_file}" if said_of_file else note


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
            stopped = series.get("stopped") or "going on"
            if met_by_older_checks(series):     # not said as met: looked at again
                stopped = ("goal_met by an older ionmd's checks (with points flagged not "
                           "diffusive, or without collect's span or failed-physical runs), "
                           "looked at again by the next submit")
            lines.append(f"  {s.name}/{m.name}: {stopped}: factor "
                         f"{factor}, spent {last['spent']:.3g} {goal.unit} after "
                         f"{len(series['rounds'])} round(s)"
                         + (f"; last: {last['did']}" if last.get("did") else "")
                         + (f"; points flagged not diffusive: "
                            f"{'; '.join(last['flagged_points'])}"
                            if last.get("flagged_points") else "")
                         # met at another target_K: what collect prints at 300 K said too
                         + (f"; the factor is of sigma({goal.target_K:g} K); the 300 K "
                            f"extrapolation is not a result: {last['not_a_result_300K']}"
                            if last.get("not_a_result_300K") else "")
                         # max_runs withholding new temperatures: what to raise, said
                         + (f"; {last['run_limit']}" if last.get("run_limit") else ""))
    return lines
