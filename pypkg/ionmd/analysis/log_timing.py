"""A LAMMPS run's time step and thermostat target as the input its logs echo says them
(a run written by hand has no ``run.json``): over the runs that wrote its frames
(:func:`frames_settings`: an equilibration at another time step or temperature is not of
the frames, nor are runs whose frames all lie in the discarded start), checked against the
values given (:func:`timing_from_logs`); and the thermostat and barostat ramps over those
frames (:func:`ramps_in_frames`: one rule for both, inside the discarded start or not)."""

from __future__ import annotations

from dataclasses import dataclass
from glob import escape as glob_escape
from pathlib import Path

from ionmd.analysis.logged_masses import refuse_type_map_of_other_masses
from ionmd.analysis.run_files import RUN_JSON, folder_temperature
from ionmd.errors import AnalysisError
from ionmd.lammps.echoed_input import FS_PER_TIME_UNIT, RunBlock, logs_blocks

LOG_TIMING = {"temperature_K": "--temperature", "timestep_fs": "--timestep-fs"}

LENGTH_OF_UNITS = {"metal": "Å", "real": "Å", "electron": "Bohr", "si": "m", "cgs": "cm",
                   "micro": "µm", "nano": "nm", "lj": "σ (reduced)"}
"""The length each LAMMPS ``units`` style gives positions and cells in: the analysis reads
them as Å, so only ``metal`` and ``real`` runs are analysed (:func:`refuse_length_units`)."""


PRESSURE_UNITS = {"metal": "bar", "real": "atm"}
"""The pressure unit of a LAMMPS ``units`` style whose lengths analysis reads (Å)."""


@dataclass(frozen=True)
class FramesRamp:
    """A thermostat or barostat target that ramps over runs that wrote the frames."""

    kind: str
    """``thermostat`` or ``barostat``."""
    start: float
    stop: float
    unit: str
    """K; for a barostat its ``units``' pressure unit (:data:`PRESSURE_UNITS`)."""
    end_ps: float | None
    """Where its last run ends, in ps from the first frame (the frames' clock); None where
    the logs do not say (a run's length or the time step unknown)."""
    to_the_end: bool
    """Whether it is in force in the last run that wrote frames: no discard leaves it out."""
    discarded: bool
    """Whether all its frames lie in the discarded start (``discard_ps``)."""
    logs: str
    held: str = ""
    """Runs held at several constant targets, in run order (``900 K, then 600 K``); "" for
    a ramp within a run (:func:`_held_steps`)."""

    def what(self) -> str:
        if self.held:
            return f"thermostats held at {self.held} in turn"
        if self.kind == "thermostat":
            return f"thermostat ramped from {self.start:g} to {self.stop:g} K"
        return (f"barostat ramped the pressure from {self.start:g} to {self.stop:g} "
                f"{self.unit} (the density changes over it)")

    def where(self, discard_ps: float) -> str:
        """What the logs say of it: the ramp and how far into the frames it goes."""
        said = f"{self.logs}: {self.what()}"
        if self.discarded:
            return (f"{said} over the first {self.end_ps:g} ps of the frames, inside the "
                    f"{discard_ps:g} ps discarded (discard_ps): the frames after it are "
                    f"analysed")
        if self.to_the_end:
            return f"{said} to the frames' end"
        if self.end_ps is None:
            return f"{said} over frames the logs do not date (a run's length or time step)"
        return (f"{said} over the first {self.end_ps:g} ps of the frames, past the "
                f"{discard_ps:g} ps discarded (discard_ps)")


