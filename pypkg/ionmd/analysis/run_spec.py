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
                                              # *.traj: run_files.found_trajectory)
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
      "model_hash": "3f1c...",                # the model's identity (16 hex): runs are
                                              # grouped by (structure, model); see below
      "replica": 0,                           # the replica's number (default 0)
      "temperature_end_K": 2100.0,            # a ramp's end target (default: none)
      "protocol": "conductivity",             # informational (ionmd run writes it)
      "structure_notes": ["a.cif: occupancies ..."],  # informational: what ionmd did to the
                                              # structure file (sites within rounding read
                                              # as whole, partial occupancies ordered);
                                              # strings; [] nothing (ionmd run writes it)
      "notes": "anything of your own"         # never read: any JSON value
    }

Any other key is refused, naming the key meant where it is a synonym (``T``, ``dt``,
``mobile``, ``discard_time``; :data:`RUN_JSON_SYNONYMS`) or a misspelling: ignored, it
would leave that value at its default.

Without ``structure``, a run is named after the nearest folder of its path that is neither a
temperature folder (``900K``, ``T900K``, ``900``) nor a replica folder (``r0``, ``rep1``,
``replica_2``, ``seed3``): ``LiCl/600K/r0`` and ``LiCl/600K`` are both ``LiCl``, so that
runs of different materials laid out alike are not fitted together
(:func:`ionmd.analysis.run_files.structure_name`).

Runs are replicas of one series only where they are of one structure and one model:
``model_hash`` (else ``model``) tells the models apart. It is the model's identity
(:func:`ionmd.export.model_identity.model_identity`): the checkpoint, options, dtype and
versions its metadata records, not when it was exported, so that runs of two exports of one
checkpoint are one series; a folder written before it was recorded holds the sha256 of the
model file, read as that file's identity while the file is still there with those bytes. A run folder written by ``ionmd
run`` before ``run.json`` recorded the model says it in its ``settings.json`` (the model's
path and hash; :func:`model_of_folder`); a run by hand says neither, and its model is
unknown (None): its logs' ``pair_style`` and ``pair_coeff`` lines stand for it
(:attr:`RunSpec.potential`), so that analysis can say where a series mixes them. A
folder's ``settings.json`` also records the run's starting cell (``structure_hash``,
:attr:`RunSpec.structure_hash`): a series whose runs record several mixes structures, which
analysis says (``mixed_structures``).

A LAMMPS run written by hand needs no ``run.json`` where its logs say the rest: the time
step and the thermostat target in force over the runs that wrote the frames come from the
input they echo (:func:`ionmd.lammps.echoed_input.run_blocks`,
:func:`ionmd.analysis.log_timing.timing_from_logs`: an equilibration at another time step
or temperature is not of the frames; a given value that contradicts them is refused), and
without a DCD the one dump file (:data:`ionmd.analysis.run_files.DUMP_PATTERNS`, ``dump
xtc`` included) is its trajectory.

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

import json
from dataclasses import dataclass, field
from pathlib import Path

from ionmd.analysis.log_timing import frames_settings, timing_from_logs
from ionmd.analysis.run_files import (RUN_JSON, SETTINGS, STATUS, found_trajectory, log_texts,
                                      only_file, read_log_texts, refuse_partitions,
                                      searched_text, structure_name)
from ionmd.analysis.run_json_values import refuse_unusable_values
from ionmd.analysis.trajectory_readers import without_empty_pieces
from ionmd.errors import AnalysisError, IonmdError
from ionmd.lammps.echoed_input import md_settings, pair_lines
from ionmd.lammps.log import log_files
from ionmd.suggest import closest, folded

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
    """The model's identity (:func:`ionmd.export.model_identity.model_identity`, 16 hex
    digits: every export of one checkpoint has one); a folder written before identities
    were recorded: its file's identity where that file is still there with the bytes it
    recorded, else the sha256 (first 16 hex digits) it recorded; None: not recorded."""

    structure_hash: str | None = None
    """The run's starting cell as ``ionmd run`` or a campaign recorded it (its folder's
    ``settings.json``: :func:`ionmd.protocols.run_settings.structure_hash`, of the ordered cell
    every replica and temperature of one run or campaign starts from); None: not recorded
    (a run by hand). Runs of one series with several are of other structures
    (:func:`structure_hash_of_folder`)."""
    potential: str | None = None
    """A run without a recorded model: the ``pair_style`` and ``pair_coeff`` lines its
    logs echo (what it ran with, as far as its files say); None where they say none."""
    structure_notes: list[str] | None = None
    """What ionmd did to the structure file before the run (``run.json``'s
    ``structure_notes``: occupancies within rounding read as whole, partial occupancies
    ordered); [] nothing; None: not recorded (a run by hand, a folder written before)."""
    settings_notes: list[str] = field(default_factory=list)
    """What a user should be told of how the run's settings were found, where they may not
    be those meant: a folder named ``T1000`` analysed at the 1300 K its logs' thermostat
    says (:func:`~ionmd.analysis.log_timing.timing_from_logs`)."""
    log_text: dict[Path, str] = field(default_factory=dict, repr=False, compare=False)
    """The text of each of ``logs`` that exists, as :func:`load_run_spec` read it: the
    analysis uses these (one read of each log per analysis, not one per check). A log
    missing here is read from its file (a spec made by hand)."""

    @property
    def complete(self) -> bool | None:
        """Whether the run reached its end (None: unknown, no ``status.json``)."""
        return None if self.run_status is None else self.run_status.get("state") == "completed"


