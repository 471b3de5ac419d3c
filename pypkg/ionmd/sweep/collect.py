"""``ionmd sweep collect``: analyse every finished run of a campaign with
:mod:`ionmd.analysis` and aggregate them into one table, a row per structure x model x
temperature (CSV and JSON), with replicas combined and Arrhenius fits over temperature
(Ea, sigma(300 K)) by :mod:`ionmd.analysis.aggregate` (as ``ionmd analyze`` does), and
Kaplan-Meier survival curves over replicas. What decided, as ``ionmd analyze`` reports it
(:mod:`ionmd.analysis.run_records`): per run its final D interval, hop count, flags and
stop reason (``runs`` in ``results.json``, ``runs.csv``), per structure x model the
sigma(300 K) interval with the runs that fed it and those left out (``structures``; each
Arrhenius fit has its ``runs`` and ``left_out``). The runs are the campaign's planned run
directories as they are on disk (each one's temperature, replica and protocol from its own
``settings.json``), plus the planned runs not written yet (counted as incomplete); folders
found beside them that the campaign file does not plan are named (``not_in_campaign``),
neither analysed nor fitted. Another campaign file's tables in ``<output>/collect`` (one
output folder for two files) are never replaced (:func:`check_tables_folder`).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from ionmd.analysis.aggregate import (combine_points, enters, fit_series, run_label,
                                      series_points, why_left_out)
from ionmd.analysis.arrhenius import dof_to_json
from ionmd.analysis.run_records import run_record, sigma_record, write_runs_csv
from ionmd import strict_json
from ionmd.errors import IonmdError
from ionmd.sweep.campaign import Campaign, output_folder
from ionmd.sweep.plan import PlannedRun
from ionmd.sweep.state import classify

ANALYSED = ("completed", "failed-physical")


def charges_for(campaign: Campaign, structure: str) -> dict[str, float]:
    """Oxidation states for the Nernst-Einstein sigma, those of the structure's run folders
    (:meth:`Campaign.charges_of`): the campaign's table, else the states the structure's
    file declares, else the guess for its composition (``ionmd.structures.transport_charges``;
    empty when it has none)."""
    return campaign.charges_of(structure)[0]


def charges_note(campaign: Campaign, structure: str, charges: dict[str, float]) -> str:
    """What the charges assume where the structure is no ordinary ionic solid (an
    intermetallic, a Zintl phase: ``ionmd.structures.charges.transport_note``), else ``""``:
    guessed ones with how to give others; a campaign's own table or the file's declared
    states keep the caveat (formal Li+ in an alloy gives the formal Nernst-Einstein sigma,
    whoever chose it), as ``ionmd analyze`` does."""
    from ionmd.structures.charges import transport_note

    atoms = next(s.atoms for s in campaign.structures if s.name == structure)
    return transport_note(atoms.get_chemical_formula(), charges,
                          given=not campaign.charges_of(structure)[1])


def cached_run_results(run: PlannedRun, campaign: Campaign, charges: dict[str, float],
                       jobs=None) -> dict:
    """Results of one run: ``{"class", "failure", "diffusion", "conductivity", ...}``
    (``jobs``: the scheduler's, :func:`ionmd.sweep.submit.scheduler_jobs`, so that a run
    going on elsewhere is labelled running or queued, not interrupted), and
    ``charges_replaced`` where ``charges`` are not its run.json's (:func:`replaced_charges`).
    Transport analysis is cached in ``<run>/analysis`` and redone only when the run, the
    analysis settings or ionmd's estimator of D changed."""
    res = _analysed_run_results(run, campaign, charges, jobs)
    if res["class"] in ANALYSED:        # in the campaign's words, an old cache's too
        res.pop("charges_replaced", None)
        res.update(replaced_charges(run.rundir, charges))
    return res


RESULTS_VERSION = 6
"""What a run's cached analysis gives (``sweep_collect.json``'s ``results_version``); a
cache of an older one is analysed again (:func:`stale_caches_note`)."""

