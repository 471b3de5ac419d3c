"""The rules a protocol's settings obey, in one place for every way of running one:
``ionmd run`` (its options and ``--set``), the Python API (:meth:`Protocol.with_overrides`,
:func:`ionmd.protocols.plan_runs`, :func:`ionmd.protocols.run_ev_scan`) and a campaign
(``ionmd sweep``, which adds the line of the campaign file to each message). One input
is refused by each with the same words.

* :func:`override_problems` -- the parameters a user gives (by name, as text or as
  values): known names, the field's type, text that reads as that type, finite numbers,
  each temperature once, and time options that fit together (:func:`apply_overrides`
  checks and applies them in one pass);
* :func:`check_protocol` -- a whole :class:`Protocol` (also one built directly): the same
  types and temperatures, each number inside its range (:data:`RANGES`, the one table of
  the bounds of every numeric setting, a campaign's too), then the settings that cannot
  work together;
* :func:`check_cell` -- the protocol on one run cell (hydrogen, a triclinic box);
* :func:`folder_name_problem` -- a structure's or model's name as a run folder.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import typing
from pathlib import Path

import numpy as np
from ase import Atoms

from ionmd.analysis.run_json_values import mobile_problem
from ionmd.errors import IonmdError
from ionmd.lammps.data_file import lammps_triclinic
from ionmd.protocols.presets import TIME_ALIASES, Protocol, convert_text, parse_time_ps
from ionmd.suggest import did_you_mean
from ionmd.structures import supercell as supercells
from ionmd.structures.occupancy_tolerance import OCCUPANCY_TOLERANCE

MAX_TIMESTEP_FS = 5.0
MAX_TIMESTEP_H_FS = 0.5
"""Longest time step for a structure with hydrogen: AQVolt26 (Methods, AIMD) runs 2 fs
"with the exception of 0.5 fs for hydrogen-containing materials" (an O-H / N-H stretch
has a period of ~9 fs: 1-2 fs steps sample it with 5-9 points and do not conserve
energy)."""
COUPLES = ("auto", "iso", "aniso", "tri")


@dataclasses.dataclass(frozen=True)
class Range:
    """The values a numeric setting may take, and why: ``low < x`` (``low_open``) or
    ``low <= x``, and ``x < high`` (``high_open``) or ``x <= high``."""

    low: float
    high: float
    why: str
    unit: str = ""
    low_open: bool = False
    high_open: bool = False

    def holds(self, x) -> bool:
        return ((x > self.low if self.low_open else x >= self.low)
                and (x < self.high if self.high_open else x <= self.high))

    def text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        low = f"{'>' if self.low_open else '>='} {self.low:g}"
        if self.high == math.inf:
            return f"{low}{unit}"
        return f"{low} and {'<' if self.high_open else '<='} {self.high:g}{unit}"


MAX_TEMPERATURE_K = 5000.0
MAX_TEMPERATURES = 200
MAX_REPLICAS = 1000
_TEMPERATURE = Range(0.0, MAX_TEMPERATURE_K, "above ~5000 K lies outside any MLIP's training "
                     "data (OMat24's AIMD reaches 3000 K), and solid electrolytes melt well "
                     "below", "K", low_open=True)
_PRESSURE = Range(-1e5, 1e6, "from -10 GPa (no ionic solid holds a larger tension: it "
                  "cracks or cavitates) to 100 GPa (diamond-anvil studies of pressure-induced "
                  "superionicity reach tens of GPa; past 100 GPa lies outside MLIP training "
                  "data); 1 atm is 1.01325 bar, not 101325 (that is Pa)", "bar")
_DAMPING = Range(0.0, 1e5, "a relaxation time of 100 ps or more leaves a run of ps to ns "
                 "uncontrolled; 100 fs (thermostat) and 1000 fs (barostat) are usual", "fs",
                 low_open=True)
RANGES: dict[str, Range] = {
    # protocol fields (ionmd run, --set, the API and a campaign's [protocol])
    "temperatures": _TEMPERATURE,
    "temperature_end": _TEMPERATURE,
    "long_below_K": _TEMPERATURE,
    "pressure_bar": _PRESSURE,
    "pressure_end_bar": _PRESSURE,
    "tdamp_fs": _DAMPING,
    "pdamp_fs": _DAMPING,
    "berendsen_modulus_bar": Range(0.0, 1e7, "a bulk modulus: diamond's is 4.4e6 bar, Li "
                                   "halides' and thiophosphates' 2e5-4e5 bar", "bar",
                                   low_open=True),
    "replicas": Range(1, MAX_REPLICAS, "one run folder each per temperature; the error of a "
                      "mean narrows only as 1/sqrt(replicas): longer runs buy more"),
    "long_duration_ps": Range(0.0, math.inf, "a run length", "ps", low_open=True),
    "long_discard_ps": Range(0.0, math.inf, "a time to drop", "ps"),
    "halt_volume_change": Range(0.0, 10.0, "|V/V0 - 1| as a fraction: 0.5 stops at a 50 % "
                                "change, 10 at an eleven-fold volume", low_open=True),
    "n_points": Range(5, 1001, "one volume each, written to its own folder; MLIP Arena uses 21"),
    "max_strain": Range(0.0, 1.0, "the volumes V0 (1 + s), s from -max_strain to +max_strain; "
                        "0.2 (the ev-scan preset) spans 0.8-1.2 V0", low_open=True,
                        high_open=True),
    # ordering of partially occupied sites (a campaign's order_*, the --order-* options)
    "order_tol": Range(0.0, 1.0, f"an occupancy rounding: {OCCUPANCY_TOLERANCE:g} is exact, "
                       "0.15 orders refined occupancies in one unit cell", low_open=True,
                       high_open=True),
    "order_seed": Range(0, math.inf, "the seed of --order random (numpy's random generator "
                        "takes whole numbers >= 0)"),
    "order_min_distance": Range(0.0, math.inf, "a distance between atoms placed on partially "
                                "occupied sites; 0: no rule", "A"),
    # campaign keys (ionmd sweep)
    "resources.walltime": Range(0.0, 366 * 1440.0, "a year: no SLURM partition runs a job "
                                "longer; a run longer than its walltime resumes from its "
                                "restart file", "min", low_open=True),
    "resources.gpus": Range(0, 64, "GPUs per run, on its one node (ionmd sweep runs each "
                            "run on one node; a multi-node run, docs/scaling.md, is started "
                            "with lmp itself): a node shows at most 64 (8 MI300X in CPX mode; "
                            "8 GPUs in 7 MIG slices each: 56)"),
    "executor.mem_gb": Range(0.0, 1e5, "GB per run: no node holds 100 TB", "GB",
                             low_open=True),
    "analysis.fit_start_ps": Range(0.0, math.inf, "a time in the run", "ps", low_open=True),
    "analysis.fit_end_ps": Range(0.0, math.inf, "a time in the run", "ps", low_open=True),
    "analysis.window_ps": Range(0.0, math.inf, "a time window", "ps", low_open=True),
    "analysis.haven_ratio": Range(0.0, math.inf, "D_tracer / D_sigma, usually 0.3-1",
                                  low_open=True),
    **{f"analysis.{name}": Range(0.0, math.inf, "a failure threshold", low_open=True)
       for name in ("volume_limit", "runaway_factor", "melt_fraction", "collapse_fraction")},
    "goal.target_K": _TEMPERATURE,
    "goal.sigma_300K_factor": Range(1.0, 1e6, "sigma known within that factor either way",
                                    low_open=True),
}
"""Every bounded numeric setting, in one table: the protocol's fields by name, a
campaign's other keys by ``table.key``. Step counts and intervals are bounded by what
LAMMPS counts (:data:`MAX_RUN_STEPS`), the time step by :data:`MAX_TIMESTEP_FS`."""


def range_problem(key: str, value) -> str | None:
    """Why ``value`` (a number, or a list of numbers) is outside the range of setting
    ``key`` (:data:`RANGES`), naming the key, the value, the range and why; None if it is
    inside or ``key`` has no range. NaN and infinities are outside every range."""
    bound = RANGES.get(key)
    if bound is None or value is None:
        return None
    for x in (value if isinstance(value, (tuple, list)) else (value,)):
        if not (_number(x) and math.isfinite(x) and bound.holds(x)):
            got = f"{x:g}" if isinstance(x, float) else repr(x)
            return (f"{key} {got}{' ' + bound.unit if bound.unit else ''} is out of range: give "
                    f"{bound.text()}{'; ' + bound.why if bound.why else ''}")
    return None
STEP_COUNTS = ("dump_every", "thermo_every", "restart_every", "halt_check_every", "replicas")
EXAMPLE_RULE = "'D_rel_ci<=0.2,hops>=10'"


def type_problem(key: str, value, *, text_ok: bool = True) -> str | None:
    """What is wrong with the type of ``value`` for field ``key`` (None if nothing): a
    number where a number belongs (``replicas = 2.5``, ``replicas = true`` and
    ``dump_every = 2.5`` would be truncated or crash later), true/false for switches, text
    for text. Text is read as the command line reads it (``"2ns"``, ``"none"``) where
    ``text_ok`` (an override, converted next); a finished :class:`Protocol` holds none."""
    hint = typing.get_type_hints(Protocol).get(key)
    if hint is None or (text_ok and isinstance(value, str)):
        return None
    if typing.get_origin(hint) is tuple:
        inner = typing.get_args(hint)[0]
        if text_ok and inner is float and _number(value):    # temperatures = 600
            return None
        listed = _sequence(value) if text_ok else isinstance(value, (list, tuple))
        ok = listed and all(
            (text_ok and isinstance(v, str)) or (inner is str and isinstance(v, str))
            or (inner is float and _number(v)) for v in value)
        return None if ok else ("must be a list of numbers" if inner is float else
                                "must be a list of names")
    args = set(typing.get_args(hint)) or {hint}
    if value is None and type(None) in args:
        return None
    if key == "supercell":      # as ionmd.structures.supercell_repeats reads it
        return None if isinstance(value, str) or _whole(value) or (
            _sequence(value) and all(map(_whole, value))) else \
            "must be text ('2x2x2', '8A', 'none'), a whole number or three whole numbers"
    if bool in args:
        return None if isinstance(value, (bool, np.bool_)) else "must be true or false"
    if int in args:
        return None if _whole(value) else "must be a whole number"
    if float in args:
        return None if _number(value) else "must be a number"
    if str in args:
        return None if isinstance(value, str) or (key in PATH_FIELDS and isinstance(
            value, os.PathLike)) else "must be text"
    return None


# The Python API takes what Python code holds: numpy numbers (np.int64 from an array, a
# np.float64 from a fit), numpy arrays and ranges of temperatures, a Path for a file.
# They are stored as plain Python values (settings.json is JSON).
PATH_FIELDS = ("template",)


def _switch(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def _whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not _switch(value)


def _number(value) -> bool:
    return isinstance(value, numbers.Real) and not _switch(value)


def _sequence(value) -> bool:
    """A list as Python code may hold one: list, tuple, range or a 1-D numpy array."""
    return isinstance(value, (list, tuple, range)) or (isinstance(value, np.ndarray)
                                                       and value.ndim == 1)


def plain_value(value):
    """``value`` as a plain Python value: a numpy number or switch as int, float or bool,
    a path as text."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def temperature_folder(temperature) -> str:
    """A temperature's run folder, ``T<temperature>K`` (6 significant digits: 1234.567 K
    and 1234.57 K share ``T1234.57K``). Whether two temperatures are one is decided by
    this name everywhere (the run layout, the refusal of a list naming one twice, a goal's
    new temperatures)."""
    return f"T{float(temperature):g}K"


