"""What the input a LAMMPS log echoes says (``echo log``, LAMMPS's default for a log): the
MD settings of a whole log (:func:`md_settings`: ``units``, ``timestep``, thermostat
targets, the elements of ``pair_coeff * *``), the settings in force at each MD ``run``
(:func:`run_blocks`, over several logs :func:`logs_blocks`: time step, thermostat and
barostat targets, dumps, length in steps) and the potential's lines (:func:`pair_lines`).

Each command is read in one place (:func:`_units`, :func:`_timestep`,
:func:`thermostat_target`, :func:`barostat_target`, :func:`run_command`, :func:`dump_command`,
:func:`read_restart_file`) whichever reader meets it (the last three also
:mod:`ionmd.lammps.lost_atoms`'s; :func:`is_run_command` the thermo reader's,
:class:`ionmd.lammps.thermo_log.ThermoBlocks`). LAMMPS echoes a command with
variables as written and again substituted: only numeric values count (an unsubstituted
``${dt}``'s substituted echo follows). Comments (``#`` on) are dropped."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: fs per time unit of each LAMMPS ``units`` style whose time has one (lj's is reduced).
FS_PER_TIME_UNIT = {"metal": 1e3, "real": 1.0, "electron": 1.0, "si": 1e15, "cgs": 1e15,
                    "micro": 1e9, "nano": 1e6}
#: Thermostat fixes whose first arguments are ``Tstart Tstop`` (after ``N`` for temp/rescale).
_TSTART_FIRST = {"langevin": 0, "temp/berendsen": 0, "temp/csvr": 0, "temp/csld": 0,
                 "temp/rescale": 1}
_ACCELERATOR = re.compile(r"/(kk|omp|gpu|intel|opt)$")
#: The keywords of ``fix npt``/``nph``/``press/berendsen``/``press/langevin`` (and their
#: rigid, asphere, ... variants) followed by ``Pstart Pstop Pdamp``.
PRESSURE_KEYWORDS = ("iso", "aniso", "tri", "x", "y", "z", "xy", "yz", "xz")


def _commands(lines: Iterable[str]) -> Iterator[list[str]]:
    """The words of each line, its comment dropped."""
    for line in lines:
        yield line.split("#", 1)[0].split()


def _numbers(words: list[str]) -> list[float] | None:
    try:
        return [float(w) for w in words]
    except ValueError:          # an unsubstituted ${T}: its substituted echo follows
        return None


def _units(words: list[str]) -> str | None:
    """The style a ``units STYLE`` command sets, else None."""
    return words[1] if len(words) == 2 and words[0] == "units" else None


def _timestep(words: list[str]) -> float | None:
    """The value a numeric ``timestep DT`` command sets, else None."""
    if len(words) != 2 or words[0] != "timestep":
        return None
    value = _numbers(words[1:])
    return value[0] if value else None


def number_or_variable(word: str) -> bool:
    """Whether ``word`` is a number, or a variable LAMMPS substitutes (``${n}``, ``$n``,
    ``v_n``): a command's value as echoed before its substituted echo."""
    try:
        float(word)
    except ValueError:
        return word.startswith(("$", "v_"))
    return True


def is_run_command(words: list[str]) -> bool:
    """Whether ``words`` are an MD ``run N ...`` command as a log echoes it: N a number or
    a variable not substituted yet (``run ${n}``, whose substituted echo ``run 1000``
    follows: :func:`run_command` reads N from that one)."""
    return words[:1] == ["run"] and len(words) > 1 and number_or_variable(words[1])


def run_command(words: list[str]) -> tuple[int, bool] | None:
    """``(N, upto)`` of a ``run N [upto] ...`` command whose N is a number, else None
    (also for ``run ${n}``: see :func:`is_run_command`)."""
    if not is_run_command(words) or not words[1].isdigit():
        return None
    return int(words[1]), "upto" in words[2:]


def read_restart_file(words: list[str]) -> str | None:
    """The file a ``read_restart FILE`` command reads, else None (also for LAMMPS's
    own ``read_restart CPU = ...`` timing line)."""
    if words[:1] != ["read_restart"] or len(words) < 2 or words[1] == "CPU":
        return None
    return words[1]


@dataclass(frozen=True)
class DumpCommand:
    """A ``dump ID group style N [file ...]`` command's words."""

    name: str
    style: str
    every: str
    """N as written (a number, or a variable not substituted)."""
    file: str | None
    """None where the command names none."""


