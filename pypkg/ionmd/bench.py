"""``ionmd bench``: throughput, memory and MPI scaling of ``pair_style ionmd`` for one
model file, measured with plain ``lmp -in`` / ``mpirun -np N lmp`` runs as users run them.

Each (size, ranks) point is a short NVE run: a warm-up ``run 0`` (one force call: the
model's first-call optimisation, first neighbour lists), then a timed run whose LAMMPS
loop time gives ms/step and atom-steps/s.
The plugin's own end-of-run report gives the peak memory per rank (host resident set and,
on a GPU, torch's allocations). Scaling efficiencies are computed from those times:

* strong: ``E_s(N, p) = t(N, 1) / (p * t(N, p))`` for the same system on p ranks (and the
  same memory mode, where its serial run was measured);
* weak:   ``E_w(N, p) = t(N1, 1) / t(N, p)`` where ``N1 = N / p`` is also measured
  (within 10 %): each rank keeps the same number of atoms;
* strong, CPU time: the strong efficiency with each time weighted by LAMMPS's "% CPU use".
  On a shared machine where a rank does not get a whole core this one measures the
  parallel overhead; on a quiet machine the two agree.

Several ghost modes (``--ghost halo,redundant``) are compared in one run: each multi-rank
point runs once per mode against one shared serial baseline. A point that fails (the
redundant shell running out of memory, say) is recorded with the reason and the others go on.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms

from ionmd import strict_json
from ionmd.cores import CoreCount, mpi_cores, oversubscription
from ionmd.errors import IonmdError, RunInterrupted
from ionmd.lammps.log import failure_reason, run_summary

GHOST_MODES = ("auto", "redundant", "halo")
MEMORY_MODES = ("auto", "fast", "low")
"""The values of ``pair_style ionmd``'s ``memory`` keyword (``lmp_plugins/pair_ionmd.cpp``,
``settings()``), the one list ``--memory`` takes; ``auto``, the pair style's default, is
left off the pair_style line, so that the plugin runs as a user's input without it does."""


@dataclass
class BenchPoint:
    """One measured (system size, ranks) point."""

    atoms: int
    ranks: int
    threads: int
    steps: int
    ms_per_step: float | None
    atom_steps_per_s: float | None
    ghost: str = "auto"
    memory: str = "auto"                   # pair_style ionmd's memory keyword
    cpu_use: float | None = None              # LAMMPS's "% CPU use" / 100, per rank
    host_peak_mib_per_rank: float | None = None
    host_mb_per_atom: float | None = None     # peak host memory of all ranks / atoms (1e6 B)
    gpu_peak_mib_per_rank: float | None = None
    gpu_mb_per_atom: float | None = None      # torch's peak GPU allocations of all ranks / atoms
    pair_fraction: float | None = None        # share of the loop time spent in the pair style
    strong_efficiency: float | None = None
    weak_efficiency: float | None = None
    strong_cpu_efficiency: float | None = None
    failed: str | None = None                 # why the run did not finish, if it did not
    device_used: str | None = None            # the device the plugin ran on (its own log line)
    # ranks x threads beyond the cores mpirun may use (BenchResult.cores): the point times
    # ranks sharing cores, not the scaling (bench.csv has no notes: said on each row)
    shares_cores: bool | None = None


@dataclass
class BenchResult:
    model: str
    structure: str
    device: str
    ghost: str                                # the mode(s) asked for, comma-separated
    points: list[BenchPoint] = field(default_factory=list)
    status: str = "running"                   # "finished" at the end; "interrupted" on Ctrl-C
    cores: int | None = None                  # cores mpirun may use (cores.mpi_cores)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        # a measurement a log did not give (nan): null, as strict JSON has it
        return strict_json.dumps(strict_json.nonfinite_to_null(asdict(self)), indent=1)


# ------------------------------------------------------------------ systems
LICL_NAME = "LiCl rocksalt"
SITES_PER_SUBLATTICE = 4      # the conventional rocksalt cell: 4 cation + 4 anion sites
ELEMENT_CRYSTALS = ("fcc", "bcc", "hcp", "diamond", "sc")   # ASE reference states bulk() builds


