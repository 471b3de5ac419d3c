"""Which values of the ``run.json`` keys a user edits (``discard_ps``, ``mobile_species``,
``replica``, ``temperature_end_K``, ``atom_style``; the timing ``timestep_fs``,
``dump_every``, ``temperature_K``, also as flags) the analysis can use: one rule per key,
applied where the analysis reads a run (:func:`ionmd.analysis.run_spec.load_run_spec`) and,
for the analysis settings a launch keeps (``discard_ps``, ``mobile_species``), where a run is
launched (:mod:`ionmd.protocols.run_json_edits`), so that neither takes a value the other
refuses. :data:`VALUE_RULES` holds each key's rule and what to write instead.

A number is a JSON number: a quoted ``"0.2"`` is refused in both places rather than read as
0.2 (its neighbours ``"20ps"`` and ``"0,2"`` cannot be read, and which unit a quoted value
meant is a guess), and so is ``true`` (Python reads it as 1.0 ps). Whether a discard leaves
enough frames depends on the run's length: the launch checks it against the planned run,
the analysis against the frames it read (:meth:`ionmd.analysis.trajectory.Trajectory.discard`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path

from ionmd.errors import AnalysisError
from ionmd.lammps.data_file import ATOM_STYLE_COLUMNS


def is_number(value) -> bool:
    """Whether ``value`` is a finite JSON number (not a bool, a string, NaN or Infinity)."""
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def discard_problem(value) -> str | None:
    """What is wrong with ``value`` as ``discard_ps`` whatever the run's length (None: the
    analysis can use it)."""
    if not is_number(value):
        return "is not a number of ps"
    if value < 0:
        return "is negative"
    return None


def mobile_problem(value, elements: Iterable[str] | None = None) -> str | None:
    """What is wrong with ``value`` as ``mobile_species`` (None: the analysis can use it):
    not a non-empty list of strings (a bare ``"Li"`` would be read as ``L`` and ``i``), or,
    where the structure's ``elements`` are known, a species it does not hold."""
    if not (isinstance(value, (list, tuple)) and value
            and all(isinstance(s, str) for s in value)):
        return "is not a list of element symbols"
    repeated = sorted({s for s in value if list(value).count(s) > 1})
    if repeated:    # each would be analysed twice, its ions counted twice in sigma
        return f"names {', '.join(repeated)} more than once"
    if elements is None:
        return None
    elements = list(elements)
    missing = [s for s in value if s not in elements]
    if missing:
        return (f"names {', '.join(missing)}, which this run's structure does not hold "
                f"(elements: {', '.join(elements)})")
    return None


def replica_problem(value) -> str | None:
    """What is wrong with ``value`` as ``replica`` (None: usable): ``int()`` read ``"1"``,
    ``1.5`` and ``true`` as replica 1 and ended in a traceback at ``"r1"`` or ``null``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        return "is not a replica number"
    return None


def temperature_end_problem(value) -> str | None:
    """What is wrong with ``value`` as ``temperature_end_K`` (None: usable; ``null`` is no
    ramp): ``float()`` read ``"2100"`` and ``true`` (1 K) and took a negative end."""
    if value is None or (is_number(value) and value > 0):
        return None
    return "is not a temperature in K"


def temperature_problem(value) -> str | None:
    """What is wrong with ``value`` as ``temperature_K`` (None: usable): ``float()`` read
    ``"600"``, ``true`` as 1 K, and ``--temperature -600`` was recorded as -600 K."""
    return None if is_number(value) and value > 0 else "is not a temperature in K"


def timestep_problem(value) -> str | None:
    """What is wrong with ``value`` as ``timestep_fs`` (None: usable): ``true`` analysed
    frames of 2 fs steps at 1 fs (D 2x off)."""
    return None if is_number(value) and value > 0 else "is not a time step in fs"


def dump_every_problem(value) -> str | None:
    """What is wrong with ``value`` as ``dump_every`` (None: usable; ``40.0`` is 40; run.json's
    ``null`` is no value: :data:`ionmd.analysis.run_json.NULL_IS_NOT_GIVEN`)."""
    if is_number(value) and value >= 1 and float(value).is_integer():
        return None
    return "is not a number of steps between frames"


REQUIRED_COLUMNS = ("id", "type", "x", "y", "z")
"""Columns of a data file's Atoms section the analysis reads (MDAnalysis needs each)."""


def atom_style_problem(value) -> str | None:
    """What is wrong with ``value`` as ``atom_style``, the columns of the data file's Atoms
    section (None: usable): a number ended in a traceback, and ``""`` was taken as no value."""
    if not isinstance(value, str) or not value.split():
        return "is not the columns of the data file's Atoms section"
    if value.strip() in ATOM_STYLE_COLUMNS:
        return (f"names a LAMMPS atom style, not the columns of its Atoms section "
                f"({ATOM_STYLE_COLUMNS[value.strip()]!r})")
    words = value.split()
    missing = [c for c in REQUIRED_COLUMNS if c not in words]
    if missing:
        return (f"has no column {', '.join(missing)} (the analysis reads "
                f"{' '.join(REQUIRED_COLUMNS)})")
    repeated = sorted({w for w in words if words.count(w) > 1})
    if repeated:
        return f"names the column {', '.join(repeated)} more than once"
    return None


