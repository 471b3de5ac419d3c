"""The run list of a campaign: one run directory per structure x model x temperature x
replica, laid out as :func:`ionmd.protocols.plan_runs` lays them out (same paths and checks
as ``ionmd run``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ionmd.analysis.run_files import SETTINGS
from ionmd.errors import IonmdError
from ionmd.protocols import RunDir
from ionmd.protocols.checks import temperature_folder
from ionmd.protocols.plan import lay_out_runs, write_runs
from ionmd.protocols.run_settings import DamagedRunFile, read_run_settings
from ionmd.sweep.campaign import Campaign


@dataclass
class PlannedRun:
    """A run of the campaign and the velocity seed it uses."""

    rundir: RunDir
    structure: str
    model: str
    temperature: float
    replica: int
    seed: int | None            # None: its settings.json cannot be read (state.DAMAGED)
    in_campaign: bool = True    # False: a run folder the campaign file no longer plans

    @property
    def path(self) -> Path:
        return self.rundir.path


def series_protocol(campaign: Campaign, s, m):
    """The campaign's protocol for structure ``s`` x model ``m``: with the temperatures a
    goal added (ionmd.sweep.goal), also once its table is taken out of the file (their
    runs stay the campaign's: goal_state.added_without_goal_note)."""
    from ionmd.sweep.goal import added_temperatures

    protocol = campaign.protocol
    added = added_temperatures(campaign, s.name, m.name)
    if added:
        protocol = protocol.with_overrides(temperatures=with_added(protocol.temperatures,
                                                                   added))
    return protocol


def lay_out_series(campaign: Campaign, s, m, protocol=None):
    """The run directories the campaign plans for structure ``s`` x model ``m`` and their
    cell (:func:`ionmd.protocols.plan.lay_out_runs`), checking no folder; ``protocol``:
    :func:`series_protocol`'s, made here if not given."""
    protocol = protocol or series_protocol(campaign, s, m)
    charges, guessed = campaign.charges_of(s.name)
    # the guess (None) is made again from s.atoms, and marked guessed; with
    # order_model_rank, the arrangement m's ranking kept (campaign_ranking)
    return lay_out_runs(protocol, s.atoms_for(m), m.path, campaign.output, name=s.name,
                        in_run_cell=s.in_run_cell, model_name=m.folder, cell=s.cell_for(m),
                        model_label=m.name,   # collect's name
                        charges=None if guessed else charges)


def plan_campaign(campaign: Campaign, create: bool = False,
                  retry_failed: bool = False) -> list[PlannedRun]:
    """Every run of ``campaign`` in a fixed order (structure, model, temperature, replica),
    with the temperatures its goal added.

    Parameters
    ----------
    create : bool
        Write the run directories (``submit``); when False existing ones are only checked
        against the campaign's settings (``plan``, ``status``, ``collect``).
    retry_failed : bool
        (with ``create``) A run that stopped on an error holding no result
        (:func:`failed_without_results`: a bad template failing at step 0) takes the
        campaign's settings now where they changed: its retry starts from scratch and
        mixes nothing. Without it such a run keeps its settings and is only not refused.

    Raises
    ------
    IonmdError
        If a run directory exists with other settings (the campaign file changed).
    """
    laid_out = []                   # planned once: every run checked, then written
    for s in campaign.structures:
        for m in campaign.models:
            protocol = series_protocol(campaign, s, m)
            try:
                planned, atoms = lay_out_series(campaign, s, m, protocol)
                kept, settings, changed = checked_runs(   # only existing folders to check
                    planned if create else [rd for rd in planned
                                            if (rd.path / SETTINGS).is_file()], atoms)
                if not create:
                    write_runs(kept, atoms, create=False, settings=settings)
            except IonmdError as exc:
                raise IonmdError(changed_campaign_message(campaign, protocol, exc)) from exc
            laid_out.append((s, m, planned, atoms, kept, settings, changed))
    runs = []
    for s, m, planned, atoms, kept, settings, changed in laid_out:
        if create:      # after every check: a refused campaign leaves no new run folder
            write_runs(kept, atoms, settings=settings)   # behind (collect would count it)
            if retry_failed:
                for rd, wanted in changed:
                    take_new_settings(rd, atoms, wanted)
        write_analysis_settings(campaign, [*kept, *(rd for rd, _ in changed)])
        runs += [PlannedRun(rundir=rd, structure=s.name, model=m.name,
                            temperature=rd.temperature, replica=rd.replica,
                            seed=readable_seed(rd)) for rd in planned]
    return runs


def write_analysis_settings(campaign: Campaign, runs: list[RunDir]) -> None:
    """Give each of ``runs`` whose folder exists the campaign's ``[analysis]`` settings as
    collect applies them (:func:`~ionmd.sweep.campaign_analysis.run_analysis_settings`),
    where it does not hold them already: ``ionmd analyze RUN`` then gives collect's D. An
    analysis setting, not a run's: a changed ``[analysis]`` rewrites it, the run is kept.
    A folder it cannot be written in (a campaign read from a read-only copy) is skipped:
    its analysis says the settings are missing."""
    from ionmd.analysis.run_campaign_settings import (campaign_settings_record,
                                                      write_campaign_settings)
    from ionmd.sweep.campaign_analysis import run_analysis_settings

    for rd in runs:
        if not (rd.path / SETTINGS).is_file():
            continue
        record = campaign_settings_record(
            campaign.path.resolve(), run_analysis_settings(campaign.analysis, rd.protocol))
        try:
            write_campaign_settings(rd.path, record)
        except OSError:
            continue


def readable_seed(rd: RunDir) -> int | None:
    """The run's velocity seed; None where its ``settings.json`` cannot be read (the run
    is then :data:`~ionmd.sweep.state.DAMAGED`, shown and left alone as such)."""
    try:
        return rd.velocity_seed
    except DamagedRunFile:
        return None


def checked_runs(planned: list[RunDir], atoms) -> tuple[list[RunDir], list[dict], list]:
    """Each run of ``planned`` checked against its folder's settings, writing nothing:
    the runs whose folders hold the same (or none) and their settings (for
    :func:`~ionmd.protocols.plan.write_runs`), and the (run, settings now) of those that
    differ but stopped on an error holding no result (:func:`failed_without_results`).

    A folder whose ``settings.json`` cannot be read is in neither list: it is left as it
    is, a :data:`~ionmd.sweep.state.DAMAGED` run.

    Raises
    ------
    IonmdError
        For the first run whose folder holds other settings and a result (or a run going on).
    """
    kept, settings, changed = [], [], []
    for rd in planned:
        try:
            if (rd.path / SETTINGS).is_file():
                read_run_settings(rd.path)      # a run's settings, not only JSON
            wanted = rd.check(atoms)
        except DamagedRunFile:      # its settings.json holds no run's settings: neither
            continue                # reopened nor written over (state.DAMAGED says why)
        except IonmdError:
            if not failed_without_results(rd):
                raise
            changed.append((rd, rd.settings(atoms)))
            continue
        kept.append(rd)
        settings.append(wanted)
    return kept, settings, changed


def failed_without_results(rd: RunDir) -> bool:
    """Whether ``rd`` stopped on an error (``failed-error``: its retry starts from scratch)
    before it held any result: no MD step past the first (its status' step, every piece's
    log), no restart file. A frame of step 0 is the starting structure, no result."""
    from ionmd.lammps.log import finished_loops
    from ionmd.lammps.thermo_log import unfinished_md_steps

    status = rd.status
    if status.get("state") != "failed" or status.get("resumable") or "failed_step" in status:
        return False
    if int(status.get("step") or 0) > 0 or any(rd.path.glob("restart.*")):
        return False
    for log in rd.path.glob("log.*.lammps"):
        text = log.read_text(errors="replace")
        if any(not loop.minimization for loop in finished_loops(text)) \
                or unfinished_md_steps(text) > 0:
            return False
    return True


def take_new_settings(rd: RunDir, atoms, wanted: dict) -> None:
    """Give a run that failed holding no result (:func:`failed_without_results`) the
    campaign's settings now (``wanted``: a fixed template's hash, a new model...): its data
    file from ``atoms``, then ``settings.json`` (last: a submit killed between the two
    leaves the old settings, refused or retaken next time). ``submit --retry-failed``
    then resets it (pieces deleted, their compute kept in the status) and runs it anew."""
    import os

    from ionmd.lammps.data_file import write_data
    from ionmd.protocols.run_settings import DATA

    tmp = rd.path / (DATA + ".tmp")
    write_data(atoms, tmp, rd.elements)
    os.replace(tmp, rd.path / DATA)
    rd.write_json(SETTINGS, wanted)


def with_added(temperatures, added) -> tuple[float, ...]:
    """The campaign's temperatures and those a goal added, one per run folder: an added
    temperature whose folder is taken (a goal.json written before new temperatures were
    told apart by folder: 1200.004 K next to 1200 K) is that folder's run, not a second."""
    by_folder = {temperature_folder(t): t for t in added}
    by_folder.update({temperature_folder(t): t for t in temperatures})
    return tuple(sorted(by_folder.values()))


HINTS = {"model_hash": "the model file's contents changed",
         "structure_hash": ("the structure (or its order settings) changed, or ionmd's "
                            "ordering search (another ionmd version)"),
         "velocity_seed": "the seed changed", "template_hash": "the input template changed",
         "elements": "the model's elements changed"}


def changed_campaign_message(campaign: Campaign, protocol, exc: IonmdError) -> str:
    """:func:`ionmd.protocols.plan_runs`'s refusal of a run directory written with other
    settings, said for a campaign: each setting as the run has it and as the campaign file
    now says, and what to do."""
    import json
    import re

    text = str(exc)
    m = re.search(r"(\S+) exists with other settings \(differs in ([^)]*)\)", text)
    if not m:
        return text
    path, keys = Path(m.group(1)), [k.strip() for k in m.group(2).split(",")]
    try:
        have = json.loads((path / SETTINGS).read_text())
    except (OSError, ValueError):
        return text
    now = json.loads(json.dumps(protocol.to_dict()))
    lines = []
    for key in keys:
        if key.startswith("protocol."):
            name = key.split(".", 1)[1]
            lines.append(f"{key}: the run has {have.get('protocol', {}).get(name)!r}, the "
                         f"campaign file now gives {now.get(name)!r}")
        elif key == "model_hash" and getattr(exc, "model_note", ""):
            lines.append(f"{key}: {exc.model_note}")     # which file, which hashes, what to do
        else:
            lines.append(f"{key}: {HINTS.get(key, 'differs')}")
    return (f"{campaign.path}: the campaign changed after its runs were written; run "
            f"directory {path} has other settings:\n  " + "\n  ".join(lines)
            + "\nA written run never changes settings (its results would mix two). Revert "
              "the change, or give the changed campaign another `output` folder; more "
              "temperatures or replicas are accepted (they add runs); runs that stopped on "
              "an error before any result (a bad template at step 0) take the changed "
              "settings with `ionmd sweep submit --retry-failed`."
            + analysis_edit_hint(keys))


def analysis_edit_hint(keys: list[str]) -> str:
    """Where only analysis settings a run folder's ``run.json`` may hold differ (a longer
    ``discard_ps``): the documented way to analyse written runs otherwise, kept across
    relaunches; "" otherwise."""
    from ionmd.protocols.rundir import EDITABLE_RUN_JSON_KEYS

    names = [k.split(".", 1)[1] for k in keys if k.startswith("protocol.")]
    if not names or len(names) < len(keys) or not set(names) <= set(EDITABLE_RUN_JSON_KEYS):
        return ""
    edits = ", ".join(f'"{n}"' for n in names)
    what = "is an analysis setting" if len(names) == 1 else "are analysis settings"
    return (f"\n{edits} {what}: to analyse the written runs with the new value, revert the "
            f"campaign file and edit {edits} in each run folder's "
            f"run.json instead (kept when a run is resumed, extended or retried; `ionmd sweep "
            f"collect` analyses the edited runs again; see docs/sweeps.md)")