def default_cell(elements: list[str] | None = None) -> Atoms:
    """The cell ``ionmd bench`` replicates when given no structure, named in
    ``atoms.info["name"]``: rocksalt LiCl (a 5.14 A, the cell of docs/benchmarks.md) where
    the model knows Li and Cl (or ``elements`` is None), else :func:`cell_of_elements`, so
    that a model of any elements (a Li-P-S, garnet-oxide or sodium model) can be benchmarked."""
    from ase.build import bulk

    if elements is None or {"Li", "Cl"} <= set(elements):
        atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
        atoms.info["name"] = LICL_NAME
        return atoms
    return cell_of_elements(elements)


def model_default_cell(model: Path) -> Atoms:
    """:func:`default_cell` of the elements a model file knows (its ionmd metadata)."""
    from ionmd.export import read_metadata

    return default_cell(read_metadata(model)["elements"].split())


def _electronegativity(element: str) -> float:
    """Pauling's, NaN for the noble gases (pymatgen has none for He, Ne, Ar)."""
    import warnings

    from pymatgen.core import Element

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # pymatgen warns where it has no value
        x = float(Element(element).X)
    return x if math.isfinite(x) else math.nan


def _covalent_radius(element: str) -> float:
    from ase.data import atomic_numbers, covalent_radii

    return float(covalent_radii[atomic_numbers[element]])


def cell_of_elements(elements: list[str]) -> Atoms:
    """A dense solid of a model's own elements, for timing: the cost of a step follows the
    neighbours per atom within the cutoff, so the cell has the nearest-neighbour distances
    and about the atom density of real solid electrolytes.

    One element: its crystal (ASE's reference state: Li, Na bcc), else fcc at twice its
    covalent radius. Several: rocksalt, the elements ordered by electronegativity and cut at
    the largest step (Na | P, S; Li, La, Zr | O) into cations and anions, up to 4 of each
    (the most electropositive cations, the most electronegative anions, these first) laid
    in turn on the 4 sites of their sublattice; the lattice constant makes the mean
    cation-anion distance the mean sum of covalent radii (Na-S 2.72 A, Li-O 1.94 A).
    Against real electrolytes of the same elements: Na-P-S 0.050 atoms/A^3 (Na3PS4 0.047),
    Li-La-Zr-O 0.087 (LLZO 0.088), Li-Ge-P-S 0.075 (LGPS 0.052): six-fold coordination
    packs more densely than the four-fold thiophosphates, so the default times such a
    model somewhat conservatively. Noble gases (no electronegativity) are left out where
    others remain.
    """
    from ase.build import bulk

    chemical = [el for el in elements if not math.isnan(_electronegativity(el))] \
        or list(elements)
    if len(chemical) == 1:
        return _element_crystal(chemical[0])
    ordered = sorted(chemical, key=_electronegativity)
    steps = np.diff([_electronegativity(el) for el in ordered])
    cut = int(np.argmax(steps)) + 1
    cations = ordered[:cut][:SITES_PER_SUBLATTICE]          # most ionic first: the one
    anions = ordered[cut:][::-1][:SITES_PER_SUBLATTICE]     # of two on a 3rd element's 4 sites
    on_sites = [[group[k % len(group)] for k in range(SITES_PER_SUBLATTICE)]
                for group in (cations, anions)]
    distance = sum(np.mean([_covalent_radius(el) for el in sites]) for sites in on_sites)
    atoms = bulk("NaCl", "rocksalt", a=2 * distance, cubic=True)   # Na, Cl sites alternate
    symbols = [None] * len(atoms)
    symbols[0::2], symbols[1::2] = on_sites
    atoms.set_chemical_symbols(symbols)
    atoms.info["name"] = (f"{atoms.get_chemical_formula()} rocksalt, a {2 * distance:.2f} A "
                          f"(of the model's elements)")
    return atoms


def _element_crystal(element: str) -> Atoms:
    from ase.build import bulk
    from ase.data import atomic_numbers, reference_states

    state = reference_states[atomic_numbers[element]] or {}
    if state.get("symmetry") in ELEMENT_CRYSTALS:
        atoms = bulk(element, orthorhombic=True)
        kind = state["symmetry"]
    else:                                   # molecular or a complex crystal (H, S, Bi)
        atoms = bulk(element, "fcc", a=2 * math.sqrt(2) * _covalent_radius(element),
                     cubic=True)
        kind = "fcc"
    atoms.info["name"] = f"{element} {kind} (the model's element)"
    return atoms