def read_run_status(path: str | Path) -> dict | None:
    """:data:`STATUS_KEYS` from a run directory's ``status.json`` (state, step, planned
    steps, reason; stopping rule, checks and stop reason where it has them); None without
    one, or when it cannot be read."""
    f = Path(path) / STATUS
    try:
        status = json.loads(f.read_text())
    except (OSError, ValueError):
        return None
    return {k: status[k] for k in STATUS_KEYS if k in status}



def folder_settings(path: str | Path) -> dict:
    """A run folder's ``settings.json`` (written by ``ionmd run`` or a campaign:
    :mod:`ionmd.protocols.rundir`); {} without a readable one (a run by hand)."""
    try:
        settings = json.loads((Path(path) / SETTINGS).read_text())
    except (OSError, ValueError):
        return {}
    return settings if isinstance(settings, dict) else {}


def structure_hash_of_folder(path: str | Path) -> str | None:
    """The ``structure_hash`` a run folder's ``settings.json`` records: its starting cell's
    (cell, atoms, positions). One ``ionmd run`` or campaign orders a disordered file once,
    for all its temperatures and replicas, and never reuses a run folder for another cell,
    so the runs of one structure it wrote have one; None where not recorded (a run by
    hand)."""
    found = folder_settings(path).get("structure_hash")
    return found if isinstance(found, str) and found else None


def model_of_folder(path: str | Path) -> dict:
    """``model`` and ``model_hash`` of a run folder written by ``ionmd run`` or a campaign
    before ``run.json`` recorded them, from its ``settings.json`` (the model file's path
    and hash; :mod:`ionmd.protocols.rundir`): named as its run path names it
    (``<structure>/<model>/<protocol>/T<T>K/r<replica>``), else after the file's stem.
    {} without a readable ``settings.json`` (a run by hand)."""
    path = Path(path)
    settings = folder_settings(path)
    if not settings.get("model"):
        return {}
    folders = path.resolve().parts
    laid_out = (len(folders) >= 5 and folders[-4] and folders[-5] == settings.get("structure")
                and folders[-3] == (settings.get("protocol") or {}).get("name"))
    name = folders[-4] if laid_out else Path(settings["model"]).stem
    return {"model": name, **({"model_hash": settings["model_hash"]}
                              if settings.get("model_hash") else {})}


def _potential_from_logs(logs: list[Path], texts: dict[Path, str]) -> str | None:
    """The potential the logs echo (``texts``, their texts by path): the last log's
    ``pair_style`` line and every ``pair_coeff`` line after it (a hybrid's sub-styles each
    have theirs; a line echoed again, as after a restart, once), comments and extra spaces
    dropped, joined by ``"; "``; None where they echo neither."""
    found: list[str] = []
    for log in logs:
        lines = pair_lines(_pair_candidates(texts.get(log, "")))
        if lines:                       # each log is a LAMMPS process: its own potential
            found = lines
    return "; ".join(found) or None


def _pair_candidates(text: str):
    """The lines of a log's ``text`` that start with ``pair_`` (echoed as written: maybe
    indented), one by one; :func:`pair_lines` judges them. Found by ``str.find`` (a log may
    be large: not split into all its lines, nor scanned by a regex at every position)."""
    at = text.find("pair_")
    while at >= 0:
        start, end = text.rfind("\n", 0, at) + 1, text.find("\n", at)
        end = len(text) if end < 0 else end
        if not text[start:at].strip():
            yield text[start:end]
        at = text.find("pair_", end)


#: Keys of ``run.json`` (those analysis reads, and the rest ``ionmd run`` writes).
RUN_JSON_KEYS = ("schema", "temperature_K", "timestep_fs", "dump_every", "discard_ps",
                 "mobile_species", "charges", "charges_guessed", "type_map", "data_file",
                 "atom_style", "trajectory", "trajectory_format", "logs", "dump_unwrapped",
                 "ensemble", "protocol", "structure", "model", "model_hash", "replica",
                 "temperature_end_K", "structure_notes")
