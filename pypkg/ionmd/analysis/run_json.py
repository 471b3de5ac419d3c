"""A run folder's ``run.json``: the keys it may hold, read and checked as written (a
key unknown, repeated or of another schema refused; the values analysis can use are
:mod:`ionmd.analysis.run_json_values`'s). Apart from the run's spec
(:func:`ionmd.analysis.run_spec.load_run_spec`), which also reads the files it names: ``ionmd
run``'s record (:mod:`ionmd.protocols.rundir`) reads it through the same rules.

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
"""

from __future__ import annotations

import json
from pathlib import Path

from ionmd.analysis.run_files import RUN_JSON
from ionmd.errors import AnalysisError
from ionmd.suggest import closest, folded

SCHEMA = "ionmd-run/1"


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
    said = found.rpartition("/")[2] if isinstance(found, str) else ""
    # ASCII digits only: str.isdigit takes '²', which int() refuses, and int() reads '٣'
    newer = (isinstance(found, str) and found.startswith(family + "/")
             and said.isascii() and said.isdigit() and int(said) > int(version))
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


def checked_type_map(path: Path, given: dict) -> dict[int, str]:
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
    for key in NULL_IS_NOT_GIVEN:
        if key in meta and meta[key] is None:
            del meta[key]
    return meta


NULL_IS_NOT_GIVEN = ("timestep_fs", "dump_every", "temperature_K")
"""run.json timing keys whose ``null`` is no value, as the key left out: the run's files say
it (an ASE ``.traj`` header, the LAMMPS log), else it is asked for. An ASE run's ``null``
was read so before their values were checked (c1bc000), which then refused it."""


def refuse_unknown_overrides(given: dict) -> None:
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
