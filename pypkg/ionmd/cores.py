"""How many cores a run may use, and whether ranks x threads fit in them: the one answer
``ionmd run``, ``ionmd bench`` and the sweep's local executor give.

The cores are what the kernel and the batch system leave this process (its CPU affinity,
capped by a SLURM job's CPUs on the node), not ``os.cpu_count()``, the machine's; where
``mpirun`` may place ranks on other nodes of a SLURM job, the job's CPUs over its nodes.
Each count comes with where it comes from, for the messages.
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple

from ionmd.errors import IonmdError


class CoreCount(NamedTuple):
    """A number of cores and where it comes from (``"the CPUs this process may use"``)."""

    count: int
    source: str


def available_cores() -> CoreCount:
    """Cores this process may run on: its CPU affinity (what ``taskset``, cgroups and
    ``srun`` leave it), and within a SLURM job at most the job's CPUs on this node
    (``SLURM_CPUS_ON_NODE``: a job's affinity can be wider than its allocation)."""
    try:
        cores = CoreCount(len(os.sched_getaffinity(0)), "the CPUs this process may use")
    except (AttributeError, OSError):          # no affinity on macOS
        cores = CoreCount(os.cpu_count() or 1, "the machine's CPUs")
    slurm = os.environ.get("SLURM_CPUS_ON_NODE", "")
    if slurm.isascii() and slurm.isdigit() and 0 < int(slurm) < cores.count:
        cores = CoreCount(int(slurm), "the SLURM job's CPUs on this node (SLURM_CPUS_ON_NODE)")
    return cores


def slurm_job_cpus() -> int | None:
    """The SLURM job's CPUs over all its nodes (``SLURM_JOB_CPUS_PER_NODE``: ``32(x2),16``
    is 80), None outside a job or where the variable cannot be read."""
    text = os.environ.get("SLURM_JOB_CPUS_PER_NODE", "").strip()
    total = 0
    for part in filter(None, text.split(",")):
        match = re.fullmatch(r"(\d+)(?:\(x(\d+)\))?", part.strip())
        if match is None:
            return None
        total += int(match.group(1)) * int(match.group(2) or 1)
    return total or None


def mpi_cores() -> CoreCount:
    """Cores that ``mpirun -np N`` may start ranks on: :func:`available_cores`, except in
    a SLURM job over several nodes, or in an ``salloc`` shell (``SLURM_CPUS_ON_NODE``
    unset: it may run on the login node), where mpirun places the ranks over the job's
    nodes: the job's CPUs (``SLURM_JOB_CPUS_PER_NODE``)."""
    job = slurm_job_cpus()
    nodes = os.environ.get("SLURM_JOB_NUM_NODES", os.environ.get("SLURM_NNODES", "1"))
    on_node = os.environ.get("SLURM_CPUS_ON_NODE", "")
    if job is not None and (not (on_node.isascii() and on_node.isdigit())
                            or (nodes.isascii() and nodes.isdigit() and int(nodes) > 1)):
        return CoreCount(job, "the SLURM job's CPUs over its nodes (SLURM_JOB_CPUS_PER_NODE)")
    return available_cores()


# OpenMP's syntax: a positive integer, or a comma-separated list of them (one per nested
# level), blanks around each (C's isspace: ASCII only, not a no-break space); libgomp ignores
# anything else ("Invalid value"), an entry beyond a C long included
_OMP_LIST = re.compile(r"\s*\+?0*[1-9][0-9]*\s*(?:,\s*\+?0*[1-9][0-9]*\s*)*", re.ASCII)
_OMP_MAX = 2 ** 63 - 1


def omp_threads() -> int:
    """Threads each rank runs, as OpenMP reads ``OMP_NUM_THREADS``: its first entry
    (``4,2``: 4 at the outer level, 2 nested inside each; torch's MKL build runs at most
    MKL's count of the machine's cores of them: 3 on 2 cores runs 2); 1 where it is unset
    (``ionmd run`` then starts LAMMPS with ``OMP_NUM_THREADS=1``; pair_style ionmd alone
    shares the node's cores among its ranks).

    Raises
    ------
    IonmdError
        For a value OpenMP does not accept (``abc``, ``0``, empty): OpenMP ignores it and
        starts one thread per core in every rank, so no count can be taken from it.
    """
    text = os.environ.get("OMP_NUM_THREADS")
    if text is None:
        return 1
    if not _OMP_LIST.fullmatch(text) or max(map(int, text.split(","))) > _OMP_MAX:
        raise IonmdError(f"OMP_NUM_THREADS={text!r} is not a thread count: OpenMP takes a "
                         f"positive integer, or a comma-separated list of them for nested "
                         f"levels (4 or 4,2), and ignores anything else, starting one thread "
                         f"per core in every rank; set it to the threads per rank (e.g. "
                         f"OMP_NUM_THREADS=1) or unset it")
    return int(text.split(",")[0])


def oversubscription(ranks: int, threads: int,
                     available: tuple[int, str] | None = None) -> str | None:
    """Why ``ranks`` x ``threads`` are more than the available cores (``available``: cores
    and where the number comes from; default :func:`available_cores`), or None when they
    fit. MPICH and OpenMP start every rank and thread whatever the cores: oversubscribed,
    each waits for a core in turn (many times slower) and each rank holds its own copy of
    the model in memory."""
    cores, source = available or available_cores()
    need = ranks * threads
    if need <= cores:
        return None
    return (f"{ranks} MPI rank(s) x {threads} thread(s) = {need} cores, but {source} are "
            f"{cores}: they would share cores (many times slower, each rank holding its "
            f"own copy of the model in memory)")
