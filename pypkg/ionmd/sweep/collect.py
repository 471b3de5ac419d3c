"""``ionmd sweep collect``: analyse every finished run of a campaign with
:mod:`ionmd.analysis` and aggregate them into one table, a row per structure x model x
temperature (CSV and JSON), with replicas combined and Arrhenius fits over temperature (Ea,
sigma(300 K)) by :mod:`ionmd.analysis.aggregate` (as ``ionmd analyze`` does), and
Kaplan-Meier survival curves over replicas, one per structure x model and temperature (a
ramp's by the ramp run: :func:`~ionmd.analysis.survival.survival_by_condition`). What
decided, as ``ionmd analyze`` reports it (:mod:`ionmd.analysis.run_records`): per run its
final D interval, hop count, flags and stop reason (``runs`` in ``results.json``,
``runs.csv``), per structure x model the sigma(300 K) interval with the runs that fed it and
those left out (``structures``; each Arrhenius fit has its ``runs`` and ``left_out``). The
runs are the campaign's planned run directories as they are on disk (each one's temperature,
replica and protocol from its own ``settings.json``), plus the planned runs not written yet
(counted as incomplete); folders found beside them that the campaign file does not plan (a
copy such as ``r0.bak`` too), and planned folders holding another run (another model
identity or structure: those ``status`` refuses; collect then exits 1, ``other_settings``),
are named with why (``not_in_campaign``), neither analysed nor fitted
(:func:`~ionmd.sweep.collect_folders.folders_to_collect`). Another campaign file's tables in
``<output>/collect`` (one output folder for two files) are never replaced
(:func:`check_tables_folder`).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np

from ionmd.analysis.aggregate import (combine_points, fit_series, run_label, series_points,
                                      why_left_out)
from ionmd.analysis.arrhenius import dof_to_json
from ionmd.analysis.point_checks import enters
from ionmd.analysis.run_records import run_record, sigma_record, write_runs_csv
from ionmd import strict_json
from ionmd.errors import IonmdError
from ionmd.sweep.campaign import Campaign
from ionmd.sweep.collect_target import at_goal_target
from ionmd.sweep.plan import PlannedRun
from ionmd.sweep.state import DAMAGED, classify
# each run's cached analysis and which runs count (collect_cache), the run folders and the
# tables folder (collect_folders): split out of this module, their names importable here
from ionmd.sweep.collect_cache import (ANALYSED, RESULTS_ADDED, RESULTS_VERSION,
                                       RUN_JSON_REPLACED, cached_run_results, charges_for,
                                       charges_note, counts_for_points, failure_text,
                                       print_replaced_charges, replaced_charges, run_json_key,
                                       stale_caches_note)
from ionmd.sweep.collect_folders import (OTHER_SETTINGS, cell_labels, check_tables_folder,
                                         folders_to_collect, not_the_campaigns_note,
                                         other_campaign_of_output, planned_temperatures,
                                         runs_to_collect, unplanned_note)


def per_kelvin(combined: dict | None, T: float) -> dict | None:
    """A combination of sigma T replicas (:func:`~ionmd.analysis.aggregate.combine_points`)
    as sigma: values and intervals divided by T (``ln_err`` is the same)."""
    if combined is None:
        return None
    out = dict(combined)
    for key in ("ci95", "ci95_unwidened", "replicas"):
        if key in out:
            out[key] = [v / T for v in out[key]]
    out["value"] = combined["value"] / T
    return out


def _aggregate(results: list[dict], planned: int) -> dict:
    """One row's numbers from the results of a temperature's replicas (each with its
    ``temperature_K``); D and sigma combined by aggregate's reader, as the fits read them."""
    done = [r for r in results if counts_for_points(r)]     # the goal's points too
    failed = [r for r in done if failure_text(r)]
    row: dict = {"replicas_planned": planned, "replicas_done": len(done),
                 "replicas_failed": len(failed),
                 # stopped on an error (LAMMPS, input): not analysed, counted in incomplete
                 "replicas_error": sum(r["class"] == "failed-error" for r in results),
                 "incomplete": planned - len(done),
                 "failure_modes": sorted({m for r in failed for m in r["failure"]["modes"]})}
    # always in the row (None, an empty cell, where no run failed): results.csv keeps its
    # columns whatever the runs did, so a user's script reads every campaign's table alike
    row["first_failure_ps_mean"] = row["failure_temperature_K_mean"] = None
    if failed:
        firsts = [r["failure"]["first"] for r in failed]
        row["first_failure_ps_mean"] = float(np.mean([f["time_ps"] for f in firsts]))
        # the thermostat's target where known: a run blowing up prints temperatures far
        # from it (1421 K at a 772.5 K target), and LAMMPS's stops record only the target
        temps = [t for t in (f.get("target_temperature_K") or f["temperature_K"] for f in firsts)
                 if t is not None]
        row["failure_temperature_K_mean"] = float(np.mean(temps)) if temps else None
    # replicas combined as the Arrhenius fits combine them (aggregate's one reader)
    series = series_points(done)
    for name, points in series.items():
        if name.startswith("D_"):
            row[name] = _strict(combine_points(points))
    if "sigma_T" in series:
        row["sigma"] = _strict(per_kelvin(combine_points(series["sigma_T"]),
                                          series["sigma_T"][0].temperature_K))
    flags = {f for r in done for d in r.get("diffusion", []) if d["direction"] == "xyz"
             for f in d["flags"]}
    if any("analysis_error" in r for r in done):
        flags.add("analysis_error")
    row["flags"] = sorted(flags)
    # replicas below zero within their scatter are combined with the others, in D:
    # where that interval reaches zero the row's value is an upper bound, left out of fits
    unresolved = [name for name in ("sigma", *sorted(k for k in row if k.startswith("D_")))
                  if isinstance(row.get(name), dict) and row[name].get("resolved") is False]
    row["not_resolved"] = unresolved         # empty lists (empty cells) too: fixed columns
    row["left_out"] = replicas_left_out(done, series)
    return row