def cell_name(cell: Atoms) -> str:
    """The name :func:`default_cell` gave a cell, else its formula."""
    return cell.info.get("name") or cell.get_chemical_formula()


def cell_summary(cell: Atoms) -> str:
    """Which cell a bench replicates, with its atom density and nearest-neighbour distance
    (what the neighbours per atom within a model's cutoff, and so the cost, follow)."""
    from ase.neighborlist import neighbor_list

    d = neighbor_list("d", cell, 4.0 * max(_covalent_radius(el) for el in set(
        cell.get_chemical_symbols())))
    return (f"{cell_name(cell)}: {len(cell)} atoms per "
            f"cell, {len(cell) / cell.get_volume():.3f} atoms/A^3, nearest neighbours "
            f"{d.min():.2f} A")


def supercell_for(cell: Atoms, target_atoms: int, seed: int = 3) -> Atoms:
    """The near-cubic repetition of ``cell`` whose atom count is closest to the target
    (repeats chosen along the lattice vectors in proportion to 1/|a_i|), rattled by
    0.03 A so that forces are not all zero."""
    if target_atoms < len(cell):
        raise IonmdError(f"--atoms {target_atoms} is below the {len(cell)} atoms of one cell")
    lengths = cell.cell.lengths()
    scale = (target_atoms / len(cell) * np.prod(lengths)) ** (1 / 3)
    base = np.maximum(1, np.round(scale / lengths)).astype(int)
    best = None
    for delta in np.ndindex(3, 3, 3):   # search the neighbourhood of the ideal repeats
        reps = np.maximum(1, base + np.array(delta) - 1)
        n = int(np.prod(reps)) * len(cell)
        key = (abs(n - target_atoms), np.ptp(reps * lengths))
        if best is None or key < best[0]:
            best = (key, tuple(int(r) for r in reps))
    atoms = cell * best[1]
    atoms.rattle(0.03, seed=seed)
    atoms.info["repeat"] = best[1]
    return atoms


# ------------------------------------------------------------------ one run
# pair_style ionmd's load line: "..., device cpu, 1 torch thread(s) per rank"
PLUGIN_LINE_RE = re.compile(r"pair_style ionmd: .*, device (\S+), (\d+) torch thread\(s\) per rank")


def oversubscription_note(ranks: list[int], threads: int,
                          available: CoreCount) -> str | None:
    """A warning where the largest rank count times the threads per rank exceeds the cores
    mpirun may use: those points time ranks sharing cores, not the parallel scaling (a
    warning, not a refusal: the "CPU use" efficiency is meant for such a machine)."""
    why = oversubscription(max(ranks), threads, available)
    if why is None:
        return None
    return (f"--np {max(ranks)}: {why}; those points time the sharing, not the scaling (see "
            f"'CPU use'): keep --np x --threads <= {available.count}")


@contextlib.contextmanager
def _stop_on_sigterm():
    """SIGTERM (``kill``, a batch system's time limit) as an exception in the main thread, so
    that the running lmp is killed by ``subprocess.run`` and the points measured so far are
    written with status ``interrupted``, as after Ctrl-C."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise RunInterrupted("ionmd bench stopped by SIGTERM", signum)

    old = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def check_device(device: str) -> str:
    """``--device`` as the plugin takes it (auto, cpu, cuda, cuda:N), checked before any run."""
    if not re.fullmatch(r"auto|cpu|cuda(:[0-9]+)?", device):
        raise IonmdError(f"--device {device!r} unknown: use auto, cpu, cuda or cuda:N")
    return device


def check_model(model: Path, cell: Atoms, ghost: list[str] = ("auto",)) -> dict:
    """The model's metadata, after checking that it knows the structure's elements and,
    for ``ghost halo``, has per-layer stages (before any LAMMPS run).

    Raises
    ------
    IonmdError
        For a file that is not an ionmd export, an unknown element or a halo mode the file
        cannot run.
    """
    from ionmd.export import read_metadata

    meta = read_metadata(model)
    missing = sorted(set(cell.get_chemical_symbols()) - set(meta["elements"].split()))
    if missing:
        raise IonmdError(f"{model} does not know {', '.join(missing)} (it knows "
                         f"{meta['elements']}); pick a structure of its elements")
    if "halo" in ghost and not int(meta.get("halo_stages") or 0):
        raise IonmdError(f"--ghost halo needs a model file with per-layer stages, but {model} "
                         "has none; re-export it with `ionmd export ... --stages` (TorchScript "
                         "SevenNet/MACE, eSEN packages) or use --ghost redundant")
    return meta


def _input(model: Path, elements: list[str], pair_extra: str, warmup: int, steps: int) -> str:
    return f"""units metal
