"""What analysis reads from a run directory: its RunSpec (run.json plus the files it names).

A run directory (written by the protocols layer) contains the LAMMPS data file, one or
more trajectory pieces (DCD or ``dump custom``), ``log.lammps`` file(s) and ``run.json``.
``run.json`` schema (keys analysis reads; all optional where a default is given, and any
may be overridden on the ``ionmd analyze`` command line)::

    {
      "schema": "ionmd-run/1",
      "temperature_K": 900.0,                 # thermostat target (required unless the
                                              # logs' echoed input says one, see below)
      "timestep_fs": 2.0,                     # MD time step (idem: `timestep`, `units`)
      "dump_every": 50,                       # steps between frames (checked against the files)
      "discard_ps": 5.0,                      # equilibration to drop (default 0)
      "mobile_species": ["Li"],               # default ["Li"]
      "charges": {"Li": 1, "Cl": -1},         # oxidation states (mobile ones required for sigma;
                                              # recorded in results.json: a series whose runs
                                              # differ is warned, mixed_charges)
      "charges_guessed": false,               # the charges are ionmd's guess, not the user's
                                              # (default false: a run.json's are the user's)
      "type_map": {"1": "Cl", "2": "Li"},     # LAMMPS type -> element (default: the
                                              # logs' `pair_coeff * * Cl Li`, else masses)
      "data_file": "struct.data",             # default: the only *.data file
      "atom_style": "id type x y z",          # MDAnalysis columns of its Atoms section
                                              # (default: from its "Atoms # <style>" line,
                                              # else "id type x y z")
      "trajectory": ["md.0.dcd", "md.1.dcd"], # pieces in run order (default: *.dcd, numbers
                                              # as numbers: md.2 before md.10,
                                              # else the one LAMMPS dump (*.dump,
                                              # *.lammpstrj, dump.*, gzipped, *.xtc),
                                              # else the one XDATCAR, *.extxyz, *.xyz or
                                              # *.traj: found_trajectory)
      "trajectory_format": "vasp-xdatcar",    # ASE format of non-LAMMPS files (default: by
                                              # name; see ionmd.analysis.ase_frames)
      "logs": ["log.0.lammps", "log.1.lammps"],  # in run order (default: log*.lammps and
                                              # log.lammps.N, numbers as numbers,
                                              # ionmd.lammps.log.log_files)
      "dump_unwrapped": false,                # files hold LAMMPS-unwrapped coordinates and the
                                              # box is constant: use them as they are
      "ensemble": "npt",                      # informational
      "structure": "Li3YCl6_mp-...",          # name used to group runs (Arrhenius fits,
                                              # survival curves); runs of one name but other
                                              # atoms per element are fitted apart as
                                              # <structure>[<formula>]; default: see below
      "model": "sevennet_0",                  # the model as the run or campaign names it
      "model_hash": "3f1c...",                # sha256 (16 hex) of the model file: runs are
                                              # grouped by (structure, model); see below
      "replica": 0,
      "temperature_end_K": 2100.0,            # a ramp's end target (default: none)
      "protocol": "conductivity",             # informational (ionmd run writes it)
      "notes": "anything of your own"         # never read: any JSON value
    }

Any other key is refused, naming the key meant where it is a synonym (``T``, ``dt``,
``mobile``, ``discard_time``; :data:`RUN_JSON_SYNONYMS`) or a misspelling: ignored, it
would leave that value at its default.

Without ``structure``, a run is named after the nearest folder of its path that is neither a
temperature folder (``900K``, ``T900K``, ``900``) nor a replica folder (``r0``, ``rep1``,
``replica_2``, ``seed3``): ``LiCl/600K/r0`` and ``LiCl/600K`` are both ``LiCl``, so that
runs of different materials laid out alike are not fitted together.

Runs are replicas of one series only where they are of one structure and one model:
``model_hash`` (else ``model``) tells the models apart. A run folder written by ``ionmd
run`` before ``run.json`` recorded the model says it in its ``settings.json`` (the model's
path and hash; :func:`model_of_folder`); a run by hand says neither, and its model is
unknown (None): its logs' ``pair_style`` and ``pair_coeff`` lines stand for it
(:attr:`RunSpec.potential`), so that analysis can say where a series mixes them.

A LAMMPS run written by hand needs no ``run.json`` where its logs say the rest: the time
step and the thermostat target in force over the runs that wrote the frames come from the
input they echo (:func:`run_blocks`, :func:`_timing_from_logs`: an equilibration at another
time step or temperature is not of the frames; a given value that contradicts them is
refused), and without a DCD the one dump file (:data:`DUMP_PATTERNS`, ``dump xtc``
included) is its trajectory.

A run directory written by ``ionmd run`` also holds ``status.json``; its state (``running``,
``interrupted``, ``failed``, ``completed``), step and planned steps end up in
:attr:`RunSpec.run_status`, so that results from a run that is not completed are marked as
such (``"complete": false`` in ``results.json``); a run with a stopping rule also records
there the rule, its checks and why it stopped, which the run's record in ``results.json``
reports (:mod:`ionmd.analysis.run_records`). A directory without it (LAMMPS run by hand)
is taken as it is (``"complete": null``).

A directory may instead hold a trajectory ionmd did not write (VASP ``XDATCAR``, extended
XYZ, ASE ``.traj``; :mod:`ionmd.analysis.ase_frames`): no data file then (the elements are
in the file), and ``timestep_fs``, ``dump_every`` and ``temperature_K`` are needed unless the
file says them.
"""

from __future__ import annotations

import fnmatch
import json
import re
from glob import escape as glob_escape
from dataclasses import dataclass, field
from pathlib import Path

from ionmd.analysis.trajectory import without_empty_pieces
from ionmd.errors import AnalysisError, IonmdError
from ionmd.lammps.log import log_files, md_settings, natural_order
from ionmd.suggest import closest, folded

RUN_JSON = "run.json"
STATUS_JSON = "status.json"
SCHEMA = "ionmd-run/1"
STATUS_KEYS = ("state", "step", "planned_steps", "reason", "resumable", "failed_step",
               "failure_mode", "failed_temperature_K", "temperature_now_K", "stopping",
               "checks", "stop_reason", "stopped_by")
