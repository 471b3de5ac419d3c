"""A LAMMPS run's time step and thermostat target as the input its logs echo says them
(a run written by hand has no ``run.json``): over the runs that wrote its frames
(:func:`frames_settings`: an equilibration at another time step or temperature is not of
the frames), checked against the values given (:func:`timing_from_logs`)."""

from __future__ import annotations

from glob import escape as glob_escape
from pathlib import Path

from ionmd.analysis.run_files import RUN_JSON, folder_temperature
from ionmd.errors import AnalysisError
from ionmd.lammps.echoed_input import FS_PER_TIME_UNIT, RunBlock, logs_blocks

LOG_TIMING = {"temperature_K": "--temperature", "timestep_fs": "--timestep-fs"}

LENGTH_OF_UNITS = {"metal": "Å", "real": "Å", "electron": "Bohr", "si": "m", "cgs": "cm",
                   "micro": "µm", "nano": "nm", "lj": "σ (reduced)"}
"""The length each LAMMPS ``units`` style gives positions and cells in: the analysis reads
them as Å, so only ``metal`` and ``real`` runs are analysed (:func:`refuse_length_units`)."""


def frames_settings(texts: dict[str, str], echoed: dict[str, dict], traj: list[Path]) -> dict:
    """What the logs say of the runs that wrote the frames: their ``blocks``
    (:func:`~ionmd.lammps.echoed_input.logs_blocks`: those whose dumps write the
    trajectory's files; else those with a dump that may be of the trajectory renamed
    (:func:`_dumps_elsewhere`: not one writing another file the folder holds); else all),
    ``where`` (which runs, for the messages; "" where every run is one of them),
    ``others`` (the rest) and ``echoed`` (:func:`~ionmd.lammps.echoed_input.md_settings`
    of each log, read whole where no log echoes a ``run``: ``blocks`` None). Where every run's dumps write other files of the folder, none wrote the frames
    (the logs are of another run, an equilibration): ``blocks`` is [] and ``elsewhere``
    says so."""
    blocks = logs_blocks(texts)
    names = {p.name for p in traj}
    framed = [b for b in blocks if b.dumps_into(names)]
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
        elif key == "temperature_K" and _ramps(frames) and not _ramp_declared(meta):
            meta.setdefault("settings_notes", []).append(
                f"analysed at the {float(meta[key]):g} K given, but {note}: D and sigma "
                f"average over the frames' temperatures unless the discarded start "
                f"(discard_ps) covers the ramp")
    if missing:
        flags = " and ".join(flag for key, flag in LOG_TIMING.items() if key not in meta)
        them = "it" if len(missing) == 1 else "them"
        raise AnalysisError(f"{path}: {'; '.join(missing)}; put {them} in {RUN_JSON} or pass "
                            f"{flags}")
    refuse_length_units(path, frames)   # after what the logs leave unknown (said first)


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


def _ramp_declared(meta: dict) -> bool:
    """Whether run.json says the run ramps (``temperature_end_K`` not its start): its
    analysis then gives no D nor sigma and says why (``ramp_of``), so the note that they
    average over the ramp would contradict it."""
    end = meta.get("temperature_end_K")
    return end is not None and float(end) != float(meta["temperature_K"])


def _ramps(frames: dict) -> list[tuple[float, float]]:
    """The thermostat ramps (start != end) of the runs that wrote the frames."""
    if not frames["echoed"] or frames["elsewhere"]:
        return []
    if frames["blocks"] is None:
        targets = {t for s in frames["echoed"].values() for t in s["targets"]}
    else:
        targets = {t for b in frames["blocks"] for t in b.thermostats}
    return sorted((a, b) for a, b in targets if a != b)


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
