"""The barostat ramps a LAMMPS log's echoed input sets up for the runs that wrote a
trajectory: ``fix npt ... iso 1 50000 1.0`` (``Pstart != Pstop``) changes the density over
the run, so its D and sigma are of no one state (:func:`ionmd.analysis.run_inputs.ramp_of`).

Read as :mod:`ionmd.lammps.echoed_input` reads the thermostats (a fix ID defined again
replaces it, ``unfix`` drops it, ``clear`` forgets it, a log opened by another's ``log``
command goes on with its settings; a command echoed with variables counts once echoed
substituted), kept apart from it: only the analysis's ramp check asks for barostats."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from ionmd.lammps.echoed_input import dump_command, run_command

_ACCELERATOR = re.compile(r"/(kk|omp|gpu|intel|opt)$")
#: The keywords of ``fix npt``/``nph``/``press/berendsen``/``press/langevin`` (and their
#: rigid, asphere, ... variants) followed by ``Pstart Pstop Pdamp``.
PRESSURE_KEYWORDS = ("iso", "aniso", "tri", "x", "y", "z", "xy", "yz", "xz")


def _is_barostat(style: str) -> bool:
    """Whether a fix style couples the cell to a pressure (npt, nph, press/...)."""
    style = _ACCELERATOR.sub("", style)
    return style.startswith("press/") or any(part in ("npt", "nph")
                                              for part in style.split("/"))


def barostat_ramp(words: list[str]) -> tuple[float, float] | None:
    """``(Pstart, Pstop)`` of a barostat ``fix`` whose target pressure ramps (the first
    coupled component that does, in the fix's pressure unit: bar in units metal, atm in
    units real), else None: another fix, a barostat held at one pressure, values not
    substituted yet (``${P0}``: the substituted echo follows)."""
    if words[:1] != ["fix"] or len(words) <= 4 or not _is_barostat(words[3]):
        return None
    args = words[4:]
    for k, word in enumerate(args[:-2]):
        if word in PRESSURE_KEYWORDS:
            try:
                start, stop = float(args[k + 1]), float(args[k + 2])
            except ValueError:
                return None
            if start != stop:
                return start, stop
    return None


def _opened_by(texts: dict[str, str]) -> dict[str, str]:
    """For each log another log's ``log FILE`` command opens, which log opens it."""
    found = {}
    for name, text in texts.items():
        for other in texts:
            pattern = rf"(?m)^\s*log\s+(\S*/)?{re.escape(Path(other).name)}(\s|$)"
            if other != name and re.search(pattern, text):
                found.setdefault(other, name)
    return found


def _runs(text: str, start: dict[str, tuple | None],
          handed_on: dict[str, dict]) -> list[tuple[tuple[str, ...], set]]:
    """``(dump files, barostat ramps in force)`` of each MD ``run`` of one log (of one step
    or more), from the fixes ``start`` had in force before it began."""
    fixes, dumps = dict(start), {}
    runs = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words == ["clear"]:
            fixes, dumps = {}, {}
        elif len(words) < 2:
            continue
        elif words[0] == "fix" and len(words) > 3:
            fixes[words[1]] = barostat_ramp(words)
        elif words[0] == "unfix":
            fixes.pop(words[1], None)
        elif (dump := dump_command(words)) is not None and dump.file is not None:
            dumps[words[1]] = dump.file
        elif words[0] == "undump":
            dumps.pop(words[1], None)
        elif words[0] == "log":
            handed_on[Path(words[1]).name] = dict(fixes)
        elif (run := run_command(words)) is not None and run[0] > 0:
            runs.append((tuple(dumps.values()), {r for r in fixes.values() if r}))
    return runs


def pressure_ramps(texts: dict[str, str], trajectory: list[Path]) -> list[tuple[float, float]]:
    """The barostat ramps ``(Pstart, Pstop)`` in force over the runs that wrote the frames
    (``trajectory``'s files: those whose dumps write one of them; where no run's does, a
    dump renamed or one written elsewhere, every run), over the logs ``texts`` (by name, in
    run order). [] where the frames were written at one pressure, or without a barostat."""
    opener = _opened_by(texts)
    handed: dict[str, dict] = {}
    runs = []
    todo = list(texts)
    while todo:     # a log after the one that opened it
        name = next((n for n in todo if opener.get(n) not in todo), todo[0])
        todo.remove(name)
        runs += _runs(texts[name], handed.get(Path(name).name, {}), handed)
    names = {p.name for p in trajectory}
    framed = [r for r in runs if any(fnmatch.fnmatchcase(n, Path(d).name)
                                     for d in r[0] for n in names)] or runs
    return sorted({ramp for _, ramps in framed for ramp in ramps})
