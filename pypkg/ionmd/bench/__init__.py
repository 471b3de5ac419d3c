"""``ionmd bench``: throughput, memory and MPI scaling of ``pair_style ionmd`` for one
model file, measured with plain ``lmp -in`` / ``mpirun -np N lmp`` runs as users run them.

Its two entry points are here: :func:`bench` (every (size, ranks) point, with scaling
efficiencies) and :func:`largest_cell` (``--max-atoms``); both measure each point with
:func:`run_point`. Their parts: ``cells`` (the cell replicated and its supercells),
``checks`` (options checked before any run), ``run`` (one point: a LAMMPS run and its
log), ``points`` (what a point and a result record), ``scaling`` (efficiencies, defined
there), ``capacity`` (the ``--max-atoms`` budget and search), ``report`` (table, CSV, plot).

Several ghost modes (``--ghost halo,redundant``) are compared in one run: each multi-rank
point runs once per mode against one shared serial baseline. A point that fails (the
redundant shell running out of memory, say) is recorded with the reason and the others go on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ase import Atoms

from ionmd.bench.capacity import CapacityResult, parse_size_mib, search_largest_cell
from ionmd.bench.cells import (cell_name, default_cell, default_cell_or_licl, model_default_cell,
                               supercell_for)
from ionmd.bench.checks import MEMORY_MODES, check_device, check_model, ghost_modes, memory_modes
from ionmd.bench.points import BenchPoint, BenchResult, limiting_peak_mib
from ionmd.bench.report import plot, plot_series, table, write_csv
from ionmd.bench.run import run_point, stop_on_sigterm
from ionmd.bench.scaling import add_efficiencies, oversubscription_note
from ionmd.cores import mpi_cores
from ionmd.errors import IonmdError, RunInterrupted


def bench(model: Path, atoms_targets: list[int], ranks: list[int], out: Path, *,
          structure: Atoms | None = None, structure_name: str | None = None,
          threads: int = 1, steps: int | None = None, device: str = "auto",
          ghost: str | list[str] = "auto", memory: str | list[str] = "auto",
          progress: bool = True) -> BenchResult:
    """Run every (size, ranks, ghost mode) point, largest rank count last, and write
    ``bench.json``, ``bench.csv`` and ``bench.png`` into ``out``. Supercells of
    ``structure``; without one, of the model's :func:`default_cell` (named in ``structure``
    of ``bench.json``).

    With several ghost modes, serial points run once (in ``auto`` mode: the plugin's own
    1-rank choice) and serve as the baseline of every mode. A failed point is kept in the
    result with its reason (``BenchPoint.failed``) and its run directory. ``bench.json`` is
    rewritten after every point: its ``status`` is ``running`` until the end (a killed
    bench leaves that), then ``finished``; ``interrupted`` after Ctrl-C (``bench.csv`` then
    holds the points measured), ``failed`` when no point finished.

    Raises
    ------
    IonmdError
        For a model that does not know the structure's elements, a ghost mode that does
        not exist, or when every point failed.
    """
    modes = ghost_modes(ghost)
    if not ranks or min(ranks) < 1 or not atoms_targets:
        raise IonmdError("give at least one --atoms value and --np values >= 1")
    model = Path(model)
    cell = structure if structure is not None else model_default_cell(model)
    structure_name = structure_name or cell_name(cell)
    check_model(model, cell, modes)
    check_device(device)
    cells: dict[int, Atoms] = {}      # every cell built before any run: a bad size stops nothing
    same = []
    for n in atoms_targets:
        atoms = supercell_for(cell, n)
        if abs(len(atoms) - n) > 0.1 * n:   # cells come in steps of one cell's atoms
            same.append(f"--atoms {n}: the nearest near-cubic supercell of {structure_name} "
                        f"({len(cell)} atoms per cell) is "
                        f"{'x'.join(map(str, atoms.info['repeat']))} = {len(atoms)} atoms")
        if len(atoms) in cells:
            same.append(f"--atoms {n} gives the {len(atoms)}-atom cell again: measured once")
        cells.setdefault(len(atoms), atoms)
    out.mkdir(parents=True, exist_ok=True)
    available = mpi_cores()        # where mpirun may start the ranks, as `ionmd run` counts
    result = BenchResult(model=str(model), structure=structure_name, device=device,
                         ghost=",".join(modes), cores=available.count)
    memories = memory_modes(memory)
    note = oversubscription_note(ranks, threads, available)
    for note in ([note] if note else []) + same:
        result.notes.append(note)
        print(f"ionmd bench: warning: {note}", file=sys.stderr)
    jobs = []
    for n in cells.values():
        for r in sorted(set(ranks)):
            for mem in memories:        # interleaved: the machine's drift hits every mode alike
                if r == 1 and len(modes) > 1:
                    jobs.append((n, r, "auto", mem))
                else:
                    jobs.extend((n, r, m, mem) for m in modes)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc="ionmd bench", unit="run")
    (out / "bench.json").write_text(result.to_json())   # "running": no earlier run's file
    try:
        with stop_on_sigterm() as sigterm:
            for atoms, r, mode, mem in jobs:
                name = (f"n{len(atoms)}-np{r}" + ("" if len(modes) == 1 else f"-{mode}")
                        + ("" if len(memories) == 1 else f"-{mem}"))
                try:
                    point = run_point(model, atoms, r, out / name, threads=threads,
                                      steps=steps, device=device, ghost=mode, memory=mem)
                except RunInterrupted:
                    raise
                except (IonmdError, subprocess.TimeoutExpired) as exc:
                    point = BenchPoint(atoms=len(atoms), ranks=r, threads=threads, steps=0,
                                       ms_per_step=None, atom_steps_per_s=None, ghost=mode,
                                       memory=mem, failed=str(exc))
                    print(f"ionmd bench: {exc}", file=sys.stderr)
                point.shares_cores = point.ranks * point.threads > available.count
                result.points.append(point)
                (out / "bench.json").write_text(result.to_json())   # partial results survive
                if bar:
                    bar.update(1)
            # every point ran: a SIGTERM from here on is held while the outputs are written
            # (seconds), and the bench ends finished, exit 0 (stop_on_sigterm)
            sigterm.hold()
            _finish(result, out)
    except (KeyboardInterrupt, RunInterrupted):   # keep what was measured, marked as such
        result.status = "interrupted"
        if any(p.failed is None for p in result.points):
            add_efficiencies(result.points)
            write_csv(result, out / "bench.csv")
        (out / "bench.json").write_text(result.to_json())
        print(f"ionmd bench: interrupted after {len(result.points)} of {len(jobs)} point(s); "
              f"those are in {out}/bench.json (status 'interrupted')", file=sys.stderr)
        raise
    finally:
        if bar:
            bar.close()
    return result


def _finish(result: BenchResult, out: Path) -> None:
    """A bench's outputs once every point ran: ``bench.csv`` and ``bench.png``, then
    ``bench.json`` as ``finished`` (last: it says the outputs are all there), or ``failed``
    where no point finished."""
    if all(p.failed for p in result.points):
        result.status = "failed"
        (out / "bench.json").write_text(result.to_json())
        raise IonmdError(f"every bench point failed; the first: {result.points[0].failed}")
    add_efficiencies(result.points)
    result.status = "finished"
    write_csv(result, out / "bench.csv")
    plot(result, out / "bench.png")
    (out / "bench.json").write_text(result.to_json())


def largest_cell(model: Path, budget_mib: float, out: Path, *, structure: Atoms | None = None,
                 structure_name: str | None = None, ranks: int = 1, threads: int = 1,
                 device: str = "auto", memory: str = "auto", ghost: str = "auto",
                 start_atoms: tuple[int, int] = (1000, 4000), tolerance: float = 0.1,
                 max_points: int = 8, progress: bool = True) -> CapacityResult:
    """The largest supercell of ``structure`` whose peak memory per rank stays within
    ``budget_mib``, measured (one force call per point: ``run_point(steps=0)``; a step
    allocates nothing more). The memory is the host's resident set, or on a GPU torch's
    peak allocations on the device (:func:`limiting_peak_mib`).

    Peak memory grows about linearly with the atoms (a fixed part: torch, the model, LAMMPS;
    a part per atom), but not exactly (``memory auto`` changes path with the edge count):
    so the search measures, draws the line through the last two points, measures where it
    meets ``(1 - tolerance / 2)`` of the budget, and goes on until a measured cell is within
    ``tolerance`` below the budget and no cell more than ``tolerance`` larger can fit: one
    at most that much larger was measured not to fit, or the line through the last two
    points meets the budget within that many atoms (where the fixed footprint is most of
    the peak, every small cell is "within 10 %" of the budget in memory). A point that does
    not fit (over the budget, or refused or killed for memory) is bisected against the
    largest that did.

    Raises
    ------
    IonmdError
        If even the first point cannot run for another reason than memory.
    """
    cell = structure if structure is not None else default_cell_or_licl(Path(model))
    out.mkdir(parents=True, exist_ok=True)
    res = CapacityResult(model=str(model), structure=structure_name or cell_name(cell),
                         budget_mib=budget_mib, ranks=ranks, memory=memory, ghost=ghost)
    aim = (1 - tolerance / 2) * budget_mib
    fits = lambda p: p.failed is None and limiting_peak_mib(p) <= budget_mib  # noqa: E731
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=max_points, desc="ionmd bench --max-atoms", unit="run")
    target = start_atoms[0]
    tried: set[int] = set()
    try:
        with stop_on_sigterm():
            search_largest_cell(run_point, res, model, cell, out, budget_mib, aim, fits, ranks,
                                threads, device, ghost, memory, target, tried, start_atoms,
                                tolerance, max_points, bar)
    except (KeyboardInterrupt, RunInterrupted):
        res.status = "interrupted"
        (out / "max_atoms.json").write_text(res.to_json())
        raise
    finally:
        if bar:
            bar.close()
    res.status = "finished"
    (out / "max_atoms.json").write_text(res.to_json())
    return res


# the package's public names: the entry points and what scripts (examples/, docs/scaling.md's
# MEMORY_MODES) use with them
__all__ = ["BenchPoint", "BenchResult", "CapacityResult", "MEMORY_MODES", "add_efficiencies",
           "bench", "default_cell", "largest_cell", "parse_size_mib", "plot", "plot_series",
           "run_point", "supercell_for", "table"]
