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
  types and temperatures, each number inside its range
  (:data:`~ionmd.protocols.setting_ranges.RANGES`, the one table of the bounds of every
  numeric setting, a campaign's too), then the settings that cannot work together;
* :func:`check_cell` -- the protocol on one run cell (hydrogen, a triclinic box);
* :func:`folder_name_problem` -- a structure's or model's name as a run folder.

Each value's kind and how text becomes it: :mod:`ionmd.protocols.setting_values`; the bounds
of numeric settings and run sizes: :mod:`ionmd.protocols.setting_ranges`.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

from ase import Atoms

from ionmd.analysis.run_json_values import mobile_problem
from ionmd.analysis.run_spec import protocol_pressure_ramp
from ionmd.errors import IonmdError, IonmdNote
from ionmd.lammps.data_file import lammps_triclinic
from ionmd.protocols.presets import TIME_ALIASES, Protocol
from ionmd.protocols.setting_ranges import (MAX_RUN_STEPS, range_problem, series_runs_problem,
                                            steps_problem, supercell_problem,
                                            temperature_count_problem)
from ionmd.protocols.setting_values import (converted, field_name, non_finite, type_problem,
                                            unknown_name_hint)

MAX_TIMESTEP_FS = 5.0
MAX_TIMESTEP_H_FS = 0.5
"""Longest time step for a structure with hydrogen: AQVolt26 (Methods, AIMD) runs 2 fs
"with the exception of 0.5 fs for hydrogen-containing materials" (an O-H / N-H stretch
has a period of ~9 fs: 1-2 fs steps sample it with 5-9 points and do not conserve
energy)."""
COUPLES = ("auto", "iso", "aniso", "tri")


STEP_COUNTS = ("dump_every", "thermo_every", "restart_every", "halt_check_every", "replicas")
EXAMPLE_RULE = "'D_rel_ci<=0.2,hops>=10'"


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
                                  f"{unknown_name_hint(name, sorted(fields) + list(TIME_ALIASES))}"
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
        why = non_finite(name, value) or (repeated_temperature(value, as_given)
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
        why = non_finite(f.name, value)
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


def _md_range_problem(p: Protocol) -> str | None:
    """The first field of an MD protocol outside its range
    (:data:`~ionmd.protocols.setting_ranges.RANGES`), else None;
    replicas with the number of run folders they would make, also where each count is in
    range but their product is not (:func:`~ionmd.protocols.setting_ranges.series_runs_problem`)."""
    for name in ("temperature_end", "long_below_K", "pressure_bar", "pressure_end_bar",
                 "tdamp_fs", "pdamp_fs", "berendsen_modulus_bar", "discard_ps",
                 "long_duration_ps", "long_discard_ps", "halt_volume_change"):
        why = range_problem(name, getattr(p, name))
        if why:
            return why
    why = range_problem("replicas", p.replicas)
    if why:
        return (f"{why}; replicas = {p.replicas} would make {p.replicas * len(p.temperatures)} "
                f"run folders ({len(p.temperatures)} temperature(s))")
    return series_runs_problem(p.replicas, len(p.temperatures))


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
    """Refuse a protocol that cannot run on this cell (before anything is written); note
    one that runs but gives no D (one mobile ion: :func:`_check_mobile_count`).

    Raises
    ------
    IonmdError
        A mobile species the cell does not hold (the analysis refused it after the MD), a
        time step too long for hydrogen (:data:`MAX_TIMESTEP_H_FS`), a Berendsen barostat
        on a triclinic cell (LAMMPS: "Cannot use fix press/berendsen with triclinic box"),
        or ``couple tri`` on an orthogonal one (LAMMPS: "Cannot specify Pxy/Pxz/Pyz in
        fix npt with non-triclinic box").
    """
    if p.family != "md":
        return
    _check_mobile_in_cell(p, atoms)
    if _some_run_gets_d(p):     # a ramp's runs get no D: one ion does for them
        _check_mobile_count(p, atoms)
        _note_other_alkali(p, atoms)
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


# ions that carry the current in solid electrolytes, in the order one is suggested
_CARRIERS = ("Li", "Na", "K", "Ag", "Cu", "Mg", "Zn", "Ca", "Al", "H", "F", "O")


def _check_mobile_in_cell(p: Protocol, atoms: Atoms) -> None:
    """Refuse mobile species the cell does not hold before anything runs: the analysis
    refused them only after the MD (a Na3PS4 cell run with the default mobile Li)."""
    elements = sorted(set(atoms.get_chemical_symbols()))
    why = mobile_problem(list(p.mobile_species), elements)
    if not why:
        return
    carrier = next((c for c in _CARRIERS if c in elements), elements[0])
    raise IonmdError(
        f"mobile_species {why}: the analysis would find no such ions after the MD. Set the "
        f"ions that move: `--set mobile_species={carrier}` on the command line, "
        f"mobile_species = [\"{carrier}\"] in a campaign's [protocol], "
        f"get_protocol(..., mobile_species=(\"{carrier}\",)) in Python")


# alkali ions: where a cell holds two, either may carry the current (a mixed Li/Na cell)
_ALKALI = ("Li", "Na", "K", "Rb", "Cs")


def _note_other_alkali(p: Protocol, atoms: Atoms) -> None:
    """Note (:class:`~ionmd.errors.IonmdNote`) an alkali ion of the cell left out of
    ``mobile_species`` beside a mobile alkali: a mixed Li/Na cell run with the default Li
    gave D and a sigma of Li alone (716 mS/cm where Li and Na gave 925, audit A26) and said
    nothing of Na. A note, not a refusal: the user may mean Na as framework."""
    elements = set(atoms.get_chemical_symbols())
    mobile = list(p.mobile_species)
    others = [a for a in _ALKALI if a in elements and a not in mobile]
    if not others or not any(m in _ALKALI for m in mobile):
        return
    named = ",".join(mobile + others)
    listed = ", ".join(f'"{s}"' for s in mobile + others)
    left = " and ".join(others)
    warnings.warn(
        f"the cell also holds {left}, an alkali ion that may move as well: the analysis "
        f"gives D and the Nernst-Einstein sigma of {', '.join(mobile)} only; to count "
        f"{left} too: `--set mobile_species={named}` on the command line, mobile_species = "
        f"[{listed}] in a campaign's [protocol], get_protocol(..., mobile_species="
        f"({listed})) in Python",
        IonmdNote, stacklevel=3)


def _some_run_gets_d(p: Protocol) -> bool:
    """Whether the analysis gives some run of ``p`` a D (:func:`ionmd.analysis.run_inputs.
    ramp_of`): none where the barostat ramps its pressure (the pressure-ramp preset: no run
    at one density), and under a thermostat ramp only the run at a temperature equal to
    ``temperature_end`` (held there, no ramp: analysed for D since results version 8)."""
    if protocol_pressure_ramp(p.ensemble, p.pressure_bar, p.pressure_end_bar) is not None:
        return False
    return p.temperature_end is None or p.temperature_end in p.temperatures


def _check_mobile_count(p: Protocol, atoms: Atoms) -> None:
    """Note (:class:`~ionmd.errors.IonmdNote`) a run cell holding one ion of a mobile
    species: its D has no error bar from the spread over ions, so the analysis gives no D
    for any of its runs ("one Li ion"), found before only at collect after the MD (a 2-atom
    LiCl primitive cell without a supercell: audit A17). A note, not a refusal: the MD
    itself runs, and what a user reads of it by hand may need no D."""
    symbols = atoms.get_chemical_symbols()
    single = [s for s in p.mobile_species if symbols.count(s) == 1]
    if not single:
        return
    warnings.warn(
        f"the run cell ({len(atoms)} atoms) holds one {single[0]} ion: the analysis will "
        f"give its runs no D (\"one {single[0]} ion\": no error bar from the spread over "
        f"ions); for D run a supercell with at least two (better "
        f"eight or more): `--set supercell=2x2x2` on the command line, supercell = "
        f"\"2x2x2\" in a campaign's [protocol], get_protocol(..., supercell=\"2x2x2\") in "
        f"Python (or a width: \"8A\"; supercell is now {p.supercell!r})",
        IonmdNote, stacklevel=3)
