"""The report across analysed runs (:func:`analyze_runs`): runs grouped into series
(a structure under one model and of one cell: :func:`series_key`, named by
:func:`series_names`), Arrhenius fits over temperature and survival curves over replicas,
written as ``summary.json``, ``arrhenius.csv`` and PNG plots (matplotlib's Agg backend).
One run's analysis is :func:`ionmd.analysis.run_analysis.analyze_run`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from ionmd import strict_json
from ionmd.analysis.aggregate import enters, fit_series, series_points
from ionmd.analysis.arrhenius import ArrheniusFit
from ionmd.analysis.failure import FailureReport, survival_curves
from ionmd.analysis.result_files import agg_pyplot, staged_outputs
from ionmd.analysis.run_inputs import cell_formula
from ionmd.analysis.run_records import (by_temperature, ea_text, run_labels, run_record,
                                        sigma_record)


MIXED_CHARGES = "mixed_charges"
"""Flag of a sigma fit whose runs' sigmas take different charges (their ``charges``)."""


MIXED_SETTINGS = "mixed_settings"
"""Flag of a fit whose runs record no model but ran with different potentials (as their
logs echo them): they are fitted as one series, which they may not be."""


MIXED_STRUCTURES = "mixed_structures"
"""Flag of a fit whose runs record different starting structures (their ``structure_hash``):
runs of other cells or positions under one name (two campaigns' ``LLZO``), fitted as one
series, which they may not be."""


SAME_TRAJECTORY = "same_trajectory"
"""Flag of a fit whose series held runs of one trajectory (:func:`same_trajectories`):
each counted once, the others left out."""


NOT_DYNAMICS = ("name", "source", "duration_ps", "discard_ps", "long_below_K",
                "long_duration_ps", "long_discard_ps", "until", "check_every_ps",
                "fit_start_ps", "dump_every", "thermo_every", "restart_every",
                "halt_volume_change", "halt_check_every", "seed",
                "mobile_species", "replicas", "temperatures")
"""Protocol fields (settings.json's ``protocol``) that do not change a run's trajectory up
to its length: what is written and analysed, how long it runs (a longer run of one seed
is the shorter one continued: the same trajectory, not a replica of it), when ``fix halt``
stops it (a run halted early is its twin cut short); the protocol's ``seed`` acts only
through the run's velocity seed, which the key holds itself. A ramp's run length is no
such field: it sets the ramp's rate (:func:`ramp_length_ps`)."""


RAMPS = ("temperature_end", "pressure_end_bar")
"""Protocol fields that ramp the target over the whole run (LAMMPS ``run N start 0 stop N``):
where one is set, the run's planned length is part of its dynamics."""


UNKNOWN_MODEL = "model-unknown"
"""The series label of runs that record no model (run by hand), beside runs that do."""


def series_key(results: dict) -> tuple:
    """What makes runs replicas of one series: their structure, their model, its name and
    its ``model_hash`` (its identity, one for every export of a checkpoint:
    :mod:`ionmd.export.model_identity`; None: not recorded), and their cell's formula (its atoms of each
    element; None where the run could not be read). The model: two models a campaign names
    apart are two series (as ``ionmd sweep collect`` fits them) even where one file is a
    copy of the other, and two runs' ``model.pt`` of other contents are two models. The
    cell: runs of folders that share a name (``proj1/LiCl/T1300``, ``proj3/LiCl/T1300``)
    of 189 and 204 atoms are two materials, not replicas of one."""
    return (results.get("structure"), results.get("model"), results.get("model_hash"),
            results.get("formula") or cell_formula(results.get("composition")))


def series_keys(results: Sequence[dict]) -> list[tuple | None]:
    """:func:`series_key` of each of ``results`` (None: no structure, a run whose run.json
    could not be read), a run of unknown cell (not analysed) put with the runs of its
    structure and model where they are of one cell, and a folder's ``model_hash`` that is
    its model file's digest (written before identities were) read as the identity of the
    runs that record that digest as their ``model_file_hash``
    (:func:`~ionmd.analysis.run_spec.identities_of_file_digests`: one series once the file
    is moved, as while it is in place)."""
    from ionmd.analysis.run_spec import identities_of_file_digests

    identities = identities_of_file_digests(results)
    keys = [series_key(r) if r.get("structure") is not None else None for r in results]
    keys = [k[:2] + (identities.get(k[2], k[2]),) + k[3:] if k is not None else None
            for k in keys]
    cells: dict[tuple, set] = {}
    for k in keys:
        if k is not None and k[3] is not None:
            cells.setdefault(k[:3], set()).add(k[3])
    return [k[:3] + (next(iter(cells[k[:3]])),)
            if k is not None and k[3] is None and len(cells.get(k[:3], ())) == 1 else k
            for k in keys]


