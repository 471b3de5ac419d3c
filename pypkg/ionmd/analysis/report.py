"""The report across analysed runs (:func:`analyze_runs`): runs grouped into series
(a structure under one model and of one cell: :func:`~ionmd.analysis.series_identity.series_key`,
named by :func:`~ionmd.analysis.series_identity.series_names`), Arrhenius fits over
temperature and survival curves over replicas, written as ``summary.json``,
``arrhenius.csv`` and PNG plots (:mod:`ionmd.analysis.summary_files`). One run's
analysis is :func:`ionmd.analysis.run_analysis.analyze_run`. Runs repeating another's
trajectory: :mod:`ionmd.analysis.same_trajectory`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from ionmd import strict_json
from ionmd.analysis.aggregate import fit_series, series_points
from ionmd.analysis.arrhenius import ArrheniusFit
from ionmd.analysis.failure import FailureReport
from ionmd.analysis.result_files import staged_outputs
from ionmd.analysis.run_records import by_temperature, run_record, sigma_record
from ionmd.analysis.same_trajectory import (SAME_TRAJECTORY, same_trajectories,
                                           same_trajectory_of, same_trajectory_reason)
from ionmd.analysis.series_identity import (MIXED_CHARGES, MIXED_SETTINGS, MIXED_STRUCTURES,
                                            series_key, series_keys, series_names,
                                            series_record, split_cells_notes)
from ionmd.analysis import summary_files
from ionmd.analysis.summary_files import (SURVIVAL_PLOT, arrhenius_plot_name,
                                          earlier_summary_plots, plot_survival,
                                          write_arrhenius_csv)
from ionmd.analysis.survival import run_condition, survival_by_condition

__all__ = ["analyze_runs", "summarise"]


def analyze_runs(results: Sequence[dict], reports: dict[str, list[FailureReport]],
                 out_dir: str | Path, *, kinisi_fit: bool = False, n_samples: int = 400,
                 seed: int = 0) -> dict:
    """:func:`summarise` written beside an earlier summary in ``out_dir``, whose files
    (summary.json, arrhenius.csv, its plots: :func:`earlier_summary_plots`) it replaces only
    once complete: a summary that fails half-way leaves the earlier one as it was."""
    with staged_outputs(out_dir, earlier_summary_plots) as stage:
        return summarise(results, reports, stage, kinisi_fit=kinisi_fit,
                         n_samples=n_samples, seed=seed)


def summarise(results: Sequence[dict], reports: dict[str, list[FailureReport]],
              out_dir: str | Path, *, kinisi_fit: bool = False, n_samples: int = 400,
              seed: int = 0) -> dict:
    """Across runs: Arrhenius fits of D (xyz) per species and of sigma T (Nernst–Einstein
    and, when computed, collective) over temperature, per series (a structure under one
    model and of one cell: :func:`series_key`, named by :func:`series_names`; ``series[name]``
    says its structure, model and cell; ``notes`` where runs of one structure name are of
    several cells, fitted apart: :func:`split_cells_notes`; and where runs that record no
    model echo different potentials, ``mixed_settings``, and where runs start from
    different structures, ``mixed_structures``, and where runs repeat another's trajectory,
    ``same_trajectory`` (:func:`same_trajectories`: each counted once, the repeats in the
    fits' ``left_out``), each also in ``warnings`` and as a flag of its fits; a fit's
    temperatures not resolved, a line each in ``notes``), and survival curves per series
    and condition (``reports``: failure reports by series key or name; a series' runs at
    several temperatures, or a ramp beside held runs, get a curve each:
    :func:`~ionmd.analysis.survival.survival_by_condition`);
    writes ``summary.json``, ``arrhenius.csv`` and ``arrhenius_*.png``. Runs flagged not
    yet diffusive are included (their flags are in their results), so are runs that are
    not completed (``incomplete_T`` per fit, ``incomplete_runs``); runs that could not be
    analysed (:func:`~ionmd.analysis.run_analysis.analysis_error_results`) are in ``runs``
    and left out of the fits with their ``analysis_error``. ``kinisi_fit`` adds
    kinisi's Bayesian Arrhenius fit (MCMC) next to the weighted least-squares one.

    What decided: ``runs`` (each run's record: final D interval, hops, flags, stop
    reason), per fit ``runs`` (those that fed it) and ``left_out`` (the others, with why),
    and per structure ``structures[name]``: sigma(300 K), its interval and the same lists
    (:func:`ionmd.analysis.run_records.sigma_record`)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"survival": {}, "arrhenius": {},
                     "incomplete_runs": [r.get("run", r.get("structure")) for r in results
                                         if r.get("complete") is False],
                     "runs": by_temperature([r.get("run_record") or run_record(r, None)
                                             for r in results]),
                     "structures": {}}
    names = series_names(results)
    summary["survival"] = survival_by_condition(_reports_by_condition(results, reports, names))
    written = []                            # this summary's plots, for the next one to remove
    if any(r.failed for rs in reports.values() for r in rs):
        plot_survival(summary["survival"], out / SURVIVAL_PLOT)
        written.append(SURVIVAL_PLOT)
    by_series: dict[str, list[dict]] = {}
    for r, key in zip(results, series_keys(results)):
        if key is not None:                 # None: a run whose run.json could not be read
            by_series.setdefault(names[key], []).append(r)
    summary["series"] = {name: series_record(name, runs) for name, runs in by_series.items()}
    repeats = {name: same_trajectories(runs) for name, runs in by_series.items()}
    for name, runs in by_series.items():
        summary["series"][name].update(same_trajectory_of(name, runs, repeats[name]))
    summary["warnings"] = [rec[k] for rec in summary["series"].values()
                           for k in ("mixed_settings", "mixed_structures", "mixed_charges",
                                     SAME_TRAJECTORY)
                           if rec.get(k)]
    summary["notes"] = split_cells_notes(results, names)
    for name, runs in by_series.items():
        once = [r for r in runs if str(r.get("run")) not in repeats[name]]
        entries = {key: fit_series(once, key, kinisi=kinisi_fit, n_samples=n_samples, seed=seed)
                   for key in series_points(once)}
        for entry in entries.values():
            if entry is not None and "error" not in entry:
                entry["left_out"] = entry.get("left_out", []) + [
                    {"run": run, "reason": same_trajectory_reason(*why)}
                    for run, why in repeats[name].items()]
                if repeats[name]:
                    entry["flags"] = [*entry.get("flags", []), SAME_TRAJECTORY]
        # a temperature the fit leaves out as not resolved: said on its own line
        summary["notes"] += [f"{name} {key}: {t['reason']}" for key, entry in entries.items()
                             if entry is not None and "error" not in entry
                             for t in entry.get("not_resolved", [])]
        for key, flag in (("mixed_settings", MIXED_SETTINGS),
                          ("mixed_structures", MIXED_STRUCTURES)):
            if summary["series"][name].get(key):
                for entry in entries.values():
                    if entry is not None and "error" not in entry:
                        entry["flags"] = [*entry.get("flags", []), flag]
        if summary["series"][name].get("mixed_charges"):
            for key, entry in entries.items():
                if key.startswith("sigma") and entry is not None and "error" not in entry:
                    entry["flags"] = [*entry.get("flags", []), MIXED_CHARGES]
        summary["structures"][name] = {**sigma_record(runs, entries.get("sigma_T")),
                                       "model": summary["series"][name]["model"]}
        if (entries.get("sigma_T") or {}).get("fit_problem"):   # marked, not a plain number
            summary["structures"][name]["fit_problem"] = entries["sigma_T"]["fit_problem"]
        notes = {r["conductivity"]["charges_note"] for r in runs
                 if "charges_note" in r.get("conductivity", {})}
        if notes:
            summary["structures"][name]["charges_note"] = "; ".join(sorted(notes))
        for key, entry in entries.items():
            if entry is None or "error" in entry:
                continue
            summary["arrhenius"].setdefault(name, {})[key] = entry
            unit = "cm$^2$/s" if key.startswith("D_") else "mS K/cm"
            pts = entry["points"]
            # looked up in its module at each call: a test replaces it there
            summary_files.plot_arrhenius(
                np.array([q["temperature_K"] for q in pts]), np.array([q["value"] for q in pts]),
                np.array([q["ci95"][0] for q in pts]), np.array([q["ci95"][1] for q in pts]),
                ArrheniusFit.from_dict(entry), out / arrhenius_plot_name(name, key),
                f"{key} ({unit})", problem=entry.get("fit_problem"))   # drawn as not a result
            written.append(arrhenius_plot_name(name, key))
    write_arrhenius_csv(summary["arrhenius"], out / "arrhenius.csv",
                        {name: rec["model"] for name, rec in summary["series"].items()})
    summary["outputs"] = ["summary.json", "arrhenius.csv", *written]
    strict_json.write(out / "summary.json", summary, indent=2)
    return summary