def frames_settings(texts: dict[str, str], echoed: dict[str, dict], traj: list[Path],
                    discard_ps: float = 0.0, timestep_fs: float | None = None) -> dict:
    """What the logs say of the runs that wrote the frames: their ``blocks``
    (:func:`~ionmd.lammps.echoed_input.logs_blocks`: those whose dumps write the
    trajectory's files; else those with a dump that may be of the trajectory renamed
    (:func:`_dumps_elsewhere`: not one writing another file the folder holds); else all),
    ``where`` (which runs, for the messages; "" where every run is one of them),
    ``others`` (the rest), ``runs`` (every run, in order), ``placed`` (whether their dumps
    say which runs wrote the frames: not all runs taken for want of one) and ``echoed`` (:func:`~ionmd.lammps.echoed_input.md_settings`
    of each log, read whole where no log echoes a ``run``: ``blocks`` None). Where every run's dumps write other files of the folder, none wrote the frames
    (the logs are of another run, an equilibration): ``blocks`` is [] and ``elsewhere``
    says so. The runs whose frames all lie in the first ``discard_ps`` (the frames' clock:
    ``timestep_fs``, else the last such run's time step) are left out of ``blocks``
    (``discarded``); ``ramps`` (:class:`FramesRamp`) are the targets that ramp over any
    of those runs."""
    blocks = logs_blocks(texts)
    names = {p.name for p in traj}
    framed = [b for b in blocks if b.dumps_into(names)]
    where = f" over the runs that dump {', '.join(sorted(names))}"
    frames = {"names": ", ".join(texts), "echoed": echoed, "elsewhere": None, "runs": blocks}
    if not framed and traj:
        dumping = [b for b in blocks if b.dumps]
        framed = [b for b in dumping if not _dumps_elsewhere(b, traj[0].parent, names)]
        where = " over the runs with a dump"
        if dumping and not framed:
            files = sorted({Path(d).name for b in dumping for d in b.dumps})
            frames["elsewhere"] = (f"no run dumps {', '.join(sorted(names))}: their dumps "
                                   f"write {', '.join(files)}, which the folder holds beside "
                                   f"it (the logs are of other runs)")
            return {**frames, "blocks": [], "where": "", "others": blocks, "ramps": []}
    # their dumps say these runs wrote the frames (not all runs taken for want of a dump)
    frames["placed"] = bool(framed)
    if not framed or len(framed) == len(blocks):
        framed, where = blocks, ""
    others = [b for b in blocks if not any(b is f for f in framed)]
    if not framed:
        return {**frames, "blocks": None, "where": where, "others": others,
                "ramps": _unplaced_ramps(echoed, frames["names"])}
    ends = _ends_ps(blocks, framed, timestep_fs)
    kept = [k for k, end in enumerate(ends)
            if k == len(framed) - 1 or end is None or end > discard_ps + 1e-9]
    kept = list(range(kept[0], len(framed)))    # the discarded start: a first stretch
    if kept[0] > 0:
        where = (f"{where or ' over the runs'} after the {discard_ps:g} ps discarded "
                 f"(discard_ps)")
    return {**frames, "blocks": [framed[k] for k in kept], "where": where, "others": others,
            "discarded": framed[:kept[0]],
            "ramps": _ramps_of(framed, ends, kept[0], frames["names"])}


def _ends_ps(blocks: list[RunBlock], framed: list[RunBlock],
             timestep_fs: float | None) -> list[float | None]:
    """Where each of ``framed`` ends, in ps from the start of the first (every run after
    it counts: its steps move the frames' step numbers); None where a run's length or the
    clock's time step is not known. The clock: ``timestep_fs``, else the last framed run's
    time step (the analysis reads the frames at one)."""
    last = framed[-1]
    # after a read_restart no `units` is echoed: the restart file's, those of the runs before
    units = {b.units for b in framed if b.units}
    unit = last.units or (units.pop() if len(units) == 1 else None)
    if timestep_fs is None and last.timestep is not None and unit in FS_PER_TIME_UNIT:
        timestep_fs = last.timestep * FS_PER_TIME_UNIT[unit]
    first = next(k for k, b in enumerate(blocks) if b is framed[0])
    ends, steps = {}, 0
    for b in blocks[first:]:
        steps = None if steps is None or b.steps is None else steps + b.steps
        ends[id(b)] = None if steps is None or timestep_fs is None else steps * timestep_fs / 1e3
    return [ends[id(b)] for b in framed]


def _ramps_of(framed: list[RunBlock], ends: list[float | None], kept: int,
              logs: str) -> list[FramesRamp]:
    """The ramps over the frames' runs (``framed``, the first ``kept`` discarded)."""
    found: dict[tuple, list[int]] = {}
    for k, b in enumerate(framed):
        for kind, a, z in b.ramps():
            unit = "K" if kind == "thermostat" else PRESSURE_UNITS.get(b.units, "bar")
            found.setdefault((kind, a, z, unit), []).append(k)
    ramps = []
    for (kind, a, z, unit), where in found.items():
        last = max(where)
        ramps.append(FramesRamp(kind, a, z, unit, ends[last], last == len(framed) - 1,
                                last < kept, logs))
    return ramps + _held_steps(framed, ends, kept, logs)