def unknown_elements(present, known, structure: str, model: str) -> str | None:
    """The refusal of a structure with elements a model does not know (``ionmd run``, the
    API and campaigns say it alike), else None. ``structure``, ``model``: how to name them."""
    missing = sorted(set(present) - set(known))
    if not missing:
        return None
    return (f"structure {structure} contains {', '.join(missing)}, which model {model} does "
            f"not know (it knows {' '.join(known)}): use a model trained on these elements, "
            f"or leave the structure out")


def repeated_temperature(temperatures, as_given=None) -> str | None:
    """The refusal of a temperature list naming one temperature twice (``900`` and
    ``900.0`` share the run folder ``T900K``: each run would go there and be counted
    twice), else None. ``as_given``: the list as written (``["600K", 900]``), one item
    per temperature, to quote."""
    shown = as_given if as_given is not None and len(as_given) == len(temperatures) \
        else temperatures
    seen: dict[str, object] = {}
    for t, said in zip(temperatures, shown):
        folder = temperature_folder(t)
        if folder in seen:
            return (f"temperatures {seen[folder]!r} and {said!r} are one temperature (run "
                    f"folder {folder}): list each temperature once (more runs at a "
                    f"temperature: replicas)")
        seen[folder] = said
    return None


def _non_finite(key: str, value) -> str | None:
    """NaN and infinite numbers pass every ``<``/``>`` check: refuse them by name."""
    items = value if isinstance(value, tuple) else (value,)
    if any(isinstance(v, float) and not math.isfinite(v) for v in items):
        return f"{key} must be a finite number (got {value!r})"
    return None