CHARGES_REPLACED_IS_NO_SETTING = ("it is the analysis's note, in results.json, of the given "
                                  "charges (--charges, a campaign's) that replaced run.json's")
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
        if key == "charges_replaced":
            said.append(f"{key!r} is no setting: {CHARGES_REPLACED_IS_NO_SETTING}; delete it "
                        f"(charges go under 'charges')")
            continue
        meant = _key_meant(key)
        said.append(f"unknown key {key!r}" + (f"; did you mean {meant!r}?" if meant else ""))
    raise AnalysisError(f"{file}: {'; '.join(said)} (keys: {', '.join(RUN_JSON_KEYS)}; "
                        f"notes of your own go under {NOTES_KEY!r})")


def _refuse_bad_structure_notes(file: Path, meta: dict) -> None:
    """Refuse ``structure_notes`` that are no list of strings (a hand-written string would
    be read as one note per character)."""
    notes = meta.get("structure_notes")
    if notes is None or (isinstance(notes, list) and all(isinstance(n, str) for n in notes)):
        return
    raise AnalysisError(f"{file}: 'structure_notes' must be a list of strings (what ionmd "
                        f"did to the structure file), got {json.dumps(notes)}; notes of your "
                        f"own go under {NOTES_KEY!r}")


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
        If it is not a JSON object, its ``schema`` is not :data:`SCHEMA`, a key is
        unknown (:func:`_refuse_unknown_keys`), or ``structure_notes`` are no list of
        strings.
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
    _refuse_bad_structure_notes(file, meta)
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
        If the directory or a file is missing, a required field is given nowhere,
        ``run.json`` is of a schema this ionmd does not know (:func:`read_run_json`), a
        key of ``overrides`` is no ``run.json`` key, or a value of
        :data:`~ionmd.analysis.run_json_values.VALUE_RULES` (``discard_ps``,
        ``mobile_species``, ``replica``, ``temperature_end_K``, ``atom_style``; run.json's or
        given) is none the analysis can use.
    """
    from ionmd.analysis import ase_frames

    path, overrides = run_folder(path, overrides)
    meta = read_run_json(path)
    recorded = {k: meta[k] for k in ("charges", "charges_guessed") if k in meta}
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    if "charges" in given:      # --charges: the user's, whatever run.json said of its own
        given.setdefault("charges_guessed", False)
    meta.update(given)
    _refuse_unknown_overrides(given)
    refuse_unusable_values(path / RUN_JSON, meta, given)
    meta["charges"] = _checked_charges(meta, "--charges" if "charges" in given
                                       else f"{path / RUN_JSON}: charges",
                                       mobile_not_zero="charges" in given
                                       and not meta.get("charges_guessed"))
    if "charges" in given:
        meta["charges_replaced"] = replaced_charges_note(path, recorded, meta["charges"])
    traj = ([path / p for p in meta["trajectory"]] if "trajectory" in meta
            else found_trajectory(path))
    if not traj:
        raise AnalysisError(f"{path}: no trajectory (looked for {searched_text()}); list "
                            f"it under 'trajectory' in {RUN_JSON} or pass --trajectory")
    traj, meta["skipped_trajectory"] = without_empty_pieces(traj)
    fmt = ase_frames.trajectory_format(traj, meta.get("trajectory_format"))
    if fmt is not None:
        return _foreign_spec(path, meta, traj, fmt)
    logs = [path / p for p in meta["logs"]] if "logs" in meta else log_files(path)
    read = read_log_texts(logs)
    refuse_partitions(path, read)
    texts = log_texts(read)
    echoed = {name: md_settings(text) for name, text in texts.items()}
    timing_from_logs(path, meta, frames_settings(texts, echoed, traj))
    data = (path / meta["data_file"] if "data_file" in meta
            else only_file(path, "*.data", "data file", "--data-file"))
    type_map = (_type_map(path, meta["type_map"]) if meta.get("type_map")
                else _type_map_from_logs(echoed))
    return _spec(path, meta, data_file=data, trajectory=traj, logs=logs, log_text=read,
                 type_map=type_map, timestep_fs=float(meta["timestep_fs"]), dump_every=meta.get("dump_every"),
                 temperature_K=float(meta["temperature_K"]))


def _refuse_unknown_overrides(given: dict) -> None:
    """Refuse a key of ``load_run_spec``'s overrides that is no ``run.json`` key: it was
    taken into the spec unchecked (``charges_replaced``: a note the analysis writes) or
    ignored (``mobile``: the species left at Li)."""
    for key in given:
        if key == "charges_replaced":
            raise AnalysisError("overrides['charges_replaced'] of load_run_spec is no "
                                f"setting: {CHARGES_REPLACED_IS_NO_SETTING}; give 'charges'")
        if key not in RUN_JSON_KEYS:
            meant = _key_meant(key)
            raise AnalysisError(f"overrides of load_run_spec: unknown key {key!r}"
                                + (f"; did you mean {meant!r}?" if meant else "")
                                + f" (keys: {', '.join(RUN_JSON_KEYS)})")


def _type_map_from_logs(echoed: dict[str, dict]) -> dict[int, str] | None:
    """Type -> element as the run's ``pair_coeff * * El1 El2 ...`` gave it (what the model
    was told; the data file may hold no masses), where the logs echo one such line."""
    found = {tuple(s["elements"]) for s in echoed.values() if s["elements"]}
    return dict(enumerate(found.pop(), start=1)) if len(found) == 1 else None


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
    return _spec(path, meta, data_file=None, trajectory=traj, logs=logs,
                 log_text=read_log_texts(logs), type_map=None, trajectory_format=fmt, **timing)


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
                   replica=meta.get("replica", 0),
                   # bool("false") is True: a quoted flag would read wrapped files as unwrapped
                   dump_unwrapped=_flag(path, meta, "dump_unwrapped",
                                        "true where the files hold LAMMPS-unwrapped "
                                        "coordinates in a constant box, else false (or no key)"),
                   atom_style=meta.get("atom_style"),
                   temperature_end_K=(None if meta.get("temperature_end_K") is None
                                      else float(meta["temperature_end_K"])),
                   skipped_trajectory=list(meta.get("skipped_trajectory", [])),
                   settings_notes=list(meta.get("settings_notes", [])),
                   structure_notes=(None if meta.get("structure_notes") is None
                                    else list(meta["structure_notes"])),
                   run_status=read_run_status(path),
                   structure_hash=structure_hash_of_folder(path),
                   **_model_fields(path, meta, known))


def _model_fields(path: Path, meta: dict, known: dict) -> dict:
    """``model``, ``model_hash`` and ``potential`` of a run: ``run.json``'s, else its
    folder's ``settings.json`` (:func:`model_of_folder`), else the logs' pair lines."""
    recorded = ({k: meta[k] for k in ("model", "model_hash") if meta.get(k)}
                or model_of_folder(path))
    for key, value in recorded.items():
        if not isinstance(value, str):
            raise AnalysisError(f"{path / RUN_JSON}: {key!r} must be a string (the model's "
                                f"name, the file's sha256), got {json.dumps(value)}")
    potential = None if recorded else _potential_from_logs(known["logs"], known["log_text"])
    return {"model": recorded.get("model"), "model_hash": _model_hash(path, recorded),
            "potential": potential}


def _model_hash(path: Path, recorded: dict) -> str | None:
    """The recorded ``model_hash``; where the folder's ``settings.json`` holds it as its
    model file's digest (written before model identities were: no ``model_file_hash``),
    the identity of that file while it is still there with those bytes
    (:func:`~ionmd.export.model_identity.identity_of_recorded_file`), so that the run is
    in one series with the runs of every export of its model."""
    from ionmd.export.model_identity import identity_of_recorded_file

    digest = recorded.get("model_hash")
    settings = folder_settings(path)
    if (not digest or "model_file_hash" in settings or settings.get("model_hash") != digest
            or not isinstance(settings.get("model"), str)):
        return digest
    return identity_of_recorded_file(settings["model"], digest) or digest


def identities_of_file_digests(results) -> dict[str, str]:
    """{model file digest: model identity} from the runs of one analysis (their results,
    each with ``run``, its folder, and ``model_hash``): a run written since identities were
    recorded keeps the digest of the file it ran with as ``model_file_hash`` in its
    ``settings.json``. A folder written before recorded that digest as its ``model_hash``;
    where the file is no longer at its recorded path (moved, renamed, the campaign copied
    elsewhere) :func:`_model_hash` cannot read its identity, and this map joins it with
    the later runs of the same bytes (:func:`ionmd.analysis.report.series_keys`). A digest
    recorded with two identities (an identity rule changed between the runs) maps to none."""
    found: dict[str, set] = {}
    for r in results:
        if not r.get("run") or not isinstance(r.get("model_hash"), str):
            continue
        digest = folder_settings(r["run"]).get("model_file_hash")
        if isinstance(digest, str) and digest and digest != r["model_hash"]:
            found.setdefault(digest, set()).add(r["model_hash"])
    return {digest: next(iter(ids)) for digest, ids in found.items() if len(ids) == 1}
