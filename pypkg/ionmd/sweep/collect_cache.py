"""Each run of a campaign as ``ionmd sweep collect`` and the goal's rounds read it: its
class and its transport analysis, cached in ``<run>/analysis/sweep_collect.json``
(:func:`cached_run_results`), in the campaign's charges; and the one rule for which runs
give the campaign's points (:func:`counts_for_points`), which collect's rows and fits and
the goal's fit (:func:`ionmd.sweep.goal.measure`) both read, so that the goal is met or not
on the points collect prints."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ionmd import strict_json
from ionmd.errors import IonmdError
from ionmd.sweep import state
from ionmd.sweep.campaign import Campaign
from ionmd.sweep.campaign_analysis import run_analysis_settings
from ionmd.sweep.plan import PlannedRun

ANALYSED = ("completed", "failed-physical")
"""Classes of runs that ended with a result, analysed and counted (:func:`counts_for_points`):
a completed run, and one a physical check stopped (``fix halt`` on the volume, lost atoms),
whose analysis has the transport of its frames before the failure."""


def counts_for_points(res: dict) -> bool:
    """Whether a run (its results, with their ``class``: :func:`cached_run_results`) enters
    the campaign's points: collect's rows (``replicas_done``) and Arrhenius fits, and the
    goal's fit, which must be met on the points collect prints. A run that ended with a
    result (:data:`ANALYSED`) counts where its analysis gives it a point
    (:func:`ionmd.analysis.aggregate.series_points`); a failed one's point (the stretch
    before a melt, lost atoms) is marked failed the same way on both sides
    (:func:`failure_text`). A run still going on, or stopped on an error, gives none."""
    return res.get("class") in ANALYSED


def failure_text(res: dict) -> str:
    """``"failed: <modes>"``, why a run's post-mortem says it failed (melted, lost atoms,
    ...) as collect's left-out reasons name it
    (:func:`ionmd.analysis.aggregate.why_left_out`); ``""`` where it did not fail. Collect
    counts such a run in its row's ``replicas_failed`` and ``failure_modes``; the goal's
    allocator does not price by its point, nor starts runs at or above its temperature
    (:attr:`ionmd.sweep.allocate.TemperatureRun.failed`)."""
    failure = res.get("failure") or {}
    if not failure.get("failed"):
        return ""
    return f"failed: {', '.join(failure.get('modes', [])) or 'see its failure report'}"


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
    if counts_for_points(res):          # in the campaign's words, an old cache's too
        res.pop("charges_replaced", None)
        res.update(replaced_charges(run.rundir, charges))
    return res


RESULTS_VERSION = 8
"""What a run's cached analysis gives (``sweep_collect.json``'s ``results_version``); a
cache of an older one is analysed again (:func:`stale_caches_note`)."""

RESULTS_ADDED = {4: "the runs' cells", 5: "the fit_start_not_diffusive check of D's fit window",
                 6: "a cache that sees edits of the run's run.json (its discard_ps, ...)",
                 7: "no D nor sigma of a run whose barostat ramps its pressure",
                 8: "a thermostat ramp's length, and the D of a run held at temperature_end"}
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
    cls = state.classify(rd, jobs)
    if cls == state.DAMAGED:        # no result; its row says which file and what to do
        return {"class": cls, "run": str(rd.path), "replica": run.replica, "status": {},
                "why": state.run_damage(rd)}
    out = {"class": cls, "run": str(rd.path), "replica": run.replica, "status": rd.status}
    if not counts_for_points(out):
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
    # the settings each run folder carries for `ionmd analyze RUN` (one function: the same
    # fit times, Haven ratio and thresholds, volume_limit 1e9 where the run halts on its
    # own volume change)
    settings_of_run = run_analysis_settings(a, rd.protocol)
    thresholds = settings_of_run["failure"]
    # analysed as `ionmd analyze` does, a ramp too (version 8): a thermostat or barostat
    # ramp gets its post-mortem (its runaway check follows the ramp) and its length but no
    # D (ramp_of), a run held at temperature_end its transport; a failed run gets the
    # transport of its frames before the failure
    try:
        results = analyze_run(spec, rd.path / "analysis",
                              fit_start_ps=settings_of_run["fit_start_ps"],
                              fit_end_ps=settings_of_run["fit_end_ps"],
                              window_ps=settings_of_run["window_ps"],
                              haven_ratio=settings_of_run["haven_ratio"],
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


__all__ = ["ANALYSED", "RESULTS_VERSION", "cached_run_results", "charges_for", "charges_note",
           "counts_for_points", "failure_text", "print_replaced_charges", "replaced_charges",
           "run_json_key", "stale_caches_note"]