def series_names(results: Sequence[dict]) -> dict[tuple, str]:
    """The name of each series (:func:`series_keys`) of ``results``: its structure where
    that structure's runs are of one model and one cell (as before either was told apart),
    its cell's formula added in brackets where they are of several (``LiCl[Li81Cl108]``),
    then ``/<model>`` where they are of several models (as ``ionmd sweep collect`` names
    them), the model's hash added where two models of a structure share a name."""
    keys = list(dict.fromkeys(k for k in series_keys(results) if k is not None))
    names: dict[tuple, str] = {}
    for structure in dict.fromkeys(k[0] for k in keys):
        mine = [k for k in keys if k[0] == structure]
        models = list(dict.fromkeys(k[1:3] for k in mine))
        cells = {k[3] for k in mine}
        for key in mine:
            _, model, digest, formula = key
            name = structure
            if len(cells) > 1:
                name += f"[{formula or 'cell unknown'}]"
            if len(models) > 1:
                shared = sum(m[0] == model for m in models) > 1     # one name, other files
                name += (f"/{model or UNKNOWN_MODEL}"
                         + (f"@{digest[:8] if digest else 'no-hash'}" if shared else ""))
            names[key] = name
    return names


def split_cells_notes(results: Sequence[dict], names: dict[tuple, str]) -> list[str]:
    """A note for each structure name whose runs are of several cells (other atoms of each
    element: other materials, whatever their folders are named): they are fitted as a series
    each, named by :func:`series_names`; the note names each cell's runs."""
    keys = series_keys(results)
    notes = []
    for structure in dict.fromkeys(k[0] for k in keys if k is not None):
        mine = [(k, r) for k, r in zip(keys, results) if k is not None and k[0] == structure]
        cells = list(dict.fromkeys(k[3] for k, _ in mine))
        if len(cells) < 2:
            continue
        labels = run_labels([r for _, r in mine])
        said = "; ".join(
            f"{cell or 'cell unknown'}: "
            + ", ".join(labels.get(str(r.get("run")), str(r.get("run")))
                        for k, r in mine if k[3] == cell)
            for cell in cells)
        series = ", ".join(dict.fromkeys(names[k] for k, _ in mine))
        what = ("cells of other sizes of one composition, whose finite-size effects differ "
                "(a size study wants them apart; an Arrhenius fit of one size each)"
                if None not in cells and len({_reduced(c) for c in cells}) == 1
                else "not replicas of one material")
        notes.append(f"{structure}: its runs are of {len(cells)} different cells ({said}): "
                     f"{what}, so fitted apart as {series}; give each "
                     f"cell its own structure name ('structure' in run.json) to name "
                     f"them yourself")
    return notes


def _reduced(formula: str) -> str:
    """A cell's formula reduced (``Li54Cl27`` -> ``Li2Cl``), pymatgen's."""
    from pymatgen.core import Composition

    return Composition(formula).reduced_formula


def series_record(name: str, runs: Sequence[dict]) -> dict:
    """A series' identity for ``summary.json``: ``structure``, ``model`` (None: not
    recorded), ``model_hash``, its cell (``formula``, ``composition``, ``n_atoms``; None
    where none of its runs could be read), ``runs`` (their folders) and, where runs that
    record no model echo different potentials in their logs, ``mixed_settings`` (a sentence
    saying so: they are fitted together as if replicas, which they may not be); where they
    start from different structures, ``mixed_structures`` (:func:`mixed_structures_of`)."""
    structure, model, digest, formula = series_keys(runs)[0]
    cell = next((r for r in runs if r.get("composition")), {})
    rec = {"structure": structure, "model": model, "model_hash": digest, "formula": formula,
           "composition": cell.get("composition"), "n_atoms": cell.get("n_atoms"),
           "runs": [r.get("run") for r in runs]}
    potentials = runs_by(runs, lambda r: r.get("potential"))
    if len(potentials) > 1:
        said = "; ".join(f"{group}: {pot!r}" for pot, group in potentials.items())
        rec["mixed_settings"] = (
            f"{name}: its runs record no model, and their logs echo different potentials "
            f"({said}); they are fitted as one series, as if replicas of one model: give each "
            f"run its model ('model' in its run.json) to fit each model's runs apart, or "
            f"analyse them apart")
    rec.update(mixed_structures_of(name, runs))
    rec.update(mixed_charges_of(name, runs))
    return rec


