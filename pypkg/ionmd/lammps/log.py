"""Reading LAMMPS output: thermo columns, error lines, ``fix halt`` and lost-atom
messages, loop times and the end-of-run summary."""

from __future__ import annotations

import re

import numpy as np

HALT_RE = re.compile(r"Fix halt condition for fix-id (\S+) met on step (\d+) with value (\S+)")
NO_SPACE_RE = re.compile(r"No space left on device|Disk quota exceeded")
LOOP_RE = re.compile(r"Loop time of ([0-9.eE+-]+) on (\d+) procs for (\d+) steps with (\d+) atoms")


class ThermoTable(dict):
    """Thermo columns by header name (a dict of arrays, one row per step) and, per column,
    which rows LAMMPS printed it in (``printed``, boolean arrays): ``run`` blocks may print
    different columns, and a column's rows from a block without it are NaN fill-ins, not
    values LAMMPS wrote."""

    def __init__(self, columns: dict[str, np.ndarray], printed: dict[str, np.ndarray]):
        super().__init__(columns)
        self.printed = printed


def printed_rows(thermo: dict[str, np.ndarray], name: str) -> np.ndarray:
    """Which thermo rows hold a value LAMMPS printed for column ``name``: a ``run`` block
    without that column leaves NaN fill-ins (:class:`ThermoTable`); a plain dict of
    columns counts as printed throughout."""
    printed = getattr(thermo, "printed", {})
    return printed[name] if name in printed else np.ones(len(thermo[name]), bool)