def _held_steps(framed: list[RunBlock], ends: list[float | None], kept: int,
                logs: str) -> list[FramesRamp]:
    """Runs held at several constant targets (``temp 900 900``, then ``temp 600 600``, or
    none: NVE) that wrote frames into one trajectory, as a thermostat ramp from the first
    target to the last: D and sigma over them are of no one temperature (a given
    ``--temperature 600``, one of them, was taken so, silently); the frames after the
    last change are of one."""
    held = [tuple(sorted({a for a, z in b.thermostats if a == z})) for b in framed]
    targets = [t for h in held for t in h]
    if len(set(targets)) < 2:
        return []
    if len(held[-1]) > 1:
        changed = len(framed) - 1           # the last run itself holds two targets
    else:
        changed = max(k for k, h in enumerate(held) if h != held[-1])
    steps = ", then ".join(" and ".join(f"{t:g} K" for t in h) if h else "no thermostat"
                           for k, h in enumerate(held) if k == 0 or h != held[k - 1])
    return [FramesRamp("thermostat", targets[0], targets[-1], "K", ends[changed],
                       changed == len(framed) - 1, changed < kept, logs, held=steps)]


def _unplaced_ramps(echoed: dict[str, dict], logs: str) -> list[FramesRamp]:
    """The ramps of logs that echo no ``run``: of frames they do not place."""
    units = {s["units"] for s in echoed.values() if s["units"]}
    unit = PRESSURE_UNITS.get(units.pop(), "bar") if len(units) == 1 else "bar"
    pairs = {("thermostat", t, "K") for s in echoed.values() for t in s["targets"]}
    pairs |= {("barostat", p, unit) for s in echoed.values() for p in s.get("barostats", [])}
    return [FramesRamp(kind, a, z, unit, None, False, False, logs)
            for kind, (a, z), unit in sorted(pairs) if a != z]


def _dumps_elsewhere(block: RunBlock, folder: Path, names: set[str]) -> bool:
    """Whether every dump of ``block`` writes a file ``folder`` holds that is not one of
    the trajectory's (``names``): an equilibration's ``equil.dump`` beside the production's
    ``md.dcd`` did not write its frames; a dump file not there may be the trajectory's,
    renamed."""
    return all(any(f.name not in names for f in folder.glob(glob_escape(Path(dump).name)
                                                            .replace("[*]", "*")))
               for dump in block.dumps)


def timing_from_logs(path: Path, meta: dict, frames: dict) -> None:
    """Fill in ``timestep_fs`` and ``temperature_K`` of a LAMMPS run from the input its logs
    echo (a run written by hand has no ``run.json``), where they say one value over the runs
    that wrote the frames (``frames``, :func:`frames_settings`: an equilibration at another
    time step or a ramp before the production is not of the frames): one ``timestep`` under
    ``units`` with a time unit, one constant thermostat target. A given value that
    contradicts it, or that is none of several it says, is refused, naming both; one given
    nowhere and not said plainly (a ramp, several targets, no thermostat) is asked for,
    with what the logs say. A temperature taken from the logs that is not the one the run's
    folder is named after (``T1000`` at 1300 K) is noted (``meta["settings_notes"]``).
    A ramp over the frames is :func:`ramps_in_frames`'s. A type map (given, or the logs'
    ``pair_coeff``) that the logs' ``mass`` commands contradict is refused
    (:func:`~ionmd.analysis.logged_masses.refuse_type_map_of_other_masses`).

    Raises
    ------
    AnalysisError
        If a value is unknown or contradicts the logs; first, if the frames' lengths are
        not in Å (:func:`refuse_length_units`: the real problem, whatever is given).
    """
    # a time step in fs or a temperature given for such a run changes nothing: it was told
    # they contradict the logs (units nano's ns) or asked for them (lj), then refused anyway
    refuse_length_units(path, frames)
    refuse_uneven_frames(path, frames)
    # the one place load_run_spec hands the logs' settings and the given values over
    # before the type map is read: the masses the logs' `mass` commands set check it
    refuse_type_map_of_other_masses(path, meta, frames["echoed"])
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
                            f"{flags}{_discard_hint(frames, meta)}")