def trajectory_identity(run: dict) -> str | None:
    """What decides a run's trajectory, as its folder's ``settings.json`` records it (written
    by ``ionmd run`` or a campaign): its starting cell (``structure_hash``), model file
    (``model_hash``), template (its hash; its path only where none is recorded), elements,
    temperature, input version (1 where none is recorded), the seed of its velocities
    (:func:`run_velocity_seed`), the protocol's dynamics (:data:`NOT_DYNAMICS` aside) and,
    for a ramp, its planned length (:func:`ramp_length_ps`); LAMMPS runs them alike to the bit,
    so two such runs are one trajectory. A run without one (by hand): its temperature and
    every D with its interval, which no two independent runs share to the bit. None
    without either."""
    from ionmd.analysis.run_spec import folder_settings

    settings = folder_settings(run["run"]) if run.get("run") else {}
    if settings.get("structure_hash") and isinstance(settings.get("protocol"), dict):
        protocol = {k: v for k, v in settings["protocol"].items() if k not in NOT_DYNAMICS}
        if settings.get("template_hash"):   # the file's content, wherever it lies
            protocol.pop("template", None)
        return json.dumps({"protocol": protocol,
                           **{k: settings.get(k) for k in (
                               "temperature_K", "model_hash", "template_hash",
                               "structure_hash", "elements")},
                           "inputs_version": settings.get("inputs_version", 1),
                           "velocity_seed": run_velocity_seed(settings),
                           "ramp_ps": ramp_length_ps(settings)}, sort_keys=True)
    if run.get("diffusion") and run.get("temperature_K") is not None:
        return json.dumps({"temperature_K": run["temperature_K"],
                           "D": [[d.get("species"), d.get("direction"), d.get("D"),
                                  d.get("D_ci95")] for d in run["diffusion"]]}, sort_keys=True)
    return None


def run_velocity_seed(settings: dict) -> int | list:
    """The seed a run's velocities were drawn with: ``velocity_seed`` where settings.json
    records it, else ``seed + replica`` (what a directory written before seeds were
    recorded ran with: ``RunDir.velocity_seed``), so that seed 1 / replica 1 and seed 2 /
    replica 0 are one draw; ``[None, replica]`` where not even the seed is recorded."""
    if settings.get("velocity_seed") is not None:
        return int(settings["velocity_seed"])
    seed, replica = settings["protocol"].get("seed"), settings.get("replica")
    if seed is None or replica is None:
        return [seed, replica]
    return int(seed) + int(replica)


def ramp_length_ps(settings: dict) -> float | None:
    """The planned length of a ramped run (a temperature or pressure ramp: :data:`RAMPS`),
    over which its target moves from start to end (with the time step, in the key's
    protocol, its planned steps): runs of one seed and other lengths ramp at other rates
    and part at once. Its duration at its temperature (the long one below
    ``long_below_K``, as ``Protocol.schedule``); None without a ramp."""
    p = settings["protocol"]
    if all(p.get(k) is None for k in RAMPS):
        return None
    below, temperature = p.get("long_below_K"), settings.get("temperature_K")
    if below is not None and temperature is not None and temperature < below:
        return p.get("long_duration_ps") or p.get("duration_ps")
    return p.get("duration_ps")


def same_trajectories(runs: Sequence[dict]) -> dict[str, tuple[str, str, str]]:
    """The runs of a series that repeat another run's trajectory
    (:func:`trajectory_identity`), each with the run of that trajectory kept (the best:
    :func:`trajectory_run_rank`), why they are one and why that one is kept:
    ``{run: (kept run, why one, why kept)}``. Two campaigns (or
    ``ionmd run``s) with one seed (the default 12345), temperature, structure and settings
    run the same trajectory: counted as two replicas, they would halve its error. The one
    kept is the one with a usable result, then the longest analysed (a longer run of one
    seed holds the shorter one), then the narrowest interval; alike, the first listed."""
    groups: dict[str, list[dict]] = {}
    key_of = {}
    for r in runs:
        key = trajectory_identity(r)
        if key is not None and r.get("run"):
            groups.setdefault(key, []).append(r)
            key_of[str(r["run"])] = key
    kept = {key: max(group, key=trajectory_run_rank) for key, group in groups.items()}
    out = {}
    for r in runs:
        label = str(r.get("run"))
        best = kept.get(key_of.get(label))
        if best is None or str(best["run"]) == label:   # kept (or the kept folder again)
            continue
        what = ("same seed of its velocities, structure, model, temperature and protocol "
                "(their settings.json)" if '"structure_hash"' in key_of[label] else
                "the same D and interval to the bit")
        out[label] = (str(best["run"]), what, why_kept(best, r))
    return out