def replicas_left_out(done: list[dict], series: dict) -> list[str]:
    """``"<run>: <why>"`` of each replica whose D or sigma a row's combination left out
    (:func:`ionmd.analysis.aggregate.why_left_out`: a D whose interval is all at zero, an
    interval of zero width, ...; one below zero within its scatter is combined with the
    others: :func:`ionmd.analysis.aggregate.enters`): the row's value is then that of the
    others, or none."""
    by_label = {run_label(r): r for r in done}
    return [f"{p.run}: {why_left_out(by_label[p.run], name)}"
            for name, points in series.items() if name.startswith("D_") or name == "sigma_T"
            for p in points if not enters(p.value, p.ci95)]


def _carrier(rows: list[dict], species: list[str]) -> str | None:
    """The species whose D's Arrhenius fit gives a structure's rows their ``Ea_eV``: the
    fastest mobile one, by the combined D at the highest temperature where every species
    has one (else at each species' own highest). The first in alphabetical order took a
    frozen framework analysed beside Li (mobile Cl, Li: Ea 3e-16 eV of Cl's D for Li's
    0.45 eV). It is chosen by the runs' D, not by which fits succeeded: where the carrier
    has no fit, the rows have no Ea (a slow species' fit would give the wrong one)."""
    values = {sp: {r["temperature_K"]: r[f"D_{sp}"]["value"] for r in rows
                   if isinstance(r.get(f"D_{sp}"), dict)} for sp in species}
    values = {sp: v for sp, v in values.items() if v}
    if not values:
        return None
    common = set.intersection(*(set(v) for v in values.values()))
    at = {sp: v[max(common)] if common else v[max(v)] for sp, v in values.items()}
    return max(at, key=at.get)