def printed_column(thermo: dict[str, np.ndarray], name: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of the rows where LAMMPS printed thermo column ``name``."""
    rows = printed_rows(thermo, name)
    return thermo["Step"][rows], thermo[name][rows]


class ThermoBlocks:
    """Reads LAMMPS output line by line and tells thermo rows of ``run`` blocks from the
    rest: the ``Step ...`` header in force (``blocks`` counts them), error and loop lines
    that end a block, and the blocks of a ``minimize``, whose rows are left out. Their
    steps are not MD steps (a template that minimises and then runs ``reset_timestep 0``
    repeats them with the MD's) and their 0 K rows are no temperature of the run. A
    minimisation is announced on the screen (``Setting up cg style minimization``) and in
    a log by the echoed ``minimize`` command; :func:`parse_thermo` also drops a block
    that LAMMPS's ``Minimization stats:`` follows (a log written with ``echo none``)."""

    def __init__(self):
        self.header: list[str] | None = None
        self.blocks = 0
        self._minimization_next = False
        self._in_minimization = False

    def row(self, line: str) -> list[str] | None:
        """The fields of ``line`` if it is a thermo row of a ``run`` block (``header``
        names them), else None."""
        parts = line.split()
        if not parts:
            return None
        if parts[0] in ("minimize", "minimize/kk") or (parts[0] == "Setting"
                                                       and "minimization" in parts):
            self._minimization_next = True
        elif parts[0] == "Step":
            self.header = parts
            self.blocks += 1
            self._in_minimization, self._minimization_next = self._minimization_next, False
        elif parts[0].startswith(("Loop", "ERROR")):
            self.header = None
        elif (self.header is not None and not self._in_minimization
              and len(parts) == len(self.header) and parts[0].lstrip("-").isdigit()):
            return parts
        return None


def parse_thermo(text: str) -> ThermoTable:
    """Thermo columns of a ``log.lammps`` text (all ``run`` blocks, by header name; the
    blocks of ``minimize`` left out, see :class:`ThermoBlocks`).

    Rows whose step repeats an earlier one (the first row of a following run, or of a
    resumed piece) are dropped. ``nan``/``inf`` values are kept as such; a column that a
    block does not print is NaN in that block's rows and False in ``printed`` there."""
    reader = ThermoBlocks()
    blocks: dict[int, tuple[list[str], list[list[float]]]] = {}
    for line in text.splitlines():
        if line.strip() == "Minimization stats:":
            blocks.pop(reader.blocks, None)          # the block that just ended
            continue
        parts = reader.row(line)
        if parts is None:
            continue
        try:
            row = [float(p) for p in parts]
        except ValueError:
            continue
        blocks.setdefault(reader.blocks, (reader.header, []))[1].append(row)

    values: dict[str, list[float]] = {}
    rows: dict[str, list[int]] = {}
    seen: set[int] = set()
    for header, block_rows in blocks.values():
        for row in block_rows:
            if int(row[0]) in seen:
                continue
            for name, v in zip(header, row):
                values.setdefault(name, []).append(v)
                rows.setdefault(name, []).append(len(seen))
            seen.add(int(row[0]))
    columns, printed = {}, {}
    for name in values:
        columns[name] = np.full(len(seen), np.nan)
        columns[name][rows[name]] = values[name]
        printed[name] = np.zeros(len(seen), bool)
        printed[name][rows[name]] = True
    return ThermoTable(columns, printed)


def parse_thermo_pieces(texts) -> ThermoTable:
    """Thermo columns of a run resumed in pieces (one log text each, in run order): each
    piece's rows before the step a later piece resumed from. A piece killed after its last
    restart file went on printing rows that the next piece, started from that restart,
    computes again on another trajectory; the later rows are the run's (as
    :func:`parse_thermo` of the joined texts would keep the earlier, abandoned ones)."""
    tables = [parse_thermo(t) for t in texts]
    starts = [int(t["Step"][0]) if len(t.get("Step", ())) else None for t in tables]
    kept = []
    for k, table in enumerate(tables):
        later = [s for s in starts[k + 1:] if s is not None]
        if starts[k] is not None:
            kept.append((table, table["Step"] < min(later) if later
                         else np.ones(len(table["Step"]), bool)))
    names = list(dict.fromkeys(n for table, _ in kept for n in table))
    columns = {n: np.concatenate([t[n][r] if n in t else np.full(r.sum(), np.nan)
                                  for t, r in kept]) for n in names}
    printed = {n: np.concatenate([t.printed[n][r] if n in t else np.zeros(r.sum(), bool)
                                  for t, r in kept]) for n in names}
    if names:     # a step printed twice (pieces resumed out of order): its first row
        _, first = np.unique(columns["Step"], return_index=True)
        rows = np.sort(first)
        columns = {n: v[rows] for n, v in columns.items()}
        printed = {n: v[rows] for n, v in printed.items()}
    return ThermoTable(columns, printed)


def thermo_steps(lines: list[str], blocks: ThermoBlocks | None) -> tuple[list[int], ThermoBlocks]:
    """Steps of the MD thermo rows among ``lines`` read so far from a running LAMMPS, and
    the reader's state after them (None at the start; pass it back with the next lines)."""
    blocks = blocks if blocks is not None else ThermoBlocks()
    steps = []
    for line in lines:
        parts = blocks.row(line)
        if parts is not None:
            steps.append(int(parts[0]))
    return steps, blocks


#: fs per time unit of each LAMMPS ``units`` style whose time has one (lj's is reduced).
FS_PER_TIME_UNIT = {"metal": 1e3, "real": 1.0, "electron": 1.0, "si": 1e15, "cgs": 1e15,
                    "micro": 1e9, "nano": 1e6}
#: Thermostat fixes whose first arguments are ``Tstart Tstop`` (after ``N`` for temp/rescale).
_TSTART_FIRST = {"langevin": 0, "temp/berendsen": 0, "temp/csvr": 0, "temp/csld": 0,
                 "temp/rescale": 1}
_ACCELERATOR = re.compile(r"/(kk|omp|gpu|intel|opt)$")


def _numbers(words: list[str]) -> list[float] | None:
    try:
        return [float(w) for w in words]
    except ValueError:          # an unsubstituted ${T}: its substituted echo follows
        return None


def md_settings(text: str) -> dict:
    """What the input echoed in a LAMMPS log says about its MD: the ``units`` style, the
    ``timestep`` values set after it (in that style's time unit) and the thermostat targets
    ``(Tstart, Tstop)`` of its fixes (``nvt``/``npt``/... ``temp``, ``langevin``,
    ``temp/berendsen``, ``temp/csvr``, ``temp/csld``, ``temp/rescale``) and the element of
    each atom type that the last ``pair_coeff * * ... El1 El2`` names (``elements``, None
    without one). LAMMPS echoes a command with variables as written and again
    substituted; only numeric ones count."""
    units, timesteps, targets, elements = None, [], [], None
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[:3] == ["pair_coeff", "*", "*"]:
            elements = _pair_coeff_elements(words[3:]) or elements
        elif words[0] == "units" and len(words) == 2:
            units, timesteps = words[1], []
        elif words[0] == "timestep" and len(words) == 2 and _numbers(words[1:]):
            timesteps.append(float(words[1]))
        elif words[0] == "fix" and len(words) > 3:
            target = _thermostat_target(_ACCELERATOR.sub("", words[3]), words[4:])
            if target is not None:
                targets.append(target)
    return {"units": units, "timesteps": timesteps, "targets": targets, "elements": elements}


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


def _thermostat_target(style: str, args: list[str]) -> tuple[float, float] | None:
    if style in _TSTART_FIRST:
        k = _TSTART_FIRST[style]
        pair = _numbers(args[k:k + 2])
    elif "temp" in args:
        k = args.index("temp") + 1
        pair = _numbers(args[k:k + 2])
    else:
        return None
    return (pair[0], pair[1]) if pair and len(pair) == 2 else None


def error_lines(text: str) -> list[str]:
    """LAMMPS's ``ERROR ...`` lines, stripped."""
    return [ln.strip() for ln in text.splitlines() if ln.startswith("ERROR")]


def lost_atoms_in_log(text: str) -> str | None:
    m = re.search(r"ERROR.*Lost atoms.*", text)
    return m.group(0).strip() if m else None


def loop_times(text: str) -> list[tuple[float, int, int, int]]:
    """(seconds, ranks, steps, atoms) of every finished ``run`` in a LAMMPS log."""
    return [(float(t), int(p), int(s), int(a)) for t, p, s, a in LOOP_RE.findall(text)]


def run_summary(text: str) -> dict:
    """Loop time, steps, CPU use, pair share and peak memory (as ionmd's pair style prints
    it) of the last run in a LAMMPS output.

    Raises
    ------
    IonmdError
        If no run finished.
    """
    from ionmd.errors import IonmdError

    loops = re.findall(r"Loop time of ([0-9.eE+-]+) on (\d+) procs for (\d+) steps", text)
    if not loops:
        raise IonmdError("no 'Loop time' in the LAMMPS output: the run did not finish")
    seconds, _, steps = loops[-1]
    out = {"seconds": float(seconds), "steps": int(steps)}
    cpu = re.findall(r"([0-9.]+)% CPU use", text)
    if cpu:
        out["cpu_use"] = float(cpu[-1]) / 100.0
    pair = re.findall(r"^Pair\s+\|[^|]+\|[^|]+\|[^|]+\|[^|]+\|\s*([0-9.]+)", text, flags=re.M)
    if pair:
        out["pair_fraction"] = float(pair[-1]) / 100.0
    mem = re.findall(r"peak memory per rank \(max over ranks\): host ([0-9.]+) MiB"
                     r"(?:, GPU ([0-9.]+) MiB)?", text)
    if mem:
        out["host_peak_mib"] = float(mem[-1][0])
        if mem[-1][1]:
            out["gpu_peak_mib"] = float(mem[-1][1])
    return out


_OOM_PATTERNS = ("out of memory", "can't allocate memory", "bad_alloc", "cannot allocate memory")


def failure_reason(returncode: int, output: str) -> str:
    """A one-line reason for a failed ``lmp``: out of memory, killed, or its last error."""
    low = output.lower()
    if any(p in low for p in _OOM_PATTERNS):
        return "out of memory"
    # a rank killed by signal 9: lmp alone exits -9, a shell 137, MPICH's mpirun 247 (-9 & 255)
    if returncode in (-9, 137, 247) or "killed by signal 9" in low or "signal 9 (killed)" in low:
        return "killed by signal 9 (most likely the kernel's out-of-memory killer)"
    errors = [l.strip() for l in output.splitlines() if "ERROR" in l or "Error" in l]
    return errors[-1] if errors else f"exit status {returncode}"