def trajectory_run_rank(run: dict) -> tuple:
    """How good a run's results are among runs of one trajectory, larger better: a usable
    result (:func:`usable_ds`), the length analysed (``run_length_ps``), the narrowest
    relative interval of its xyz Ds (the widest of them)."""
    widths = [(d["D_ci95"][1] - d["D_ci95"][0]) / abs(d["D"]) for d in usable_ds(run)
              if d["D"]]
    return (bool(usable_ds(run)), float(run.get("run_length_ps") or 0.0),
            -max(widths, default=np.inf))


def usable_ds(run: dict) -> list[dict]:
    """A run's xyz Ds that can enter a fit (:func:`~ionmd.analysis.aggregate.enters`); none
    for a failed run or one not analysed."""
    if (run.get("failure") or {}).get("failed") or run.get("analysis_error"):
        return []
    return [d for d in run.get("diffusion") or [] if d.get("direction") == "xyz"
            and d.get("D") is not None and enters(d["D"], d["D_ci95"])]


def why_kept(best: dict, other: dict) -> str:
    """Why ``best`` stands for a trajectory rather than ``other`` (:func:`trajectory_run_rank`)."""
    (b_use, b_len, b_w), (o_use, o_len, o_w) = trajectory_run_rank(best), trajectory_run_rank(other)
    if b_use and not o_use:
        return "it has a usable result, this run none"
    if b_len > o_len:
        return f"{b_len:g} ps analysed, this run {o_len:g} ps (the same walk, continued)"
    if b_w > o_w:
        return "its interval is narrower"
    return "listed first, the results alike"


def same_trajectory_reason(repeats: str, what: str, kept: str) -> str:
    """Why a run repeating another's trajectory is left out of its series' fits: ``what``
    makes them one, ``kept`` why the other run stands for it (:func:`same_trajectories`)."""
    return (f"the same trajectory as {repeats}: {what}; counted once, as one replica "
            f"(two would halve its error), by that run: {kept}; give each campaign (or "
            f"ionmd run) its own seed to add replicas (seed = ... in a campaign's protocol, "
            f"--set seed=N of ionmd run)")


def same_trajectory_of(name: str, runs: Sequence[dict],
                       repeated: dict[str, tuple[str, str, str]]) -> dict:
    """``same_trajectory``: a sentence naming a series' runs that repeat another's
    trajectory (:func:`same_trajectories`) and what to do; else nothing."""
    if not repeated:
        return {}
    labels = run_labels(runs)
    said = "; ".join(f"{labels.get(run, run)} repeats {labels.get(kept, kept)}, which is kept"
                     for run, (kept, *_) in repeated.items())
    return {SAME_TRAJECTORY: (
        f"{name}: {len(repeated)} of its runs repeat another's trajectory ({said}: the same "
        f"seed, structure, model, temperature and protocol, or the same D to the bit); each "
        f"is counted once, by its run with a usable result, the longest, the others left "
        f"out of the fits: give each campaign (or ionmd "
        f"run) its own seed (seed = ... in a campaign's protocol, --set seed=N of ionmd run) "
        f"to add replicas")}


def runs_by(runs: Sequence[dict], key_of) -> dict[str, str]:
    """The series' runs grouped by ``key_of(run)`` (runs where it is empty left out), each
    group its runs' short names (:func:`run_labels`) joined by commas, in order met: what
    the ``mixed_*`` sentences list."""
    groups: dict[str, list[str]] = {}
    for r in runs:
        key = key_of(r)
        if key:
            groups.setdefault(key, []).append(str(r.get("run")))
    labels = run_labels(runs)
    return {key: ", ".join(labels.get(run, run) for run in group)
            for key, group in groups.items()}