def field_name(key: str) -> str:
    """The field an override sets (``check-every`` and ``check_every``: ``check_every_ps``)."""
    key = str(key).replace("-", "_")
    return TIME_ALIASES.get(key, key)


def converted(key: str, value):
    """``value`` as field ``key`` holds it: text read as the command line reads it, a
    time alias (``max_time = "2ns"``) in ps, a list of temperatures as a tuple of floats.

    Raises
    ------
    IonmdError
        If text does not read as the field's type.
    """
    name = str(key).replace("-", "_")
    if name in TIME_ALIASES:
        return parse_time_ps(str(value))
    hint = typing.get_type_hints(Protocol)[name]
    if isinstance(value, str):
        return convert_text(name, value, hint)
    if name == "temperatures" and _number(value):                       # 600
        return (float(value),)
    if name == "temperatures" and _sequence(value):     # ["600", 900], np.arange(600, 1001, 100)
        return tuple(t for item in value for t in (
            convert_text(name, item, hint) if isinstance(item, str) else (float(item),)))
    if name == "mobile_species" and _sequence(value):
        return tuple(str(item) for item in value)
    if name == "supercell" and _sequence(value):
        return tuple(int(item) for item in value)
    return plain_value(value)


def override_problems(protocol: Protocol, overrides: dict) -> list[tuple[str, str]]:
    """``(key as given, message)`` for each override of ``protocol`` that cannot be
    applied, in the order given: an unknown name, a value of the wrong type or text that
    does not read as one, a number that is not finite, a temperature listed twice, and time
    options that contradict each other (``time`` and ``max_time``; ``max_time`` or
    ``check_every`` without a stopping rule ``until``). Empty if all can."""
    return apply_overrides(protocol, overrides)[1]


