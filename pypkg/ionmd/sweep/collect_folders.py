"""Which run folders ``ionmd sweep collect`` reads and where it writes: the campaign's
planned runs as they are on disk where they are its runs (:func:`folders_to_collect`), the
folders beside them it does not plan (:func:`unplanned_note`) and those at its runs'
places holding other runs (:func:`not_the_campaigns_note`), each run's cell as the rows name it
(:func:`cell_labels`), and the tables folder another campaign file of the same output
holds (:func:`check_tables_folder`, :func:`other_campaign_of_output`: the goal's
``goal.json`` too)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from ionmd.errors import IonmdError
from ionmd.sweep.campaign import Campaign, output_folder
from ionmd.sweep.plan import PlannedRun


def cell_labels(per_run: list[tuple[PlannedRun, dict]], campaign: Campaign
                ) -> tuple[list[str], list[str]]:
    """Each run's structure as the rows and fits name it, and notes: the campaign's name,
    with its cell's formula added (``LiCl[Li81Cl108]``) where one structure's runs under one
    model are of several cells (folders whose trajectories are of another cell than their
    settings record: a folder of another structure hash is not the campaign's run,
    :func:`folders_to_collect`), by ``ionmd analyze``'s own series (:func:`ionmd.analysis.report.series_names`);
    a run not analysed goes with the others where they are of one cell, else with those of
    the campaign's cell now (it will be written with it). A note per such structure names
    each cell's runs (:func:`ionmd.analysis.report.split_cells_notes`)."""
    from ionmd.analysis.series_identity import series_keys, series_names, split_cells_notes
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
    """The runs of :func:`folders_to_collect`, without why a folder is not the campaign's
    (``in_campaign`` False for those)."""
    return [run for run, _ in folders_to_collect(campaign)]


OTHER_SETTINGS = "written with other settings than the campaign's run at its place"
"""How :func:`folders_to_collect`'s reason starts for a folder at a planned run's path
holding another run (:func:`not_the_campaigns_note`)."""

COPY = "a copy or a moved folder of that run"

IDENTITY_KEYS = ("model_hash", "structure_hash", "elements", "temperature_K", "replica")
"""The settings that make a run folder another run than the one the campaign plans at its
path (another model, structure, temperature or replica), not the same run of an edited
campaign file (a protocol setting changed after it ran: it reports what ran)."""


def folders_to_collect(campaign: Campaign) -> list[tuple[PlannedRun, str | None]]:
    """Each run folder under the campaign's structure/model/protocol folders with why it
    is not the campaign's (None where it is), in the campaign's order (structure, model,
    temperature, replica), then the planned runs that have no folder yet.

    A planned run is the folder the campaign plans for its (temperature, replica), read
    from its own ``settings.json`` (a campaign file edited later reports what ran), where
    that holds the campaign's model identity, structure, elements, temperature and
    replica, as ``status`` and ``submit`` compare them (:func:`_not_this_run`): a folder
    of another model (the file replaced, another user's model with one output) is not it.
    Every other folder (a copy such as ``r0.bak``, a temperature or replica taken out of
    the file, another campaign file's run) is named apart: ``in_campaign`` False and why."""
    from ionmd.protocols import RunDir
    from ionmd.protocols.plan import run_path
    from ionmd.analysis.run_files import SETTINGS
    from ionmd.protocols.run_settings import DamagedRunFile
    from ionmd.sweep.plan import lay_out_series, readable_seed

    p = campaign.protocol
    found: list[tuple[PlannedRun, str | None]] = []
    for s in campaign.structures:
        for m in campaign.models:
            planned, atoms = lay_out_series(campaign, s, m)
            base = run_path(campaign.output, s.name, m.path, p.name, 0, 0, m.folder).parent.parent
            at = {rd.path: rd for rd in planned}
            mine, apart = [], []
            for rd in planned:
                why = None
                if (rd.path / SETTINGS).is_file():
                    why = _not_this_run(rd, atoms)
                    try:
                        rd = RunDir.open(rd.path)   # as it ran (the file may be edited)
                    except DamagedRunFile:          # the run at its place: state.DAMAGED
                        pass
                mine.append((PlannedRun(rundir=rd, structure=s.name, model=m.name,
                                        temperature=rd.temperature, replica=rd.replica,
                                        seed=readable_seed(rd), in_campaign=why is None), why))
            for settings in sorted(base.glob(f"T*K/r*/{SETTINGS}")):
                if settings.parent in at:
                    continue
                try:
                    rd = RunDir.open(settings.parent)
                except DamagedRunFile as exc:   # a copy cut short (r0.bak): named apart as
                    apart.append(_unreadable_apart(settings.parent, planned, s, m, exc))
                    continue                    # damaged; before, collect stopped at it
                apart.append((PlannedRun(rundir=rd, structure=s.name, model=m.name,
                                         temperature=rd.temperature, replica=rd.replica,
                                         seed=rd.velocity_seed, in_campaign=False),
                              _unplanned_why(campaign, rd, planned)))
            found += sorted(mine + apart, key=lambda e: (e[0].temperature, e[0].replica,
                                                         e[1] is not None, str(e[0].path)))
    return found


