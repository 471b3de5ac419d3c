"""``ionmd bench --max-atoms SIZE``: the memory budget read, the search for the largest cell
within it, and what the search found."""

from __future__ import annotations

import math
import re
import subprocess
from dataclasses import asdict, dataclass, field

from ionmd import strict_json
from ionmd.bench.cells import supercell_for
from ionmd.bench.points import BenchPoint, limiting_mb_per_atom, limiting_peak_mib
from ionmd.errors import IonmdError, RunInterrupted


SIZE_UNITS = {"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "kib": 2 ** 10,
              "mib": 2 ** 20, "gib": 2 ** 30, "tib": 2 ** 40,
              # one letter, as batch systems (Slurm --mem=20G) and `free -g` use them: binary
              "k": 2 ** 10, "m": 2 ** 20, "g": 2 ** 30, "t": 2 ** 40}


def parse_size_mib(text: str) -> float:
    """``"20GB"``, ``"20 GB"``, ``"16GiB"``, ``"16G"`` (Slurm's binary letters),
    ``"2e4MB"`` -> MiB.

    Raises
    ------
    IonmdError
        If it is no positive size with a unit.
    """
    m = re.fullmatch(r"\s*((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]+)\s*",
                     str(text))
    unit = m.group(2).lower() if m else ""
    try:
        value = float(m.group(1)) * SIZE_UNITS[unit] / 2 ** 20 if m else float("nan")
    except (KeyError, ValueError):
        value = float("nan")
    if not value > 0 or math.isinf(value):
        raise IonmdError(f"cannot read the memory size {text!r}: give a number and a unit, e.g. "
                         "20GB (1e9 bytes), 16GiB or 16G (2^30 bytes), 500MiB, 2e4MB")
    return value


@dataclass
class CapacityResult:
    """What :func:`ionmd.bench.largest_cell` measured: every probed point and the largest that fit."""

    model: str
    structure: str
    budget_mib: float                 # per rank
    ranks: int
    memory: str
    points: list[BenchPoint] = field(default_factory=list)
    largest: BenchPoint | None = None     # the largest measured cell within the budget
    predicted_atoms: int | None = None    # where the line through `predicted_from` meets the budget
    predicted_from: list[int] | None = None   # the two measured cells (atoms) of that line
    stopped: str = ""
    memory_kind: str = "host"         # what the budget bounds: "host" or "GPU" (the run's device)
    ghost: str = "auto"
    status: str = "running"           # "finished" when the search ended

    def to_json(self) -> str:
        # a measurement a log did not give (nan): null, as strict JSON has it
        return strict_json.dumps(strict_json.nonfinite_to_null(asdict(self)), indent=1)

    def summary(self) -> str:
        if self.largest is None:
            done = [p for p in self.points if p.failed is None]
            if not done:
                return (f"no cell of this structure fits {self.budget_mib:.0f} MiB per rank: "
                        f"every point failed")
            p = min(done, key=lambda p: p.atoms)
            return (f"no cell of this structure fits {self.budget_mib:.0f} MiB of "
                    f"{self.memory_kind} memory per rank: even the smallest, {p.atoms} atoms, "
                    f"peaked at {limiting_peak_mib(p):.0f} MiB per rank, nearly all of it the "
                    f"fixed footprint (libtorch, the model, LAMMPS) that every cell pays; "
                    f"give a budget well above {limiting_peak_mib(p):.0f} MiB")
        p = self.largest
        return (f"largest cell within {self.budget_mib:.0f} MiB of {self.memory_kind} memory per "
                f"rank ({self.ranks} rank(s), memory {self.memory}): {p.atoms} atoms, peak "
                f"{limiting_peak_mib(p):.0f} MiB per rank ({limiting_mb_per_atom(p):.3f} MB/atom), "
                f"measured"
                + (f"; the line through the cells of {self.predicted_from[0]} and "
                   f"{self.predicted_from[1]} atoms reaches the budget at about "
                   f"{self.predicted_atoms} atoms"
                   if self.predicted_atoms and self.predicted_from else "")
                + f" ({self.stopped})")


def _inside_bracket(lo: BenchPoint, hi: BenchPoint, aim: float) -> int:
    """The next cell size between the largest point that fits (``lo``) and the smallest
    larger one that does not (``hi``): where the line through them meets ``aim``, kept in
    the middle half of the bracket. The resident set grows in the allocator's steps, so
    the line alone can land on either end again and again; the middle half at least
    halves the bracket each time, like bisection."""
    span = hi.atoms - lo.atoms
    if hi.failed is None and limiting_peak_mib(hi) > limiting_peak_mib(lo):
        rise = limiting_peak_mib(hi) - limiting_peak_mib(lo)
        target = lo.atoms + (aim - limiting_peak_mib(lo)) / rise * span
    else:                                     # refused or killed: no size to interpolate
        target = lo.atoms + span / 2
    return int(min(max(target, lo.atoms + span / 4), hi.atoms - span / 4))


