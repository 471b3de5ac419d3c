"""Campaigns: structures x models x temperatures x replicas of a protocol, run locally or
on SLURM, resumed from their run directories and collected into one table.

Modules follow the command line ``ionmd sweep plan|submit|status|collect``:
:mod:`source` (campaign file with line numbers), :mod:`campaign` (validation),
:mod:`plan` (the run list), :mod:`state` (what each run directory says, claims),
:mod:`worker` (runs one run, on any executor), :mod:`local` and :mod:`slurm`
(executors), :mod:`submit`, :mod:`collect` (results table, survival curves).
"""

from ionmd.sweep.campaign import Campaign, load_campaign
from ionmd.sweep.plan import PlannedRun, plan_campaign
from ionmd.sweep.source import CampaignError

__all__ = ["Campaign", "CampaignError", "PlannedRun", "load_campaign", "plan_campaign"]
