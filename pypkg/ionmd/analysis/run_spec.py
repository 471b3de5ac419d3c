"""What analysis reads from a run directory: its RunSpec (run.json plus the files it names).

A run directory (written by the protocols layer) contains the LAMMPS data file, one or
more trajectory pieces (DCD or ``dump custom``), ``log.lammps`` file(s) and ``run.json``.
``run.json``'s keys and how they are checked: :mod:`ionmd.analysis.run_json`; the model
and starting cell a folder records: :mod:`ionmd.analysis.run_model`.

Without ``structure``, a run is named after the nearest folder of its path that is neither a
temperature folder (``900K``, ``T900K``, ``900``) nor a replica folder (``r0``, ``rep1``,
``replica_2``, ``seed3``): ``LiCl/600K/r0`` and ``LiCl/600K`` are both ``LiCl``, so that
runs of different materials laid out alike are not fitted together
(:func:`ionmd.analysis.run_files.structure_name`).

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

import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ionmd.analysis.log_timing import (FramesRamp, frames_settings, ramps_in_frames,
                                       timing_from_logs)
from ionmd.analysis.run_files import (REPLICA_FOLDER, RUN_JSON, STATUS, TEMPERATURE_FOLDER,
                                      found_trajectory, log_texts, only_file,
                                      read_log_texts, refuse_partitions, searched_text,
                                      structure_name)
from ionmd.analysis.run_json import checked_type_map, read_run_json, refuse_unknown_overrides
from ionmd.analysis.run_json_values import refuse_unusable_values
from ionmd.analysis.run_model import (folder_settings, model_fields,
                                      structure_hash_of_folder)
from ionmd.analysis.trajectory_readers import without_empty_pieces
from ionmd.errors import AnalysisError, IonmdError
from ionmd.lammps.echoed_input import md_settings
from ionmd.lammps.log import log_files


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
    pressure_ramp: tuple[float, float, str] | None = None
    """A barostat ramp over the run that wrote the frames: ``(start, end, unit)`` (the
    pressure-ramp preset's ``pressure_bar`` -> ``pressure_end_bar`` in its folder's
    ``settings.json``, else the ``fix npt ... iso P0 P1`` of a hand run's logs over the
    analysed frames: :func:`pressure_ramp_of`); None: one pressure, or no barostat."""
    frames_ramps: list[FramesRamp] = field(default_factory=list)
    """The thermostat and barostat ramps a hand run's logs echo over its analysed frames
    (past the discarded start: :func:`~ionmd.analysis.log_timing.ramps_in_frames`); its
    D and sigma are of no one state (:func:`~ionmd.analysis.run_inputs.ramp_of`)."""
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
    (:func:`~ionmd.analysis.run_model.structure_hash_of_folder`)."""
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
        ``run.json`` is of a schema this ionmd does not know (:func:`~ionmd.analysis.run_json.read_run_json`), a
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
    refuse_unknown_overrides(given)
    refuse_unusable_values(path / RUN_JSON, meta, given)
    meta["charges"] = _checked_charges(meta, "--charges" if "charges" in given
                                       else f"{path / RUN_JSON}: charges",
                                       mobile_not_zero="charges" in given
                                       and not meta.get("charges_guessed"))
    if "charges" in given:
        meta["charges_replaced"] = replaced_charges_note(path, recorded, meta["charges"])
    traj = ([path / p for p in meta["trajectory"]] if "trajectory" in meta
            else found_trajectory(path))
    if not traj and (path / "ev.json").is_file():
        # `ionmd run ev-scan` wrote it: single points, no MD to analyse
        raise AnalysisError(f"{path}: an E-V scan (ev-scan), no MD trajectory: its results "
                            f"are in {path / 'ev.json'} (V0, B0, the verdict; `ionmd status` "
                            f"shows the verdict); `ionmd analyze` analyses MD runs")
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
    frames = frames_settings(texts, echoed, traj, float(meta.get("discard_ps", 0.0)),
                             float(meta["timestep_fs"]) if "timestep_fs" in meta else None)
    timing_from_logs(path, meta, frames)
    declared = declared_pressure_ramp(path)
    ramps = ramps_in_frames(frames, meta, declared is not None)
    data = (_data_file_in(path, meta["data_file"]) if "data_file" in meta
            else only_file(path, "*.data", "data file", "--data-file"))
    type_map = (checked_type_map(path, meta["type_map"]) if meta.get("type_map")
                else _type_map_from_logs(echoed, data))
    return _spec(path, meta, data_file=data, trajectory=traj, logs=logs, log_text=read,
                 type_map=type_map, frames_ramps=ramps,
                 pressure_ramp=declared or pressure_ramp_of(ramps),
                 timestep_fs=float(meta["timestep_fs"]), dump_every=meta.get("dump_every"),
                 temperature_K=float(meta["temperature_K"]))


