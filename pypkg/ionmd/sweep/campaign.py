"""A campaign: structures x models x temperatures x replicas of one protocol, with the
resources each run needs and where to run them. Read from a TOML or YAML file and checked
completely before anything is written or submitted; every problem is reported with the
line of the campaign file to fix (all problems at once).

File reference: ``docs/sweeps.md``; example: ``examples/campaign.toml``.
"""

from __future__ import annotations

import glob
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ionmd.errors import IonmdError
from ionmd.protocols.checks import range_problem, unknown_elements
from ionmd.protocols.presets import PRESETS, Protocol, parse_temperatures, parse_time_ps
from ionmd.suggest import closest, did_you_mean
from ionmd.sweep.source import CampaignError, Source, read_source

TOP_PROTOCOL_KEYS = ("temperatures", "replicas", "seed")   # may stand outside [protocol]
ORDER_KEYS = ("order", "order_seed", "order_tol", "order_min_distance")
TOP_KEYS = ("name", "output", "structures", "models", "protocol", "temperatures", "replicas",
            "seed", "resources", "executor", "analysis", "goal") + ORDER_KEYS
RESOURCE_KEYS = ("ranks", "threads", "gpus", "walltime")
LOCAL_KEYS = ("kind", "cores", "launcher")
SLURM_KEYS = ("kind", "partition", "account", "qos", "runs_per_job", "array_parallelism",
              "launcher", "srun_args", "setup", "sbatch", "mem_gb", "constraint")
FAILURE_KEYS = ("volume_limit", "runaway_factor", "melt_fraction", "collapse_fraction")
GOAL_KEYS = ("sigma_300K_factor", "budget", "step", "temperatures", "target_K")
BUDGET_UNITS = {"gpu-h": "GPU-h", "core-h": "core-h", "h": "h"}
ANALYSIS_KEYS = ("charges", "fit_start_ps", "fit_end_ps", "window_ps", "mcmc_samples",
                 "haven_ratio") + FAILURE_KEYS


@dataclass
class StructureEntry:
    """One structure of the campaign (ordered, as the runs will use it)."""

    name: str
    source: str
    line: int
    atoms: object = None          # ase.Atoms, filled by validation
    in_run_cell: bool = False     # ordered in the protocol's supercell (not repeated again)
    cell: object = None           # the run cell (ase.Atoms), built once by validation
    charges: dict = field(default_factory=dict)    # as `ionmd run` records them: the file's
    charges_guessed: bool = False  # declared states, else the guess (prepare.run_charges)
    stem: str = ""                # its file's own name, where a clash named it by its folders


@dataclass
class ModelEntry:
    name: str                     # in tables and goal series: the stem of the file as listed
    path: Path
    line: int
    elements: list[str] = field(default_factory=list)
    folder: str = ""              # of its runs: the stem of the file itself (a link's target)


@dataclass
class Resources:
    """Per run: MPI ranks, OpenMP/torch threads per rank, GPUs, walltime in minutes."""

    ranks: int = 1
    threads: int = 1
    gpus: int = 0
    walltime_min: float = 60.0

    @property
    def cores(self) -> int:
        return self.ranks * self.threads


@dataclass
class Analysis:
    charges: dict[str, float] | str = "auto"
    fit_start_ps: float = 1.0
    fit_end_ps: float | None = None
    window_ps: float = 15.0
    mcmc_samples: int = 400   # unused since D and sigma need no sampler; older files have it
    haven_ratio: float = 1.0
    failure: dict[str, float] = field(default_factory=dict)   # detect_failures thresholds


@dataclass
class Goal:
    """Spend ``budget`` (per structure x model) on narrowing sigma(target_K) until it is
    known within ``sigma_factor`` either way (:mod:`ionmd.sweep.goal`)."""

    sigma_factor: float
    budget: float
    unit: str                       # "GPU-h", "core-h" or "h" (wall hours of a run)
    step_ps: float                  # analysed ps added per decision
    candidates_K: tuple[float, ...]  # where new runs may start
    target_K: float = 300.0


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

    def charges_of(self, structure: str) -> tuple[dict[str, float], bool]:
        """The charges of ``structure``'s runs and whether they are ionmd's guess, one rule
        for its run folders (``run.json`` ``charges``, ``charges_guessed``), ``collect``
        and ``ionmd analyze RUN``: the ``[analysis] charges`` table (the user's), else as
        ``ionmd run`` has them (the file's declared oxidation states, else the guess)."""
        if isinstance(self.analysis.charges, dict):
            return {k: float(v) for k, v in self.analysis.charges.items()}, False
        s = next(s for s in self.structures if s.name == structure)
        return dict(s.charges), s.charges_guessed


class _Errors:
    """Collects ``(line, message)`` pairs and raises them as one CampaignError."""

    def __init__(self, src: Source):
        self.src, self.items = src, []

    def add(self, key: tuple, msg: str) -> None:
        self.items.append((self.src.line(*key), msg))

    def raise_if_any(self) -> None:
        if self.items:
            items = sorted(self.items, key=lambda x: x[0])
            lines = [f"{self.src.path}, line {n}: {m}" for n, m in items]
            raise CampaignError(f"{len(lines)} problem(s) in the campaign file (nothing was "
                                f"submitted):\n  " + "\n  ".join(lines))