RESULTS_ADDED = {4: "the runs' cells", 5: "the fit_start_not_diffusive check of D's fit window",
                 6: "a cache that sees edits of the run's run.json (its discard_ps, ...)"}
"""What each results version added, as the note says it."""


def stale_caches_note(runs: list[PlannedRun]) -> str | None:
    """A note where runs' cached analyses are of an older :data:`RESULTS_VERSION` (written by
    an older ionmd): each is analysed again, as long as its first collect took, which a
    large campaign should hear of before it waits; None where none is."""
    versions = []
    for run in runs:
        cache = run.rundir.path / "analysis" / "sweep_collect.json"
        try:
            cached = json.loads(cache.read_text())
            version = cached["settings"].get("results_version", 1)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue        # none (a run not analysed yet), or unreadable: nothing to say
        if isinstance(version, int) and version < RESULTS_VERSION:
            versions.append(version)
    if not versions:
        return None
    return (f"{len(versions)} of {len(runs)} runs' cached analyses (analysis/sweep_collect.json) "
            f"are of an older ionmd (results version {min(versions)}, now {RESULTS_VERSION}: "
            f"{', '.join(RESULTS_ADDED[v] for v in sorted(RESULTS_ADDED) if v > min(versions))}"
            f"): analysed again now, each as long as its first collect took; later collects "
            f"read the new cache")


def _analysed_run_results(run: PlannedRun, campaign: Campaign, charges: dict[str, float],
                          jobs=None) -> dict:
    """:func:`cached_run_results`, the analysis' own (its note in ``--charges``' words).
    The cache is reused only where every input its results depend on is as it was: the
    campaign's analysis settings and charges, the run's progress (status), ionmd's
    estimator and results version, and the run's own ``run.json`` (:func:`run_json_key`)."""
    from ionmd.analysis.diffusion import ESTIMATOR
    from ionmd.analysis.run_analysis import analyze_run
    from ionmd.analysis.run_failure import failures_of
    from ionmd.analysis.run_spec import load_run_spec

    rd = run.rundir
    cls = classify(rd, jobs)
    out = {"class": cls, "run": str(rd.path), "replica": run.replica, "status": rd.status}
    if cls not in ANALYSED:
        return out
    a = campaign.analysis
    guessed = campaign.charges_of(run.structure)[1]
    settings = {"estimator": ESTIMATOR, "charges": charges, "charges_guessed": guessed,
                "fit_start_ps": a.fit_start_ps,
                "fit_end_ps": a.fit_end_ps, "window_ps": a.window_ps,
                "haven_ratio": a.haven_ratio, "failure": a.failure,
                "status": rd.status.get("updated"),
                # run.json's own settings (discard_ps, mobile species, pieces, ...), which a
                # user may edit after the run: the cache ignored them before (version 6)
                "run_json": run_json_key(rd.path),
                # what the analysis gives (2: failed runs' transport before the failure;
                # 3: a run stopped by its D-interval rule reports its 99 % interval;
                # 4: the run's cell, which tells runs of other cells apart: cell_labels)
                "results_version": RESULTS_VERSION}
    cache = rd.path / "analysis" / "sweep_collect.json"
    if cache.is_file():
        cached = json.loads(cache.read_text())
        if cached.get("settings") == settings:   # (the run's path as it is now: a copied
            return {**out, **_failure_strict(cached["results"]),   # campaign keeps its cache)
                    "run": out["run"]}
    try:
        spec = load_run_spec(rd.path, {"charges": charges, "charges_guessed": guessed})
    except IonmdError as exc:       # this run's files (run.json from a newer ionmd): its row
        return {**out, "analysis_error": str(exc)}      # says why; not cached, fixed files count
    proto = rd.protocol
    thresholds = dict(a.failure)
    if proto.halt_volume_change is not None:
        # the run checks its own volume (fix halt, every halt_check_every steps), and its
        # verdict, in status.json, joins the post-mortem (with_recorded_failure); the
        # post-mortem's check at the dump frames would date the same change differently
        thresholds.setdefault("volume_limit", 1e9)
    # a ramp's runaway check follows the ramp (run.json's temperature_end_K); a failed run
    # at one temperature gets the transport of its frames before the failure
    if proto.temperature_end is not None:
        results = {"failure": failures_of(spec, **thresholds).to_dict()}
    else:
        try:
            results = analyze_run(spec, rd.path / "analysis", fit_start_ps=a.fit_start_ps,
                                  fit_end_ps=a.fit_end_ps, window_ps=a.window_ps,
                                  haven_ratio=a.haven_ratio,
                                  failure_options=thresholds)
        except IonmdError as exc:     # AnalysisError, or a trajectory it cannot read
            results = {"failure": failures_of(spec, **thresholds).to_dict(),
                       "analysis_error": str(exc)}
    cache.parent.mkdir(exist_ok=True)
    results = _failure_strict(results)
    strict_json.write(cache, {"settings": settings, "results": results}, indent=1)
    return {**out, **results}