atom_style atomic
atom_modify map yes
read_data bench.data
pair_style ionmd {model} {pair_extra}
pair_coeff * * {' '.join(elements)}
neighbor 1.0 bin
velocity all create 600 7 mom yes rot yes
timestep 0.001
fix 1 all nve
thermo {max(steps, 1)}
run {warmup}
""" + (f"run {steps}\n" if steps else "")


def run_point(model: Path, atoms: Atoms, ranks: int, workdir: Path, *, threads: int = 1,
              steps: int | None = None, device: str = "auto", ghost: str = "auto",
              memory: str = "auto", pair_extra: str = "",
              timeout: float = 3600) -> BenchPoint:
    """Measure one (size, ranks) point in ``workdir`` (kept: input, data, log); ``steps=0``:
    one force call only (``run 0``: its peak memory, no timing)."""
    from ionmd.lammps.process import find_lammps
    from ionmd.lammps.data_file import write_data

    elements = sorted(set(atoms.get_chemical_symbols()))
    workdir.mkdir(parents=True, exist_ok=True)
    write_data(atoms, workdir / "bench.data", elements)
    if steps is None:   # ~20k atom-steps, at least 3 steps: seconds per point on a CPU
        steps = max(3, int(math.ceil(20000 / len(atoms))))
    extra = (f"device {device}" + ("" if ghost == "auto" else f" ghost {ghost}")
             + ("" if memory == "auto" else f" memory {memory}")
             + (f" {pair_extra}" if pair_extra else ""))
    (workdir / "in.bench").write_text(_input(model.resolve(), elements, extra, 0, steps))
    env = {"OMP_NUM_THREADS": str(threads)}
    cmd = find_lammps(ranks) + ["-in", "in.bench", "-log", "log.lammps"]
    proc = subprocess.run(cmd, cwd=workdir, env={**os.environ, **env}, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    (workdir / "screen.txt").write_text(proc.stdout)
    if proc.returncode != 0:
        raise IonmdError(f"lmp failed on {len(atoms)} atoms x {ranks} ranks, ghost {ghost}: "
                         f"{failure_reason(proc.returncode, proc.stdout)} "
                         f"(output kept in {workdir / 'screen.txt'})")
    info = run_summary(proc.stdout)
    used = PLUGIN_LINE_RE.search(proc.stdout)
    if used:   # what the plugin really ran with, not what was asked
        threads = int(used.group(2))
    sec = info["seconds"] / info["steps"] if info["steps"] else None   # steps=0: memory only
    return BenchPoint(atoms=len(atoms), ranks=ranks, threads=threads, steps=info["steps"],
                      ms_per_step=1e3 * sec if sec else None,
                      atom_steps_per_s=len(atoms) / sec if sec else None, ghost=ghost,
                      memory=memory,
                      cpu_use=info.get("cpu_use"),
                      host_peak_mib_per_rank=info.get("host_peak_mib"),
                      host_mb_per_atom=(info["host_peak_mib"] * ranks * 1.048576 / len(atoms)
                                        if "host_peak_mib" in info else None),
                      gpu_peak_mib_per_rank=info.get("gpu_peak_mib"),
                      gpu_mb_per_atom=(info["gpu_peak_mib"] * ranks * 1.048576 / len(atoms)
                                       if "gpu_peak_mib" in info else None),
                      pair_fraction=info.get("pair_fraction"),
                      device_used=used.group(1) if used else None)


def add_efficiencies(points: list[BenchPoint], weak_tolerance: float = 0.10) -> None:
    """Fill strong and weak scaling efficiencies in place (see the module docstring). The
    baseline of a point is the serial run in its own memory mode where there is one (with
    ``--memory fast,low`` each mode scales against itself, not against the faster mode's
    serial time), else the fastest finished serial run of its size."""
    serial: dict[tuple[int, str | None], BenchPoint] = {}
    for p in points:   # the fastest finished serial run of each size (and memory mode)
        if p.ranks == 1 and p.failed is None:
            for key in ((p.atoms, p.memory), (p.atoms, None)):
                if key not in serial or p.ms_per_step < serial[key].ms_per_step:
                    serial[key] = p
    for p in points:
        if p.failed is not None:
            continue
        if p.ranks == 1:
            p.strong_efficiency = p.weak_efficiency = 1.0
            p.strong_cpu_efficiency = 1.0 if p.cpu_use else None
            continue
        ref = serial.get((p.atoms, p.memory)) or serial.get((p.atoms, None))
        if ref:
            p.strong_efficiency = ref.ms_per_step / (p.ranks * p.ms_per_step)
            if ref.cpu_use and p.cpu_use:
                p.strong_cpu_efficiency = (ref.ms_per_step * ref.cpu_use
                                           / (p.ranks * p.ms_per_step * p.cpu_use))
        per_rank = p.atoms / p.ranks
        for mem in (p.memory, None):
            close = [s for (n, m), s in serial.items()
                     if m == mem and abs(n - per_rank) <= weak_tolerance * per_rank]
            if close:
                s = min(close, key=lambda s: abs(s.atoms - per_rank))
                p.weak_efficiency = s.ms_per_step / p.ms_per_step
                break


def memory_modes(memory: str | list[str]) -> list[str]:
    """The memory modes of ``--memory``, checked against :data:`MEMORY_MODES` (what
    ``pair_style ionmd ... memory`` accepts).

    Raises
    ------
    IonmdError
        For a mode the pair style does not know (``default``, the bench's name for
        ``auto`` before 2026-12-06, says so), or one given twice.
    """
    modes = [m.strip() for m in memory.split(",")] if isinstance(memory, str) else list(memory)
    modes = [m for m in modes if m]
    bad = [m for m in modes if m not in MEMORY_MODES]
    if bad or not modes or len(set(modes)) != len(modes):
        hint = ("; 'default' is called auto, as pair_style ionmd ... memory auto names it"
                if "default" in bad else "")
        raise IonmdError(f"--memory {memory!r}: give each of {', '.join(MEMORY_MODES)} (the "
                         f"values of pair_style ionmd's memory keyword) at most once, "
                         f"comma-separated (e.g. fast,low){hint}")
    return modes


def ghost_modes(ghost: str | list[str]) -> list[str]:
    """The ghost modes of ``--ghost`` (one, or several comma-separated), checked."""
    modes = [m.strip() for m in ghost.split(",")] if isinstance(ghost, str) else list(ghost)
    modes = [m for m in modes if m]
    for m in modes:
        if m not in GHOST_MODES:
            raise IonmdError(f"--ghost {m!r} unknown; use one of {', '.join(GHOST_MODES)} "
                             f"(several, comma-separated, to compare them)")
    if not modes or len(set(modes)) != len(modes):
        raise IonmdError(f"--ghost {ghost!r}: give each mode once, e.g. halo,redundant")
    return modes


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
        with _stop_on_sigterm():
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
    if all(p.failed for p in result.points):
        result.status = "failed"
        (out / "bench.json").write_text(result.to_json())
        raise IonmdError(f"every bench point failed; the first: {result.points[0].failed}")
    add_efficiencies(result.points)
    result.status = "finished"
    (out / "bench.json").write_text(result.to_json())
    write_csv(result, out / "bench.csv")
    plot(result, out / "bench.png")
    return result


# ------------------------------------------------------------------ largest cell
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


def limiting_peak_mib(p: BenchPoint) -> float | None:
    """The peak memory per rank that limits the cell size: torch's GPU allocations where
    the run was on a GPU (the plugin reports them only there), else the host's resident set."""
    return p.gpu_peak_mib_per_rank if p.gpu_peak_mib_per_rank is not None \
        else p.host_peak_mib_per_rank