def _reports_by_condition(results: Sequence[dict], reports: dict[str, list[FailureReport]],
                          names: dict) -> dict[str, list[tuple[dict, FailureReport]]]:
    """``reports`` (by series key, or by series name) by series name, each with the
    condition of its run (:func:`~ionmd.analysis.survival.run_condition`): the result of
    that series whose failure report it is, taken in order (the reports of ``ionmd
    analyze`` are its results' own); {} (condition not recorded) where none is. A run's
    series_key is its series' (series_keys) but for an old folder's digest read as its
    model's identity, whose reports join that series' by name."""
    keys = series_keys(results)
    named = {series_key(r): names[k] for r, k in zip(results, keys) if k is not None}
    unused: dict[str, list[tuple[str, dict]]] = {}
    for r, k in zip(results, keys):
        if k is not None and isinstance(r.get("failure"), dict):
            unused.setdefault(names[k], []).append((_report_text(r["failure"]), r))
    out: dict[str, list[tuple[dict, FailureReport]]] = {}
    for k, reps in reports.items():
        name = names.get(k) or named.get(k, k)
        for report in reps:
            text = json.dumps(report.to_dict(), sort_keys=True, default=str)
            mine = unused.get(name, [])
            at = next((i for i, (t, _) in enumerate(mine) if t == text), None)
            run = mine.pop(at)[1] if at is not None else {}
            out.setdefault(name, []).append((run_condition(
                run.get("temperature_K"), run.get("temperature_end_K"),
                run.get("pressure_ramp")), report))
    return out


def _report_text(failure: dict) -> str | None:
    """A failure report as :func:`_reports_by_condition` matches it (NaN measurements
    included: as text); None for a record that is no report (a summary's ``failed`` and
    ``modes`` only)."""
    try:
        report = FailureReport.from_dict(failure)
    except (KeyError, TypeError, ValueError):
        return None
    return json.dumps(report.to_dict(), sort_keys=True, default=str)