def collect(campaign: Campaign, out_dir: str | Path | None = None, progress: bool = True) -> dict:
    """Analyse and aggregate; writes ``results.csv``, ``runs.csv`` (one row per run),
    ``results.json`` (and ``survival.png`` when a run failed or ramped its thermostat or
    barostat)
    under ``out_dir`` (default ``<output>/collect``, refused where another campaign file
    of this output wrote its tables there: :func:`check_tables_folder`) and returns the
    JSON content."""
    from ionmd.analysis.failure import FailureReport
    from ionmd.analysis.summary_files import plot_survival
    from ionmd.analysis.survival import survival_by_condition

    out = Path(out_dir) if out_dir else campaign.output / "collect"
    if not out_dir:         # a folder the user names is theirs to fill
        check_tables_folder(campaign, out)
    out.mkdir(parents=True, exist_ok=True)
    found = folders_to_collect(campaign)
    runs = [run for run, why in found if why is None]
    charges = {s.name: charges_for(campaign, s.name) for s in campaign.structures}
    notes = {name: charges_note(campaign, name, q) for name, q in charges.items()}
    stale = stale_caches_note(runs)
    if stale:
        print(f"ionmd: note: {stale}", file=sys.stderr)
    iterator = runs
    if progress:
        from tqdm import tqdm

        iterator = tqdm(runs, desc=f"{campaign.name} (analysing)", unit="run")
    jobs = _scheduler_jobs(campaign)
    per_run = [(run, cached_run_results(run, campaign, charges[run.structure], jobs))
               for run in iterator]
    print_replaced_charges([res for _, res in per_run])
    # a run folder the campaign file does not plan (another campaign file's with this
    # output, a temperature or replica taken out, a copy of a run) or of another model or
    # structure at a planned run's place is named, not analysed (its analysis would be
    # written into its folder with this campaign's settings) nor fitted
    dropped = [(run, {**_state_of(run, jobs), "run": str(run.path), "replica": run.replica,
                      "why": why})
               for run, why in found if why is not None]
    unplanned = unplanned_note(campaign, [d for d in dropped if not _in_place(d)])
    if unplanned:
        print(f"ionmd: note: {unplanned}", file=sys.stderr)
    others = not_the_campaigns_note(campaign, [d for d in dropped if _in_place(d)])
    # runs of one structure but other cells (the campaign file changed) are not replicas
    labels, cell_notes = cell_labels(per_run, campaign)
    for note in cell_notes:
        print(f"ionmd: note: {note}", file=sys.stderr)
    groups: dict[tuple, list] = {}
    for label, (run, res) in zip(labels, per_run):   # at the run's temperature, as the fits
        groups.setdefault((label, run.structure, run.model, run.temperature), []).append(
            {**res, "temperature_K": run.temperature})          # below take it
    rows = []
    for (label, s, m, T), results in groups.items():
        rows.append({"structure": label, "model": m, "protocol": campaign.protocol.name,
                     "temperature_K": T, **_aggregate(results, len(results)),
                     **({"charges_note": notes[s]} if notes[s] else {})})
    fits: dict[str, dict] = {}
    structures: dict[str, dict] = {}
    reports: dict[str, list] = {}
    series = [(label, mdl.name) for s in campaign.structures for mdl in campaign.models
              for label in dict.fromkeys(
                  [lb for lb, (run, _) in zip(labels, per_run)
                   if run.structure == s.name and run.model == mdl.name] or [s.name])]
    for label, model in series:
        mine = [r for r in rows if r["structure"] == label and r["model"] == model]
        key = f"{label}/{model}"
        species = sorted({k[2:] for r in mine for k in r if k.startswith("D_")})
        # every run, analysed or not: those without results are listed as left out
        group = [{**res, "temperature_K": run.temperature}
                 for lb, (run, res) in zip(labels, per_run)
                 if lb == label and run.model == model]
        fits[key] = {f"D_{sp}": fit_series(group, f"D_{sp}") for sp in species}
        fits[key]["sigma_T"] = fit_series(group, "sigma_T")
        structures[key] = sigma_record(group, fits[key]["sigma_T"])
        target = at_goal_target(campaign, fits[key])     # the goal's verdict's numbers
        if target is not None:
            structures[key]["at_target_K"] = target
        if (fits[key]["sigma_T"] or {}).get("fit_problem"):   # marked, not a plain number
            structures[key]["fit_problem"] = fits[key]["sigma_T"]["fit_problem"]
        carrier = _carrier(mine, species)
        for r in mine:
            d = fits[key][f"D_{carrier}"] if carrier else None
            d = d if d and "error" not in d else None
            sg = fits[key]["sigma_T"]
            r["Ea_eV"] = d.get("Ea_eV") if d else None
            r["Ea_err_eV"] = d.get("Ea_err_eV") if d else None
            r["Ea_species"] = carrier
            r["sigma_300K"] = sg.get("extrapolated") if sg else None
            r["sigma_300K_ci95"] = sg.get("extrapolated_ci95") if sg else None
            # why the row's Ea or sigma(300 K) mean nothing (arrhenius_problems), else None
            problems = {f"{name}: {fit['fit_problem']}" for name, fit in
                        ((f"D_{carrier}", d), ("sigma", sg)) if fit and fit.get("fit_problem")}
            r["fit_problem"] = " | ".join(sorted(problems)) or None
        # each with its run's condition: replicas at 600 K and 1200 K are two curves
        reports[key] = [(_condition(campaign, run.temperature),
                         FailureReport.from_dict(res["failure"]))
                        for lb, (run, res) in zip(labels, per_run)
                        if lb == label and run.model == model and "failure" in res]
    reports = {k: v for k, v in reports.items() if v}
    survival = survival_by_condition(reports) if reports else {}
    # drawn without a failure where a run ramped (its curve says how far up the ramp all
    # survived): by each run's condition, the one ramp rule (_condition), so a pressure
    # ramp counts as a temperature ramp does, and a run held at temperature_end does not
    if survival and any(r.failed or _ramps(cond) for v in reports.values() for cond, r in v):
        plot_survival(survival, out / "survival.png")
    else:           # an earlier collect's curves (a failure since analysed otherwise) go
        (out / "survival.png").unlink(missing_ok=True)
    doc = {"campaign": str(campaign.path.resolve()), "name": campaign.name,    # whose tables
           "protocol": campaign.protocol.name, "units": {"D": "cm^2/s", "sigma": "mS/cm",
                                                        "Ea": "eV", "time": "ps"},
           "classes": dict(Counter(res["class"] for _, res in per_run)),
           "complete": all(counts_for_points(res) for _, res in per_run) and not others,
           "charges": {name: {"charges": q, **({"note": notes[name]} if notes[name] else {})}
                       for name, q in charges.items()},
           **({"notes": cell_notes} if cell_notes else {}),
           "rows": rows, "arrhenius": fits, "structures": structures, "survival": survival,
           "runs": [run_entry(run, res) for run, res in per_run],
           "not_in_campaign": [run_entry(run, res) for run, res in dropped],
           **({"other_settings": others} if others else {})}
    strict_json.write(out / "results.json", doc, indent=1)
    write_csv(rows, out / "results.csv")
    write_runs_csv(doc["runs"], out / "runs.csv")
    nothing = nothing_analysed(per_run)
    if nothing:     # the tables are written (they list each run's error): said, not hidden
        raise IonmdError(f"{nothing}; tables: {out}")
    return doc