def _failure_strict(results: dict) -> dict:
    """``results`` with its failure report's measurements that are not numbers (a diverging
    model's nan thermo; ``NaN`` in caches of older ionmd) as null, as strict JSON has them."""
    if not isinstance(results.get("failure"), dict):
        return results
    return {**results, "failure": strict_json.nonfinite_to_null(results["failure"])}


RUN_JSON_REPLACED = ("charges", "charges_guessed")
"""run.json keys the analysis takes from the campaign instead (``load_run_spec``'s
overrides), whose values are in the cache key already."""


def run_json_key(path: Path) -> str | None:
    """A digest of what a run's ``run.json`` tells its analysis (every key but
    :data:`RUN_JSON_REPLACED`, in canonical JSON: a file only reformatted keeps its cache);
    of the file's bytes where it is no JSON object (the analysis then says what is wrong),
    None where there is none."""
    from ionmd.analysis.run_files import RUN_JSON

    try:
        raw = (path / RUN_JSON).read_bytes()
    except OSError:
        return None
    try:
        meta = json.loads(raw)
    except ValueError:
        meta = None
    if isinstance(meta, dict):
        raw = json.dumps({k: v for k, v in meta.items() if k not in RUN_JSON_REPLACED},
                         sort_keys=True).encode()
    return hashlib.sha256(raw).hexdigest()


def replaced_charges(rd, charges: dict[str, float]) -> dict:
    """``charges_replaced`` where the campaign's ``charges`` are not those the run's
    run.json was written with (the campaign's table, or ionmd's guess, changed after the
    run was planned): its sigma is then not the one its own record implies
    (:func:`ionmd.analysis.run_spec.replaced_charges_note`, in the campaign's words); else
    nothing. Read from run.json, not from the analysis: an analysis cached before says
    nothing of it."""
    from ionmd.analysis.run_files import RUN_JSON
    from ionmd.analysis.run_spec import replaced_charges_note

    try:
        meta = rd.read_json(RUN_JSON)
    except (OSError, ValueError):       # the run's analysis names what is wrong
        return {}
    if not isinstance(meta, dict):
        return {}
    recorded = {k: meta[k] for k in RUN_JSON_REPLACED if k in meta}
    note = replaced_charges_note(rd.path, recorded, charges, given_by="the campaign's charges")
    return {"charges_replaced": note} if note else {}


def print_replaced_charges(results: list[dict]) -> None:
    """Each run whose charges the campaign's replaced, on stderr as ``ionmd analyze
    --charges`` says it (``ionmd: note: RUN: ...``)."""
    import sys

    for res in results:
        if res.get("charges_replaced"):
            print(f"ionmd: note: {res['run']}: {res['charges_replaced']}", file=sys.stderr)


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
    done = [r for r in results if r["class"] in ANALYSED]
    failed = [r for r in done if r.get("failure", {}).get("failed")]
    row: dict = {"replicas_planned": planned, "replicas_done": len(done),
                 "replicas_failed": len(failed),
                 # stopped on an error (LAMMPS, input): not analysed, counted in incomplete
                 "replicas_error": sum(r["class"] == "failed-error" for r in results),
                 "incomplete": planned - len(done),
                 "failure_modes": sorted({m for r in failed for m in r["failure"]["modes"]})}
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
    if unresolved:
        row["not_resolved"] = unresolved
    left = replicas_left_out(done, series)
    if left:
        row["left_out"] = left
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