def declared_pressure_ramp(path: Path) -> tuple[float, float, str] | None:
    """The barostat ramp a run's folder declares: its ``settings.json`` protocol (``ionmd
    run``, a campaign: an NpT protocol with ``pressure_end_bar`` not its
    ``pressure_bar``); None where it declares none."""
    protocol = folder_settings(path).get("protocol")
    if not isinstance(protocol, dict):
        return None
    return protocol_pressure_ramp(protocol.get("ensemble"), protocol.get("pressure_bar"),
                                  protocol.get("pressure_end_bar"))


def protocol_pressure_ramp(ensemble, start, end) -> tuple[float, float, str] | None:
    """``(start, end, "bar")`` where a protocol's barostat ramps its target (NpT with a
    ``pressure_end_bar`` that is a number other than ``pressure_bar``), else None: the one
    rule for a run folder's settings and a campaign's protocol (sweep collect's survival
    conditions)."""
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, end))
    if ensemble == "npt" and numbers and start != end:
        return float(start), float(end), "bar"
    return None


def pressure_ramp_of(ramps: list[FramesRamp]) -> tuple[float, float, str] | None:
    """The barostat ramp the logs echo over the analysed frames (a hand run's ``fix npt
    ... iso 1 50000 1.0``: :func:`~ionmd.analysis.log_timing.ramps_in_frames`); None at
    one pressure there."""
    for r in ramps:
        if r.kind == "barostat":
            return r.start, r.stop, r.unit
    return None


def _data_file_in(path: Path, name: str) -> Path:
    """The data file ``name`` (``--data-file``, run.json's ``data_file``) of the run folder
    ``path``, which it is relative to; refused where absent, saying so and giving the
    absolute path of a file of that name in the current folder (``ionmd analyze custom
    --data-file LiCl.data`` beside ``custom/`` said only 'data file custom/LiCl.data not
    found')."""
    data = path / name
    if not data.is_file() and Path(name).is_absolute():
        raise AnalysisError(f"data file {data} not found")
    if not data.is_file():
        here = Path(name).resolve()
        hint = (f"; {name} in the current folder is {here}: give that absolute path"
                if here.is_file() and here != data.resolve() else "")
        raise AnalysisError(f"data file {data} not found (--data-file and run.json's "
                            f"'data_file' are relative to the run folder {path}){hint}")
    return data


def _type_map_from_logs(echoed: dict[str, dict], data: Path) -> dict[int, str] | None:
    """Type -> element as the run's ``pair_coeff * * El1 El2 ...`` gave it (what the model
    was told; the data file may hold no masses), else as its ``mass`` commands weigh the
    types, where the logs echo one such map that names every type of ``data``. ``mass``
    commands that set some types only (``mass 1 6.94`` beside a data file whose Masses give
    the rest) give none: the data file's Masses then do (such a run was refused, 'type map
    {1: 'Li'} has no element for LAMMPS types [2]', a map no one had given)."""
    found = {tuple(s["elements"]) for s in echoed.values() if s["elements"]}
    if len(found) != 1:
        return None
    type_map = dict(enumerate(found.pop(), start=1))
    types = _data_atom_types(data)
    return type_map if types is None or set(range(1, types + 1)) <= set(type_map) else None


def _data_atom_types(data: Path) -> int | None:
    """The ``N atom types`` of a LAMMPS data file's header; None where it says none."""
    try:
        with open(data, errors="replace") as fh:
            next(fh, None)                  # the title line
            for line in itertools.islice(fh, 200):
                words = line.split("#")[0].split()
                if words[1:3] == ["atom", "types"] and words[0].isdigit():
                    return int(words[0])
                if words and not words[0][0].isdigit():     # a section: the header ended
                    return None
    except OSError:
        return None
    return None


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

    frames = ase_frames.read_ase(traj, fmt)
    timing = ase_frames.resolve_timing(frames, meta)
    meta = {**meta, "settings_notes": [*meta.get("settings_notes", []),
                                       *ase_frames.restart_notes(frames, timing)]}
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


def folder_replica(path: Path) -> int:
    """The replica number a hand run's folder layout gives (``LiCl/600K/rep1`` -> 1;
    ``r0``, ``replica_2``, ``run3``, ``seed3``: the nearest replica folder of the path below
    its structure's: :data:`~ionmd.analysis.run_files.REPLICA_FOLDER`), 0 where none does:
    two replicas run by hand were both replica 0."""
    here = path.resolve()
    for folder in (here, *here.parents):
        if REPLICA_FOLDER.fullmatch(folder.name):
            return int(re.search(r"\d+$", folder.name).group())
        if not TEMPERATURE_FOLDER.fullmatch(folder.name):
            return 0
    return 0


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
                   replica=meta.get("replica", folder_replica(path)),
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
                   **model_fields(path, meta, known))