"""What analysis keeps of ``status.json``: the run's state (``stopped_by``: what stopped an
interrupted run, e.g. ``"timer timeout"``, LAMMPS's own wall-time limit), the failure
LAMMPS stopped it for (``failed_step``, ``failure_mode``, ``failed_temperature_K``; ``temperature_now_K``,
the temperature of the run's last state) and, for a run with a
stopping rule, the rule (``stopping``), its ``checks`` and why the run ended
(``stop_reason``)."""


@dataclass
class RunSpec:
    """Everything analysis needs to know about one run directory."""

    path: Path
    data_file: Path | None
    """LAMMPS data file; None for a trajectory read through ASE (``trajectory_format``)."""
    trajectory: list[Path]
    logs: list[Path]
    temperature_K: float
    timestep_fs: float
    dump_every: int | None = None
    discard_ps: float = 0.0
    mobile_species: list[str] = field(default_factory=lambda: ["Li"])
    charges: dict[str, float] = field(default_factory=dict)
    charges_guessed: bool = False
    """Whether ``charges`` are ionmd's guess for the composition (run.json's
    ``charges_guessed``, as prepare writes the guess), not the user's own (``--charges``,
    a run.json's ``charges``): the sigma's note then says so and how to give others."""
    charges_replaced: str | None = None
    """Where ``--charges`` replaced other charges of ``run.json``: what it replaced
    (:func:`replaced_charges_note`, naming both); None otherwise."""
    type_map: dict[int, str] | None = None
    structure: str = ""
    replica: int = 0
    dump_unwrapped: bool = False
    atom_style: str | None = None
    """Columns of the data file's Atoms section; None: from its ``Atoms # <style>`` line."""
    run_status: dict | None = None
    """:data:`STATUS_KEYS` of ``status.json`` (those it has); None without one."""
    trajectory_format: str | None = None
    """ASE format of the trajectory files; None: LAMMPS files (DCD or dump)."""
    temperature_end_K: float | None = None
    """A ramp's end target (``temperature_K`` is its start); None: no ramp."""
    skipped_trajectory: list[Path] = field(default_factory=list)
    """Trajectory pieces listed or found but empty (a piece LAMMPS stopped at its setup,
    before its first frame): left out of ``trajectory``, named in the results."""
    model: str | None = None
    """The model's name as its run or campaign named it (``run.json``, else the folder's
    ``settings.json``); None: not recorded (a run by hand)."""
    model_hash: str | None = None
    """sha256 (first 16 hex digits) of the model file; None: not recorded."""
    potential: str | None = None
    """A run without a recorded model: the ``pair_style`` and ``pair_coeff`` lines its
    logs echo (what it ran with, as far as its files say); None where they say none."""
    settings_notes: list[str] = field(default_factory=list)
    """What a user should be told of how the run's settings were found, where they may not
    be those meant: a folder named ``T1000`` analysed at the 1300 K its logs' thermostat
    says (:func:`_timing_from_logs`)."""

    @property
    def complete(self) -> bool | None:
        """Whether the run reached its end (None: unknown, no ``status.json``)."""
        return None if self.run_status is None else self.run_status.get("state") == "completed"


def read_run_status(path: str | Path) -> dict | None:
    """:data:`STATUS_KEYS` from a run directory's ``status.json`` (state, step, planned
    steps, reason; stopping rule, checks and stop reason where it has them); None without
    one, or when it cannot be read."""
    f = Path(path) / STATUS_JSON
    try:
        status = json.loads(f.read_text())
    except (OSError, ValueError):
        return None
    return {k: status[k] for k in STATUS_KEYS if k in status}


#: Folder names that say a run's temperature or replica, not its material.
TEMPERATURE_FOLDER = re.compile(r"T?\d+(\.\d+)?\s*K?", re.IGNORECASE)
REPLICA_FOLDER = re.compile(r"(r|rep|replica|run|seed)[_-]?\d+", re.IGNORECASE)


def structure_name(path: str | Path) -> str:
    """Default structure name of a run directory: the nearest folder name on its path
    (itself first) that is not a temperature or replica folder (``A/600K/r0`` -> ``A``);
    the directory's own name when every folder is one of those."""
    path = Path(path).resolve()
    for folder in (path, *path.parents):
        name = folder.name
        if name and not (TEMPERATURE_FOLDER.fullmatch(name) or REPLICA_FOLDER.fullmatch(name)):
            return name
    return path.name


SETTINGS_JSON = "settings.json"