def parse_walltime(value) -> float:
    """Minutes from a number (minutes), ``"90min"``, ``"2h"``, ``"30s"``, ``"1d"`` or SLURM's
    ``MM``, ``MM:SS``, ``HH:MM:SS``, ``D-HH``, ``D-HH:MM``, ``D-HH:MM:SS``.

    Raises
    ------
    ValueError
        If the text is none of these.
    """
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().lower()
    m = re.fullmatch(r"([0-9.]+)\s*(s|sec|min|m|h|d)", text)
    if m:
        return float(m.group(1)) * {"s": 1 / 60, "sec": 1 / 60, "min": 1, "m": 1, "h": 60,
                                    "d": 1440}[m.group(2)]
    days = 0
    if "-" in text:
        d, text = text.split("-", 1)
        days = int(d)
        parts = [int(p) for p in text.split(":")]
        parts += [0] * (3 - len(parts))            # D-HH[:MM[:SS]]
        h, mi, s = parts
    else:
        parts = [int(p) for p in text.split(":")]
        if len(parts) == 1:
            h, mi, s = 0, parts[0], 0
        elif len(parts) == 2:
            h, mi, s = 0, parts[0], parts[1]
        elif len(parts) == 3:
            h, mi, s = parts
        else:
            raise ValueError(value)
    return days * 1440 + h * 60 + mi + s / 60