def apply_overrides(protocol: Protocol,
                    overrides: dict) -> tuple[Protocol | None, list[tuple[str, str]]]:
    """``protocol`` with ``overrides`` applied, each value converted once (text read as
    the command line reads it, numpy values as plain ones), and no problems; or None and
    the problems of :func:`override_problems`.

    A duration_ps (or discard_ps) the user sets wins over the preset's rule for low
    temperatures: it applies at every temperature unless the long_* value is set too."""
    fields = {f.name for f in dataclasses.fields(Protocol)}
    problems, values = [], {}
    for key, value in overrides.items():
        name = field_name(key)
        if name not in fields:
            problems.append((key, f"protocol {protocol.name!r} has no parameter {name!r}"
                                  f"{did_you_mean(name, sorted(fields) + list(TIME_ALIASES))}"
                                  f"; known: {', '.join(sorted(fields))}"))
            continue
        if str(key).replace("-", "_") not in TIME_ALIASES:
            why = type_problem(name, value)
            if why:
                problems.append((key, f"{name} {why} (got {value!r})"))
                continue
        try:
            value = converted(key, value)
        except IonmdError as exc:
            problems.append((key, str(exc)))
            continue
        as_given = overrides[key] if isinstance(overrides[key], (list, tuple)) else None
        why = _non_finite(name, value) or (repeated_temperature(value, as_given)
                                           if name == "temperatures" else None)
        if why:
            problems.append((key, why))
            continue
        values[name] = value
    problems += _time_option_problems(protocol, overrides) + _same_field_twice(overrides)
    if problems:
        return None, problems
    for plain, long in (("duration_ps", "long_duration_ps"), ("discard_ps", "long_discard_ps")):
        if plain in values and long not in values:
            values[long] = None
    return dataclasses.replace(protocol, **values), []


def _same_field_twice(overrides: dict) -> list[tuple[str, str]]:
    """Two names of one field (``duration_ps`` and ``time``, ``check_every`` and
    ``check_every_ps``): one would silently win. ``time`` with ``max_time`` is said by
    :func:`_time_option_problems`."""
    keys: dict[str, list] = {}
    for key in overrides:
        keys.setdefault(field_name(key), []).append(key)
    return [(both[-1], f"{' and '.join(map(str, both))} both set {name}; give one")
            for name, both in keys.items() if len(both) > 1
            and not {"time", "max_time"} <= {str(k).replace("-", "_") for k in both}]