def dump_command(words: list[str]) -> DumpCommand | None:
    """What a ``dump ID group style N file ...`` command defines (``file`` None where it
    names none), else None."""
    if words[:1] != ["dump"] or len(words) <= 4:
        return None
    return DumpCommand(words[1], words[3], words[4], words[5] if len(words) > 5 else None)


def thermostat_target(words: list[str]) -> tuple[float, float] | None:
    """``(Tstart, Tstop)`` of a ``fix ID group STYLE ...`` command of a thermostat
    (``nvt``/``npt``/... ``temp``, ``langevin``, ``temp/berendsen``, ``temp/csvr``,
    ``temp/csld``, ``temp/rescale``; accelerated variants alike), else None."""
    if words[:1] != ["fix"] or len(words) <= 3:
        return None
    style, args = _ACCELERATOR.sub("", words[3]), words[4:]
    if style in _TSTART_FIRST:
        k = _TSTART_FIRST[style]
        pair = _numbers(args[k:k + 2])
    elif "temp" in args:
        k = args.index("temp") + 1
        pair = _numbers(args[k:k + 2])
    else:
        return None
    return (pair[0], pair[1]) if pair and len(pair) == 2 else None


def barostat_target(words: list[str]) -> tuple[float, float] | None:
    """``(Pstart, Pstop)`` of a barostat ``fix ID group STYLE ...`` command (``npt``,
    ``nph``, ``press/berendsen``, ``press/langevin``; rigid, asphere and accelerated
    variants alike), in the fix's pressure unit (bar in units metal, atm in units real):
    the first coupled component that ramps (``Pstart != Pstop``), else the first one;
    None for another fix, or values not substituted yet (``${P0}``: the substituted echo
    follows)."""
    if words[:1] != ["fix"] or len(words) <= 4:
        return None
    style = _ACCELERATOR.sub("", words[3])
    if not (style.startswith("press/") or any(p in ("npt", "nph") for p in style.split("/"))):
        return None
    args, found = words[4:], None
    for k, word in enumerate(args[:-2]):
        if word in PRESSURE_KEYWORDS:
            pair = _numbers(args[k + 1:k + 3])
            if pair is None:
                return None
            if pair[0] != pair[1]:
                return pair[0], pair[1]
            found = found or (pair[0], pair[1])
    return found


def mass_command(words: list[str]) -> tuple[int, int | None, float] | None:
    """``(first, last, mass)`` of a ``mass I value`` command: I one type, or a range as
    LAMMPS reads it (``m*n``, ``*n``, ``m*``, ``*``; ``last`` None: to the last type);
    None for another command, or a value not substituted yet (``${m}``: its substituted
    echo follows)."""
    if words[:1] != ["mass"] or len(words) != 3 or _numbers(words[2:]) is None:
        return None
    found = re.fullmatch(r"(\d*)(\*?)(\d*)", words[1])
    if found is None or not (found[1] or found[2]) or (found[1] and found[3] and not found[2]):
        return None
    first = int(found[1]) if found[1] else 1
    last = int(found[3]) if found[3] else (None if found[2] else first)
    return first, last, float(words[2])


def _types_masses(commands: list[tuple[int, int | None, float]],
                  types: int | None) -> dict[int, float]:
    """``{type: mass}`` the ``mass`` commands set, in order (a later one wins); a range to
    the last type reaches ``types`` (``create_box N``), else the highest type the
    commands name."""
    top = types or max([c[1] or c[0] for c in commands], default=0)
    masses: dict[int, float] = {}
    for first, last, mass in commands:
        masses.update({t: mass for t in range(first, (last or top) + 1)})
    return masses


def mass_elements(masses: dict[int, float]) -> list[str] | None:
    """The element of each type 1, 2, ... whose mass ``masses`` gives (the element within
    0.1 amu of it: ``mass 1 35.45`` is Cl); None where a type is missing or a mass is no
    one element's (an isotope, 6Li at 6.015; 40.0 amu, Ar's or Ca's: the type map is then
    to be given, :func:`elements_of_mass`)."""
    if not masses or sorted(masses) != list(range(1, len(masses) + 1)):
        return None
    out = [elements_of_mass(masses[t]) for t in sorted(masses)]
    return None if any(len(e) != 1 for e in out) else [e[0] for e in out]