def _int(errors: _Errors, key: tuple, value, minimum: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        errors.add(key, f"{'.'.join(map(str, key))} must be an integer >= {minimum} (got {value!r})")
        return None
    return value


def _in_range(errors: _Errors, key: tuple, value) -> bool:
    """Whether ``value`` of campaign key ``key`` is inside its range
    (:data:`ionmd.protocols.checks.RANGES`: NaN and infinities never are); if not, says
    so on its line."""
    why = range_problem(".".join(map(str, key)), value)
    if why:
        errors.add(key, why)
    return why is None


def campaign_path(base: Path, text: str) -> Path:
    """A path as a campaign file gives it: ``~`` is the home folder (as in a shell), a
    relative path is read from the campaign file's folder ``base``.

    ``~`` stays a plain name where a shell keeps it too (``~nosuchuser``, no home folder
    known) and where ``base`` holds that path already: earlier versions read
    ``output = "~/runs"`` as ``<base>/~/runs``, and a campaign resumed from such a file
    goes on in the folder its runs are in."""
    literal = base / text
    if text.startswith("~") and not literal.exists():
        try:
            return Path(text).expanduser()
        except RuntimeError:        # no such user, or no home folder: a shell keeps it
            pass
    return Path(text) if os.path.isabs(text) else literal


def _check_keys(errors: _Errors, table: dict, key: tuple, known: tuple) -> None:
    for k in table:
        if k not in known:
            errors.add(key + (k,), f"unknown key {'.'.join(map(str, key + (k,)))!r}"
                                   f"{did_you_mean(k, known)}; known: {', '.join(known)}")


def load_campaign(path: str | Path, check_resources: bool = True) -> Campaign:
    """Read and validate a campaign file.

    Checks: known keys; the protocol exists and its overrides are valid
    (:func:`ionmd.protocols.check_protocol`); every structure exists, is readable and is
    ordered (or an ``order`` method is given); every model file exists, has ionmd metadata
    and knows every element of every structure; temperatures, replicas; resources possible
    for the executor (ranks x threads within the local cores or a SLURM partition's nodes,
    GPUs present, walltime > 0).

    Raises
    ------
    CampaignError
        Listing every problem with its line.
    """
    src = read_source(path)
    data, base = src.data, src.path.resolve().parent
    errors = _Errors(src)
    _check_keys(errors, data, (), TOP_KEYS)
    protocol = _protocol(src, errors)
    structures = _structures(src, errors, base, protocol.supercell if protocol else None)
    models = _models(src, errors, base)
    output = data.get("output", "runs")
    if not isinstance(output, str) or not output:
        errors.add(("output",), f"output must be a folder name (got {output!r})")
        output = "runs"
    output = campaign_path(base, output).resolve()
    if output.exists() and not output.is_dir():
        errors.add(("output",), f"output {data['output']!r} is the file {output}, not a folder: "
                                f"give the folder the run directories go to (a relative one "
                                f"is read from the campaign file's folder)")
    _name_models(errors, models, output)
    _check_cells(errors, structures, protocol)
    if not errors.items:        # every cell valid: the run cells can be built
        _keep_structure_folders(structures, output, protocol)
    for s in structures:
        if s.atoms is None:
            continue
        present = set(s.atoms.get_chemical_symbols())
        for m in models:
            why = m.elements and unknown_elements(present, m.elements, repr(s.name),
                                                  f"{m.name!r} (line {m.line})")
            if why:
                errors.items.append((s.line, why))
    resources = _resources(src, errors)
    executor = _executor(src, errors, resources, check_resources)
    analysis = _analysis(src, errors)
    _check_charges(errors, analysis, structures, protocol)
    goal = _goal(src, errors, protocol, resources)
    name = data.get("name", src.path.stem)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        errors.add(("name",), f"name must be letters, digits, '_', '-' or '.' (got {name!r})")
        name = "campaign"
    errors.raise_if_any()
    return Campaign(path=src.path, name=name, output=output,
                    structures=structures, models=models, protocol=protocol,
                    resources=resources, executor=executor, analysis=analysis, source=src,
                    goal=goal)


def _protocol(src: Source, errors: _Errors) -> Protocol | None:
    from ionmd.protocols.checks import apply_overrides, check_protocol, field_name

    table = src.data.get("protocol")
    if isinstance(table, str):
        table = {"name": table}
    if not isinstance(table, dict) or "name" not in table:
        errors.add(("protocol",), f"protocol: give a [protocol] table with name = one of "
                                  f"{', '.join(PRESETS)} (and any parameter to override)")
        return None
    name = table["name"]
    if not isinstance(name, str) or name not in PRESETS:
        errors.add(("protocol", "name"), f"unknown protocol {name!r}; choose one of "
                                         f"{', '.join(PRESETS)}")
        return None
    if PRESETS[name].family != "md":
        errors.add(("protocol", "name"), f"protocol {name!r} is not an MD protocol; campaigns run "
                                         f"MD presets (E-V scans: `ionmd run {name}` per structure)")
        return None
    overrides = {}
    for key, value in table.items():
        if key == "name":
            continue
        overrides[key] = tuple(value) if isinstance(value, list) else value
    if isinstance(overrides.get("template"), str):   # relative to the campaign file
        template = campaign_path(src.path.resolve().parent, overrides["template"]).resolve()
        if not template.is_file():
            errors.add(("protocol", "template"), f"input template {template} not found (a "
                                                 f"relative path is read from the campaign "
                                                 f"file's folder)")
            overrides.pop("template")       # said here, with the folder it was looked for in
        else:
            overrides["template"] = str(template)
    for key in TOP_PROTOCOL_KEYS:
        if key in src.data:
            if key in table:
                errors.add(("protocol", key), f"{key} is given both at the top level (line "
                                              f"{src.line(key)}) and in [protocol]; keep one")
            overrides[key] = src.data[key]
    # the rules of ionmd.protocols.checks, as `ionmd run` and the Python API apply them,
    # each problem on the line of its key
    protocol, problems = apply_overrides(PRESETS[name], overrides)
    for key, message in problems:
        top = key in src.data and key in TOP_PROTOCOL_KEYS
        if not top and message.startswith(f"{field_name(key)} must be "):
            message = "protocol." + message
        if key == "max_time" and "add until" in message:
            message += _old_max_time_note(overrides[key])
        errors.add((key,) if top else ("protocol", key), message)
    if problems:
        return None
    try:    # types were checked by apply_overrides: what is left are settings that clash
        check_protocol(protocol)
    except IonmdError as exc:
        # name the line of the parameter the message is about, if it is in the file
        said = {k: _said(k, str(exc)) for k in overrides}
        hit = next((k for k in overrides if re.search(rf"\b{k}\b", str(exc))), None) or \
            min((k for k in said if said[k] >= 0), key=said.get, default=None)
        where = (hit,) if hit in src.data else (("protocol", hit) if hit else ("protocol", "name"))
        errors.add(where, f"protocol {name!r}: {exc}")
        return None
    return protocol


def _old_max_time_note(value) -> str:
    """What an old campaign file's ``max_time`` without ``until`` meant, and the line that
    says it now: campaigns read it as the runs' fixed length until the protocol rules
    became one for ``ionmd run``, the API and campaigns (70d4b5d)."""
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    return (f". A campaign file written before read max_time without until as the runs' "
            f"fixed length: for that, replace max_time = {text} with time = {text} (runs "
            f"already written with it are kept: their length is the same)")


def _check_cells(errors: _Errors, structures: list[StructureEntry],
                 protocol: Protocol | None) -> None:
    """The cell rules ``ionmd run`` applies (:func:`ionmd.protocols.checks.check_cell`: a
    time step too long for hydrogen, a Berendsen barostat on a triclinic cell), on each
    structure's line; before, they came up only when ``plan``/``submit`` laid the runs
    out, without a line and one structure at a time."""
    from ionmd.protocols.checks import check_cell
    from ionmd.protocols.prepare import run_cell

    if protocol is None:
        return
    for s in structures:
        if s.atoms is None:
            continue
        try:
            s.cell = run_cell(protocol, s.atoms, s.in_run_cell)     # the runs start from it
            check_cell(protocol, s.cell)
        except IonmdError as exc:
            errors.items.append((s.line, f"structure {s.name!r}: {exc}"))


def _said(key: str, message: str) -> int:
    """Where ``message`` first speaks of ``key``, also in words (``timestep_fs`` as "time
    step", ``check_every`` as "check every": spaces, underscores and the unit dropped);
    -1 if it does not (of keys named only in words, the first is the one meant)."""
    def squeeze(text):
        return re.sub(r"[\s_]", "", text.lower())

    return squeeze(message).find(squeeze(re.sub(r"_(fs|ps|K|bar)$", "", key)))


def _structures(src: Source, errors: _Errors, base: Path,
                supercell: str | None = None) -> list[StructureEntry]:
    from ionmd.protocols.checks import folder_name_problem
    from ionmd.structures import example_names, unique_names

    items = src.data.get("structures")
    if isinstance(items, (str, dict)):
        items = [items]
    if not isinstance(items, list) or not items:
        errors.add(("structures",), "structures: give a list of structure files (CIF, POSCAR, "
                                    f"...), glob patterns or shipped examples "
                                    f"({', '.join(example_names())})")
        return []
    campaign_order = {k: src.data[k] for k in ORDER_KEYS if k in src.data}
    order_ok = _order_in_range(errors, (), campaign_order)
    found: list[tuple[tuple, dict, str, str, bool]] = []   # key, entry, path, name, given
    for i, item in enumerate(items):
        key = ("structures", i)
        entry = {"path": item} if isinstance(item, str) else item
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            errors.add(key, f"structure {i + 1}: give a path (or a table with path = ..., and "
                            f"optional name, {', '.join(ORDER_KEYS)})")
            continue
        if isinstance(item, dict):
            _check_keys(errors, entry, key, ("path", "name") + ORDER_KEYS)
        given = entry.get("name")
        if isinstance(given, int) and not isinstance(given, bool):
            given = str(given)                  # name = 2023
        problem = folder_name_problem(given) if given is not None else None
        if problem:
            errors.add(key + ("name",), f"structure name {given!r} {problem}")
            given = None
        text = entry["path"]
        pattern = str(campaign_path(base, text))
        if any(c in text for c in "*?["):
            paths = sorted(glob.glob(pattern))
            if not paths:
                errors.add(key, f"structure pattern {text!r} matches no file (relative to {base})")
                continue
        elif Path(pattern).is_file():
            paths = [pattern]
        elif ("/" not in text and "." not in text
              and text.lower() in {n.lower() for n in example_names()}):
            found.append((key, entry, text, given or text, given is not None))  # shipped
            continue
        else:
            errors.add(key, f"structure {text!r} not found: no file {pattern} and no shipped "
                            f"example of that name ({', '.join(example_names())})")
            continue
        if given is not None and len(paths) > 1:
            errors.add(key + ("name",), f"name = {given!r} names one structure but {text!r} "
                                        f"matches {len(paths)} files; leave name out (they are "
                                        f"named by their files) or list them one by one")
        names = unique_names(paths)     # mp-*/POSCAR: the folders tell them apart
        one = len(paths) == 1 and given is not None
        found += [(key, entry, path, given if one else name, one)
                  for path, name in zip(paths, names)]
    # names that clash across entries (a/LiCl.cif, b/LiCl.cif listed one by one) are made
    # unique as a glob's are (a_LiCl, b_LiCl); names without a clash stay as they were,
    # so that the runs of an existing campaign keep their folders
    count: dict[str, int] = {}
    for _, _, _, name, _ in found:
        count[name] = count.get(name, 0) + 1
    clashing = [i for i, (_, _, _, name, given) in enumerate(found)
                if count[name] > 1 and not given]
    renamed = dict(zip(clashing, unique_names([found[i][2] for i in clashing])))
    out: list[StructureEntry] = []
    for i, (key, entry, path, name, _) in enumerate(found):
        s = StructureEntry(name=renamed.get(i, name), source=path, line=src.line(*key))
        if not found[i][4] and s.name != Path(path).stem:
            s.stem = Path(path).stem
        order = {**campaign_order, **{k: entry[k] for k in ORDER_KEYS if k in entry}}
        if not (order_ok and _order_in_range(errors, key, entry)):
            out.append(s)           # not loaded: its order settings are said
            continue
        s.atoms, s.in_run_cell, (s.charges, s.charges_guessed) = _load_structure(
            errors, key, path, order, supercell)
        out.append(s)
    seen: dict[str, StructureEntry] = {}
    for s in out:
        first = seen.get(s.name)
        if first is None:
            seen[s.name] = s
        elif Path(first.source).resolve() == Path(s.source).resolve():
            errors.items.append((s.line, f"structure {s.source} is listed twice (lines "
                                         f"{first.line} and {s.line}): its runs would be one "
                                         f"set of run folders; list it once (to run it with two "
                                         f"order settings, give each entry its own name = ...)"))
        else:
            errors.items.append((s.line, f"two structures are named {s.name!r} (lines "
                                         f"{first.line} and {s.line}); give one a name = ..."))
    return out


def _order_in_range(errors: _Errors, key: tuple, table: dict) -> bool:
    """Whether the order settings of ``table`` (the campaign's, or a structure entry's)
    are inside their ranges, as ``--order-tol`` and ``--order-min-distance`` take them;
    each problem on its line."""
    ok = True
    for name in ("order_seed", "order_tol", "order_min_distance"):
        try:        # text that is no number is said when the structure is ordered
            why = range_problem(name, float(table[name])) if name in table else None
        except (TypeError, ValueError):
            why = None
        if why:
            errors.add(key + (name,), why)
            ok = False
    return ok


def _load_structure(errors: _Errors, key: tuple, path: str, order: dict,
                    supercell: str | None = None) -> tuple[object, bool, tuple[dict, bool]]:
    """The ordered, checked cell of ``path`` (``ionmd.structures.load_structure``, as every
    command reads structures; a disordered one ordered in the protocol's ``supercell``) as
    ASE Atoms, whether it is that supercell already, and its charges as ``ionmd run``
    records them (:func:`ionmd.protocols.prepare.run_charges` of the pymatgen structure:
    the file's declared oxidation states, else the guess, and whether guessed); problems go
    to ``errors``."""
    from pymatgen.io.ase import AseAtomsAdaptor

    from ionmd.protocols.prepare import run_charges
    from ionmd.structures import OrderOptions, load_structure

    try:
        options = OrderOptions(method=order.get("order"), seed=int(order.get("order_seed", 0)),
                               occ_tol=float(order.get("order_tol", 2e-3)),
                               min_distance=(None if order.get("order_min_distance") is None
                                             else float(order["order_min_distance"])),
                               supercell=supercell)
        loaded = load_structure(path, options)
        return (AseAtomsAdaptor.get_atoms(loaded.structure), loaded.in_run_cell,
                run_charges(loaded.structure))
    except (TypeError, ValueError) as exc:
        errors.add(key, f"order settings {order}: {exc}")
    except IonmdError as exc:
        errors.add(key, str(exc))
    return None, False, ({}, False)


def _models(src: Source, errors: _Errors, base: Path) -> list[ModelEntry]:
    from ionmd.protocols.prepare import model_elements

    items = src.data.get("models")
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list) or not items:
        errors.add(("models",), "models: give a list of model files exported by `ionmd export`")
        return []
    out = []
    for i, item in enumerate(items):
        key = ("models", i)
        if not isinstance(item, str):
            errors.add(key, f"model {i + 1}: give the path of a model file (got {item!r})")
            continue
        path = campaign_path(base, item)
        m = ModelEntry(name=path.stem, path=path.resolve(), line=src.line(*key),
                       folder=path.resolve().stem)
        if not path.is_file():
            errors.add(key, f"model file {item!r} not found (looked for {path}); export one with "
                            f"`ionmd export ...`")
            continue
        try:
            m.elements = model_elements(path)
        except Exception as exc:     # ModelFileError, or torch failing on a foreign file
            errors.add(key, f"model {item!r}: {exc}")
            continue
        first = next((o for o in out if o.path == m.path), None)
        if first is not None:
            errors.add(key, f"model file {item!r} is listed twice (lines {first.line} and "
                            f"{m.line}); list it once")
            continue
        out.append(m)
    return out