def mixed_structures_of(name: str, runs: Sequence[dict]) -> dict:
    """``mixed_structures``: where a series' runs record different starting structures
    (their results' ``structure_hash``, from ``settings.json``), a sentence naming each
    structure's runs and what to do; else nothing. One ``ionmd run`` or campaign starts all
    runs of a structure from one cell (a disordered file ordered once), so several are runs
    of other structures given one name (two campaigns' ``LLZO`` of other cells), unless
    orderings of one file were made apart (``--order-seed`` per output) to be averaged.
    Runs that record none (by hand) are not counted."""
    by_hash = runs_by(runs, lambda r: r.get("structure_hash"))
    if len(by_hash) < 2:
        return {}
    said = "; ".join(f"{digest}: {group}" for digest, group in by_hash.items())
    return {"mixed_structures": (
        f"{name}: its runs start from {len(by_hash)} different structures (the "
        f"structure_hash their settings.json record: {said}); they are fitted as one "
        f"series, as if replicas of one structure: give each structure its own name "
        f"(--name of ionmd run, name = ... in a campaign's structure entry) or analyse "
        f"them apart; orderings of one disordered file made apart (another --order-seed "
        f"per output) to be averaged may stay together")}


def mixed_charges_of(name: str, runs: Sequence[dict]) -> dict:
    """``mixed_charges``: where a series' runs' sigmas take different charges (run.json's,
    or --charges: their results' ``charges``), a sentence naming each set's runs (its sigma
    T fit mixes them; D takes no charges); else nothing."""
    by_charges = runs_by(runs, lambda r: r.get("charges") and ",".join(
        f"{e}={q:g}" for e, q in sorted(r["charges"].items())))
    if len(by_charges) < 2:
        return {}
    said = "; ".join(f"{text}: {group}" for text, group in by_charges.items())
    return {"mixed_charges": (
        f"{name}: its runs' sigmas take different charges ({said}): its sigma T fit mixes "
        f"them (D is not affected); give every run the same (--charges, 'charges' in "
        f"run.json) or analyse them apart")}


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
    temperatures not resolved, a line each in ``notes``), and survival curves
    (``reports``: failure reports by series key or name);
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
    # survival curves per series too (reports keyed by series_key, or by name): a run's
    # series_key is its series' (series_keys) but for an old folder's digest read as its
    # model's identity, whose reports join that series' by name
    named = {series_key(r): names[k] for r, k in zip(results, series_keys(results))
             if k is not None}
    by_name: dict = {}
    for k, v in reports.items():
        by_name.setdefault(names.get(k) or named.get(k, k), []).extend(v)
    summary["survival"] = survival_curves(by_name)
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
            plot_arrhenius(np.array([q["temperature_K"] for q in pts]),
                           np.array([q["value"] for q in pts]),
                           np.array([q["ci95"][0] for q in pts]),
                           np.array([q["ci95"][1] for q in pts]),
                           ArrheniusFit.from_dict(entry),
                           out / arrhenius_plot_name(name, key), f"{key} ({unit})")
            written.append(arrhenius_plot_name(name, key))
    write_arrhenius_csv(summary["arrhenius"], out / "arrhenius.csv",
                        {name: rec["model"] for name, rec in summary["series"].items()})
    summary["outputs"] = ["summary.json", "arrhenius.csv", *written]
    strict_json.write(out / "summary.json", summary, indent=2)
    return summary


SURVIVAL_PLOT = "survival.png"


def arrhenius_plot_name(series: str, key: str) -> str:
    """The file of a series' Arrhenius plot of ``key`` (D_Li, sigma_T, ...)."""
    return f"arrhenius_{series.replace('/', '_')}_{key}.png"