def model_of_folder(path: str | Path) -> dict:
    """``model`` and ``model_hash`` of a run folder written by ``ionmd run`` or a campaign
    before ``run.json`` recorded them, from its ``settings.json`` (the model file's path
    and hash; :mod:`ionmd.protocols.rundir`): named as its run path names it
    (``<structure>/<model>/<protocol>/T<T>K/r<replica>``), else after the file's stem.
    {} without a readable ``settings.json`` (a run by hand)."""
    path = Path(path)
    try:
        settings = json.loads((path / SETTINGS_JSON).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(settings, dict) or not settings.get("model"):
        return {}
    folders = path.resolve().parts
    laid_out = (len(folders) >= 5 and folders[-4] and folders[-5] == settings.get("structure")
                and folders[-3] == (settings.get("protocol") or {}).get("name"))
    name = folders[-4] if laid_out else Path(settings["model"]).stem
    return {"model": name, **({"model_hash": settings["model_hash"]}
                              if settings.get("model_hash") else {})}


def _potential_from_logs(logs: list[Path]) -> str | None:
    """The potential the logs echo: the last log's ``pair_style`` line and every
    ``pair_coeff`` line after it (a hybrid's sub-styles each have theirs; a line echoed
    again, as after a restart, once), comments and extra spaces dropped, joined by
    ``"; "``; None where they echo neither."""
    found: list[str] = []
    for log in logs:
        if not log.is_file():
            continue
        lines = _pair_lines(log)
        if lines:                       # each log is a LAMMPS process: its own potential
            found = lines
    return "; ".join(found) or None


def _pair_lines(log: Path) -> list[str]:
    """The ``pair_style`` and ``pair_coeff`` lines of one log as LAMMPS keeps them: a
    ``pair_style`` of another style drops the coefficients before it."""
    style: str | None = None
    coeffs: list[str] = []
    with open(log, errors="replace") as fh:       # line by line: logs may be large
        for line in fh:
            if not line.lstrip().startswith("pair_"):   # echoed as written: maybe indented
                continue
            words = line.split("#", 1)[0].split()
            if words[:1] == ["pair_style"]:
                if style is None or style.split()[1:2] != words[1:2]:
                    coeffs = []
                style = " ".join(words)
            elif words[:1] == ["pair_coeff"] and " ".join(words) not in coeffs:
                coeffs.append(" ".join(words))
    return ([style] if style else []) + coeffs


def _one(path: Path, pattern: str, what: str, flag: str) -> Path:
    hits = sorted(path.glob(pattern))
    if len(hits) != 1:
        raise AnalysisError(f"{path}: expected one {what} ({pattern}), found {len(hits)}; name it "
                            f"in {RUN_JSON} or on the command line ({flag})")
    return hits[0]


#: Names of the LAMMPS dump files of a run (``dump dcd``): every one is a piece.
DCD_PATTERNS = ("*.dcd",)

#: Names of LAMMPS ``dump`` files (``custom``/``atom``, plain or gzipped, and ``xtc``)
#: looked for where a run directory has no DCD.
DUMP_PATTERNS = ("*.dump", "*.lammpstrj", "dump.*", "*.dump.gz", "*.lammpstrj.gz", "*.dump.bz2",
                 "*.lammpstrj.bz2", "*.dump.xz", "*.lammpstrj.xz", "*.xtc")


def trajectory_searched() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The names :func:`found_trajectory` looks for, in its order: DCD pieces, else one
    LAMMPS dump, else one file ASE reads (:data:`ionmd.analysis.ase_frames.SEARCHED`)."""
    from ionmd.analysis.ase_frames import SEARCHED

    return DCD_PATTERNS, DUMP_PATTERNS, SEARCHED


def found_trajectory(path: Path) -> list[Path]:
    """The trajectory of a run directory that names none: its DCDs (pieces, numbers as
    numbers: ``md.2.dcd`` before ``md.10.dcd``), else its one LAMMPS dump, else its one
    file ASE reads (:func:`trajectory_searched`); empty if none.

    Raises
    ------
    AnalysisError
        If there are several dumps, or several ASE files: their order cannot be guessed.
    """
    dcd, dumps, foreign = trajectory_searched()
    pieces = sorted({p for pattern in dcd for p in path.glob(pattern)}, key=natural_order)
    return (pieces or _one_file(path, dumps, "dump files")
            or _one_file(path, foreign, "trajectory files"))


def _searched_text() -> str:
    """What :func:`found_trajectory` looks for, in words (for the refusal of a folder
    without any)."""
    dcd, dumps, foreign = trajectory_searched()
    return (f"{' or '.join(dcd)}, all pieces; else one of {', '.join(dumps)}; else one "
            f"of {', '.join(foreign)}")


def _one_file(path: Path, patterns, what: str) -> list[Path]:
    """The one file of ``path`` matching ``patterns`` (a LAMMPS dump of a run written by
    hand, an ASE trajectory), as a list; empty if none.

    Raises
    ------
    AnalysisError
        If there are several: their order cannot be guessed.
    """
    hits = sorted({p for pattern in patterns for p in path.glob(pattern) if p.is_file()})
    if len(hits) > 1:
        raise AnalysisError(f"{path}: several {what} ({', '.join(p.name for p in hits)}); "
                            f"name the ones to analyse, in run order, with --trajectory "
                            f"(or 'trajectory' in {RUN_JSON})")
    return hits


#: Keys of ``run.json`` (those analysis reads, and the rest ``ionmd run`` writes).
RUN_JSON_KEYS = ("schema", "temperature_K", "timestep_fs", "dump_every", "discard_ps",
                 "mobile_species", "charges", "charges_guessed", "type_map", "data_file",
                 "atom_style", "trajectory", "trajectory_format", "logs", "dump_unwrapped",
                 "ensemble", "protocol", "structure", "model", "model_hash", "replica",
                 "temperature_end_K")
NOTES_KEY = "notes"
"""The one key of ``run.json`` left for its writer's own notes (any JSON value); analysis
never reads it."""

#: Keys a hand-written ``run.json`` says for a known one (compared as :mod:`ionmd.suggest`
#: compares names: case-folded, without ``_``, ``-`` and spaces); ignored, they would leave
#: the value at its default (``Li`` mobile, no discard) or ask for it again.
RUN_JSON_SYNONYMS = {
    "temperature_K": ("T", "temp", "temperature", "T_K", "temp_K", "target_temperature",
                      "thermostat_K", "T_start", "temperature_start_K"),
    "timestep_fs": ("dt", "dt_fs", "timestep", "step_fs", "tstep"),
    "dump_every": ("dump_freq", "dump_frequency", "dump_interval", "dump_stride", "every",
                   "stride", "nevery", "frame_every", "steps_per_frame"),
    "discard_ps": ("discard", "discard_time", "discard_time_ps", "equilibration",
                   "equilibration_ps", "equil_ps", "skip_ps", "burn_in_ps", "t_equil"),
    "mobile_species": ("species", "mobile", "mobile_ions", "mobile_ion", "ions", "ion",
                       "carrier", "carriers", "diffusing_species"),
    "charges": ("charge", "oxidation_states", "oxidation_state", "valences", "valence"),
    "type_map": ("types", "elements", "type_to_element", "atom_types", "species_map"),
    "data_file": ("data", "lammps_data", "structure_file", "read_data"),
    "trajectory": ("traj", "trajectories", "trajectory_files", "dump", "dump_file",
                   "dumps", "dcd", "dcd_files"),
    "trajectory_format": ("format", "traj_format"),
    "logs": ("log", "log_file", "log_files", "lammps_log"),
    "dump_unwrapped": ("unwrapped",),
    "temperature_end_K": ("T_end", "temperature_end", "T_stop", "temp_end", "T_final"),
    "replica": ("rep", "replica_id", "run_id"),
    NOTES_KEY: ("note", "comment", "comments", "remark", "remarks", "description"),
}


_MEANT = {folded(said): key for key, synonyms in RUN_JSON_SYNONYMS.items() for said in synonyms}


def _key_meant(key: str) -> str | None:
    """The ``run.json`` key that ``key`` says (a synonym, a misspelling), or None."""
    return _MEANT.get(folded(key)) or closest(key, RUN_JSON_KEYS)


def _refuse_unknown_keys(file: Path, meta: dict) -> None:
    """Refuse every key of ``run.json`` that is neither one analysis reads or ``ionmd run``
    writes (:data:`RUN_JSON_KEYS`) nor :data:`NOTES_KEY`: an unknown key is ignored, and
    the value it was written for (``T``, ``dt``, ``mobile``, ``discard_time``) left at its
    default, a silently wrong result. Names the key meant where it is a known synonym
    (:data:`RUN_JSON_SYNONYMS`) or nearly a known key."""
    unknown = [key for key in meta if key not in RUN_JSON_KEYS and key != NOTES_KEY]
    if not unknown:
        return
    said = []
    for key in unknown:
        meant = _key_meant(key)
        said.append(f"unknown key {key!r}" + (f"; did you mean {meant!r}?" if meant else ""))
    raise AnalysisError(f"{file}: {'; '.join(said)} (keys: {', '.join(RUN_JSON_KEYS)}; "
                        f"notes of your own go under {NOTES_KEY!r})")


def _refuse_unknown_schema(file: Path, meta: dict) -> None:
    """Refuse a ``run.json`` whose ``schema`` this ionmd does not know (one written by a
    newer ionmd: its keys may mean other things); one without ``schema`` (written by hand)
    is read as today's."""
    found = meta.get("schema")
    if found is None or found == SCHEMA:
        return
    family, _, version = SCHEMA.rpartition("/")
    newer = (isinstance(found, str) and found.startswith(family + "/")
             and found.rpartition("/")[2].isdigit()
             and int(found.rpartition("/")[2]) > int(version))
    why = ("written by a newer ionmd: update ionmd to analyse it" if newer else
           "not an ionmd run description: fix its 'schema' (or drop it, for a run.json "
           "written by hand)")
    raise AnalysisError(f"{file}: schema {found!r} is not the one this ionmd understands "
                        f"({SCHEMA!r}); {why}")


def refusing_repeats(file: Path):
    """A json ``object_pairs_hook`` refusing a key given twice in one object (json keeps the
    last silently: ``{"charges": {"Li": 1, "Li": 2}}`` would be Li 2, a sigma 4x)."""
    def pairs(items: list) -> dict:
        seen: dict = {}
        for key, value in items:
            if key in seen:
                raise AnalysisError(f"{file}: key {key!r} is given twice ({seen[key]!r} and "
                                    f"{value!r}): give each key once")
            seen[key] = value
        return seen
    return pairs


def _type_map(path: Path, given: dict) -> dict[int, str]:
    """run.json's ``type_map`` as {LAMMPS type: element}, each type a positive whole number
    and each element a symbol (an unknown one ended in a traceback deep in the analysis)."""
    from ase.data import chemical_symbols

    from ionmd.suggest import did_you_mean

    if not isinstance(given, dict):
        raise AnalysisError(f"{path / RUN_JSON}: type_map is a JSON {type(given).__name__}, "
                            f"not an object of LAMMPS type: element ({{\"1\": \"Li\"}})")
    out = {}
    for key, symbol in given.items():
        # ASCII digits only: str.isdigit takes '²', which int() refuses
        if not (str(key).isascii() and str(key).isdigit() and int(key) > 0):
            raise AnalysisError(f"{path / RUN_JSON}: type_map key {key!r} is no LAMMPS atom "
                                f"type (a whole number from 1)")
        if int(key) in out:     # "1" and "01": one type, the last would win silently
            raise AnalysisError(f"{path / RUN_JSON}: type_map gives type {int(key)} twice "
                                f"({out[int(key)]!r} and {symbol!r}): give each type once")
        if symbol not in chemical_symbols[1:]:
            raise AnalysisError(f"{path / RUN_JSON}: type_map gives type {key} the element "
                                f"{symbol!r}, which is no element symbol"
                                + (did_you_mean(str(symbol), chemical_symbols[1:]) or ""))
        out[int(key)] = symbol
    return out


def read_run_json(path: Path) -> dict:
    """The keys of run directory ``path``'s ``run.json`` ({} without one).

    Raises
    ------
    AnalysisError
        If it is not a JSON object, its ``schema`` is not :data:`SCHEMA`, or a key is
        unknown (:func:`_refuse_unknown_keys`).
    """
    file = path / RUN_JSON
    if not file.is_file():
        return {}
    try:
        meta = json.loads(file.read_text(), object_pairs_hook=refusing_repeats(file))
    except json.JSONDecodeError as exc:
        raise AnalysisError(f"{file} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict):
        raise AnalysisError(f"{file} holds a JSON {type(meta).__name__}, not an object of "
                            f"keys ({', '.join(RUN_JSON_KEYS)})")
    _refuse_unknown_schema(file, meta)
    _refuse_unknown_keys(file, meta)
    return meta


def run_folder(path: str | Path, overrides: dict | None = None) -> tuple[Path, dict]:
    """The run directory of ``path`` and the overrides to read it with: a trajectory file
    given in place of its folder becomes that folder's one trajectory (a user points at
    the XDATCAR of a VASP run, not at a folder).

    Raises
    ------
    AnalysisError
        If ``path`` does not exist, or is a file while a trajectory is also given.
    """
    path, overrides = Path(path), dict(overrides or {})
    if path.is_dir():
        return path, overrides
    if not path.is_file():
        raise AnalysisError(f"run directory {path} not found")
    if overrides.get("trajectory"):
        raise AnalysisError(f"{path} is a file and --trajectory is given too: give the run's "
                            f"folder {path.parent} with --trajectory, or the file alone")
    overrides["trajectory"] = [path.name]
    return path.parent, overrides


def load_run_spec(path: str | Path, overrides: dict | None = None) -> RunSpec:
    """Read ``run.json`` (if any) of a run directory, apply ``overrides`` (None values
    ignored) and locate its files.

    ``path`` may also be a trajectory file (an XDATCAR, a ``.traj``, a dump): its folder is
    then the run directory and the file its trajectory.

    Raises
    ------
    AnalysisError
        If the directory or a file is missing, a required field is given nowhere, or
        ``run.json`` is of a schema this ionmd does not know (:func:`read_run_json`).
    """
    from ionmd.analysis import ase_frames

    path, overrides = run_folder(path, overrides)
    meta = read_run_json(path)
    recorded = {k: meta[k] for k in ("charges", "charges_guessed") if k in meta}
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    if "charges" in given:      # --charges: the user's, whatever run.json said of its own
        given.setdefault("charges_guessed", False)
    meta.update(given)
    meta["charges"] = _checked_charges(meta, "--charges" if "charges" in given
                                       else f"{path / RUN_JSON}: charges",
                                       mobile_not_zero="charges" in given
                                       and not meta.get("charges_guessed"))
    if "charges" in given:
        meta["charges_replaced"] = replaced_charges_note(path, recorded, meta["charges"])
    traj = ([path / p for p in meta["trajectory"]] if "trajectory" in meta
            else found_trajectory(path))
    if not traj:
        raise AnalysisError(f"{path}: no trajectory (looked for {_searched_text()}); list "
                            f"it under 'trajectory' in {RUN_JSON} or pass --trajectory")
    traj, meta["skipped_trajectory"] = without_empty_pieces(traj)
    fmt = ase_frames.trajectory_format(traj, meta.get("trajectory_format"))
    if fmt is not None:
        return _foreign_spec(path, meta, traj, fmt)
    logs = [path / p for p in meta["logs"]] if "logs" in meta else log_files(path)
    _refuse_partitions(path, logs)
    texts = _log_texts(logs)
    echoed = {name: md_settings(text) for name, text in texts.items()}
    _timing_from_logs(path, meta, _frames_settings(texts, echoed, traj))
    data = path / meta["data_file"] if "data_file" in meta else _one(path, "*.data", "data file", "--data-file")
    type_map = (_type_map(path, meta["type_map"]) if meta.get("type_map")
                else _type_map_from_logs(echoed))
    return _spec(path, meta, data_file=data, trajectory=traj, logs=logs, type_map=type_map,
                 timestep_fs=float(meta["timestep_fs"]), dump_every=meta.get("dump_every"),
                 temperature_K=float(meta["temperature_K"]))


def _refuse_partitions(path: Path, logs: list[Path]) -> None:
    """Refuse logs of several partitions of one LAMMPS run (``-partition``: ``log.lammps.0``,
    ``log.lammps.1``, named as the pieces of a run resumed by hand): runs side by side, each
    from step 0, read in a row the last partition's rows superseded the others' (the thermo
    of one replica at another's temperature).

    Raises
    ------
    AnalysisError
        If the logs are of more than one partition.
    """
    from ionmd.lammps.log import log_partition

    partitions: dict[int, list[str]] = {}
    for log in logs:
        if log.is_file():
            with open(log, errors="replace") as f:
                k = log_partition(f.read(4000))
            if k is not None:
                partitions.setdefault(k, []).append(log.name)
    if len(partitions) > 1:
        which = "; ".join(f"partition {k}: {', '.join(names)}" for k, names in sorted(partitions.items()))
        raise AnalysisError(f"{path}: the logs are of {len(partitions)} partitions of one LAMMPS "
                            f"run (-partition; {which}), runs side by side, not pieces of one; "
                            f"analyse one partition: list its logs under 'logs' and its "
                            f"trajectory under 'trajectory' in {RUN_JSON}")


LOG_TIMING = {"temperature_K": "--temperature", "timestep_fs": "--timestep-fs"}


def _log_texts(logs: list[Path]) -> dict[str, str]:
    """The text of each log that exists, by file name (by path where two share a name)."""
    logs = [p for p in logs if p.is_file()]
    by_name = len({p.name for p in logs}) == len(logs)
    return {(p.name if by_name else str(p)): p.read_text(errors="replace") for p in logs}


@dataclass(frozen=True)
class RunBlock:
    """One MD ``run`` of a log as the input it echoes set it up: ``units``, ``timestep``
    (in that unit; None: not echoed since ``units`` or ``read_restart``, which restores the
    one of its run), the ``(Tstart, Tstop)`` of each thermostat fix in force, the files of
    the dumps defined."""

    log: str
    units: str | None
    timestep: float | None
    thermostats: tuple[tuple[float, float], ...]
    dumps: tuple[str, ...]
    restored: bool = False
    """Whether a ``read_restart`` came before it: a time step not echoed since is the
    restart file's, not LAMMPS's default."""


@dataclass
class InputState:
    """What a LAMMPS input has set up at one point of its log, as :func:`run_blocks` reads
    it: ``units``, ``timestep`` (None: not echoed), thermostat targets by fix ID (None: a
    fix that is no thermostat), dump files by dump ID."""

    units: str | None = None
    timestep: float | None = None
    fixes: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    dumps: dict[str, str] = field(default_factory=dict)
    restored: bool = False

    def copy(self) -> InputState:
        return InputState(self.units, self.timestep, dict(self.fixes), dict(self.dumps),
                          self.restored)


def run_blocks(text: str, log: str = "log.lammps", state: InputState | None = None,
               handed_on: dict[str, InputState] | None = None) -> list[RunBlock]:
    """The MD ``run`` commands a LAMMPS log echoes (of one step or more), each with the
    settings in force (the last ``timestep`` before it, the thermostat fixes not
    ``unfix``-ed, the dumps not ``undump``-ed; ``clear`` forgets all but the units). A command
    LAMMPS echoes with variables is echoed again substituted, which is the one kept. Empty
    where the input was not echoed (``echo none``).

    ``state``: what was set up before the log began (a log opened by the ``log`` command
    of another: the same LAMMPS process going on); read from nothing otherwise.
    ``handed_on``: filled with the state at each ``log FILE`` command, by FILE's name."""
    state = state.copy() if state is not None else InputState()
    blocks = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words == ["clear"]:
            # the units kept: a `read_restart` after it restores those of its file,
            # unechoed, and a `units` command would be echoed
            state = InputState(units=state.units)
            continue
        if len(words) < 2:
            continue
        command, name = words[0], words[1]
        if command == "units" and len(words) == 2:
            state.units, state.timestep = name, None     # `units` resets the time step
        elif command == "timestep" and len(words) == 2 and _number(name) is not None:
            state.timestep = _number(name)
        elif command == "read_restart":
            state.timestep, state.restored = None, True   # the file's, and its units
        elif command == "fix" and len(words) > 3:
            targets = md_settings(line)["targets"]
            state.fixes[name] = targets[0] if targets else None   # an ID defined again replaces it
        elif command == "unfix":
            state.fixes.pop(name, None)
        elif command == "dump" and len(words) > 5:
            state.dumps[name] = words[5]
        elif command == "undump":
            state.dumps.pop(name, None)
        elif command == "log" and handed_on is not None:
            handed_on[Path(name).name] = state.copy()
        elif command == "run" and name.isdigit() and int(name) > 0:
            # `run 0` (a setup, a single point) moves no atom: its time step and
            # thermostat are of no frame interval, though its dumps write a frame
            blocks.append(RunBlock(log, state.units, state.timestep,
                                   tuple(t for t in state.fixes.values() if t is not None),
                                   tuple(state.dumps.values()), state.restored))
    return blocks


def logs_blocks(texts: dict[str, str]) -> list[RunBlock]:
    """:func:`run_blocks` of every log (``texts``: by name, in run order), a log that
    another's ``log`` command opened read with the settings in force there (its
    ``units``, ``timestep``, fixes and dumps are those of the same LAMMPS process, echoed
    in the other log); a log of its own process from nothing (a resumed piece redefines
    its fixes and dumps; ``read_restart`` restores the time step)."""
    handed: dict[str, InputState] = {}
    blocks: list[RunBlock] = []
    todo = list(texts)
    while todo:
        # a log after the one that opened it, where that one is among them
        name = next((n for n in todo if not any(
            _opens(texts[other], Path(n).name) for other in todo if other != n)), todo[0])
        todo.remove(name)
        blocks += run_blocks(texts[name], name, handed.get(Path(name).name), handed)
    return blocks


def _opens(text: str, log: str) -> bool:
    """Whether a log's text echoes a ``log`` command opening the file named ``log``."""
    return re.search(rf"(?m)^\s*log\s+(\S*/)?{re.escape(log)}(\s|$)", text) is not None


def _number(word: str) -> float | None:
    try:
        return float(word)
    except ValueError:          # an unsubstituted ${dt}: its substituted echo follows
        return None


def _dumps_into(block: RunBlock, names: set[str]) -> bool:
    """Whether one of the block's dumps writes a file named as one of ``names`` (a dump's
    ``*`` is LAMMPS's step number)."""
    return any(fnmatch.fnmatchcase(name, Path(dump).name) for dump in block.dumps
               for name in names)


def _frames_settings(texts: dict[str, str], echoed: dict[str, dict], traj: list[Path]) -> dict:
    """What the logs say of the runs that wrote the frames: their ``blocks`` (:func:`run_blocks`
    of every log: those whose dumps write the trajectory's files; else those with a dump
    that may be of the trajectory renamed (:func:`_dumps_elsewhere`: not one writing
    another file the folder holds); else all), ``where`` (which runs, for the messages; ""
    where every run is one of them), ``others`` (the rest) and ``echoed``
    (:func:`md_settings` of each log, read whole where no log echoes a ``run``: ``blocks``
    None). Where every run's dumps write other files of the folder, none wrote the frames
    (the logs are of another run, an equilibration): ``blocks`` is [] and ``elsewhere``
    says so."""
    blocks = logs_blocks(texts)
    names = {p.name for p in traj}
    framed = [b for b in blocks if _dumps_into(b, names)]
    where = f" over the runs that dump {', '.join(sorted(names))}"
    frames = {"names": ", ".join(texts), "echoed": echoed, "elsewhere": None}
    if not framed and traj:
        dumping = [b for b in blocks if b.dumps]
        framed = [b for b in dumping if not _dumps_elsewhere(b, traj[0].parent, names)]
        where = " over the runs with a dump"
        if dumping and not framed:
            files = sorted({Path(d).name for b in dumping for d in b.dumps})
            frames["elsewhere"] = (f"no run dumps {', '.join(sorted(names))}: their dumps "
                                   f"write {', '.join(files)}, which the folder holds beside "
                                   f"it (the logs are of other runs)")
            return {**frames, "blocks": [], "where": "", "others": blocks}
    if not framed or len(framed) == len(blocks):
        framed, where = blocks, ""
    return {**frames, "blocks": framed or None, "where": where,
            "others": [b for b in blocks if b not in framed]}


def _dumps_elsewhere(block: RunBlock, folder: Path, names: set[str]) -> bool:
    """Whether every dump of ``block`` writes a file ``folder`` holds that is not one of
    the trajectory's (``names``): an equilibration's ``equil.dump`` beside the production's
    ``md.dcd`` did not write its frames; a dump file not there may be the trajectory's,
    renamed."""
    return all(any(f.name not in names for f in folder.glob(glob_escape(Path(dump).name)
                                                            .replace("[*]", "*")))
               for dump in block.dumps)


def _timing_from_logs(path: Path, meta: dict, frames: dict) -> None:
    """Fill in ``timestep_fs`` and ``temperature_K`` of a LAMMPS run from the input its logs
    echo (a run written by hand has no ``run.json``), where they say one value over the runs
    that wrote the frames (``frames``, :func:`_frames_settings`: an equilibration at another
    time step or a ramp before the production is not of the frames): one ``timestep`` under
    ``units`` with a time unit, one constant thermostat target. A given value that
    contradicts it, or that is none of several it says, is refused, naming both; one given
    nowhere and not said plainly (a ramp, several targets, no thermostat) is asked for,
    with what the logs say. A temperature taken from the logs that is not the one the run's
    folder is named after (``T1000`` at 1300 K) is noted (``meta["settings_notes"]``).

    Raises
    ------
    AnalysisError
        If a value is unknown or contradicts the logs.
    """
    said = _said_by_logs(frames)
    missing = []
    for key, flag in LOG_TIMING.items():
        value, note, fits = said[key]
        if key not in meta:
            if value is None:
                missing.append(f"{key} is unknown" + (f" ({note})" if note else ""))
            else:
                meta[key] = value
                if key == "temperature_K":
                    _note_folder_temperature(path, meta, value, note)
        elif not fits(float(meta[key])):
            raise AnalysisError(f"{path}: {key} = {float(meta[key]):g} given ({flag} or "
                                f"{RUN_JSON}) contradicts {note}: drop the option or check "
                                f"the files")
    if missing:
        flags = " and ".join(flag for key, flag in LOG_TIMING.items() if key not in meta)
        them = "it" if len(missing) == 1 else "them"
        raise AnalysisError(f"{path}: {'; '.join(missing)}; put {them} in {RUN_JSON} or pass "
                            f"{flags}")


def folder_temperature(path: Path) -> float | None:
    """The temperature a run's folder is named after (``T1000``, ``1000K``, ``T1000K``; the
    run folder, else the folder above a replica folder ``r0``); None where neither says one
    plainly (a bare number may be a replica's)."""
    for folder in (path, path.parent):
        m = re.fullmatch(r"(?:T(\d+(?:\.\d+)?)\s*K?|(\d+(?:\.\d+)?)\s*K)", folder.name,
                         re.IGNORECASE)
        if m:
            return float(m.group(1) or m.group(2))
        if not REPLICA_FOLDER.fullmatch(folder.name):
            return None
    return None


def _note_folder_temperature(path: Path, meta: dict, value: float, said: str) -> None:
    """Note where the temperature read from the logs is not the folder's name's."""
    named = folder_temperature(path)
    if named is not None and abs(named - value) > 0.5:
        meta.setdefault("settings_notes", []).append(
            f"analysed at {value:g} K ({said}), not at the {named:g} K the folder's name "
            f"says: pass --temperature {value:g} to confirm, or check that the folder holds "
            f"the run meant")


def _type_map_from_logs(echoed: dict[str, dict]) -> dict[int, str] | None:
    """Type -> element as the run's ``pair_coeff * * El1 El2 ...`` gave it (what the model
    was told; the data file may hold no masses), where the logs echo one such line."""
    found = {tuple(s["elements"]) for s in echoed.values() if s["elements"]}
    return dict(enumerate(found.pop(), start=1)) if len(found) == 1 else None


def _said_by_logs(frames: dict) -> dict[str, tuple]:
    """``{key: (value or None, what the logs say, whether a given value fits it)}`` for
    :data:`LOG_TIMING`, over the runs that wrote the frames (:func:`_frames_settings`);
    over every line of the logs where they echo no ``run``."""
    names, where, blocks = frames["names"], frames["where"], frames["blocks"]
    if not frames["echoed"]:
        return {key: (None, "", _any) for key in LOG_TIMING}
    if frames["elsewhere"]:
        return {key: (None, f"{names}: {frames['elsewhere']}", _any) for key in LOG_TIMING}
    if blocks is None:
        settings = list(frames["echoed"].values())
        units = sorted({s["units"] for s in settings if s["units"]})
        steps = sorted({t for s in settings for t in s["timesteps"]})
        targets = sorted({t for s in settings for t in s["targets"]})
    else:
        units = sorted({b.units for b in blocks if b.units})
        steps = sorted({b.timestep for b in blocks if b.timestep is not None})
        targets = sorted({t for b in blocks for t in b.thermostats})
    elsewhere = sorted({t for b in frames["others"] for t in b.thermostats})
    restored = blocks is not None and any(b.restored for b in blocks)
    return {"timestep_fs": _timestep_said(f"{names}: ", where, units, steps, restored),
            "temperature_K": _temperature_said(f"{names}: ", where, targets, elsewhere)}


def _timestep_said(logs: str, where: str, units: list[str], steps: list[float],
                   restored: bool = False) -> tuple:
    """(timestep in fs or None, what the logs say, whether a given value fits it).
    ``restored``: a run came after a ``read_restart``, whose file's time step is in force
    where none is echoed (not LAMMPS's default)."""
    from ionmd.lammps.log import FS_PER_TIME_UNIT

    if len(units) != 1:
        return (None, logs + (f"units {' and '.join(units)}" if units
                              else "no 'units' command echoed"), _any)
    if units[0] not in FS_PER_TIME_UNIT:
        return None, f"{logs}units {units[0]}, whose time is not in fs", _any
    fs = [t * FS_PER_TIME_UNIT[units[0]] for t in steps]
    said = f"{logs}timestep {', '.join(f'{t:g}' for t in steps)} (units {units[0]}){where}"
    if len(steps) == 1:
        return fs[0], said, _one_of(fs)
    if steps:
        return None, f"{said}: give the one of the frames", _one_of(fs)
    if restored:
        return (None, f"{logs}no timestep after read_restart{where}: the restart file's, "
                      f"which the logs do not say (that of the run that wrote it)", _any)
    return (None, f"{logs}no timestep after units {units[0]}{where}"
            + (": if the input set none, LAMMPS's default 1 fs" if units[0] in ("metal", "real")
               else ""), _any)


def _temperature_said(logs: str, where: str, targets: list[tuple[float, float]],
                      elsewhere: list[tuple[float, float]]) -> tuple:
    """(thermostat target in K or None, what the logs say, whether a given value fits it:
    one of the constant targets, or within a ramp)."""
    def fits(given: float) -> bool:
        return any(min(a, b) - 1e-9 * abs(a) <= given <= max(a, b) + 1e-9 * abs(b)
                   for a, b in targets)

    if len(targets) == 1 and targets[0][0] == targets[0][1]:
        return targets[0][0], f"{logs}thermostat at {targets[0][0]:g} K{where}", fits
    if len(targets) == 1:
        return (None, f"{logs}thermostat ramped from {targets[0][0]:g} to {targets[0][1]:g} "
                      f"K{where}", fits)
    if targets:
        return None, f"{logs}thermostats at {_targets_text(targets)} K{where}", fits
    if elsewhere:
        return (None, f"{logs}no thermostat in force{where} (the other runs': "
                      f"{_targets_text(elsewhere)} K)", _any)
    return None, f"{logs}no thermostat fix echoed", _any


def _targets_text(targets: list[tuple[float, float]]) -> str:
    return ", ".join(f"{a:g}" if a == b else f"{a:g}-{b:g}" for a, b in targets)


def _any(given: float) -> bool:
    """Any given value fits where the logs say none."""
    return True


def _one_of(values: list[float]):
    """Whether a given value is one of ``values`` (to 1e-9, relative)."""
    return lambda given: any(abs(given - v) <= 1e-9 * abs(v) for v in values)


def _foreign_spec(path: Path, meta: dict, traj: list[Path], fmt: str) -> RunSpec:
    """The spec of a run whose trajectory ASE reads: elements from the file, timing from
    the file where it says it (else from ``meta``; :func:`ase_frames.resolve_timing`)."""
    lammps_only = [k for k in ("data_file", "type_map", "atom_style") if meta.get(k)]
    if lammps_only:
        raise AnalysisError(f"{path}: {', '.join(lammps_only)} given, but {traj[0].name} is read "
                            f"through ASE ({fmt}) with the elements it holds; drop "
                            f"{', '.join('--' + k.replace('_', '-') for k in lammps_only)} "
                            f"(they are for LAMMPS data files)")
    from ionmd.analysis import ase_frames

    timing = ase_frames.resolve_timing(ase_frames.read_ase(traj, fmt), meta)
    logs = [path / p for p in meta["logs"]] if "logs" in meta else []
    return _spec(path, meta, data_file=None, trajectory=traj, logs=logs, type_map=None,
                 trajectory_format=fmt, **timing)


def _flag(path: Path, meta: dict, key: str, meaning: str) -> bool:
    """``meta[key]`` (False when absent), refused unless a JSON true or false, naming
    the run's file and what the flag means (``meaning``)."""
    value = meta.get(key, False)
    if not isinstance(value, bool):
        raise AnalysisError(f"{path / RUN_JSON}: {key!r} must be true or false (JSON, no "
                            f"quotes), got {json.dumps(value)}: {meaning}")
    return value


def replaced_charges_note(path: Path, recorded: dict, given: dict[str, float],
                          given_by: str = "--charges") -> str | None:
    """What the given charges (``--charges``, or ``given_by``: a campaign's) replaced where
    ``run.json``'s ``recorded`` ones (its ``charges`` and ``charges_guessed``) differ from
    them: a sigma then is not the one the run's own record implies, which a user comparing
    the two should be told; None where run.json has no charges or the same ones."""
    old = recorded.get("charges")
    if not old or _same_charges(old, given):
        return None
    whose = "ionmd's guess" if recorded.get("charges_guessed") is True else "the run's own"
    return (f"{given_by} {_charges_text(given)} replaced the charges of {path / RUN_JSON}, "
            f"{_charges_text(old)} ({whose}): sigma is computed with the given ones")


SAME_CHARGE_RTOL = 1e-6
"""Charges this close (relative) are the same: sigma differs by 2e-6 at most, and the note
names charges to 6 digits (a guessed Fe 8/3 and a given 2.666667 both read 2.66667)."""


def _same_charges(old, new: dict[str, float]) -> bool:
    """Whether run.json's ``old`` charges are ``new`` (element by element, as numbers, to
    :data:`SAME_CHARGE_RTOL`)."""
    import math
    from numbers import Real

    if not isinstance(old, dict) or set(old) != set(new):
        return False
    return all(isinstance(q, Real) and not isinstance(q, bool)
               and math.isclose(float(q), new[k], rel_tol=SAME_CHARGE_RTOL, abs_tol=1e-12)
               for k, q in old.items())


def _charges_text(charges) -> str:
    """``Li=1,Cl=-1`` (as --charges takes them); another JSON value as it is written."""
    if not isinstance(charges, dict):
        return json.dumps(charges)
    return ",".join(f"{k}={q:g}" if isinstance(q, (int, float)) and not isinstance(q, bool)
                    else f"{k}={json.dumps(q)}" for k, q in charges.items())


def _checked_charges(meta: dict, what: str, mobile_not_zero: bool) -> dict[str, float]:
    """The run's charges (run.json's, or ``--charges``) through the shared check
    (structures.charge_values): a NaN or a ``true`` would give a NaN or wrong sigma without
    a word. ``mobile_not_zero``: a 0 for a mobile species refused too (charges the user
    gives now, ``--charges``); not for ionmd's guess (collect's, ``charges_guessed``) nor
    for run.json's record, which holds 0 for an elemental metal (Li metal: {"Li": 0}, also
    in folders written before charges_guessed): a refusal would lose the run's D (its sigma
    is 0, left out of fits as such)."""
    from ionmd.structures.charge_values import checked_charges

    mobile = meta.get("mobile_species", ["Li"]) if mobile_not_zero else ()
    try:
        return checked_charges(meta.get("charges") or {}, mobile, what=what) or {}
    except AnalysisError:
        raise
    except IonmdError as exc:
        raise AnalysisError(str(exc)) from None


def _spec(path: Path, meta: dict, **known) -> RunSpec:
    """RunSpec from the fields found (``known``) and the rest of ``meta``."""
    return RunSpec(path=path, **known, discard_ps=float(meta.get("discard_ps", 0.0)),
                   mobile_species=list(meta.get("mobile_species", ["Li"])),
                   charges=dict(meta.get("charges") or {}),
                   charges_guessed=_flag(path, meta, "charges_guessed",
                                         "true where the charges are ionmd's guess, false "
                                         "(or no key) where they are yours"),
                   charges_replaced=meta.get("charges_replaced"),
                   structure=str(meta.get("structure") or structure_name(path)),
                   replica=int(meta.get("replica", 0)),
                   dump_unwrapped=bool(meta.get("dump_unwrapped", False)),
                   atom_style=meta.get("atom_style"),
                   temperature_end_K=(None if meta.get("temperature_end_K") is None
                                      else float(meta["temperature_end_K"])),
                   skipped_trajectory=list(meta.get("skipped_trajectory", [])),
                   settings_notes=list(meta.get("settings_notes", [])),
                   run_status=read_run_status(path), **_model_fields(path, meta, known))


def _model_fields(path: Path, meta: dict, known: dict) -> dict:
    """``model``, ``model_hash`` and ``potential`` of a run: ``run.json``'s, else its
    folder's ``settings.json`` (:func:`model_of_folder`), else the logs' pair lines."""
    recorded = ({k: meta[k] for k in ("model", "model_hash") if meta.get(k)}
                or model_of_folder(path))
    for key, value in recorded.items():
        if not isinstance(value, str):
            raise AnalysisError(f"{path / RUN_JSON}: {key!r} must be a string (the model's "
                                f"name, the file's sha256), got {json.dumps(value)}")
    potential = None if recorded else _potential_from_logs(known.get("logs") or [])
    return {"model": recorded.get("model"), "model_hash": recorded.get("model_hash"),
            "potential": potential}