def _name_models(errors: _Errors, models: list[ModelEntry], output: Path) -> None:
    """Name each model's run folders: the stem of its file (a link's target: so ionmd has
    always named them, and a campaign's runs stay where they are), or where two files
    share a stem (``a/model.pt``, ``b/model.pt``: one export per training run) the stem
    with as many parent folders as tell them apart (``a_model``, ``b_model``), as
    structures are named; those two are named so in tables too. Every command (and a
    rerun) finds the same folders; a stem no other model has keeps its name, and so does
    the file whose runs ``output`` already holds under the stem (a second ``model.pt``
    added to a running campaign: the first one's runs keep going)."""
    from ionmd.structures import unique_names

    stems = [m.folder for m in models]
    clashing = [i for i, stem in enumerate(stems) if stems.count(stem) > 1]
    renamed = dict(zip(clashing, unique_names([models[i].path for i in clashing])))
    for stem in {stems[i] for i in clashing}:
        owner = _model_with_runs(output, stem, [models[i].path for i in clashing
                                                if stems[i] == stem])
        for i in clashing:
            if stems[i] == stem and models[i].path == owner:
                renamed[i] = stem
    listed = [m.name for m in models]
    for i, m in enumerate(models):
        m.folder = renamed.get(i, m.folder)
        if listed.count(m.name) > 1:        # a/model.pt, b/model.pt: a_model, b_model
            m.name = m.folder
    for what in ("folder", "name"):
        seen: dict[str, ModelEntry] = {}
        for m in models:
            first = seen.setdefault(getattr(m, what), m)
            if first is not m:          # a folder-named model meets another file's stem
                errors.items.append((m.line, f"two models would share the run-folder name "
                                             f"{getattr(m, what)!r} ({first.path} on line "
                                             f"{first.line} and {m.path}); rename one of the "
                                             f"files"))
                return