def limiting_mb_per_atom(p: BenchPoint) -> float | None:
    return p.gpu_mb_per_atom if p.gpu_peak_mib_per_rank is not None else p.host_mb_per_atom


@dataclass
class CapacityResult:
    """What :func:`largest_cell` measured: every probed point and the largest that fit."""

    model: str
    structure: str
    budget_mib: float                 # per rank
    ranks: int
    memory: str
    points: list[BenchPoint] = field(default_factory=list)
    largest: BenchPoint | None = None     # the largest measured cell within the budget
    predicted_atoms: int | None = None    # where the last two points' line meets the budget
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
                + (f"; the line through the last two points reaches the budget at about "
                   f"{self.predicted_atoms} atoms" if self.predicted_atoms else "")
                + f" ({self.stopped})")


def _default_cell_or_licl(model: Path) -> Atoms:
    """The model's default cell; LiCl where its metadata cannot be read (the search checks
    no model first: its first run says what is wrong with the file, as it always did)."""
    from ionmd.errors import ModelFileError

    try:
        return model_default_cell(model)
    except ModelFileError:
        return default_cell()


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
    cell = structure if structure is not None else _default_cell_or_licl(Path(model))
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
        with _stop_on_sigterm():
            _search(res, model, cell, out, budget_mib, aim, fits, ranks, threads, device, ghost,
                    memory, target, tried, start_atoms, tolerance, max_points, bar)
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


