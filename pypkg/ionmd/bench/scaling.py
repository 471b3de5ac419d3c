"""Scaling efficiencies of ``ionmd bench``'s points, computed from their times:

* strong: ``E_s(N, p) = t(N, 1) / (p * t(N, p))`` for the same system on p ranks (and the
  same memory mode, where its serial run was measured);
* weak:   ``E_w(N, p) = t(N1, 1) / t(N, p)`` where ``N1 = N / p`` is also measured
  (within 10 %): each rank keeps the same number of atoms;
* strong, CPU time: the strong efficiency with each time weighted by LAMMPS's "% CPU use".
  On a shared machine where a rank does not get a whole core this one measures the
  parallel overhead; on a quiet machine the two agree.

and the warning where the ranks x threads asked for exceed the cores mpirun may use."""

from __future__ import annotations

from ionmd.bench.points import BenchPoint
from ionmd.cores import CoreCount, oversubscription


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