def _recorded(output: Path, structure: str, model: str) -> list[dict]:
    """The settings.json of every run under ``output/<structure>/<model>/`` (glob patterns,
    ``*`` for any), in path order; half-written folders are skipped."""
    out = []
    for settings in sorted(output.glob(f"{structure}/{model}/*/T*K/r*/settings.json")):
        try:
            out.append(json.loads(settings.read_text()))
        except (OSError, ValueError):
            continue
    return out


def _model_with_runs(output: Path, name: str, candidates: list[Path]) -> Path | None:
    """The one of ``candidates`` whose runs ``output/*/<name>/`` holds: the file their
    settings.json records, else (the campaign folder moved or copied) the file with the
    contents they record; None where there are no runs or none is theirs."""
    from ionmd.protocols.rundir import file_hash

    recorded = [r for r in _recorded(output, "*", glob.escape(name)) if isinstance(r, dict)]
    paths = {Path(r["model"]).resolve() for r in recorded if isinstance(r.get("model"), str)}
    hashes = {r.get("model_hash") for r in recorded} - {None}
    by_path = [c for c in candidates if c in paths]
    if by_path or not hashes:
        return by_path[0] if by_path else None
    return next((c for c in candidates if file_hash(c) in hashes), None)


def _keep_structure_folders(structures: list[StructureEntry], output: Path, protocol) -> None:
    """A structure named by its folders because another file shares its stem keeps the
    stem where ``output`` already holds runs of its cell under it (a second ``LiCl.cif``
    added to a running campaign: the first one's runs go on where they are), as models do.
    The runs record their starting cell's hash, not the file, so the cell decides."""
    from ionmd.protocols.rundir import structure_hash

    taken = {s.name for s in structures}
    for s in structures:
        if not s.stem or s.stem in taken or s.cell is None or protocol is None:
            continue
        recorded = {r.get("structure_hash") for r in _recorded(output, glob.escape(s.stem), "*")
                    if isinstance(r, dict)} - {None}
        if recorded and structure_hash(s.cell) in recorded:
            taken.discard(s.name)
            s.name = s.stem
            taken.add(s.name)


def _resources(src: Source, errors: _Errors) -> Resources:
    table = src.data.get("resources", {})
    r = Resources()
    if not isinstance(table, dict):
        errors.add(("resources",), "resources must be a table (ranks, threads, gpus, walltime)")
        return r
    _check_keys(errors, table, ("resources",), RESOURCE_KEYS)
    r.ranks = _int(errors, ("resources", "ranks"), table.get("ranks", 1), 1) or 1
    r.threads = _int(errors, ("resources", "threads"), table.get("threads", 1), 1) or 1
    r.gpus = _int(errors, ("resources", "gpus"), table.get("gpus", 0), 0) or 0
    if not _in_range(errors, ("resources", "gpus"), r.gpus):
        r.gpus = 0
    if "walltime" in table:
        try:
            r.walltime_min = parse_walltime(table["walltime"])
        except (ValueError, TypeError):
            errors.add(("resources", "walltime"), f"cannot read walltime {table['walltime']!r}; "
                                                  f"use minutes (90), \"2h\" or \"HH:MM:SS\"")
            return r
        if r.walltime_min <= 0:
            errors.add(("resources", "walltime"), f"walltime must be > 0 (got {table['walltime']!r}); "
                                                  f"no run can finish in zero time")
        elif not _in_range(errors, ("resources", "walltime"), r.walltime_min):
            r.walltime_min = Resources.walltime_min     # said; later checks see a sane one
    return r