def cell_labels(per_run: list[tuple[PlannedRun, dict]], campaign: Campaign
                ) -> tuple[list[str], list[str]]:
    """Each run's structure as the rows and fits name it, and notes: the campaign's name,
    with its cell's formula added (``LiCl[Li81Cl108]``) where one structure's runs under one
    model are of several cells (a campaign file whose structure or supercell changed after
    runs were written: ``ionmd sweep plan`` refuses that, collect reads the folders as they
    are), by ``ionmd analyze``'s own series (:func:`ionmd.analysis.report.series_names`);
    a run not analysed goes with the others where they are of one cell, else with those of
    the campaign's cell now (it will be written with it). A note per such structure names
    each cell's runs (:func:`ionmd.analysis.report.split_cells_notes`)."""
    from ionmd.analysis.report import series_keys, series_names, split_cells_notes
    from ionmd.analysis.run_inputs import cell_formula

    now = {s.name: cell_formula(dict(Counter(s.cell.get_chemical_symbols())))
           for s in campaign.structures if s.cell is not None}
    labels = [run.structure for run, _ in per_run]
    notes: list[str] = []
    groups: dict[tuple, list[int]] = {}
    for i, (run, _) in enumerate(per_run):
        groups.setdefault((run.structure, run.model), []).append(i)
    for (structure, _), rows in groups.items():
        mine = [{"run": res["run"], "structure": structure,
                 "formula": res.get("formula") or cell_formula(res.get("composition"))}
                for res in (per_run[i][1] for i in rows)]
        cells = {r["formula"] for r in mine} - {None}
        for r in mine:          # a run not analysed: of the one cell, else of today's
            if r["formula"] is None:
                r["formula"] = (next(iter(cells)) if len(cells) == 1 else
                                now.get(structure) if now.get(structure) in cells else None)
        names = series_names(mine)
        for i, key in zip(rows, series_keys(mine)):
            labels[i] = names[key]
        notes += split_cells_notes(mine, names)
    return labels, list(dict.fromkeys(notes))


def runs_to_collect(campaign: Campaign) -> list[PlannedRun]:
    """The run directories on disk under the campaign's structure/model/protocol folders,
    each read from its own ``settings.json``, then its planned runs that have no directory
    yet; in the campaign's order (structure, model, temperature, replica). A folder the
    campaign file does not plan (a temperature or replica taken out of it, or the run of
    another campaign file with the same ``output``) has ``in_campaign`` False."""
    from ionmd.protocols import RunDir
    from ionmd.protocols.plan import run_path
    from ionmd.analysis.run_files import SETTINGS

    p = campaign.protocol
    runs = []
    for s in campaign.structures:
        for m in campaign.models:
            base = run_path(campaign.output, s.name, m.path, p.name, 0, 0, m.folder).parent.parent
            planned = {(t, rep) for t in planned_temperatures(campaign, s.name, m.name)
                       for rep in range(p.replicas)}
            found = {}
            for settings in base.glob(f"T*K/r*/{SETTINGS}"):
                rd = RunDir.open(settings.parent)
                found[(rd.temperature, rd.replica)] = rd
            for temp, rep in planned - set(found):      # planned, not written yet
                found[(temp, rep)] = RunDir(
                    path=run_path(campaign.output, s.name, m.path, p.name, temp, rep, m.folder),
                    protocol=p, temperature=temp, replica=rep, model=m.path,
                    structure=s.name, elements=m.elements)
            runs += [PlannedRun(rundir=rd, structure=s.name, model=m.name, temperature=T,
                                replica=rep, seed=rd.velocity_seed,
                                in_campaign=(T, rep) in planned)
                     for (T, rep), rd in sorted(found.items())]
    return runs


