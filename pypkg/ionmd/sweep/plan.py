"""The run list of a campaign: one run directory per structure x model x temperature x
replica, laid out by :func:`ionmd.protocols.plan_runs` (same paths as ``ionmd run``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ionmd.protocols import RunDir, plan_runs
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

    runs = []
    for s in campaign.structures:
        for m in campaign.models:
            protocol = campaign.protocol
            added = added_temperatures(campaign, s.name, m.name) if campaign.goal else ()
            if added:                   # temperatures a goal added (ionmd.sweep.goal)
                protocol = protocol.with_overrides(
                    temperatures=tuple(sorted(set(protocol.temperatures) | set(added))))
            for rd in plan_runs(protocol, s.atoms, m.path, campaign.output, name=s.name,
                                create=create, in_run_cell=s.in_run_cell):
                runs.append(PlannedRun(rundir=rd, structure=s.name, model=m.name,
                                       temperature=rd.temperature, replica=rd.replica,
                                       seed=rd.velocity_seed))
    return runs