def _condition(campaign: Campaign, temperature: float) -> dict:
    """The condition a campaign's run at ``temperature`` ran (its survival curve's:
    :func:`~ionmd.analysis.survival.run_condition`): the protocol's ramp, thermostat
    (``temperature_end``) or barostat (``pressure_end_bar`` of an NpT protocol), from it."""
    from ionmd.analysis.run_spec import protocol_pressure_ramp
    from ionmd.analysis.survival import run_condition

    p = campaign.protocol
    ramp = protocol_pressure_ramp(p.ensemble, p.pressure_bar, p.pressure_end_bar)
    return run_condition(temperature, p.temperature_end,
                         dict(zip(("start", "end", "unit"), ramp)) if ramp else None)


def _ramps(condition: dict) -> bool:
    """Whether a run's condition (:func:`_condition`) is a ramp of its thermostat or its
    barostat."""
    return "temperature_end_K" in condition or "pressure_ramp" in condition


def _state_of(run: PlannedRun, jobs) -> dict:
    """A folder's ``class`` and ``status`` as collect names a folder it leaves out
    (``{}`` for a damaged one's status: its class says so)."""
    cls = classify(run.rundir, jobs)
    return {"class": cls, "status": {} if cls == DAMAGED else run.rundir.status}


def _in_place(dropped: tuple[PlannedRun, dict]) -> bool:
    """Whether a folder left out sits where the campaign plans one of its runs (its
    settings those of another run: :func:`folders_to_collect`)."""
    return dropped[1]["why"].startswith(OTHER_SETTINGS)