def planned_temperatures(campaign: Campaign, structure: str, model: str) -> set[float]:
    """The temperatures the campaign plans for one structure x model, those its goal added
    among them, one per run folder, as :func:`ionmd.sweep.plan.plan_campaign` plans them."""
    from ionmd.sweep.goal import added_temperatures
    from ionmd.sweep.plan import with_added

    # a goal's added temperatures, also once its table is taken out of the file
    temps = with_added(campaign.protocol.temperatures,
                       added_temperatures(campaign, structure, model))
    return set(map(float, temps))


def unplanned_note(campaign: Campaign, runs: list[tuple[PlannedRun, dict]]) -> str | None:
    """What collect says of run folders found under the campaign's folders that its file
    does not plan (``runs``: each with its class): how many, which (temperature, replica,
    class, under ``<output>``), that they are not in its table or fits and how to have them
    there; None where there are none. They may be another campaign file's runs (one
    ``output`` for two files) or of temperatures/replicas taken out of this one: their
    folders do not say which, and a table of temperatures the file does not list would
    give the file's Ea and sigma(300 K) from runs it never asked for."""
    if not runs:
        return None
    where = "; ".join(f"{_under(campaign, run.path)} ({res['class']})" for run, res in runs)
    return (f"{len(runs)} run folder(s) under {campaign.output} are not planned by "
            f"{campaign.path.name} (another campaign file with this output, or temperatures "
            f"or replicas taken out of this one): {where}. They are left out of its table and "
            f"fits (results.json not_in_campaign); to report them here, list their "
            f"temperatures and replicas in {campaign.path.name} (a finished run is not run "
            f"again; submit runs the others)")


def _under(campaign: Campaign, path: Path) -> str:
    """``path`` relative to the campaign's output folder where it is inside it."""
    try:
        return path.relative_to(campaign.output).as_posix()
    except ValueError:
        return str(path)


def check_tables_folder(campaign: Campaign, out: Path) -> None:
    """Refuse to write into ``out`` (the default ``<output>/collect``) the tables of
    another campaign file that shares this output folder: its results.json names that
    file, which still exists, is not this one and has this ``output``. Tables of a file
    moved or renamed (it is gone), or of a copied campaign folder (its file has its own
    output), are this campaign's.

    Raises
    ------
    IonmdError
        Naming both files and the folders to collect into instead; nothing was written.
    """
    other = other_campaign_of_output(campaign, _tables_campaign(out / "results.json"))
    if other is None:
        return
    stem = campaign.path.stem
    raise IonmdError(
        f"{out} holds the tables of campaign {other}, another campaign file with the same "
        f"output ({campaign.output}); collecting {campaign.path} there would replace them. "
        f"Give it a folder of its own: `ionmd sweep collect {campaign.path.name} --output "
        f"{out.parent / f'collect-{stem}'}` (or give the two files different `output` "
        f"folders, or remove {out} if its tables are no longer wanted); nothing was written")


def other_campaign_of_output(campaign: Campaign, recorded: Path | None) -> Path | None:
    """``recorded`` (the campaign file that wrote a shared file of the output folder:
    collect's tables, the goal's rounds) where it still exists, is not ``campaign``'s file
    and names the same output folder; else None (none recorded, a file moved, renamed or
    of a copied campaign folder)."""
    if recorded is None or not recorded.is_file() or _same_file(recorded, campaign.path):
        return None
    return recorded if _output_of(recorded) == campaign.output.resolve() else None


def _tables_campaign(results: Path) -> Path | None:
    """The campaign file that an earlier collect's results.json names, None where there
    is none or it cannot be read (a relative path, as collect recorded it before, is read
    from the working folder)."""
    try:
        recorded = json.loads(results.read_text()).get("campaign")
    except (OSError, ValueError, AttributeError):
        return None
    return Path(recorded) if isinstance(recorded, str) and recorded else None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return a.resolve() == b.resolve()


