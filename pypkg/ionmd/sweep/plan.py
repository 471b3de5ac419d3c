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
from ionmd.protocols.plan import check_runs, lay_out_runs, write_runs
from ionmd.sweep.campaign import Campaign


@dataclass
class PlannedRun:
    """A run of the campaign and the velocity seed it uses."""

    rundir: RunDir
    structure: str
    model: str
    temperature: float
    replica: int
    seed: int
    in_campaign: bool = True    # False: a run folder the campaign file no longer plans

    @property
    def path(self) -> Path:
        return self.rundir.path


def plan_campaign(campaign: Campaign, create: bool = False) -> list[PlannedRun]:
    """Every run of ``campaign`` in a fixed order (structure, model, temperature, replica),
    with the temperatures its goal added.

    Parameters
    ----------
    create : bool
        Write the run directories (``submit``); when False existing ones are only checked
        against the campaign's settings (``plan``, ``status``, ``collect``).

    Raises
    ------
    IonmdError
        If a run directory exists with other settings (the campaign file changed).
    """
    from ionmd.sweep.goal import added_temperatures

    laid_out = []                   # planned once: every run checked, then written
    for s in campaign.structures:
        for m in campaign.models:
            protocol = campaign.protocol
            added = added_temperatures(campaign, s.name, m.name) if campaign.goal else ()
            if added:                   # temperatures a goal added (ionmd.sweep.goal)
                protocol = protocol.with_overrides(
                    temperatures=with_added(protocol.temperatures, added))
            charges, guessed = campaign.charges_of(s.name)
            try:        # the guess (None) is made again from s.atoms, and marked guessed
                planned, atoms = lay_out_runs(protocol, s.atoms, m.path, campaign.output,
                                              name=s.name, in_run_cell=s.in_run_cell,
                                              model_name=m.folder, cell=s.cell,
                                              model_label=m.name,   # collect's name
                                              charges=None if guessed else charges)
                if create:
                    settings = check_runs(planned, atoms)
                else:
                    write_runs(planned, atoms, create=False)
            except IonmdError as exc:
                raise IonmdError(changed_campaign_message(campaign, protocol, exc)) from exc
            laid_out.append((s, m, planned, atoms, settings if create else None))
    runs = []
    for s, m, planned, atoms, settings in laid_out:
        if create:      # after every check: a refused campaign leaves no new run folder
            write_runs(planned, atoms, settings=settings)   # behind (collect would count it)
        runs += [PlannedRun(rundir=rd, structure=s.name, model=m.name,
                            temperature=rd.temperature, replica=rd.replica,
                            seed=rd.velocity_seed) for rd in planned]
    return runs


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
        else:
            lines.append(f"{key}: {HINTS.get(key, 'differs')}")
    return (f"{campaign.path}: the campaign changed after its runs were written; run "
            f"directory {path} has other settings:\n  " + "\n  ".join(lines)
            + "\nA written run never changes settings (its results would mix two). Revert "
              "the change, or give the changed campaign another `output` folder; more "
              "temperatures or replicas are accepted (they add runs).")