def _time_option_problems(protocol: Protocol, overrides: dict) -> list[tuple[str, str]]:
    """``time`` is a fixed length, ``max_time`` the most a run with a stopping rule may
    last, ``check_every`` how often that rule is checked: the last two mean nothing
    without ``until`` (a run would go its full length, unchecked), and ``time`` with
    ``max_time`` gives one length twice."""
    given = {str(k).replace("-", "_"): k for k in overrides}
    until = overrides.get(given["until"]) if "until" in given else protocol.until
    problems = []
    if "time" in given and "max_time" in given:
        problems.append((given["max_time"], "give time (--time: a fixed length) or max_time "
                                            "(--max-time: the most a run with a stopping rule "
                                            "may last), not both"))
    if not until or str(until).lower() in ("none", "null"):
        if "max_time" in given:
            problems.append((given["max_time"], f"max_time (--max-time) bounds a run with a "
                                                f"stopping rule: add until (--until), e.g. "
                                                f"{EXAMPLE_RULE}, or give a fixed length with "
                                                f"time (--time)"))
        for key in ("check_every", "check_every_ps"):
            if key in given:
                problems.append((given[key], f"{key} (--check-every) sets how often a stopping "
                                             f"rule is checked: add until (--until), e.g. "
                                             f"{EXAMPLE_RULE}"))
    return problems


def check_protocol(p: Protocol) -> None:
    """Refuse settings that cannot work, before anything is written.

    Raises
    ------
    IonmdError
        Naming the parameter and what to change.
    """
    for f in dataclasses.fields(Protocol):
        value = getattr(p, f.name)
        why = type_problem(f.name, value, text_ok=False)
        if why:
            raise IonmdError(f"{f.name} {why} (got {value!r})")
        why = _non_finite(f.name, value)
        if why:
            raise IonmdError(why)
    if p.family not in ("md", "ev"):
        raise IonmdError(f"protocol family {p.family!r} unknown; use md or ev")
    if p.template is not None and not Path(p.template).is_file():
        raise IonmdError(f"input template {p.template} not found; give the path of an input "
                         f"template file (e.g. a copy of ionmd's inputs/{p.family}.lmp)")
    why = supercell_problem(p.supercell)
    if why:
        raise IonmdError(why)
    if p.family == "ev":
        for key in ("max_strain", "n_points"):
            why = range_problem(key, getattr(p, key))
            if why:
                raise IonmdError(why)
        return
    if p.ensemble not in ("nvt", "npt"):
        raise IonmdError(f"ensemble {p.ensemble!r} unknown; use nvt or npt")
    if p.thermostat not in ("nose-hoover", "berendsen"):
        raise IonmdError(f"thermostat {p.thermostat!r} unknown; use nose-hoover or berendsen")
    if p.ensemble == "npt" and p.couple not in COUPLES:
        raise IonmdError(f"couple {p.couple!r} unknown; use {', '.join(COUPLES)} (auto: tri "
                         f"for a triclinic cell, aniso for an orthogonal one)")
    if p.ensemble == "npt" and p.thermostat == "berendsen" and p.couple == "tri":
        raise IonmdError("couple tri needs fix npt: LAMMPS's fix press/berendsen barostats "
                         "only the cell lengths (iso or aniso); set thermostat=nose-hoover")
    if not 0 < p.timestep_fs <= MAX_TIMESTEP_FS:
        raise IonmdError(f"time step {p.timestep_fs} fs cannot work: it must be > 0 and "
                         f"<= {MAX_TIMESTEP_FS} fs (1-2 fs is usual for Li conductors)")
    if not p.temperatures:
        raise IonmdError("temperatures: give at least one temperature (e.g. 600)")
    why = temperature_count_problem(len(p.temperatures)) or range_problem(
        "temperatures", p.temperatures)
    if why:
        raise IonmdError(why)
    repeated = repeated_temperature(p.temperatures)
    if repeated:
        raise IonmdError(repeated)
    why = mobile_problem(p.mobile_species)    # the analysis's rule: it would refuse the run
    if why:
        raise IonmdError(f"mobile_species {why} (got {','.join(map(str, p.mobile_species))}): "
                         f"give each mobile element once, e.g. mobile_species=Li")
    if p.tdamp_fs < 10 * p.timestep_fs or (p.ensemble == "npt" and p.pdamp_fs < 10 * p.timestep_fs):
        raise IonmdError(f"thermostat/barostat damping ({p.tdamp_fs}/{p.pdamp_fs} fs) must be at "
                         f"least 10 time steps ({10 * p.timestep_fs} fs)")
    for name in STEP_COUNTS:
        if getattr(p, name) < 1:
            raise IonmdError(f"{name} must be >= 1 (got {getattr(p, name)})")
        if name != "replicas" and getattr(p, name) > MAX_RUN_STEPS:
            raise IonmdError(f"{name} {getattr(p, name)} is more steps than LAMMPS counts in "
                             f"one setting ({MAX_RUN_STEPS}); give a smaller number")
    why = _md_range_problem(p)
    if why:
        raise IonmdError(why)
    if p.restart_every % p.dump_every:
        raise IonmdError(f"restart_every ({p.restart_every}) must be a multiple of dump_every "
                         f"({p.dump_every}) so that a resumed run continues the frame grid")
    for temp in p.temperatures:
        duration, discard = p.schedule(temp)
        too_long = steps_problem("duration", duration, p.timestep_fs)
        if too_long:
            raise IonmdError(f"at {temp:g} K {too_long}")
        steps = p.steps(temp)
        if duration <= 0 or steps < p.dump_every:
            raise IonmdError(f"duration {duration} ps at {temp:g} K is {steps} steps of "
                             f"{p.timestep_fs} fs: too short for one frame every {p.dump_every} "
                             f"steps; lengthen the run or dump more often")
        if discard < 0 or discard >= duration:
            raise IonmdError(f"at {temp:g} K the run lasts {duration} ps but {discard} ps are "
                             f"discarded: nothing would be left to analyse; set duration_ps > "
                             f"discard_ps (e.g. time = \"{discard + 100:g}ps\" in a campaign file, "
                             f"--time {discard + 100:g}ps for ionmd run), or lower discard_ps")
    from ionmd.protocols.stopping import check_stopping

    check_stopping(p)


