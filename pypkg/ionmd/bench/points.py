"""What ``ionmd bench`` records: one measured (size, ranks) point, a scaling bench's
result, and the peak memory that limits a point (the GPU's where it ran on one)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ionmd import strict_json


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


def limiting_peak_mib(p: BenchPoint) -> float | None:
    """The peak memory per rank that limits the cell size: torch's GPU allocations where
    the run was on a GPU (the plugin reports them only there), else the host's resident set."""
    return p.gpu_peak_mib_per_rank if p.gpu_peak_mib_per_rank is not None \
        else p.host_peak_mib_per_rank


def limiting_mb_per_atom(p: BenchPoint) -> float | None:
    return p.gpu_mb_per_atom if p.gpu_peak_mib_per_rank is not None else p.host_mb_per_atom
