"""Simulation protocols as data: one :class:`Protocol` per preset, named after its source.

Every field can be overridden (:meth:`Protocol.with_overrides`, ``ionmd run --set``);
:mod:`ionmd.protocols.checks` holds every rule a protocol's settings obey.

Sources (docs/presets.md: each setting, the paper's or ionmd's)
-------
* ``conductivity`` -- AQVolt26: NpT at 1 atm, 300-700 K, >= 110 ps of which 10 ps are
  discarded, 1 fs, DCD trajectory plus sparse restart files. ionmd's choices (the paper
  names none): Nose-Hoover, tdamp 100 fs, pdamp 1000 fs; and the supercell rule, every
  perpendicular width >= 8 A (the paper: shortest lattice vector >= 8 A; the widths bound
  the minimum-image radius, w/2, the same on orthogonal cells, larger cells than the
  paper's on skewed ones).
* ``conductivity-nvt`` -- MACE-SSE (seed 002): NVT Berendsen on a 2x2x2 supercell of the
  model-optimised lattice (its Table S4: ``relax``, the cell relaxed with the model at
  1 atm before the NVT); T >= 800 K: 500 ps, first 100 ps discarded; T < 800 K: 1 ns,
  first 200 ps discarded. ionmd's choices: 600-1200 K (the paper ran its LIYBC halides at
  800-1100 K, as some melt above 1100 K: give ``--temps 800:1100:100`` there; ionmd's
  framework_melting post-mortem flags a framework whose atoms left their sites, not a
  late or partial melt), tdamp 100 fs and a 1 fs step (the paper states neither for
  its production runs).
* ``umlip-benchmark`` -- seed 003 (Du et al., Sec. 2.2 and 3): 3x3x3 supercell, 300, 400,
  500, 700, 900 and 1100 K, 2 fs, Berendsen tau_T = 200 fs, non-uniform Berendsen barostat
  tau_P = 2000 fs (NpT, ``aniso``), runs of 1-10 ns (here the shortest, 1 ns; the 10 ps
  discarded are ionmd's choice). LAMMPS's
  ``fix press/berendsen`` cannot barostat a triclinic cell: such cells are refused
  (:func:`ionmd.protocols.checks.check_cell`).
* ``stability`` -- AQVolt26: an NpT heating ramp 300 -> 2100 K over 50 ps at 1 bar, 1 fs,
  three replicas; stops itself when the volume changes by > 50 % or atoms are lost.
  ionmd's choices: the relaxation first (V0 is the relaxed volume), Nose-Hoover 100/1000 fs,
  the 8 A widths.
* ``pressure-ramp`` -- NpT ramp between two pressures at a fixed temperature.
* ``ev-scan`` -- MLIP Arena / AQVolt26 Table 1: every lattice vector strained by +-20 %
  (V/V0 0.512-1.728), single points, Birch-Murnaghan bulk modulus, the paper's Spearman
  coefficients (docs/ev-scan.md).

Coordinates. NpT runs dump LAMMPS-wrapped coordinates (``dump dcd`` default): the
analysis unwraps them exactly under a changing box, whereas LAMMPS's own unwrapped
coordinates are wrong once the box changes (see :mod:`ionmd.analysis.unwrapping`).
Constant-box (NVT) runs dump unwrapped coordinates (``dump_modify unwrap yes``).
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from dataclasses import dataclass

from ionmd.errors import IonmdError

ATM_BAR = 1.01325


@dataclass(frozen=True)
class Protocol:
    """One simulation protocol (all times in ps or fs, temperatures in K, pressures in bar).

    Attributes
    ----------
    name, source : str
        Preset name and the publication / seed it follows.
    family : str
        Input template family: ``md`` (constant or ramped T/P) or ``ev`` (E-V scan).
    ensemble : str
        ``nvt`` or ``npt`` (``md`` family).
    thermostat : str
        ``nose-hoover`` (``fix nvt/npt``) or ``berendsen`` (``fix nve`` +
        ``fix temp/berendsen`` [+ ``fix press/berendsen``]).
    temperatures : tuple of float
        One run per temperature (the start temperature of a ramp).
    temperature_end : float or None
        End of a linear temperature ramp over the whole run (``None``: constant).
    pressure_bar, pressure_end_bar : float, float or None
        Barostat target; ``pressure_end_bar`` makes a linear pressure ramp.
    duration_ps, discard_ps : float
        Simulated time and the equilibration analysis drops.
    long_below_K, long_duration_ps, long_discard_ps : float or None
        Runs below ``long_below_K`` use the longer duration and discard (MACE-SSE).
    timestep_fs, tdamp_fs, pdamp_fs : float
        MD time step and thermostat / barostat relaxation times.
    couple : str
        Barostat cell coupling: LAMMPS's ``iso``, ``aniso`` or ``tri``, or ``auto``
        (default): ``tri`` for a triclinic cell with ``fix npt`` (and ``fix box/relax``),
        ``aniso`` otherwise. ``aniso`` on a triclinic cell scales the tilt factors with the
        box lengths (LAMMPS's ``scalexy/scalexz/scaleyz yes``): the cell angles stay fixed
        and the shear stresses are never relaxed (a constrained, not an NpT, ensemble);
        ``tri`` barostats all six stress components. ``fix press/berendsen`` has no
        ``tri`` (nor triclinic cells): with the Berendsen barostat ``auto`` is ``aniso``.
        Run directories written before ``auto`` existed recorded ``aniso`` and keep it.
    berendsen_modulus_bar : float
        Bulk-modulus estimate of ``fix press/berendsen`` (its volume-rescaling rate).
        LAMMPS's default, 10 bar, blows a solid up at once; 30 GPa is typical of Li
        halides and thiophosphates (about 20-40 GPa).
    supercell : str or None
        ``"2x2x2"`` (explicit repeats), ``"8A"`` (every perpendicular width >= 8 A) or
        ``None`` (use the cell as given).
    replicas : int
        Runs per temperature with different velocity seeds.
    seed : int
        Seeds the initial velocities: each (temperature, replica) draws its own seed
        from it (:func:`ionmd.protocols.run_settings.velocity_seed`, recorded in the run's
        ``settings.json``).
    dump_every, thermo_every : int
        Steps between trajectory frames / thermo lines.
    restart_every : int
        Steps between restart files (two files, written alternately).
    relax : bool
        Relax positions and cell with the model before the MD (fix box/relax to
        ``pressure_bar``, in rounds of the atoms first, then atoms and cell, until a round
        moves the volume by < 0.1 % and the stress is within 100 bar of it, 3 rounds at
        most: :func:`ionmd.protocols.md_input.cell_relaxation`; the log's ``IONMD_RELAX``
        line says whether it converged, and a run's status too when it did not). NpT relaxes with the barostat's ``couple``; NVT with the
        most the cell allows (``couple`` auto: ``tri`` on a triclinic box, ``aniso`` on an
        orthogonal one) and then runs in the relaxed cell: the model's own volume, not the
        input file's. Run folders written before inputs version 3 relaxed NVT atoms only
        (and NpT for 200 iterations at most), those of version 3 in coupled minimisations
        alone (:func:`ionmd.protocols.md_input.cell_relaxation_v3`); each keeps its input.
    halt_volume_change : float or None
        Stop the run when ``|V/V0 - 1|`` exceeds this (``fix halt``); ``None``: never.
        ``V0`` is the volume the MD starts from (after the relaxation: the volume the
        failure analysis compares with), printed by the first piece as ``IONMD_V0`` and
        reused by every resumed piece.
    halt_check_every : int
        Steps between those checks.
    max_strain, n_points : float, int
        E-V scan: every lattice vector scaled by ``1 + s`` (volumes ``V0 (1 + s)^3``) for
        ``n_points`` values of ``s`` in ``[-max_strain, max_strain]``.
    mobile_species : tuple of str
        Written to ``run.json`` for the analysis.
    template : str or None
        Path of a user template replacing the family's ``inputs/*.lmp``.
    until : str or None
        Stopping rule, e.g. ``"D_rel_ci<=0.2,hops>=10"`` (quantities in
        :mod:`ionmd.analysis.convergence`): the run goes on in pieces of
        ``check_every_ps``, is analysed after each and stops when the rule holds
        (``converged``) or at ``duration_ps``, which becomes the maximum (``max_time``).
        ``None``: run ``duration_ps``.
    check_every_ps : float
        Time between two checks of the stopping rule (checks fall on multiples of it).
    fit_start_ps : float
        Start of the MSD fit of those checks (1 ps suits production runs).
    """

    name: str
    source: str
    family: str = "md"
    ensemble: str = "npt"
    thermostat: str = "nose-hoover"
    temperatures: tuple[float, ...] = (300.0, 400.0, 500.0, 600.0, 700.0)
    temperature_end: float | None = None
    pressure_bar: float = ATM_BAR
    pressure_end_bar: float | None = None
    duration_ps: float = 110.0
    discard_ps: float = 10.0
    long_below_K: float | None = None
    long_duration_ps: float | None = None
    long_discard_ps: float | None = None
    timestep_fs: float = 1.0
    tdamp_fs: float = 100.0
    pdamp_fs: float = 1000.0
    couple: str = "auto"
    berendsen_modulus_bar: float = 300000.0
    supercell: str | None = "8A"
    replicas: int = 1
    seed: int = 12345
    dump_every: int = 100
    thermo_every: int = 100
    restart_every: int = 10000
    relax: bool = False
    halt_volume_change: float | None = None
    halt_check_every: int = 10
    max_strain: float = 0.2
    n_points: int = 21
    mobile_species: tuple[str, ...] = ("Li",)
    template: str | None = None
    until: str | None = None
    check_every_ps: float = 20.0
    fit_start_ps: float = 1.0

    STOPPING_FIELDS = ("until", "check_every_ps", "fit_start_ps")
    """Fields that matter only with a stopping rule (left out of a run's settings without one)."""

    def schedule(self, temperature: float) -> tuple[float, float]:
        """``(duration_ps, discard_ps)`` of the run at ``temperature``."""
        if self.long_below_K is not None and temperature < self.long_below_K:
            return (self.long_duration_ps or self.duration_ps,
                    self.long_discard_ps if self.long_discard_ps is not None else self.discard_ps)
        return self.duration_ps, self.discard_ps

    def steps(self, temperature: float) -> int:
        """Number of MD steps of the run at ``temperature``."""
        return int(round(self.schedule(temperature)[0] * 1000.0 / self.timestep_fs))

    def with_overrides(self, **overrides) -> "Protocol":
        """A copy with some fields replaced; strings are converted to the field's type
        (so that command-line values can be passed as they are), numpy numbers and arrays,
        ranges and paths to the plain values they stand for.

        Raises
        ------
        IonmdError
            On an unknown field or a value that cannot be converted.
        """
        from ionmd.protocols.checks import apply_overrides

        protocol, problems = apply_overrides(self, overrides)
        if problems:
            raise IonmdError("; ".join(message for _, message in problems))
        return protocol

    def schedule_summary(self) -> list[str]:
        """One line per distinct run length: its temperatures, duration, steps, discard and
        which settings decided them (what ``ionmd run`` and ``sweep plan`` print), and the
        stopping rule if there is one."""
        lines: dict[str, list[str]] = {}
        upto = "at most " if self.until else ""
        for temp in self.temperatures:
            duration, discard = self.schedule(temp)
            line = (f"{upto}{duration:g} ps ({self.steps(temp)} steps of {self.timestep_fs:g} fs), "
                    f"{discard:g} ps discarded: {self.schedule_source(temp)}")
            lines.setdefault(line, []).append(f"{temp:g}")
        out = [f"{', '.join(temps)} K: {line}" for line, temps in lines.items()]
        if self.temperature_end is not None:
            out.append(f"thermostat ramps linearly from each temperature to "
                       f"{self.temperature_end:g} K over the run")
        if self.pressure_end_bar is not None:
            out.append(f"barostat ramps linearly from {self.pressure_bar:g} to "
                       f"{self.pressure_end_bar:g} bar over the run")
        if self.until:
            out.append(f"stops when {self.until} holds, checked every {self.check_every_ps:g} ps "
                       f"(MSD fit from {self.fit_start_ps:g} ps)")
        return out

    def schedule_source(self, temperature: float) -> str:
        """Which settings decide the run length at ``temperature`` (for messages)."""
        if self.long_below_K is not None and temperature < self.long_below_K and (
                self.long_duration_ps is not None or self.long_discard_ps is not None):
            return (f"long_duration_ps/long_discard_ps, as the run is below long_below_K = "
                    f"{self.long_below_K:g} K")
        return "duration_ps/discard_ps"

    def to_dict(self) -> dict:
        """The fields as ``settings.json`` holds them: lists, and plain numbers and text
        (a Protocol built directly may hold numpy numbers or a Path)."""
        from ionmd.protocols.setting_values import plain_value

        return {k: [plain_value(x) for x in v] if isinstance(v, tuple) else plain_value(v)
                for k, v in dataclasses.asdict(self).items()}


TIME_ALIASES = {"time": "duration_ps", "max_time": "duration_ps", "check_every": "check_every_ps"}
"""Names of the command line's time options that a campaign's ``[protocol]`` (or
``--set``) accepts too, with units (``max_time = "2ns"``); each sets the field it names."""


def convert_text(key: str, text: str, hint) -> object:
    """Parse a command-line string into the type of field ``key`` (type hint ``hint``).

    Raises
    ------
    IonmdError
        Saying what the field takes, in the words a value of the wrong type gets
        (:func:`ionmd.protocols.setting_values.type_problem`): ``dump_every must be a whole number
        (got '2.5')``.
    """
    args = set(typing.get_args(hint)) or {hint}
    if text.lower() in ("none", "null") and type(None) in args:
        return None
    if key == "temperatures":
        return parse_temperatures(text)
    if key == "mobile_species":
        return tuple(s for s in text.replace(",", " ").split() if s)
    try:
        if bool in args:
            if text.lower() not in ("true", "false", "yes", "no", "1", "0"):
                raise IonmdError(f"{key} must be true or false (got {text!r})")
            return text.lower() in ("true", "yes", "1")
        if int in args:
            return int(text)
        if float in args:
            return float(without_kelvin(text) if key in KELVIN_FIELDS else text)
    except ValueError:
        kind = "a whole number" if int in args else "a number"
        raise IonmdError(f"{key} must be {kind} (got {text!r}){_unit_in_name(key, text)}") \
            from None
    return text


UNITS_OF_NAME_UNIT = {
    "bar": {"gpa": 1e4, "mpa": 10.0, "kpa": 1e-2, "pa": 1e-5, "kbar": 1e3, "atm": 1.01325,
            "bar": 1.0},
    "fs": {"fs": 1.0, "ps": 1e3, "ns": 1e6},
    "ps": {"fs": 1e-3, "ps": 1.0, "ns": 1e3},
}
"""For a field whose name carries its unit (``pressure_end_bar``, ``timestep_fs``): the
units a value may have been written in, and their size in the name's unit."""


def _unit_in_name(key: str, text: str) -> str:
    """For ``timestep_fs = "2fs"``: the unit is the field name's, write the number alone;
    for ``pressure_end_bar = "5GPa"``, the number in the name's unit (50000)."""
    unit = key.rsplit("_", 1)[-1] if "_" in key else ""
    m = re.fullmatch(r"\s*([-+0-9.eE]+)\s*([A-Za-z]+)\s*", text)
    factor = UNITS_OF_NAME_UNIT.get(unit, {unit.lower(): 1.0}).get(m.group(2).lower()) \
        if unit and m else None
    try:
        number = float(m.group(1)) if factor is not None else None
    except ValueError:
        number = None
    if number is None:
        return ""
    if factor == 1.0:
        return f": {key} is in {unit} by its name, write {m.group(1)}"
    return (f": {key} is in {unit} by its name: {m.group(1)} {m.group(2)} is "
            f"{number * factor:.10g} {unit}, write {number * factor:.10g}")


KELVIN_FIELDS = ("temperature_end", "long_below_K")
"""The single temperatures besides ``temperatures``: text may carry the unit K as there."""


def without_kelvin(text: str) -> str:
    """``text`` with the unit K after each number dropped (``"600K, 800 K"``: ``"600, 800"``)."""
    return re.sub(r"(?<=[0-9.])\s*K\b", "", text.strip())


def parse_temperatures(text: str) -> tuple[float, ...]:
    """``"500:900:100"`` (inclusive range), ``"500,700,900"`` or ``"600"`` -> tuple of K;
    each number may carry its unit (``"600K, 800 K"``)."""
    given, text = text, without_kelvin(text)
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) != 3 or parts[2] <= 0 or parts[1] < parts[0]:
                raise ValueError("expected START:STOP:STEP with STOP >= START and STEP > 0")
            n = _range_steps(parts)
            return tuple(parts[0] + i * parts[2] for i in range(n + 1))
        values = tuple(float(p) for p in text.replace(",", " ").split())
        if not values or not all(0 < t < float("inf") for t in values):
            raise ValueError("every temperature must be a finite number > 0 K")
        return values
    except ValueError as exc:
        raise IonmdError(f"cannot read temperatures {given!r}: {exc} (e.g. 500:900:100 or "
                         f"500,700,900)") from exc


def _range_steps(parts: list[float]) -> int:
    """The steps of START:STOP:STEP, counted before the list is built (``300:1e12:1e-3``
    made 10^15 temperatures and filled the memory)."""
    from ionmd.protocols.setting_ranges import MAX_TEMPERATURES, temperature_count_problem

    if not all(map(math.isfinite, parts)):
        raise ValueError("every temperature must be a finite number > 0 K")
    count = (parts[1] - parts[0]) / parts[2] + 1
    if count > MAX_TEMPERATURES:
        raise ValueError(temperature_count_problem(count).split(": ", 1)[1])
    return int(round(count - 1))


def parse_time_ps(text: str) -> float:
    """``"110ps"``, ``"1ns"``, ``"500fs"`` or a bare number of ps -> ps."""
    t = text.strip().lower()
    for unit, factor in (("ns", 1000.0), ("ps", 1.0), ("fs", 0.001)):
        if t.endswith(unit):
            t, scale = t[: -len(unit)], factor
            break
    else:
        scale = 1.0
    try:
        value = float(t) * scale
    except ValueError:
        value = float("nan")
    if not (value > 0 and value != float("inf")):
        raise IonmdError(f"cannot read time {text!r}: give a positive duration such as 110ps, "
                         f"1ns or 500fs")
    return value


PRESETS: dict[str, Protocol] = {
    p.name: p for p in (
        Protocol(name="conductivity", source="AQVolt26", ensemble="npt",
                 temperatures=(300.0, 400.0, 500.0, 600.0, 700.0), pressure_bar=ATM_BAR,
                 duration_ps=110.0, discard_ps=10.0, timestep_fs=1.0, supercell="8A"),
        Protocol(name="conductivity-nvt", source="MACE-SSE (seed 002)", ensemble="nvt",
                 thermostat="berendsen", temperatures=(600.0, 800.0, 1000.0, 1200.0),
                 duration_ps=500.0, discard_ps=100.0, long_below_K=800.0,
                 long_duration_ps=1000.0, long_discard_ps=200.0, timestep_fs=1.0,
                 supercell="2x2x2", relax=True),
        Protocol(name="umlip-benchmark", source="seed 003", ensemble="npt",
                 thermostat="berendsen", supercell="3x3x3",
                 # seed 003 Sec. 3: diffusivities at 300, 400, 500, 700, 900 and 1100 K;
                 # Sec. 2.2: 2.0 fs, Berendsen tau_T = 200 fs, "non-uniform Berendsen
                 # barostat" tau_P = 2000 fs, "evolution duration ranged from 1 to 10 ns"
                 temperatures=(300.0, 400.0, 500.0, 700.0, 900.0, 1100.0),
                 timestep_fs=2.0, tdamp_fs=200.0, pdamp_fs=2000.0, couple="aniso",
                 duration_ps=1000.0, discard_ps=10.0, dump_every=50),
        Protocol(name="stability", source="AQVolt26", ensemble="npt", temperatures=(300.0,),
                 temperature_end=2100.0, pressure_bar=1.0, duration_ps=50.0, discard_ps=0.0,
                 timestep_fs=1.0, replicas=3, relax=True, halt_volume_change=0.5,
                 supercell="8A"),
        Protocol(name="pressure-ramp", source="ionmd", ensemble="npt", temperatures=(300.0,),
                 pressure_bar=1.0, pressure_end_bar=50000.0, duration_ps=50.0, discard_ps=0.0,
                 supercell="8A"),
        Protocol(name="ev-scan", source="MLIP Arena / AQVolt26 Table 1", family="ev",
                 ensemble="none", temperatures=(0.0,), duration_ps=0.0, discard_ps=0.0,
                 supercell=None, max_strain=0.2, n_points=21),
    )
}


def get_protocol(name: str, **overrides) -> Protocol:
    """Preset ``name`` with ``overrides`` applied.

    Raises
    ------
    IonmdError
        If there is no such preset.
    """
    if name not in PRESETS:
        raise IonmdError(f"unknown protocol {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name].with_overrides(**overrides) if overrides else PRESETS[name]