@dataclass(frozen=True)
class ValueRule:
    """A key's rule (``problem``: what is wrong with a value, None where usable), what to
    write instead (``write``) and what deleting the key gives (``absent``)."""

    problem: Callable[[object], str | None]
    write: str
    absent: str


VALUE_RULES = {
    "discard_ps": ValueRule(discard_problem, "a number of ps from 0 (a JSON number, no "
                            "quotes: 0.2)", "for no discard"),
    "mobile_species": ValueRule(mobile_problem, "a list of the run's mobile elements, each "
                                "once, e.g. [\"Li\"]", "for the default [\"Li\"]"),
    "replica": ValueRule(replica_problem, "the replica's number, a whole JSON number from 0 "
                         "(no quotes: 1)",
                         # as load_run_spec reads a missing key: the folder's number first
                         "for the number its folder's name gives (rep2: 2), else replica 0"),
    "temperature_end_K": ValueRule(temperature_end_problem, "a ramp's end temperature in K, "
                                   "a JSON number above 0 (no quotes: 2100), or null",
                                   "for a run without a ramp"),
    "temperature_K": ValueRule(temperature_problem, "the run's temperature in K, a JSON "
                               "number above 0 (no quotes: 600)", "to take it from the "
                               "run's files where they say it"),
    "timestep_fs": ValueRule(timestep_problem, "the MD time step in fs, a JSON number above "
                             "0 (no quotes: 2)", "to take it from the run's files where "
                             "they say it"),
    "dump_every": ValueRule(dump_every_problem, "the MD steps between frames, a whole JSON "
                            "number from 1 (no quotes: 10)", "to take it from the run's "
                            "files where they say it"),
    "atom_style": ValueRule(atom_style_problem, "the columns of the data file's Atoms "
                            "section, e.g. \"id type x y z\"", "to read them from its "
                            "'Atoms # <style>' line"),
}
"""The rule of each ``run.json`` key a user edits that no other check covers where the
analysis reads it (:func:`ionmd.analysis.run_spec.load_run_spec`)."""


GIVEN_FLAGS = {"discard_ps": ("--discard-ps", "a number of ps from 0"),
               "mobile_species": ("--mobile", "element symbols, each once, comma separated "
                                  "(Li,Na)"),
               "temperature_K": ("--temperature", "a temperature in K above 0"),
               "timestep_fs": ("--timestep-fs", "a time step in fs above 0"),
               "dump_every": ("--dump-every", "a whole number of steps from 1"),
               "atom_style": ("--atom-style", "the columns of the data file's Atoms section, "
                              "e.g. 'id type x y z'")}
"""``ionmd analyze``'s option for a key of ``load_run_spec``'s overrides, and what to give."""


def refuse_unusable_values(file: Path, meta: dict, given: dict) -> None:
    """Refuse a value of a :data:`VALUE_RULES` key the analysis cannot use (``meta``: the
    keys of run.json ``file`` with the ``given`` ones over them). An edit made after the run
    never meets a launch, and ``float()`` read ``true`` as 1.0 ps, ``"0.2"`` as 0.2 and ``-1``
    as no discard, ``int()`` ``"1"`` and ``1.5`` as replica 1, or ended in a traceback
    (``"20ps"``, ``[0.2]``, ``"r1"``, an ``atom_style`` number). Names where the value came
    from (``run.json``, the command line or the overrides of
    :func:`~ionmd.analysis.run_spec.load_run_spec`), the value and what to give."""
    for key, rule in VALUE_RULES.items():
        if key not in meta or not (why := rule.problem(meta[key])):
            continue
        value = meta[key]
        if key in given:
            raise AnalysisError(_given_problem(key, value, why))
        raise AnalysisError(f"{file}: \"{key}\": {json.dumps(value)} {why}; write "
                            f"{rule.write}, or delete the key {rule.absent}")


def _given_problem(key: str, value, why: str) -> str:
    """The refusal of a given value: as ``ionmd analyze``'s option where it has one (the
    Python API's overrides named too: its user typed no option), else as the override."""
    python = f"overrides[{key!r}] of load_run_spec"
    if key not in GIVEN_FLAGS:
        return f"{python}: {value!r} {why}; give {VALUE_RULES[key].write}"
    flag, give = GIVEN_FLAGS[key]
    shown = (",".join(value) if isinstance(value, (list, tuple))
             and all(isinstance(v, str) for v in value) else value)
    return (f"{flag} {shown} {why}; give {give} ({flag} on the command line; from Python, "
            f"{python}: {VALUE_RULES[key].write})")