def _budget_line(res: CapacityResult, fits, budget_mib: float) -> None:
    """Where the memory line meets the budget, from the measured cells nearest it: the
    largest that fits and the smallest larger one that does not, else the two largest
    measured. (Set only while extrapolating, the figure used to stay that of the first two
    points once the search bracketed the budget: 858 atoms for a budget met near 515.)"""
    measured = sorted((p for p in res.points if p.failed is None), key=lambda p: p.atoms)
    lo = res.largest
    above = [p for p in measured if not fits(p) and lo is not None and p.atoms > lo.atoms]
    a, b = (lo, above[0]) if above else (measured[-2:] if len(measured) >= 2 else (None, None))
    res.predicted_atoms = res.predicted_from = None
    if a is None or limiting_peak_mib(b) <= limiting_peak_mib(a):
        return
    slope = (limiting_peak_mib(b) - limiting_peak_mib(a)) / (b.atoms - a.atoms)
    res.predicted_atoms = int(a.atoms + (budget_mib - limiting_peak_mib(a)) / slope)
    res.predicted_from = [a.atoms, b.atoms]


def search_largest_cell(measure, res, model, cell, out, budget_mib, aim, fits, ranks, threads,
                        device, ghost, memory, target, tried, start_atoms, tolerance, max_points,
                        bar) -> None:
    """The measuring loop of :func:`ionmd.bench.largest_cell` (see there), filling ``res``;
    ``measure`` is :func:`ionmd.bench.run.run_point` or a stand-in with its arguments."""
    while len(res.points) < max_points:
        atoms = supercell_for(cell, max(target, len(cell)))
        if len(atoms) in tried:
            res.stopped = "no new cell size between the ones measured"
            break
        tried.add(len(atoms))
        try:
            point = measure(model, atoms, ranks, out / f"n{len(atoms)}", threads=threads,
                            steps=0, device=device, ghost=ghost, memory=memory)
        except RunInterrupted:
            raise
        except (IonmdError, subprocess.TimeoutExpired) as exc:
            if not res.points:
                raise
            point = BenchPoint(atoms=len(atoms), ranks=ranks, threads=threads, steps=0,
                               ms_per_step=None, atom_steps_per_s=None, ghost=ghost,
                               memory=memory, failed=str(exc))
        res.points.append(point)
        if point.gpu_peak_mib_per_rank is not None:
            res.memory_kind = "GPU"
        if bar:
            bar.update(1)
        good = [p for p in res.points if fits(p)]
        bad = [p for p in res.points if not fits(p)]
        res.largest = max(good, key=lambda p: p.atoms) if good else None
        _budget_line(res, fits, budget_mib)
        # after the point's largest and crossing: a search killed now leaves them said
        (out / "max_atoms.json").write_text(res.to_json())
        lo = res.largest
        hi = min((p for p in bad if p.atoms > (lo.atoms if lo else 0)),
                 key=lambda p: p.atoms, default=None)
        measured = sorted((p for p in res.points if p.failed is None), key=lambda p: p.atoms)
        if lo is not None and limiting_peak_mib(lo) >= (1 - tolerance) * budget_mib:
            # near the budget in memory; where the fixed footprint is most of the peak that
            # can still be far below the largest cell: stop only when a cell at most
            # `tolerance` larger does not fit, or the line through the last two measured
            # points meets the budget within `tolerance` of this cell's atoms
            a, b = measured[-2:] if len(measured) >= 2 else (None, None)
            slope = ((limiting_peak_mib(b) - limiting_peak_mib(a)) / (b.atoms - a.atoms)
                     if a is not None else None)
            on_line = (slope is not None and slope > 0
                       and b.atoms + (budget_mib - limiting_peak_mib(b)) / slope
                       <= (1 + tolerance) * lo.atoms)
            if on_line or (hi is not None and hi.atoms <= (1 + tolerance) * lo.atoms):
                res.stopped = f"within {100 * tolerance:g} % of the budget"
                break
        if lo is not None and hi is not None:
            target = _inside_bracket(lo, hi, aim)
        elif len(measured) < 2:
            target = start_atoms[1] if len(res.points) == 1 and good else len(atoms) // 2
        else:
            a, b = measured[-2], measured[-1]
            slope = (limiting_peak_mib(b) - limiting_peak_mib(a)) / (b.atoms - a.atoms)
            if slope > 0:
                target = int(b.atoms + (aim - limiting_peak_mib(b)) / slope)
            else:
                target = 2 * b.atoms
            if lo is not None and target <= lo.atoms:  # nothing larger is known not to fit
                target = 2 * lo.atoms
        if lo is None and not good and target >= min(p.atoms for p in res.points):
            target = min(p.atoms for p in res.points) // 2
    else:
        res.stopped = f"{max_points} points measured"