def refuse_length_units(path: Path, frames: dict) -> None:
    """Refuse a run whose logs echo ``units`` with lengths other than Å (the runs that wrote
    the frames, :func:`frames_settings`): its dump and data file are in that unit, read as
    Å. A run in ``units electron`` (Bohr) was analysed silently: D 3.57x its value (Bohr^2
    read as Å^2), the Nernst-Einstein sigma 0.53x (and the cell's volume 6.7x)."""
    if not frames["echoed"] or frames["elsewhere"]:
        return
    if frames["blocks"] is None:
        styles = {s["units"] for s in frames["echoed"].values() if s["units"]}
    else:
        styles = {b.units for b in frames["blocks"] if b.units}
    odd = sorted(u for u in styles if LENGTH_OF_UNITS.get(u, "?") != "Å")
    if odd:
        lengths = ", ".join(f"units {u}: {LENGTH_OF_UNITS.get(u, 'an unknown unit')}"
                            for u in odd)
        raise AnalysisError(
            f"{path}: {frames['names']}: the frames were written with lengths not in Å "
            f"({lengths}{frames['where']}); ionmd's analysis reads positions and cells in Å "
            f"(units metal or real), so D and sigma would be in the wrong unit: run in units "
            f"metal, or convert the data file and trajectory to Å and analyse them without "
            f"these logs, which would say {', '.join(odd)} again: put \"logs\": [] in "
            f"{RUN_JSON} and give the time step in fs and the temperature (--timestep-fs, "
            f"--temperature)")


def refuse_uneven_frames(path: Path, frames: dict) -> None:
    """Refuse frames that runs at several time steps wrote into one trajectory
    (:func:`frames_settings`, its dumps placing them), whatever is given: the analysis
    dates every frame by its step at one time step, so no ``--timestep-fs`` is right for
    all (a run at 1 fs resumed at 2 fs into the same dump was taken with ``--timestep-fs
    1``, 3.0 ps reported for 4.0, the second run's D 2x off). Said: each run's time step
    and where it begins, and the ``discard_ps`` that leaves the earlier runs out where the
    logs date them. (Several thermostat targets are a ramp: :func:`_ramps_of`.)"""
    blocks = frames["blocks"]
    if not blocks or not frames.get("placed") or frames["elsewhere"]:
        return
    units = {b.units for b in blocks if b.units}    # after read_restart: the file's
    steps = {_timestep_run(b) for b in blocks if _timestep_run(b) is not None}
    if len(units) != 1 or len(steps) < 2:
        return
    runs = _runs_named(frames["runs"])
    said = ", ".join(f"timestep {_timestep_run(b):g} ("
                     + ("LAMMPS's default, " if b.timestep is None else "")
                     + f"{runs[id(b)]})" for b in blocks if _timestep_run(b) is not None)
    raise AnalysisError(
        f"{path}: {frames['names']}: the runs that wrote the frames "
        f"({frames['where'].strip() or 'every run'}) ran at {said} (units {units.pop()}): "
        f"the frames' clock is uneven, and ionmd dates each frame by its step at one time "
        f"step, so no --timestep-fs is right for all of them (the run's length and D would "
        f"be off by the ratio). Analyse the runs apart: split the trajectory where they meet "
        f"(each run's frames in a folder of their own, with its data file and log)"
        f"{_uneven_discard_hint(frames)}")


DEFAULT_TIMESTEP = {"metal": 0.001, "real": 1.0}
"""LAMMPS's time step where no ``timestep`` command set one since ``units`` (its
``timestep`` docs; the units with lengths in Å, the only ones analysed)."""