def nothing_analysed(per_run: list[tuple[PlannedRun, dict]]) -> str | None:
    """Why no run could be analysed, where every finished run's analysis failed (an
    ``[analysis]`` setting no run suits, found after all the compute): collect then has no
    value to report and must not look as if it had. None while a run has its D, or no run
    has ended yet."""
    ended = [res for _, res in per_run if counts_for_points(res)]
    errors = [res["analysis_error"] for res in ended if "analysis_error" in res]
    if not errors or any("diffusion" in res and "analysis_error" not in res for res in ended):
        return None
    return (f"no run could be analysed: the analysis of all {len(errors)} finished runs "
            f"failed (the first: {errors[0]}); fix the campaign's [analysis] (or the runs) "
            f"and collect again")


def _scheduler_jobs(campaign: Campaign):
    """The scheduler's jobs for the runs' labels; None (runs on another host then read as
    interrupted) when the queue cannot be asked, e.g. collecting off the cluster."""
    from ionmd.sweep.submit import scheduler_jobs

    try:
        return scheduler_jobs(campaign)
    except IonmdError:
        return None


def run_entry(run: PlannedRun, res: dict) -> dict:
    """A run of ``results.json``'s ``runs``: where it sits in the campaign (structure,
    model, temperature, replica, seed, class), then its record
    (:func:`ionmd.analysis.run_records.run_record`)."""
    entry = {"run": res["run"], "class": res["class"], "structure": run.structure,
             "model": run.model, "temperature_K": run.temperature, "replica": run.replica,
             "seed": run.seed, **({"why": res["why"]} if res.get("why") else {})}
    rec = run_record({**res, "temperature_K": run.temperature}, res.get("status") or None)
    replaced = {"charges_replaced": res["charges_replaced"]} if res.get("charges_replaced") \
        else {}
    return {**entry, **{k: v for k, v in rec.items() if k not in entry}, **replaced}


def _strict(combined: dict | None) -> dict | None:
    """A combination as results.json holds it: an infinite dof (a normal quantile) as null,
    since strict JSON readers refuse ``Infinity`` (arrhenius.dof_to_json)."""
    if combined is None or "dof" not in combined:
        return combined
    return {**combined, "dof": dof_to_json(combined["dof"])}


def flat_row(row: dict) -> dict:
    """A table row with each combined value split into value / 95 % interval (its level:
    99 % where the replicas were stopped by their rule) / replica std."""
    flat = {}
    for k, v in row.items():
        if isinstance(v, dict) and "value" in v:
            unit = "cm2_s" if k.startswith("D_") else "mS_cm"
            flat[f"{k}_{unit}"] = v["value"]
            flat[f"{k}_ci95_lo"], flat[f"{k}_ci95_hi"] = v["ci95"]
            # 0.99 where the replicas were stopped by their rule (combine_replicas)
            flat[f"{k}_ci_level"] = v.get("interval_level", 0.95)
            reps = v["replicas"]
            flat[f"{k}_replica_std"] = float(np.std(reps, ddof=1)) if len(reps) > 1 else None
        elif k == "sigma_300K_ci95":
            flat["sigma_300K_ci95_lo"], flat["sigma_300K_ci95_hi"] = v if v else (None, None)
        elif k == "sigma_300K":
            flat["sigma_300K_mS_cm"] = v
        elif k == "left_out":           # each reason has its own ';'
            flat[k] = " | ".join(v)
        elif isinstance(v, list):
            flat[k] = ";".join(map(str, v))
        else:
            flat[k] = v
    return flat


def write_csv(rows: list[dict], path: Path) -> None:
    """``results.csv``: the same columns whatever the runs did (a row's ``charges_note``,
    only on some rows in ``results.json``, last and empty where a row has none)."""
    from ionmd.analysis.run_records import write_rows_csv

    write_rows_csv([{**flat_row({k: v for k, v in r.items() if k != "charges_note"}),
                     "charges_note": r.get("charges_note")} for r in rows], path)


__all__ = ["ANALYSED", "RESULTS_ADDED", "RESULTS_VERSION", "RUN_JSON_REPLACED",
           "cached_run_results", "cell_labels", "charges_for", "charges_note",
           "check_tables_folder", "collect", "counts_for_points", "failure_text", "flat_row",
           "other_campaign_of_output", "planned_temperatures", "print_replaced_charges",
           "replaced_charges", "run_entry", "run_json_key", "runs_to_collect",
           "stale_caches_note", "unplanned_note"]