MAX_RUN_STEPS = 2**31 - 1
"""The most steps LAMMPS's ``run N`` takes (its MAXSMALLINT)."""


def _md_range_problem(p: Protocol) -> str | None:
    """The first field of an MD protocol outside its range (:data:`RANGES`), else None;
    replicas with the number of run folders they would make."""
    for name in ("temperature_end", "long_below_K", "pressure_bar", "pressure_end_bar",
                 "tdamp_fs", "pdamp_fs", "berendsen_modulus_bar", "long_duration_ps",
                 "long_discard_ps", "halt_volume_change"):
        why = range_problem(name, getattr(p, name))
        if why:
            return why
    why = range_problem("replicas", p.replicas)
    if why:
        return (f"{why}; replicas = {p.replicas} would make {p.replicas * len(p.temperatures)} "
                f"run folders ({len(p.temperatures)} temperature(s))")
    return None


def temperature_count_problem(count: float) -> str | None:
    """Why ``count`` temperatures are too many (one run folder each), else None."""
    if count <= MAX_TEMPERATURES:
        return None
    count = f"{count:.0f}" if count < 1e9 else f"{count:.3g}"
    return (f"temperatures: {count} temperatures would make {count} run folders per replica; "
            f"give at most {MAX_TEMPERATURES} (every 25 K up to {MAX_TEMPERATURE_K:g} K)")


MAX_SUPERCELL_COPIES = 100_000
MAX_SUPERCELL_WIDTH_A = 400.0
# the most atoms of a run cell lives with the supercells, which count it before building
# one (structures cannot import protocols)
MAX_RUN_ATOMS = supercells.MAX_RUN_ATOMS
_SUPERCELL_WHY = ("a 1-million-atom cell, the largest in docs/scaling.md, is ~240 A wide "
                  "(0.074 atoms/A^3) and 10^5 copies of a 10-atom cell; 400 A holds ~5 "
                  "million atoms at that density, whose arrays and data file still fit one "
                  "node's memory (a run cell of more atoms is refused)")