def _search(res, model, cell, out, budget_mib, aim, fits, ranks, threads, device, ghost, memory,
            target, tried, start_atoms, tolerance, max_points, bar) -> None:
    """The measuring loop of :func:`largest_cell` (see there), filling ``res``."""
    while len(res.points) < max_points:
        atoms = supercell_for(cell, max(target, len(cell)))
        if len(atoms) in tried:
            res.stopped = "no new cell size between the ones measured"
            break
        tried.add(len(atoms))
        try:
            point = run_point(model, atoms, ranks, out / f"n{len(atoms)}", threads=threads,
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
        (out / "max_atoms.json").write_text(res.to_json())
        if bar:
            bar.update(1)
        good = [p for p in res.points if fits(p)]
        bad = [p for p in res.points if not fits(p)]
        res.largest = max(good, key=lambda p: p.atoms) if good else None
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
                res.predicted_atoms = int(b.atoms + (budget_mib - limiting_peak_mib(b)) / slope)
                target = int(b.atoms + (aim - limiting_peak_mib(b)) / slope)
            else:
                target = 2 * b.atoms
            if lo is not None and target <= lo.atoms:  # nothing larger is known not to fit
                target = 2 * lo.atoms
        if lo is None and not good and target >= min(p.atoms for p in res.points):
            target = min(p.atoms for p in res.points) // 2
    else:
        res.stopped = f"{max_points} points measured"


# ------------------------------------------------------------------ output
COLUMNS = [("atoms", "atoms", "{:d}"), ("ranks", "ranks", "{:d}"),
           ("threads", "threads", "{:d}"), ("ghost", "ghost", "{}"),
           ("memory", "memory", "{}"),
           ("ms_per_step", "ms/step", "{:.1f}"),
           ("atom_steps_per_s", "atom-steps/s", "{:.1f}"),
           ("host_peak_mib_per_rank", "host MiB/rank", "{:.0f}"),
           ("host_mb_per_atom", "MB/atom", "{:.2f}"),
           ("gpu_peak_mib_per_rank", "GPU MiB/rank", "{:.0f}"),
           ("gpu_mb_per_atom", "GPU MB/atom", "{:.2f}"),
           ("strong_efficiency", "strong eff", "{:.2f}"), ("weak_efficiency", "weak eff", "{:.2f}"),
           ("cpu_use", "CPU use", "{:.2f}"), ("strong_cpu_efficiency", "CPU-time eff", "{:.2f}")]


TABLE_KEY = ("ms/step: LAMMPS's loop time of the timed run / its steps (after one warm-up force "
             "call); atom-steps/s: atoms / (s/step); host MiB/rank: peak resident set of a rank "
             "(max over ranks; 1 MiB = 2^20 B); MB/atom: that peak x ranks / atoms (1 MB = 1e6 "
             "B), the fixed footprint of libtorch, the model and LAMMPS included, so small cells "
             "show a large value: for the largest cell a budget holds use --max-atoms; CPU use: "
             "LAMMPS's % CPU use / 100 of a rank (up to its threads; below that, the rank "
             "waited or shared a core); strong/weak eff: against the serial run of the same "
             "size (weak: of atoms / ranks) and memory mode")


def table(result: BenchResult) -> str:
    """The points as a fixed-width text table, with a heading that says what ran where and a
    key to the columns."""
    rows = [[title for _, title, _ in COLUMNS]]
    for p in result.points:
        d = asdict(p)
        rows.append(["-" if d[k] is None else fmt.format(d[k]) for k, _, fmt in COLUMNS])
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    used = sorted({p.device_used for p in result.points if p.device_used})
    device = result.device + (f" (ran on {', '.join(used)})" if used and used != [result.device]
                              else "")
    head = (f"{result.model} on {result.structure}, device {device}, ghost {result.ghost}"
            + (f", {result.cores} core(s)" if result.cores else "")
            + ("" if result.status in ("finished", "running") else f" [{result.status}]"))
    failed = [f"failed: {p.atoms} atoms x {p.ranks} ranks, ghost {p.ghost}: {p.failed}"
              for p in result.points if p.failed]
    notes = [f"warning: {n}" for n in result.notes]
    import textwrap

    key = textwrap.wrap(TABLE_KEY, 100, break_on_hyphens=False)
    return "\n".join([head] + lines + failed + notes + key)


def write_csv(result: BenchResult, path: Path) -> None:
    import csv

    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(asdict(result.points[0]).keys()))
        writer.writeheader()
        for p in result.points:
            writer.writerow(asdict(p))


