"""A campaign: structures x models x temperatures x replicas of one protocol, with the
resources each run needs and where to run them. Read from a TOML or YAML file and checked
completely before anything is written or submitted; every problem is reported with the
line of the campaign file to fix (all problems at once).

Each part of the file has its module: ``[protocol]`` :mod:`campaign_protocol`,
``structures`` :mod:`campaign_structures`, ``models`` :mod:`campaign_models`,
``[resources]`` :mod:`campaign_resources`, ``[executor]`` :mod:`campaign_executor` and
:mod:`campaign_slurm`, ``[analysis]`` :mod:`campaign_analysis`, ``goal``
:mod:`campaign_goal`, ``order_model_rank`` :mod:`campaign_ranking`; the problems they find are collected by :mod:`campaign_problems`,
and paths are read (and earlier runs found) by :mod:`campaign_paths`. Their names are
importable from here too.

File reference: ``docs/sweeps.md``; example: ``examples/campaign.toml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ionmd.protocols.presets import Protocol
from ionmd.sweep.campaign_analysis import (ANALYSIS_KEYS, FAILURE_KEYS, Analysis,
                                           check_charges, check_fit_window,
                                           check_fit_frames, check_goal_fit_window,
                                           one_fit_start, read_analysis)
from ionmd.sweep.campaign_executor import LOCAL_KEYS, read_executor
from ionmd.sweep.campaign_goal import BUDGET_UNITS, GOAL_KEYS, Goal, parse_budget, read_goal
from ionmd.sweep.campaign_models import (ModelEntry, check_model_elements, name_models,
                                         read_models)
from ionmd.sweep.campaign_paths import campaign_path
from ionmd.sweep.campaign_problems import Problems, check_int, check_keys
from ionmd.sweep.campaign_protocol import TOP_PROTOCOL_KEYS, read_protocol
from ionmd.sweep.campaign_ranking import rank_series
from ionmd.sweep.campaign_resources import (RESOURCE_KEYS, Resources, parse_walltime,
                                            read_resources)
from ionmd.sweep.campaign_slurm import SBATCH_OWN, SLURM_KEYS
from ionmd.sweep.campaign_structures import (ORDER_KEYS, StructureEntry, check_cells,
                                             keep_structure_folders, read_structures)
from ionmd.sweep.source import Source, read_source

TOP_KEYS = ("name", "output", "structures", "models", "protocol", "temperatures", "replicas",
            "seed", "max_runs", "resources", "executor", "analysis", "goal") + ORDER_KEYS

MAX_CAMPAIGN_RUNS = 10_000
"""The most run folders a campaign plans (structures x models x temperatures x replicas)
unless its file raises the bound (``max_runs``): as one series' bound
(:data:`ionmd.protocols.setting_ranges.MAX_SERIES_RUNS`), since 40 temperatures x 10
replicas x 5 models x 20 structures made 40,000 folders, and as many rows and jobs, without
a word."""

__all__ = ["ANALYSIS_KEYS", "BUDGET_UNITS", "FAILURE_KEYS", "GOAL_KEYS", "LOCAL_KEYS",
           "MAX_CAMPAIGN_RUNS", "ORDER_KEYS", "RESOURCE_KEYS", "SBATCH_OWN", "SLURM_KEYS",
           "TOP_KEYS", "TOP_PROTOCOL_KEYS", "Analysis", "Campaign", "Goal", "ModelEntry", "Resources",
           "StructureEntry", "campaign_path", "load_campaign", "parse_budget",
           "parse_walltime"]


@dataclass
class Campaign:
    path: Path
    name: str
    output: Path
    structures: list[StructureEntry]
    models: list[ModelEntry]
    protocol: Protocol
    resources: Resources
    executor: dict
    analysis: Analysis
    source: Source
    goal: Goal | None = None

    @property
    def max_runs(self) -> int:
        """The most run folders the campaign may plan, its goal's added runs counted: its
        file's ``max_runs`` (checked on load), else :data:`MAX_CAMPAIGN_RUNS`."""
        given = self.source.data.get("max_runs")
        return given if isinstance(given, int) and given >= 1 else MAX_CAMPAIGN_RUNS

    def charges_of(self, structure: str) -> tuple[dict[str, float], bool]:
        """The charges of ``structure``'s runs and whether they are ionmd's guess, one rule
        for its run folders (``run.json`` ``charges``, ``charges_guessed``), ``collect``
        and ``ionmd analyze RUN``: the ``[analysis] charges`` table (the user's), else as
        ``ionmd run`` has them (the file's declared oxidation states, else the guess)."""
        if isinstance(self.analysis.charges, dict):
            return {k: float(v) for k, v in self.analysis.charges.items()}, False
        s = next(s for s in self.structures if s.name == structure)
        return dict(s.charges), s.charges_guessed