def earlier_summary_plots(out: Path) -> list[str]:
    """The plots an earlier :func:`analyze_runs` wrote in ``out`` (its summary.json's
    ``outputs``; one written before ``outputs`` were listed: the plots of the fits and
    survival curves it records), removed once a new summary is written, so that no plot
    there is of other runs than the summary now written (a three-run Arrhenius plot beside
    a one-run summary without a fit). None where there is no summary.json of ionmd's (one
    with ``runs`` and ``arrhenius``); files no summary wrote (a user's arrhenius_mine.png, a
    run's msd.png) are never among them."""
    try:
        earlier = json.loads((out / "summary.json").read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(earlier, dict) or not {"runs", "arrhenius"} <= earlier.keys():
        return []
    names = earlier.get("outputs")
    if not isinstance(names, list):
        names = _plots_recorded(earlier)
    return [name for name in names                  # a bare name: never a path out of it
            if isinstance(name, str) and name == Path(name).name and name.endswith(".png")]


def _plots_recorded(summary: dict) -> list[str]:
    """The plots a summary.json without ``outputs`` wrote, by what it records: one per
    Arrhenius fit, and survival.png where it has survival curves."""
    fits = summary.get("arrhenius")
    names = [arrhenius_plot_name(series, key)
             for series, entries in (fits.items() if isinstance(fits, dict) else ())
             if isinstance(series, str) and isinstance(entries, dict)
             for key in entries if isinstance(key, str)]
    return [*names, *([SURVIVAL_PLOT] if summary.get("survival") else [])]


def write_arrhenius_csv(fits: dict, path: Path, models: dict | None = None) -> None:
    """One row per structure and series: Ea, its 95 % interval, prefactor (with its unit:
    mS K/cm for sigma, whose fit is of sigma T) and the extrapolated value (D in cm^2/s;
    sigma in mS/cm); ``models``: the model of each structure's runs (by its key in
    ``fits``; empty where not known)."""
    models = models or {}
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["structure", "model", "series", "method", "Ea_eV", "Ea_err_eV", "Ea_ci95_lo",
                    "Ea_ci95_hi", "prefactor", "prefactor_unit", "T_extrapolated_K", "extrapolated",
                    "extrapolated_ci95_lo", "extrapolated_ci95_hi", "extrapolated_unit", "flags"])
        for name, series in fits.items():
            for key, f in series.items():
                sigma = key.startswith("sigma")
                kinisi = f.get("kinisi")
                # the fit's own method ("linear": in D, "mixed", "wls": in ln)
                fitted = [(f.get("method", "wls"), f)]
                for method, g in fitted + ([("kinisi", kinisi)] if kinisi and
                                           "error" not in kinisi else []):
                    scale = 1.0 / g["T_extrapolated"] if sigma else 1.0
                    w.writerow([name, models.get(name) or "", key, method, g["Ea_eV"], g["Ea_err_eV"], *g["Ea_ci95"],
                                # the fit is of sigma T: its prefactor carries the K
                                g["prefactor"], "mS K/cm" if sigma else "cm^2/s",
                                g["T_extrapolated"], g["y_extrapolated"] * scale,
                                *(v * scale for v in g["y_extrapolated_ci95"]),
                                "mS/cm" if sigma else "cm^2/s", ";".join(g.get("flags", []))])


def plot_arrhenius(T, y, lo, hi, fit, path: Path, ylabel: str) -> None:
    plt = agg_pyplot()
    T = np.asarray(T, float)
    fig, ax = plt.subplots(figsize=(5, 4))
    x = 1000.0 / T
    ax.errorbar(x, y, yerr=[np.asarray(y) - lo, np.asarray(hi) - y], fmt="o")
    tt = np.linspace(min(T.min(), fit.T_extrapolated), T.max(), 100)
    value, lo_fit, hi_fit = fit.interval(tt)
    ax.plot(1000 / tt, value, "-")
    ax.fill_between(1000 / tt, lo_fit, hi_fit, alpha=0.3)
    ax.set_yscale("log")
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel(ylabel)
    ax.set_title(f"Ea = {ea_text(fit.Ea_eV, fit.Ea_err_eV)}, band 95 %")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_survival(curves: dict, path: Path) -> None:
    """Kaplan–Meier survival step curves, one per structure, drawn to the longest run;
    ``+`` where a replica stopped without failing (censored)."""
    from ionmd.analysis.failure import survival_at

    plt = agg_pyplot()
    fig, ax = plt.subplots(figsize=(5, 4))
    for name, c in curves.items():
        end = c.get("end_ps", c["time_ps"][-1])
        line, = ax.step(c["time_ps"] + [end], c["survival"] + c["survival"][-1:], where="post",
                        label=name)
        cens = c.get("censored_ps", [])
        ax.plot(cens, [survival_at(c, t) for t in cens], "+", color=line.get_color(), ms=9)
    ax.set_xlabel("time (ps)")
    ax.set_ylabel("fraction of replicas stable")
    ax.set_ylim(-0.02, 1.02)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