def elements_of_mass(mass: float, tol: float = 0.1) -> list[str]:
    """The elements whose standard atomic mass lies within ``tol`` amu of ``mass``: one
    names the type's element; none (an isotope, a scaled mass) or two (40.0 amu: Ar 39.948
    and Ca 40.078) name none, and the type map is then to be given."""
    from ase.data import atomic_masses, chemical_symbols

    near = abs(atomic_masses[1:] - float(mass)) <= tol
    return [chemical_symbols[z + 1] for z in near.nonzero()[0]]


def md_settings(text: str) -> dict:
    """What the input echoed in a LAMMPS log says about its MD, read whole: the ``units``
    style, the ``timestep`` values set after it (in that style's time unit) and the
    thermostat targets ``(Tstart, Tstop)`` of its fixes (:func:`thermostat_target`), the
    barostat targets ``(Pstart, Pstop)`` (``barostats``: :func:`barostat_target`), the
    ``{type: mass}`` its ``mass`` commands set (``masses``: a data file may have no Masses
    section) and the element of each atom type that the last ``pair_coeff * * ... El1
    El2`` names, else that those masses say (``elements``, None without either:
    :func:`mass_elements`). Per ``run``: :func:`run_blocks`."""
    units, timesteps, targets, barostats, elements = None, [], [], [], None
    masses, types = [], None
    for words in _commands(text.splitlines()):
        if not words:
            continue
        if words == ["clear"]:
            masses, types = [], None
        elif mass_command(words) is not None:
            masses.append(mass_command(words))
        elif words[:1] == ["create_box"] and len(words) > 1 and words[1].isdigit():
            types = int(words[1])
        elif words[:3] == ["pair_coeff", "*", "*"]:
            elements = _pair_coeff_elements(words[3:]) or elements
        elif _units(words):
            units, timesteps = _units(words), []
        elif _timestep(words) is not None:
            timesteps.append(_timestep(words))
        elif words[:1] == ["fix"]:
            if thermostat_target(words) is not None:
                targets.append(thermostat_target(words))
            if barostat_target(words) is not None:
                barostats.append(barostat_target(words))
    masses = _types_masses(masses, types)
    return {"units": units, "timesteps": timesteps, "targets": targets,
            "barostats": barostats, "elements": elements or mass_elements(masses),
            "masses": masses}


def _pair_coeff_elements(words: list[str]) -> list[str] | None:
    """The element of each atom type that ``pair_coeff * * [style] [file] El1 El2 ...``
    names (the words after the last one that is no element: a hybrid sub-style, a
    potential file); None where there are none or a type is NULL (another sub-style's)."""
    from ase.data import chemical_symbols

    known = set(chemical_symbols[1:])
    k = len(words)
    while k > 0 and (words[k - 1] in known or words[k - 1] == "NULL"):
        k -= 1
    tail = words[k:]
    return tail if tail and "NULL" not in tail else None


def pair_lines(lines: Iterable[str]) -> list[str]:
    """The ``pair_style`` and ``pair_coeff`` lines of one log (its lines, read one by one:
    logs may be large) as LAMMPS keeps them: a ``pair_style`` of another style drops the
    coefficients before it; a ``pair_coeff`` echoed again (as after a restart) once;
    comments and extra spaces dropped."""
    style: str | None = None
    coeffs: list[str] = []
    for line in lines:
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


@dataclass(frozen=True)
class RunBlock:
    """One MD ``run`` of a log as the input it echoes set it up: ``units``, ``timestep``
    (in that unit; None: not echoed since ``units`` or ``read_restart``, which restores the
    one of its run), the ``(Tstart, Tstop)`` of each thermostat fix in force, the files of
    the dumps defined, the ``(Pstart, Pstop)`` of each barostat fix in force and how many
    steps it ran."""

    log: str
    units: str | None
    timestep: float | None
    thermostats: tuple[tuple[float, float], ...]
    dumps: tuple[str, ...]
    restored: bool = False
    """Whether a ``read_restart`` came before it: a time step not echoed since is the
    restart file's, not LAMMPS's default."""
    barostats: tuple[tuple[float, float], ...] = ()
    steps: int | None = None
    """Steps it ran (``run N``: N; ``run N upto``: to step N from the step it began at);
    None where the logs do not say that step (``run N upto`` after ``read_restart``)."""
    start: int | None = None
    """The step it began at; None where the logs do not say it (after ``read_restart``)."""

    def ramps(self) -> list[tuple[str, float, float]]:
        """``("thermostat" | "barostat", start, stop)`` of each of its targets that ramps."""
        return ([("thermostat", a, b) for a, b in self.thermostats if a != b]
                + [("barostat", a, b) for a, b in self.barostats if a != b])

    def dumps_into(self, names: set[str]) -> bool:
        """Whether one of its dumps writes a file named as one of ``names`` (a dump's
        ``*`` is LAMMPS's step number)."""
        return any(fnmatch.fnmatchcase(name, Path(dump).name) for dump in self.dumps
                   for name in names)