def _executor(src: Source, errors: _Errors, r: Resources, check_resources: bool) -> dict:
    key = ("executor",)
    given = src.data.get("executor", {"kind": "local"})
    if not isinstance(given, dict):     # `executor: slurm` reads as a string, not a table
        errors.add(key, f"executor must be a table, got {given!r}: write it as "
                        f"`executor: {{kind: slurm}}` (YAML) or `[executor]` with "
                        f"`kind = \"slurm\"` (TOML), with partition etc. beside kind")
        return {"kind": "local", "launcher": "mpirun", "srun_args": []}
    table = dict(given)
    kind = table.get("kind", "local")
    if kind not in ("local", "slurm"):
        errors.add(key + ("kind",), f"unknown executor {kind!r}; use local or slurm")
        return table
    table["kind"] = kind
    _check_keys(errors, table, key, LOCAL_KEYS if kind == "local" else SLURM_KEYS)
    # SLURM: srun for one rank; for several, the wheel's MPICH under srun needs a PMI
    # (--mpi=pmi2) and measured 7x slower than its own mpirun inside the allocation here
    launcher = table.get("launcher", "srun" if kind == "slurm" and r.ranks == 1 else "mpirun")
    if launcher not in ("mpirun", "srun"):
        errors.add(key + ("launcher",), f"launcher must be mpirun or srun (got {launcher!r})")
    table["launcher"] = launcher
    srun_args = table.get("srun_args", [])
    if not (isinstance(srun_args, list) and all(isinstance(x, str) for x in srun_args)):
        errors.add(key + ("srun_args",), "srun_args must be a list of strings, e.g. [\"--mpi=pmi2\"]")
        srun_args = []
    table["srun_args"] = srun_args
    if launcher == "srun" and r.ranks > 1 and not any(a.startswith("--mpi") for a in srun_args):
        errors.add(key + ("launcher",) if "launcher" in table else ("resources", "ranks"),
                   f"srun with ranks = {r.ranks} needs the MPI's process-management interface: "
                   f"set srun_args = [\"--mpi=pmi2\"] (or your cluster's), or launcher = "
                   f"\"mpirun\"; without it srun starts {r.ranks} independent copies of lmp")
    if kind == "local" and launcher == "srun" and check_resources \
            and "SLURM_JOB_ID" not in os.environ:
        # srun outside an allocation fails at once ("Could not establish a configuration
        # source") and every submit would record the run interrupted at step 0 again
        errors.add(key + ("launcher",), "launcher = \"srun\" with the local executor starts "
                                        "job steps of a SLURM allocation, and this shell has "
                                        "none (no SLURM_JOB_ID): use launcher = \"mpirun\", "
                                        "run `ionmd sweep submit` inside salloc, or use "
                                        "kind = \"slurm\"")
    if kind == "local":
        # the cores this process may use (taskset, cgroups, a SLURM job's), not the machine's
        from ionmd.sweep.local import available_cores

        have, source = available_cores()
        cores = table.get("cores", have)
        if _int(errors, key + ("cores",), cores, 1) is None:
            return table
        if cores > have:
            errors.add(key + ("cores",), f"executor.cores = {cores} but {source} are {have}: "
                                         f"lower executor.cores to {have} or leave it out "
                                         f"(default: the cores available)")
        elif r.cores > cores:
            has = f"{cores}" if "cores" in table else f"{cores} ({source}; executor.cores not set)"
            errors.add(("resources", "ranks"), f"each run needs ranks x threads = {r.ranks} x "
                                               f"{r.threads} = {r.cores} cores but the local "
                                               f"executor has {has}; lower ranks or threads")
        table["cores"] = cores
        if r.gpus and check_resources:
            have_gpus = _local_gpus()
            if r.gpus > have_gpus:
                errors.add(("resources", "gpus"), f"each run asks for {r.gpus} GPU(s) but this "
                                                  f"machine has {have_gpus}; set gpus = 0")
        return table
    for name, minimum in (("runs_per_job", 1), ("array_parallelism", 1)):
        if name in table:
            _int(errors, key + (name,), table[name], minimum)
    job_min = r.walltime_min * _runs_per_job(table)
    if "runs_per_job" in table and not range_problem("resources.walltime", r.walltime_min) \
            and range_problem("resources.walltime", job_min):
        errors.add(key + ("runs_per_job",),
                   f"a job of runs_per_job = {table['runs_per_job']} runs of walltime "
                   f"{r.walltime_min:g} min asks for {job_min:g} min (sbatch --time: the runs "
                   f"go one after the other), more than a year; lower runs_per_job")
    if "setup" in table and not (isinstance(table["setup"], list)
                                 and all(isinstance(x, str) for x in table["setup"])):
        errors.add(key + ("setup",), "setup must be a list of shell lines (e.g. module load ...)")
    if "sbatch" in table and not isinstance(table["sbatch"], dict):
        errors.add(key + ("sbatch",), "sbatch must be a table of extra sbatch options")
    elif "sbatch" in table:
        _check_sbatch_options(errors, table["sbatch"])
    for name in ("partition", "account", "qos", "constraint"):
        if name in table and not (isinstance(table[name], str) and table[name].strip()):
            errors.add(key + (name,), f"{name} must be a non-empty string (got {table[name]!r})")
    if "mem_gb" in table:
        mem = table["mem_gb"]
        if isinstance(mem, bool) or not isinstance(mem, (int, float)) or not mem > 0:
            errors.add(key + ("mem_gb",), f"mem_gb must be a number of GB > 0 per run (got "
                                          f"{mem!r}); leave it out for the partition's default")
        else:
            _in_range(errors, key + ("mem_gb",), mem)
    if check_resources:
        _check_slurm_partition(errors, table, r)
    return table


# sbatch options ionmd sets itself, and the campaign key that sets each
SBATCH_OWN = {"time": "resources.walltime", "t": "resources.walltime",
              "partition": "executor.partition", "p": "executor.partition",
              "account": "executor.account", "A": "executor.account", "qos": "executor.qos",
              "q": "executor.qos", "constraint": "executor.constraint", "C": "executor.constraint",
              "mem": "executor.mem_gb", "gpus": "resources.gpus", "G": "resources.gpus",
              "gpus-per-node": "resources.gpus", "gres": "resources.gpus",
              "cpus-per-task": "resources.threads", "c": "resources.threads",
              "ntasks": "resources.ranks", "n": "resources.ranks",
              "ntasks-per-node": "resources.ranks", "nodes": "resources.ranks (one node per run)",
              "N": "resources.ranks (one node per run)", "job-name": "name", "J": "name",
              "array": "executor.array_parallelism", "a": "executor.array_parallelism",
              "output": "ionmd (job logs go to <output>/.sweep/slurm)", "o": "ionmd (job logs)",
              "error": "ionmd (job logs go to <output>/.sweep/slurm)", "e": "ionmd (job logs)",
              "open-mode": "ionmd (job logs)",
              "signal": "ionmd (the walltime warning that requeues a task)"}