def _timestep_run(block: RunBlock) -> float | None:
    """The time step ``block`` ran at: the one echoed, else LAMMPS's default for its units
    (none set since ``units``; not after ``read_restart``, which restores its file's);
    None where the logs do not say it. (A run at the default, then one resumed with
    ``timestep 0.002`` appending to its dump, was taken at 2 fs: the first run's frames
    dated 2x too late, the run 1.2 ps long for 0.9.)"""
    if block.timestep is not None or block.restored:
        return block.timestep
    return DEFAULT_TIMESTEP.get(block.units)


def _runs_named(blocks: list[RunBlock]) -> dict[int, str]:
    """``{id(block): "log.lammps, run 2 from step 2000"}``: each run by its log, its place
    there and the step it began at where the logs say it."""
    out, count = {}, {}
    for b in blocks:
        count[b.log] = count.get(b.log, 0) + 1
        out[id(b)] = (f"{b.log}, run {count[b.log]}"
                      + (f" from step {b.start}" if b.start is not None
                         else " after read_restart" if b.restored else ""))
    return out


def _uneven_discard_hint(frames: dict) -> str:
    """The ``discard_ps`` that leaves in the discarded start every run whose time step is
    not the last run's (on the last run's clock, the one the analysis then takes), where
    the logs date it; "" where they do not."""
    framed = [*frames.get("discarded", []), *frames["blocks"]]
    ends = _ends_ps(frames["runs"], framed, None)
    odd = [k for k, b in enumerate(framed) if _timestep_run(b) != _timestep_run(framed[-1])]
    if not odd or ends[max(odd)] is None:
        return ""
    return (f"; or leave the earlier runs out with discard_ps {ends[max(odd)]:g} "
            f"(--discard-ps, or {RUN_JSON}: the first {ends[max(odd)]:g} ps of the frames "
            f"dated at the last run's time step)")


def _discard_hint(frames: dict, meta: dict) -> str:
    """Where the temperature is asked for over a thermostat ramp a longer discarded start
    would leave out (a ramp, then a run held at one target), the ``discard_ps`` that does."""
    ends = [r.end_ps for r in frames.get("ramps", []) if r.kind == "thermostat"
            and not r.discarded and not r.to_the_end and r.end_ps is not None]
    if "temperature_K" in meta or not ends:
        return ""
    return (f"; or leave the thermostat ramp out with discard_ps {max(ends):g} "
            f"(--discard-ps, or {RUN_JSON}): the runs after it say the temperature")


def ramps_in_frames(frames: dict, meta: dict, pressure_declared: bool) -> list[FramesRamp]:
    """One rule for the thermostat and barostat ramps of the runs that wrote the frames
    (``frames``: :func:`frames_settings`): a ramp whose frames all lie in the discarded
    start (``discard_ps``) leaves the rest analysed, said in ``meta["settings_notes"]``;
    one that reaches into the analysed frames is returned (its D and sigma are of no one
    state: :func:`ionmd.analysis.run_inputs.ramp_of` gives none, naming it and the
    discard that would leave it out). A ramp the run's folder declares (``run.json``'s
    ``temperature_end_K``; ``pressure_declared``: its ``settings.json`` protocol) is said
    there, not here."""
    declared = {"barostat"} if pressure_declared else set()
    end = meta.get("temperature_end_K")
    if end is not None and float(end) != float(meta["temperature_K"]):
        declared.add("thermostat")
    ramps = [r for r in frames.get("ramps", []) if r.kind not in declared]
    discard = float(meta.get("discard_ps", 0.0))
    for r in ramps:
        if r.discarded:
            meta.setdefault("settings_notes", []).append(r.where(discard))
    return [r for r in ramps if not r.discarded]


def _note_folder_temperature(path: Path, meta: dict, value: float, said: str) -> None:
    """Note where the temperature read from the logs is not the folder's name's."""
    named = folder_temperature(path)
    if named is not None and abs(named - value) > 0.5:
        meta.setdefault("settings_notes", []).append(
            f"analysed at {value:g} K ({said}), not at the {named:g} K the folder's name "
            f"says: pass --temperature {value:g} to confirm, or check that the folder holds "
            f"the run meant")


def _said_by_logs(frames: dict) -> dict[str, tuple]:
    """``{key: (value or None, what the logs say, whether a given value fits it)}`` for
    :data:`LOG_TIMING`, over the runs that wrote the frames (:func:`frames_settings`);
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