@dataclass
class InputState:
    """What a LAMMPS input has set up at one point of its log, as :func:`run_blocks` reads
    it: ``units``, ``timestep`` (None: not echoed), thermostat and barostat targets by
    fix ID (None: a fix that is neither), dump files by dump ID, the step (None: not said,
    after ``read_restart``)."""

    units: str | None = None
    timestep: float | None = None
    fixes: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    dumps: dict[str, str] = field(default_factory=dict)
    restored: bool = False
    barostats: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    step: int | None = 0

    def copy(self) -> InputState:
        return InputState(self.units, self.timestep, dict(self.fixes), dict(self.dumps),
                          self.restored, dict(self.barostats), self.step)


def run_blocks(text: str, log: str = "log.lammps", state: InputState | None = None,
               handed_on: dict[str, InputState] | None = None) -> list[RunBlock]:
    """The MD ``run`` commands a LAMMPS log echoes (of one step or more), each with the
    settings in force (the last ``timestep`` before it, the thermostat and barostat fixes
    not ``unfix``-ed, the dumps not ``undump``-ed; ``clear`` forgets all but the units) and
    its length in steps (the step followed through ``run``, ``reset_timestep`` and
    ``read_restart``, which restores one the log does not say). A command
    LAMMPS echoes with variables is echoed again substituted, which is the one kept. Empty
    where the input was not echoed (``echo none``).

    ``state``: what was set up before the log began (a log opened by the ``log`` command
    of another: the same LAMMPS process going on); read from nothing otherwise.
    ``handed_on``: filled with the state at each ``log FILE`` command, by FILE's name."""
    state = state.copy() if state is not None else InputState()
    blocks = []
    for words in _commands(text.splitlines()):
        if words == ["clear"]:
            # the units kept: a `read_restart` after it restores those of its file,
            # unechoed, and a `units` command would be echoed
            state = InputState(units=state.units)
            continue
        if len(words) < 2:
            continue
        command, name = words[0], words[1]
        if _units(words):
            state.units, state.timestep = name, None     # `units` resets the time step
        elif _timestep(words) is not None:
            state.timestep = _timestep(words)
        elif read_restart_file(words) is not None:
            # the file's time step, units and step
            state.timestep, state.restored, state.step = None, True, None
        elif command == "reset_timestep" and name.isdigit():
            state.step = int(name)
        elif command == "fix" and len(words) > 3:
            # an ID defined again replaces it; None: a fix that is no thermostat (barostat)
            state.fixes[name] = thermostat_target(words)
            state.barostats[name] = barostat_target(words)
        elif command == "unfix":
            state.fixes.pop(name, None)
            state.barostats.pop(name, None)
        elif (dump := dump_command(words)) is not None and dump.file is not None:
            state.dumps[name] = dump.file
        elif command == "undump":
            state.dumps.pop(name, None)
        elif command == "log" and handed_on is not None:
            handed_on[Path(name).name] = state.copy()
        elif (run := run_command(words)) is not None:
            n, upto = run
            start, state.step = state.step, (n if upto else None if state.step is None
                                             else state.step + n)
            steps = n if not upto else None if start is None else n - start
            if steps is None or steps > 0:
                # `run 0` (a setup, a single point) moves no atom: its time step and
                # thermostat are of no frame interval, though its dumps write a frame
                blocks.append(RunBlock(
                    log, state.units, state.timestep,
                    tuple(t for t in state.fixes.values() if t is not None),
                    tuple(state.dumps.values()), state.restored,
                    tuple(p for p in state.barostats.values() if p is not None), steps,
                    start))
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