def _unreadable_apart(path: Path, planned: list, s, m, exc: Exception
                      ) -> tuple[PlannedRun, str]:
    """A folder the campaign does not plan whose ``settings.json`` cannot be read, as
    :func:`folders_to_collect` names it apart: at the temperature and replica its folder
    names say (else the first planned run's), its class ``damaged``
    (:func:`ionmd.sweep.state.classify` reads its settings), why: the file's refusal."""
    from dataclasses import replace

    from ionmd.analysis.run_files import folder_temperature

    number = re.match(r"r(\d+)", path.name)
    rd = replace(planned[0], path=path,
                 temperature=folder_temperature(path.parent) or planned[0].temperature,
                 replica=int(number.group(1)) if number else planned[0].replica)
    return (PlannedRun(rundir=rd, structure=s.name, model=m.name, temperature=rd.temperature,
                       replica=rd.replica, seed=None, in_campaign=False), str(exc))


def _not_this_run(rd, atoms) -> str | None:
    """Why the folder at ``rd``'s path holds another run than ``rd`` (the campaign's run
    there), by the check ``status`` and ``submit`` refuse it by
    (:func:`ionmd.sweep.plan.checked_runs`, :mod:`ionmd.protocols.run_settings`): the
    settings of :data:`IDENTITY_KEYS` that differ, the model's hashes and files where the
    model differs; None where it is that run (also another export of its model, or its
    protocol settings edited in the campaign file since) or it stopped on an error
    holding no result (``submit --retry-failed`` gives it the campaign's settings)."""
    from ionmd.protocols.run_settings import run_defining_settings
    from ionmd.sweep.plan import HINTS, checked_runs

    try:
        checked_runs([rd], atoms)
        return None
    except IonmdError as exc:
        note = getattr(exc, "model_note", "")
    have, wanted = run_defining_settings(rd.read_json("settings.json"), rd.settings(atoms))
    keys = [k for k in IDENTITY_KEYS if have.get(k) != wanted.get(k)]
    if not keys:
        return None
    said = "; ".join(note if k == "model_hash" and note else f"{k}: {HINTS.get(k, 'differs')}"
                     for k in keys)
    return f"{OTHER_SETTINGS} (differs in {', '.join(keys)}): {said}"


def _unplanned_why(campaign: Campaign, rd, planned: list) -> str:
    """Why a folder at no path the campaign plans is not its run: a copy or a moved
    folder of a planned (temperature, replica), naming the campaign's folder of it, or
    a temperature or replica the file does not plan."""
    own = next((p for p in planned if (p.temperature, p.replica) == (rd.temperature,
                                                                       rd.replica)), None)
    if own is not None:
        return (f"its settings.json names {rd.temperature:g} K replica {rd.replica}, whose "
                f"run is {_under(campaign, own.path)}: {COPY} (never analysed in its place)")
    return (f"{rd.temperature:g} K replica {rd.replica} is not planned by "
            f"{campaign.path.name}")


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
    where = "; ".join(f"{_under(campaign, run.path)} ({res['class']})"
                      + (f": {res['why']}" if COPY in res.get("why", "") else "")
                      for run, res in runs)
    return (f"{len(runs)} run folder(s) under {campaign.output} are not planned by "
            f"{campaign.path.name} (another campaign file with this output, temperatures "
            f"or replicas taken out of this one, or a copy of a run): {where}. They are left "
            f"out of its table and "
            f"fits (results.json not_in_campaign); to report them here, list their "
            f"temperatures and replicas in {campaign.path.name} (a finished run is not run "
            f"again; submit runs the others)")


def not_the_campaigns_note(campaign: Campaign, runs: list[tuple[PlannedRun, dict]]
                           ) -> str | None:
    """Why collect's tables are not the campaign's whole result where folders at its
    planned runs' places hold other runs (``runs``: each with its class and ``why``: another
    model, structure or run, :data:`OTHER_SETTINGS`): which folders and why, that they are
    left out of its table and fits (``results.json`` ``not_in_campaign``), and what to do,
    as ``status`` refuses them; None where there are none."""
    if not runs:
        return None
    where = "; ".join(f"{_under(campaign, run.path)} ({res['class']})" for run, res in runs)
    return (f"{len(runs)} run folder(s) under {campaign.output} where {campaign.path.name} "
            f"plans its runs hold runs of other settings (`ionmd sweep status` refuses the "
            f"campaign for them): {where}; the first: {runs[0][1]['why']}. They are not this "
            f"campaign's results: left out "
            f"of its table and fits (results.json not_in_campaign, with why). Collect them "
            f"with the campaign file and model they were made with, or give this campaign "
            f"another `output` folder for its own runs")


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


__all__ = ["IDENTITY_KEYS", "OTHER_SETTINGS", "cell_labels", "check_tables_folder",
           "folders_to_collect", "not_the_campaigns_note", "other_campaign_of_output", "planned_temperatures", "runs_to_collect",
           "unplanned_note"]