def load_campaign(path: str | Path, check_resources: bool = True,
                  check_new_runs: bool = True) -> Campaign:
    """Read and validate a campaign file.

    Checks: known keys; the protocol exists and its overrides are valid
    (:func:`ionmd.protocols.check_protocol`); every structure exists, is readable and is
    ordered (or an ``order`` method is given); every model file exists, has ionmd metadata
    and knows every element of every structure; temperatures, replicas; resources possible
    for the executor (ranks x threads within the local cores or a SLURM partition's nodes,
    GPUs present, walltime > 0); ``check_new_runs``: the MSD fit window of the runs it would
    write (the protocol's run lengths, a goal's new runs: ``plan`` and ``submit``'s
    business). ``collect`` (False) analyses the runs on disk by their own lengths, which a
    goal may have made longer, and leaves out by name one too short for the fit start.

    Raises
    ------
    CampaignError
        Listing every problem with its line.
    """
    src = read_source(path)
    base = src.path.resolve().parent
    errors = Problems(src)
    check_keys(errors, src.data, (), TOP_KEYS)
    protocol = read_protocol(src, errors)
    structures = read_structures(src, errors, base, protocol.supercell if protocol else None)
    models = read_models(src, errors, base)
    output = output_folder(src, errors, base)
    name_models(errors, models, output)
    # the elements a model lacks first: of a structure's problems, the one no setting fixes
    check_model_elements(errors, structures, models)
    check_cells(errors, structures, protocol)
    if check_new_runs and protocol is not None:     # before any folder is written
        check_run_count(src, errors, len(structures), len(models), protocol,
                        lambda: written_run_count(output, structures))
    if not errors.items:        # every cell valid: the run cells can be built
        keep_structure_folders(structures, output, protocol)
    resources = read_resources(src, errors)
    executor = read_executor(src, errors, resources, check_resources)
    analysis = read_analysis(src, errors)
    check_charges(errors, analysis, structures, protocol)
    one_fit_start(src, errors, analysis, protocol)
    if check_new_runs:      # of runs still to write: collect reads those written as they are
        check_fit_window(src, errors, analysis, protocol)
    goal = read_goal(src, errors, protocol, resources)
    if check_new_runs:
        new_runs_ps = goal.step_ps if goal and goal.candidates_K else None   # a goal's new runs
        check_goal_fit_window(src, errors, analysis, protocol, new_runs_ps)
        check_fit_frames(src, errors, analysis, protocol, new_runs_ps)
    name = _name(src, errors)
    if not errors.items:    # last: minutes of model energies for a campaign refused anyway
        rank_series(errors, structures, models, output, protocol)
    errors.raise_if_any()
    return Campaign(path=src.path, name=name, output=output,
                    structures=structures, models=models, protocol=protocol,
                    resources=resources, executor=executor, analysis=analysis, source=src,
                    goal=goal)


def written_run_count(output: Path, structures: list[StructureEntry]) -> int:
    """The run folders of the campaign's structures already written in ``output``
    (``<structure>/<model>/<protocol>/T<K>K/r<replica>/settings.json``)."""
    return sum(1 for s in structures
               for _ in (output / s.name).glob("*/*/T*K/r*/settings.json"))


def check_run_count(src: Source, errors: Problems, structures: int, models: int,
                    protocol: Protocol, written=lambda: 0) -> None:
    """Refuse a campaign that plans more run folders than its bound (``max_runs``, default
    :data:`MAX_CAMPAIGN_RUNS`), saying the count, what multiplies to it and how to go on.
    Not where its ``output`` holds as many run folders already (``written()``, counted only
    for a campaign over its bound: a glob of every run folder): submitted
    before (by an ionmd before the bound), it was accepted then and writes none now; a
    change that plans more than it holds is refused as a new campaign is."""
    bound = MAX_CAMPAIGN_RUNS
    if "max_runs" in src.data:
        bound = check_int(errors, ("max_runs",), src.data["max_runs"], 1)
        if bound is None:
            return
    temperatures, replicas = len(protocol.temperatures), protocol.replicas
    runs = structures * models * temperatures * replicas
    if runs <= bound:
        return
    written = written()
    if runs <= written:
        return
    given = "max_runs" in src.data
    errors.add(("max_runs",) if given else ("structures",),
               f"the campaign plans {runs} run folders ({structures} structure(s) x {models} "
               f"model(s) x {temperatures} temperature(s) x {replicas} replica(s)), over "
               + (f"its {written_as(src, 'max_runs', bound)}" if given else
                  f"the bound of {bound} runs a campaign plans unless it says otherwise")
               + (f" and the {written} run folders its output holds already" if written
                  else "")
               + ": each is a folder, a row of plan and status and a job to run. Split it "
               f"(other structures or models in another campaign file with another "
               f"output), plan fewer temperatures or replicas, or, where that many runs are "
               f"meant, raise the bound at the top of the file: "
               f"{written_as(src, 'max_runs', runs)}")


def written_as(src: Source, key: str, value) -> str:
    """A top-level setting as the campaign file writes it, for advice to copy into it:
    ``key = value`` in TOML, ``key: value`` in YAML (:func:`~ionmd.sweep.source.read_source`
    reads the file by its suffix)."""
    yaml = src.path.suffix.lower() in (".yaml", ".yml")
    return f"{key}{': ' if yaml else ' = '}{value}"


def output_folder(src: Source, errors: Problems, base: Path) -> Path:
    """The folder the run directories go to (``output``, default ``runs``, read from the
    campaign file's folder ``base``)."""
    given = src.data.get("output", "runs")
    if not isinstance(given, str) or not given:
        errors.add(("output",), f"output must be a folder name (got {given!r})")
        return campaign_path(base, "runs").resolve()
    output = campaign_path(base, given).resolve()
    if output.exists() and not output.is_dir():
        said = (f"output {given!r} is" if "output" in src.data
                else "output is not set and its default 'runs' is")
        errors.add(("output",), f"{said} the file {output}, not a folder: give the folder the "
                                f"run directories go to (a relative one is read from the "
                                f"campaign file's folder)")
    return output


def _name(src: Source, errors: Problems) -> str:
    """The campaign's name (default: the file's stem), as it names SLURM jobs."""
    name = src.data.get("name", src.path.stem)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        errors.add(("name",), f"name must be letters, digits, '_', '-' or '.' (got {name!r})")
        name = "campaign"
    return name