def _output_of(path: Path) -> Path | None:
    """The output folder a campaign file names, read by
    :func:`ionmd.sweep.campaign.output_folder` as loading the campaign reads it; None where
    the file is not a readable campaign file or its ``output`` is refused."""
    from ionmd.sweep.campaign_problems import Problems
    from ionmd.sweep.source import read_source

    try:
        src = read_source(path)
    except (IonmdError, OSError, UnicodeDecodeError):
        return None
    errors = Problems(src)
    output = output_folder(src, errors, src.path.resolve().parent)
    return None if errors.items else output


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
    ``results.json`` (and ``survival.png`` when a run failed or the protocol is a ramp)
    under ``out_dir`` (default ``<output>/collect``, refused where another campaign file
    of this output wrote its tables there: :func:`check_tables_folder`) and returns the
    JSON content."""
    from ionmd.analysis.failure import FailureReport, survival_curves
    from ionmd.analysis.report import plot_survival

    out = Path(out_dir) if out_dir else campaign.output / "collect"
    if not out_dir:         # a folder the user names is theirs to fill
        check_tables_folder(campaign, out)
    out.mkdir(parents=True, exist_ok=True)
    found = runs_to_collect(campaign)
    runs = [run for run in found if run.in_campaign]
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
    # output, a temperature or replica taken out) is named, not analysed (its analysis
    # would be written into its folder with this campaign's settings) nor fitted
    dropped = [(run, {"class": classify(run.rundir, jobs), "run": str(run.path),
                      "replica": run.replica, "status": run.rundir.status})
               for run in found if not run.in_campaign]
    unplanned = unplanned_note(campaign, dropped)
    if unplanned:
        print(f"ionmd: note: {unplanned}", file=sys.stderr)
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
        reports[key] = [FailureReport.from_dict(res["failure"])
                        for lb, (run, res) in zip(labels, per_run)
                        if lb == label and run.model == model and "failure" in res]
    reports = {k: v for k, v in reports.items() if v}
    survival = survival_curves(reports) if reports else {}
    if survival and (campaign.protocol.temperature_end is not None
                     or any(r.failed for v in reports.values() for r in v)):
        plot_survival(survival, out / "survival.png")
    else:           # an earlier collect's curves (a failure since analysed otherwise) go
        (out / "survival.png").unlink(missing_ok=True)
    doc = {"campaign": str(campaign.path.resolve()), "name": campaign.name,    # whose tables
           "protocol": campaign.protocol.name, "units": {"D": "cm^2/s", "sigma": "mS/cm",
                                                        "Ea": "eV", "time": "ps"},
           "classes": dict(Counter(res["class"] for _, res in per_run)),
           "complete": all(res["class"] in ANALYSED for _, res in per_run),
           "charges": {name: {"charges": q, **({"note": notes[name]} if notes[name] else {})}
                       for name, q in charges.items()},
           **({"notes": cell_notes} if cell_notes else {}),
           "rows": rows, "arrhenius": fits, "structures": structures, "survival": survival,
           "runs": [run_entry(run, res) for run, res in per_run],
           "not_in_campaign": [run_entry(run, res) for run, res in dropped]}
    strict_json.write(out / "results.json", doc, indent=1)
    write_csv(rows, out / "results.csv")
    write_runs_csv(doc["runs"], out / "runs.csv")
    nothing = nothing_analysed(per_run)
    if nothing:     # the tables are written (they list each run's error): said, not hidden
        raise IonmdError(f"{nothing}; tables: {out}")
    return doc


def nothing_analysed(per_run: list[tuple[PlannedRun, dict]]) -> str | None:
    """Why no run could be analysed, where every finished run's analysis failed (an
    ``[analysis]`` setting no run suits, found after all the compute): collect then has no
    value to report and must not look as if it had. None while a run has its D, or no run
    has ended yet."""
    ended = [res for _, res in per_run if res["class"] in ANALYSED]
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
             "seed": run.seed}
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
    from ionmd.analysis.run_records import write_rows_csv

    write_rows_csv([flat_row(r) for r in rows], path)


__all__ = ["cached_run_results", "charges_for", "charges_note", "collect", "flat_row", "run_entry",
           "runs_to_collect"]