def plot_series(result: BenchResult) -> list[tuple[str, list[BenchPoint]]]:
    """The plot's lines: one per size, ghost mode and memory mode, each from its serial
    point (a ghost comparison's serial points run in ``auto``), in rank order."""
    done = [p for p in result.points if p.failed is None]
    modes = sorted({p.ghost for p in done if p.ranks > 1}) or ["auto"]
    memories = sorted({p.memory for p in done})
    series = []
    for n in sorted({p.atoms for p in done}):
        for mode in modes:
            for mem in memories:
                pts = sorted((p for p in done if p.atoms == n and p.memory == mem
                              and (p.ranks == 1 or p.ghost == mode)), key=lambda p: p.ranks)
                if not pts:
                    continue
                label = (f"{n} atoms" + (f", {mode}" if len(modes) > 1 else "")
                         + (f", memory {mem}" if len(memories) > 1 else ""))
                series.append((label, pts))
    return series


def plot(result: BenchResult, path: Path) -> None:
    """Throughput and strong-scaling efficiency against ranks, one line per size (and ghost
    and memory mode)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
    for label, pts in plot_series(result):
        ax1.plot([p.ranks for p in pts], [p.atom_steps_per_s for p in pts], "o-", label=label)
        eff = [(p.ranks, p.strong_efficiency) for p in pts if p.strong_efficiency is not None]
        if eff:
            ax2.plot(*zip(*eff), "o-", label=label)
    ranks = sorted({p.ranks for p in result.points if p.failed is None})
    threads = sorted({p.threads for p in result.points})
    ax1.set(xlabel="MPI ranks", ylabel="atom-steps / s", title="throughput")
    ax2.set(xlabel="MPI ranks", ylabel="t(1) / (p t(p))", title="strong scaling", ylim=(0, 1.1))
    for ax in (ax1, ax2):
        ax.set_xticks(ranks)            # rank counts are integers: no 1.2, 1.4 ticks
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.suptitle(f"{Path(result.model).name} on {result.structure}, ghost {result.ghost}, "
                 f"{'/'.join(map(str, threads))} thread(s) per rank", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