def _sbatch_long_options() -> set[str] | None:
    """The long options ``sbatch --help`` lists (None without sbatch)."""
    import shutil
    import subprocess

    if not shutil.which("sbatch"):
        return None
    found = set()
    for flag in ("--help", "--usage"):
        try:
            res = subprocess.run(["sbatch", flag], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        found |= set(re.findall(r"--([A-Za-z][A-Za-z0-9-]*)", res.stdout + res.stderr))
    return found or None


def _check_sbatch_options(errors: _Errors, table: dict) -> None:
    """Extra sbatch options: not one ionmd sets itself (the campaign key for it is named),
    and (when sbatch runs here) not a misspelling of one sbatch lists (``--help``,
    ``--usage``; an option close to none of them, e.g. ``hint``, which sbatch knows without
    listing it, is left to sbatch)."""
    known = _sbatch_long_options()
    for k, v in table.items():
        key = ("executor", "sbatch", k)
        name = str(k).lstrip("-")
        flag = name if len(name) == 1 else name.replace("_", "-")
        if flag in SBATCH_OWN:
            errors.add(key, f"sbatch option {k!r} is set by ionmd from {SBATCH_OWN[flag]}; "
                            f"set it there (or leave it out)")
        elif known is not None and len(flag) > 1 and (near := closest(flag, sorted(known))):
            errors.add(key, f"sbatch has no option --{flag} (`sbatch --help`); did you mean "
                            f"--{near}?")
        elif isinstance(v, (dict, list)):
            errors.add(key, f"sbatch option {k!r} must be a string, number or true (got {v!r})")


def _runs_per_job(table: dict) -> int:
    """The executor's runs_per_job where it is a whole number >= 1 (else 1: said apart)."""
    n = table.get("runs_per_job", 1)
    return n if isinstance(n, int) and not isinstance(n, bool) and n >= 1 else 1


def _local_gpus() -> int:
    try:
        import torch

        return torch.cuda.device_count()
    except Exception:
        return 0


def _check_slurm_partition(errors: _Errors, table: dict, r: Resources) -> None:
    """Compare the resources with what ``sinfo`` says of the partition (when sinfo runs)."""
    import shutil
    import subprocess

    if not shutil.which("sinfo"):
        return
    try:
        res = subprocess.run(["sinfo", "--noheader", "--format=%P|%c|%l|%G|%m"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return
    if res.returncode:
        return
    parts = {}
    for row in res.stdout.split("\n"):
        if row.strip():
            name, cpus, limit, gres, mem = row.split("|")
            default = name.endswith("*")
            name = name.rstrip("*")
            cpus = int(re.sub(r"\D.*", "", cpus) or 0)
            mem = int(re.sub(r"\D.*", "", mem) or 0)
            p = parts.setdefault(name, {"cpus": 0, "limit": limit, "default": default, "gres": gres,
                                        "mem_mb": 0})
            p["cpus"] = max(p["cpus"], cpus)
            p["mem_mb"] = max(p["mem_mb"], mem)
    want = table.get("partition") or next((n for n, p in parts.items() if p["default"]), None)
    key = ("executor", "partition")
    if want not in parts:
        errors.add(key, f"SLURM partition {want!r} does not exist here; partitions: {', '.join(parts)}")
        return
    p = parts[want]
    if r.cores > p["cpus"] > 0:      # a run is one job on one node
        errors.add(("resources", "ranks"), f"each run needs ranks x threads = {r.cores} cores on "
                                           f"one node but the nodes of partition {want!r} have "
                                           f"{p['cpus']}")
    if p["limit"] not in ("infinite", "n/a", ""):
        try:
            limit = parse_walltime(p["limit"])
        except ValueError:
            return
        per_job = _runs_per_job(table)
        if r.walltime_min * per_job > limit and per_job > 1:
            # a job runs its runs_per_job runs one after the other: sbatch --time is their sum
            errors.add(("executor", "runs_per_job"),
                       f"a job of runs_per_job = {per_job} runs of walltime {r.walltime_min:g} "
                       f"min asks for {r.walltime_min * per_job:g} min, more than the time "
                       f"limit of partition {want!r} ({p['limit']}; such a job waits in the "
                       f"queue for ever, PartitionTimeLimit): lower runs_per_job to "
                       f"{max(1, int(limit // r.walltime_min))} or the walltime")
        elif r.walltime_min > limit:
            errors.add(("resources", "walltime"), f"walltime {r.walltime_min:g} min exceeds the "
                                                  f"time limit of partition {want!r} ({p['limit']})")
    mem = table.get("mem_gb")
    if isinstance(mem, (int, float)) and not isinstance(mem, bool) and mem > 0 and \
            mem * 1024 > p["mem_mb"] > 0:
        errors.add(("executor", "mem_gb"), f"mem_gb = {mem:g} per run but the nodes of partition "
                                           f"{want!r} have {p['mem_mb'] / 1024:.3g} GB (sinfo)")
    if r.gpus and "gpu" not in p["gres"]:
        errors.add(("resources", "gpus"), f"runs ask for {r.gpus} GPU(s) but partition {want!r} "
                                          f"has no GPU resources (gres {p['gres']!r})")


def _check_charges(errors: _Errors, analysis: Analysis, structures: list[StructureEntry],
                   protocol: Protocol | None) -> None:
    """A charges table gives the charge of every mobile species the structures hold
    (``{Lii = 1}`` does not): without it collect has D but no sigma, found only after
    the runs. Elements of no structure are allowed (one table for several campaigns)."""
    charges = analysis.charges
    if not isinstance(charges, dict) or protocol is None:
        return
    present = {el for s in structures if s.atoms is not None
               for el in s.atoms.get_chemical_symbols()}
    where = ("analysis", "charges")
    missing = sorted({sp for sp in protocol.mobile_species if sp in present} - set(charges))
    if missing:
        errors.add(where, f"analysis.charges gives no charge for the mobile species "
                          f"{', '.join(missing)}: collect could not compute sigma; add it "
                          f"(e.g. {missing[0]} = 1) or use charges = \"auto\"")


def _analysis(src: Source, errors: _Errors) -> Analysis:
    table = src.data.get("analysis", {})
    a = Analysis()
    if not isinstance(table, dict):
        errors.add(("analysis",), "analysis must be a table")
        return a
    _check_keys(errors, table, ("analysis",), ANALYSIS_KEYS)
    charges = table.get("charges", "auto")
    if charges != "auto" and not (isinstance(charges, dict) and all(
            isinstance(v, (int, float)) for v in charges.values())):
        errors.add(("analysis", "charges"), "charges must be \"auto\" (pymatgen's oxidation-state "
                                            "guess) or a table such as {Li = 1, Cl = -1}")
    a.charges = charges
    for name in ("fit_start_ps", "fit_end_ps", "window_ps", "haven_ratio") + FAILURE_KEYS:
        if name in table:
            v = table[name]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
                errors.add(("analysis", name), f"{name} must be a positive number (got {v!r})")
            elif not _in_range(errors, ("analysis", name), v):
                continue
            elif name in FAILURE_KEYS:
                a.failure[name] = float(v)
            else:
                setattr(a, name, float(v))
    if "mcmc_samples" in table:
        a.mcmc_samples = _int(errors, ("analysis", "mcmc_samples"), table["mcmc_samples"], 10) or 400
    return a


def parse_budget(value) -> tuple[float, str]:
    """``"200 GPU-h"``, ``"50 core-h"``, ``"3 h"`` -> (amount, unit).

    Raises
    ------
    ValueError
        If it is none of these.
    """
    m = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([A-Za-z-]+)\s*", str(value))
    if not m or m.group(2).lower() not in BUDGET_UNITS:
        raise ValueError(value)
    amount = float(m.group(1))
    if not 0 < amount < float("inf"):
        raise ValueError(value)
    return amount, BUDGET_UNITS[m.group(2).lower()]


def _goal(src: Source, errors: _Errors, protocol: Protocol | None,
          resources: Resources) -> Goal | None:
    table = src.data.get("goal")
    if table is None:
        return None
    if not isinstance(table, dict):
        errors.add(("goal",), 'goal must be a table, e.g. goal = {sigma_300K_factor = 3, '
                              'budget = "200 GPU-h"}')
        return None
    _check_keys(errors, table, ("goal",), GOAL_KEYS)
    ok = True
    factor = table.get("sigma_300K_factor")
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not factor > 1:
        errors.add(("goal", "sigma_300K_factor") if "sigma_300K_factor" in table else ("goal",),
                   f"goal.sigma_300K_factor must be a number > 1: sigma(300 K) known within "
                   f"that factor either way (got {factor!r})")
        ok = False
    elif not _in_range(errors, ("goal", "sigma_300K_factor"), factor):
        ok = False
    try:
        budget, unit = parse_budget(table.get("budget"))
    except ValueError:
        errors.add(("goal", "budget") if "budget" in table else ("goal",),
                   f"goal.budget must be an amount with a unit: \"200 GPU-h\", \"50 core-h\" "
                   f"or \"3 h\" (wall hours) (got {table.get('budget')!r})")
        budget, unit, ok = 0.0, "h", False
    if unit == "GPU-h" and resources.gpus == 0:
        errors.add(("goal", "budget"), "goal.budget is in GPU-h but resources.gpus is 0: give "
                                       "the budget in core-h (or h), or give the runs GPUs")
        ok = False
    step_ps = protocol.check_every_ps if protocol is not None else 20.0
    if "step" in table:
        try:
            step_ps = parse_time_ps(str(table["step"]))
        except IonmdError as exc:
            errors.add(("goal", "step"), f"goal.step: {exc}")
            ok = False
    target = table.get("target_K", 300.0)
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not target > 0:
        errors.add(("goal", "target_K"), f"goal.target_K must be a temperature > 0 (got {target!r})")
        ok = False
    elif not _in_range(errors, ("goal", "target_K"), target):
        ok = False
    if protocol is None or not ok:
        return None
    from ionmd.protocols.checks import steps_problem

    too_long = steps_problem("a new run (discard_ps + goal.step)", protocol.discard_ps + step_ps,
                             protocol.timestep_fs)
    if too_long:    # a new run is discard + step long: one LAMMPS would refuse in a round
        errors.add(("goal", "step"), too_long)
        return None
    temps = sorted(protocol.temperatures)
    if "temperatures" in table:
        try:
            candidates = parse_temperatures(str(table["temperatures"]).strip("[]"))
        except IonmdError as exc:
            errors.add(("goal", "temperatures"), f"goal.temperatures: {exc}")
            return None
        why = range_problem("temperatures", candidates)
        if why:     # where new runs may start: the protocol's temperatures' range
            errors.add(("goal", "temperatures"), f"goal.{why}")
            return None
    else:                       # every 50 K inside the campaign's range
        candidates = tuple(float(t) for t in np.arange(temps[0] + 50.0, temps[-1], 50.0))
    if len(set(temps)) < 2:
        errors.add(("temperatures",) if "temperatures" in src.data else ("protocol",),
                   "a goal needs runs at >= 2 temperatures (an Arrhenius fit extrapolates "
                   "to 300 K)")
        return None
    if protocol.replicas != 1:
        errors.add(("replicas",) if "replicas" in src.data else ("goal",),
                   "a goal extends single runs: use replicas = 1 (the budget buys longer runs "
                   "instead of replicas)")
        return None
    return Goal(sigma_factor=float(factor), budget=budget, unit=unit, step_ps=step_ps,
                candidates_K=tuple(candidates), target_K=float(target))
