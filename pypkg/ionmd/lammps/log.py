"""Reading LAMMPS output: error lines, ``fix halt`` messages, timers, loop times, the
end-of-run summary and which logs a run folder holds (thermo rows:
:mod:`ionmd.lammps.thermo_log`; lost atoms: :mod:`ionmd.lammps.lost_atoms`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ionmd.lammps.process import exit_status_words

HALT_RE = re.compile(r"Fix halt condition for fix-id (\S+) met on step (\d+) with value (\S+)")
NO_SPACE_RE = re.compile(r"No space left on device|Disk quota exceeded")
LOOP_RE = re.compile(r"Loop time of ([0-9.eE+-]+) on (\d+) procs for (\d+) steps with (\d+) atoms")
TIMER_STOP_RE = re.compile(r"^WARNING: Wall time limit reached", re.M)
"""What LAMMPS logs when its own ``timer timeout`` ends a run (it then skips every later
``run`` and ``minimize`` of the input, and goes on to its end)."""
TIMER_SETTING_RE = re.compile(r"^New timer settings: .*\btimeout=(\S+)", re.M)


def timer_timeout(text: str) -> str | None:
    """The limit of LAMMPS's ``timer timeout`` where it ended a run of the log ``text``
    (``"00:01:00"``, as LAMMPS's last ``New timer settings`` line before it says; ``""``
    where none is printed), None where no timer stopped a run."""
    stop = TIMER_STOP_RE.search(text)
    if stop is None:
        return None
    settings = TIMER_SETTING_RE.findall(text[:stop.start()])
    return settings[-1] if settings else ""


TIMER_MINIMIZE_RE = re.compile(r"^\s*Stopping criterion = walltime limit reached", re.M)
"""A minimisation's statistics where LAMMPS's ``timer timeout`` ended it."""


def timer_in_minimization(text: str) -> bool:
    """Whether LAMMPS's ``timer timeout`` ended a minimisation of the log ``text`` (a
    relaxation before the MD: LAMMPS then skips the MD's ``run``, and no MD row is
    printed)."""
    return TIMER_MINIMIZE_RE.search(text) is not None


def error_lines(text: str) -> list[str]:
    """LAMMPS's ``ERROR ...`` lines, stripped."""
    return [ln.strip() for ln in text.splitlines() if ln.startswith("ERROR")]


def loop_times(text: str) -> list[tuple[float, int, int, int]]:
    """(seconds, ranks, steps, atoms) of every finished ``run`` in a LAMMPS log."""
    return [(float(t), int(p), int(s), int(a)) for t, p, s, a in LOOP_RE.findall(text)]


@dataclass(frozen=True)
class Loop:
    """One finished loop of a LAMMPS log (its ``Loop time of T on N procs for S steps
    with A atoms`` line): an MD ``run``'s, a ``rerun``'s or a minimisation's."""

    seconds: float
    procs: int          # MPI ranks x OpenMP threads
    steps: int          # a minimisation's: its iterations
    atoms: int
    minimization: bool = False   # followed by its ``Minimization stats:``


def finished_loops(text: str) -> list[Loop]:
    """Every finished loop of a LAMMPS log, in order, minimisations marked."""
    found = list(LOOP_RE.finditer(text))
    out = []
    for k, m in enumerate(found):
        end = found[k + 1].start() if k + 1 < len(found) else len(text)
        out.append(Loop(float(m[1]), int(m[2]), int(m[3]), int(m[4]),
                        "Minimization stats:" in text[m.end():end]))
    return out


_THREADS_RE = re.compile(r"using (\d+) OpenMP thread\(s\) per MPI task")
_GRID_RE = re.compile(r"^\s*(\d+) by (\d+) by (\d+) MPI processor grid", re.M)


def log_procs(text: str) -> int | None:
    """MPI ranks x OpenMP threads of a LAMMPS log, as its loop lines count ``procs``:
    its first processor grid times its threads per rank (1 where not printed); None
    where no grid is printed (LAMMPS ended before its box)."""
    grid = _GRID_RE.search(text)
    if grid is None:
        return None
    threads = _THREADS_RE.search(text)
    ranks = int(grid[1]) * int(grid[2]) * int(grid[3])
    return ranks * (int(threads[1]) if threads else 1)


def piece_core_seconds(log, wall: float | None) -> float:
    """Core-seconds (seconds x ranks x threads) that the LAMMPS of one log used: its
    finished loops (MD, minimisations, reruns) at their procs, and where it ended without
    LAMMPS's closing ``Total wall time`` (killed, failed), the ``wall`` seconds of the
    piece (None: unknown; the run folder records them:
    :func:`ionmd.protocols.piece_times.piece_wall_seconds`) that are not in its loops, at the
    log's procs (:func:`log_procs`, else 1). Setup time (a model's loading) of a LAMMPS
    that did not end is counted with it; of one that ended it is not (its loop lines leave
    it out)."""
    from pathlib import Path

    text = Path(log).read_text(errors="replace")
    loops = finished_loops(text)
    used = sum(loop.seconds * loop.procs for loop in loops)
    if wall is not None and "\nTotal wall time:" not in text:
        used += max(wall - sum(loop.seconds for loop in loops), 0.0) * (log_procs(text) or 1)
    return used


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
    return errors[-1] if errors else exit_status_words(returncode)


PARTITION_RE = re.compile(r"^Processor partition = (\d+)\s*$", re.MULTILINE)
"""The header line of a partition's log in a LAMMPS run on several partitions
(``-partition 2x1``: ``log.lammps.0``, ``log.lammps.1`` beside the universe's
``log.lammps``), whose names are those of a run resumed by hand."""


def log_partition(text: str) -> int | None:
    """The partition whose log ``text`` is (its header's ``Processor partition = K``), None
    for a run on one partition. Only the header is searched."""
    m = PARTITION_RE.search(text[:4000])
    return int(m.group(1)) if m else None


def log_files(folder) -> list:
    """The LAMMPS logs of a run folder in run order: ``log*.lammps`` (``log.lammps``,
    ionmd's ``log.0.lammps``, ``log.1.lammps`` ...) and the ``log.lammps.1``,
    ``log.lammps.2`` ... of pieces resumed by hand, numbers compared as numbers (``log.10``
    after ``log.9``) and ``log.lammps`` before its ``log.lammps.N``. A run on several
    partitions names its partitions' logs alike (:func:`log_partition` tells them)."""
    from pathlib import Path

    folder = Path(folder)
    found = {p for pattern in ("log*.lammps", "log*.lammps.[0-9]*") for p in folder.glob(pattern)
             if p.is_file() and re.fullmatch(r"log.*\.lammps(\.\d+)?", p.name)}

    return sorted(found, key=natural_order)


def natural_order(path) -> list[tuple[int, int, str]]:
    """Sort key of a file name by its dot-separated parts, numbers as numbers and before
    words: ``log.2.lammps`` before ``log.10.lammps``, ``log.lammps`` before
    ``log.lammps.1``."""
    from pathlib import Path

    # ASCII digits only: str.isdigit takes '²', which int() refuses
    return [(0, int(part), "") if part.isascii() and part.isdigit() else (1, 0, part)
            for part in Path(path).name.split(".")]
