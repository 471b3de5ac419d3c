"""The bounds of every numeric setting, in one table (:data:`RANGES`: a protocol's fields
and a campaign's keys), with the limits of what one run can hold (step counts LAMMPS takes,
temperatures, supercells) and the messages that name them; apart from the other rules of
:mod:`ionmd.protocols.checks` as the one table that ``ionmd run``'s options, a campaign's
keys and the Python API all read.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

from ionmd.errors import IonmdError
from ionmd.protocols.setting_values import is_number
from ionmd.structures import supercell as supercells
from ionmd.structures.occupancy_tolerance import OCCUPANCY_TOLERANCE


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
    "discard_ps": Range(0.0, math.inf, "the start of each run dropped from its analysis "
                        "(equilibration); 0 analyses the whole run", "ps"),
    # seed: no range. Any whole number hashes into a LAMMPS velocity seed of 1 to 900000000
    # (1 to 2^30 before inputs version 5; run_settings.velocity_seed), negative and 1.8e18 (time.time_ns()) ones too, and a
    # folder planned with one resumes only by the same command: a range refused those
    "long_duration_ps": Range(0.0, math.inf, "a run length", "ps", low_open=True),
    "long_discard_ps": Range(0.0, math.inf, "a time to drop", "ps"),
    "halt_volume_change": Range(0.0, 10.0, "|V/V0 - 1| as a fraction: 0.5 stops at a 50 % "
                                "change, 10 at an eleven-fold volume", low_open=True),
    "n_points": Range(5, 1001, "one volume each, written to its own folder; MLIP Arena uses 21"),
    "max_strain": Range(0.0, 0.5, "each lattice vector scaled by 1 + s, s from -max_strain to "
                        "+max_strain (AQVolt26, MLIP Arena's E-V scan); 0.2 (the ev-scan "
                        "preset) spans 0.512-1.728 V0, 0.5 spans 0.125-3.4 V0", low_open=True),
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
LAMMPS counts (:data:`MAX_RUN_STEPS`), the time step by
:data:`ionmd.protocols.checks.MAX_TIMESTEP_FS`."""


def range_problem(key: str, value) -> str | None:
    """Why ``value`` (a number, or a list of numbers) is outside the range of setting
    ``key`` (:data:`RANGES`), naming the key, the value, the range and why; None if it is
    inside or ``key`` has no range. NaN and infinities are outside every range."""
    bound = RANGES.get(key)
    if bound is None or value is None:
        return None
    for x in (value if isinstance(value, (tuple, list)) else (value,)):
        # a whole number is finite: math.isfinite(10**400) raised OverflowError (a traceback)
        if not (is_number(x) and (isinstance(x, numbers.Integral) or math.isfinite(x))
                and bound.holds(x)):
            got = f"{x:g}" if isinstance(x, float) else _shown(x)
            return (f"{key} {got}{' ' + bound.unit if bound.unit else ''} is out of range: give "
                    f"{bound.text()}{'; ' + bound.why if bound.why else ''}")
    return None


def _shown(x) -> str:
    """``x`` as a refusal quotes it: a whole number of hundreds of digits by its length."""
    text = repr(x)
    return text if len(text) <= 24 else f"{text[:6]}... ({len(text.lstrip('-'))} digits)"


MAX_RUN_STEPS = 2**31 - 1
"""The most steps LAMMPS's ``run N`` takes (its MAXSMALLINT)."""


def temperature_count_problem(count: float) -> str | None:
    """Why ``count`` temperatures are too many (one run folder each), else None."""
    if count <= MAX_TEMPERATURES:
        return None
    count = f"{count:.0f}" if count < 1e9 else f"{count:.3g}"
    return (f"temperatures: {count} temperatures would make {count} run folders per replica; "
            f"give at most {MAX_TEMPERATURES} (every 25 K up to {MAX_TEMPERATURE_K:g} K)")


MAX_SERIES_RUNS = 10_000
"""The most run folders one protocol plans for one structure and model (replicas x
temperatures): each factor's own bound let 1000 x 200 = 200,000 through, which a dry run
wrote and a campaign's plan listed a row each."""


def series_runs_problem(replicas: int, temperatures: int) -> str | None:
    """Why ``replicas`` x ``temperatures`` run folders are too many, else None."""
    runs = replicas * temperatures
    if runs <= MAX_SERIES_RUNS:
        return None
    return (f"replicas: {replicas} replicas x {temperatures} temperature(s) would make {runs} "
            f"run folders of one structure and model; give at most {MAX_SERIES_RUNS} (fewer "
            f"replicas or temperatures: the error of a mean narrows only as 1/sqrt(runs), "
            f"longer runs buy more)")


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