def supercell_problem(spec) -> str | None:
    """Why a supercell setting would build a cell no MD run can hold, else None (text
    the structures module cannot read is said when the cell is built): more than
    :data:`MAX_SUPERCELL_COPIES` copies of the cell (``1000x1000x1000``: 10^9 copies
    filled the memory), or a width above :data:`MAX_SUPERCELL_WIDTH_A`."""
    from ionmd.structures.supercell import is_no_supercell, min_width_of, parse_supercell

    if is_no_supercell(spec):
        return None
    try:
        width = min_width_of(spec)
        repeats = parse_supercell(spec) if width is None else None
    except IonmdError:
        return None
    if width is not None and not 0 < width <= MAX_SUPERCELL_WIDTH_A:
        return (f"supercell {spec!r} is out of range: give a width > 0 and <= "
                f"{MAX_SUPERCELL_WIDTH_A:g} A (8A is usual); {_SUPERCELL_WHY}")
    if repeats is not None and math.prod(repeats) > MAX_SUPERCELL_COPIES:
        return (f"supercell {spec!r} is {math.prod(repeats)} copies of the cell: give at most "
                f"{MAX_SUPERCELL_COPIES} (e.g. 46x46x46), or a width such as 240A; "
                f"{_SUPERCELL_WHY}")
    return None


def steps_problem(what: str, ps: float, timestep_fs: float) -> str | None:
    """Why ``ps`` of ``timestep_fs`` steps is no step count LAMMPS can run (1e308 ps: an
    OverflowError traceback before), else None."""
    steps = ps * 1000.0 / timestep_fs
    if math.isfinite(steps) and steps <= MAX_RUN_STEPS:
        return None
    return (f"{what} {ps:g} ps is {steps:.3g} steps of {timestep_fs:g} fs, more than "
            f"LAMMPS runs ({MAX_RUN_STEPS}); give a shorter time")


def folder_name_problem(name) -> str | None:
    """Why ``name`` (a structure's or model's name) cannot name a run folder below the
    output folder, else None: a path separator, ``.`` or ``..`` would put the runs
    elsewhere (``--name ../x`` wrote them beside the output folder)."""
    if (isinstance(name, str) and name.strip() == name and name not in ("", ".", "..")
            and not any(c in name for c in "/\\\0")):
        return None
    return ("cannot name a run folder inside output: give a name without '/' or "
            "'\\' that is not '.' or '..'")


def check_cell(p: Protocol, atoms: Atoms) -> None:
    """Refuse a protocol that cannot run on this cell (before anything is written).

    Raises
    ------
    IonmdError
        A time step too long for hydrogen (:data:`MAX_TIMESTEP_H_FS`), a Berendsen barostat
        on a triclinic cell (LAMMPS: "Cannot use fix press/berendsen with triclinic box"),
        or ``couple tri`` on an orthogonal one (LAMMPS: "Cannot specify Pxy/Pxz/Pyz in
        fix npt with non-triclinic box").
    """
    if p.family != "md":
        return
    if "H" in set(atoms.get_chemical_symbols()) and p.timestep_fs > MAX_TIMESTEP_H_FS:
        raise IonmdError(f"the structure contains hydrogen: a {p.timestep_fs:g} fs time step "
                         f"is too long for its vibrations; give {MAX_TIMESTEP_H_FS:g} fs: "
                         f"`--set timestep_fs={MAX_TIMESTEP_H_FS:g}` on the command line, "
                         f"timestep_fs = {MAX_TIMESTEP_H_FS:g} in a campaign's [protocol], "
                         f"get_protocol(..., timestep_fs={MAX_TIMESTEP_H_FS:g}) in Python "
                         f"(AQVolt26 uses 0.5 fs for hydrogen-containing materials)")
    if p.ensemble != "npt":
        return
    triclinic = lammps_triclinic(atoms)
    if triclinic and p.thermostat == "berendsen":
        raise IonmdError("the run cell is triclinic and LAMMPS's Berendsen barostat (fix "
                         "press/berendsen) cannot change a triclinic box; use "
                         "thermostat=nose-hoover (fix npt, couple auto = tri) or "
                         "ensemble=nvt for this structure")
    if not triclinic and p.couple == "tri":
        raise IonmdError("couple tri needs a triclinic cell (LAMMPS refuses Pxy/Pxz/Pyz on an "
                         "orthogonal box); use couple=auto or aniso")
