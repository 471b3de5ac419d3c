"""Benchmark: pair_style ionmd vs the bare exported model vs ASE MD with SevenNetCalculator.

Prints, in one run, atom-steps/s of
  plugin  - `lmp -in` NVE with pair_style ionmd (LAMMPS Pair time of the timed run),
  bare    - the exported TorchScript model's forward + backward on the same graph
            (edges from ASE's neighbour list, same threads, same executor settings),
  ase     - ASE VelocityVerlet with SevenNet's own SevenNetCalculator (float32),
  e3gnn   - with --e3gnn-build: SevenNet's own LAMMPS pair_style e3gnn on the same cell, as
            it comes and with the allocator settings pair_style ionmd applies (e3gnn_kept),
and the ratios plugin/bare (cost) and plugin/ase (speed-up), at ~100 and ~1000 atoms.
Each measurement is repeated, interleaved, and the best is kept (this machine is noisy).

usage: python examples/bench_sevennet.py [--sizes 2x2x3 5x5x5] [--threads 2] [--repeats 2] [--steps N]
                                        [--model FILE.pt|FILE.pt2] [--format torchscript|aoti]
                                        [--e3gnn-build BUILD]   (examples/peers/e3gnn_build.sh BUILD)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PEER_E3GNN_512 = {1: 82.0, 2: 135.0}  # SevenNet's own pair_style e3gnn, 512 atoms, 2026-11-24
OVERHEAD_PERCENT: list[float] = []   # pair_style ionmd's time outside the model call, per run


def licl(rep):
    from ase.build import bulk

    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * rep
    atoms.rattle(0.03, seed=3)
    return atoms


# What pair_style ionmd does to glibc's allocator at load (lmp_plugins/ionmd_host_memory.cpp),
# as environment settings, so a peer can be timed with the same allocator.
KEEP_FREED_MEMORY_ENV = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": "2147483647",
                         "MALLOC_TOP_PAD_": str(64 << 20)}


def time_lammps(atoms, pair_lines: str, workdir: Path, steps: int, threads: int,
                extra_env: dict | None = None) -> float:
    """Seconds per step of the LAMMPS Pair section in a timed NVE run."""
    from ase.io import write

    write(workdir / "bench.data", atoms, format="lammps-data", specorder=["Li", "Cl"], masses=True)
    (workdir / "in.bench").write_text(f"""
units metal
atom_style atomic
read_data bench.data
{pair_lines}
velocity all create 300 1 mom yes
timestep 0.001
fix 1 all nve
thermo {steps}
run 1
run {steps}
""")
    lmp = str(Path(sys.executable).parent / "lmp")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), **(extra_env or {}))
    # a real log file: pair_style e3gnn crashes with -log none
    out = subprocess.run([lmp, "-in", "in.bench", "-log", "log.bench"], cwd=workdir, env=env,
                         capture_output=True, text=True, check=True).stdout
    pair_times = re.findall(r"^Pair\s+\|\s+([0-9.eE+-]+)", out, flags=re.M)
    overhead = re.findall(r"plugin overhead ([0-9.]+)% of model time", out)
    if overhead:  # pair_style ionmd's own split of its time, measured inside the same run
        OVERHEAD_PERCENT.append(float(overhead[-1]))
    return float(pair_times[-1]) / steps


def time_bare(atoms, model, steps: int) -> float:
    import torch
    from ase.neighborlist import neighbor_list

    from ionmd.export import read_metadata

    meta = read_metadata(model)
    elements = meta["elements"].split()
    dtype = torch.float64 if meta["dtype"] == "float64" else torch.float32
    i, j, d = neighbor_list("ijD", atoms, float(meta["cutoff"]))
    edge_index = torch.tensor(np.stack([i, j]))
    species = torch.tensor([elements.index(s) for s in atoms.get_chemical_symbols()])

    if meta["file_format"] == "aoti":   # the package computes energies and gradients itself
        package = torch._inductor.aoti_load_package(str(model))
        nlocal = torch.tensor([len(atoms)])

        def call():
            package(torch.tensor(d, dtype=dtype), edge_index, species, nlocal)
    else:
        from ionmd._ops import torchscript_as_the_plugin

        module = torch.jit.load(str(model))

        def call():
            edge_vec = torch.tensor(d, dtype=dtype, requires_grad=True)
            with torchscript_as_the_plugin():
                energy = module(edge_vec, edge_index, species, len(atoms)).sum()
                torch.autograd.grad(energy, edge_vec)

    call()  # warm-up (the first call's one-off allocations)
    t0 = time.perf_counter()
    for _ in range(steps):
        call()
    return (time.perf_counter() - t0) / steps


def time_ase(atoms, steps: int) -> float:
    from ase import units
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
    from ase.md.verlet import VelocityVerlet
    from sevenn.calculator import SevenNetCalculator

    atoms = atoms.copy()
    atoms.calc = SevenNetCalculator("7net-0", device="cpu")
    MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(1))
    dyn = VelocityVerlet(atoms, 1.0 * units.fs)
    atoms.get_forces()
    t0 = time.perf_counter()
    dyn.run(steps)
    return (time.perf_counter() - t0) / steps


def parse_size(parser: argparse.ArgumentParser, size: str) -> tuple[int, int, int]:
    """'2x2x3' -> (2, 2, 3): LiCl conventional cells (8 atoms) along a, b, c."""
    try:
        rep = tuple(int(x) for x in size.split("x"))
    except ValueError:
        rep = ()
    if len(rep) != 3 or min(rep) < 1:
        parser.error(f"--sizes {size}: give repeats as AxBxC, e.g. 2x2x3")
    return rep


def e3gnn_pair_lines(parser: argparse.ArgumentParser, build: Path) -> str:
    """LAMMPS lines of SevenNet's pair_style e3gnn from BUILD; refuses an incomplete build."""
    build = build.resolve()
    # examples/peers/e3gnn_build.sh deploys into BUILD, the older shared/peers build.sh
    # into BUILD/models
    deployed = next((d for d in (build / "deployed_serial.pt",
                                 build / "models" / "deployed_serial.pt") if d.is_file()), None)
    if deployed is None or not (build / "e3gnn_plugin.so").is_file():
        parser.error(f"--e3gnn-build {build}: no e3gnn_plugin.so and deployed_serial.pt there; "
                     f"build them with `examples/peers/e3gnn_build.sh {build}`")
    return (f"plugin load {build}/e3gnn_plugin.so\npair_style e3gnn\n"
            f"pair_coeff * * {deployed} Li Cl")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)  # the whole docstring: what it needs
    parser.add_argument("--sizes", nargs="+", default=["2x2x3", "5x5x5"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--steps", type=int, default=None,
                        help="timed MD steps per measurement (default: 2000 atom-steps, at "
                             "least 3; a few steps make a quick check, not a benchmark)")
    parser.add_argument("--model", default=None, help="exported model (default: export SevenNet-0 float32)")
    parser.add_argument("--format", choices=("torchscript", "aoti"), default="torchscript",
                        help="format of the SevenNet-0 export when --model is not given")
    parser.add_argument("--e3gnn-build", default=None, type=Path,
                        help="build dir of SevenNet's own pair_style e3gnn made by "
                             "examples/peers/e3gnn_build.sh BUILD; adds it to the comparison")
    args = parser.parse_args(argv)
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps {args.steps}: give at least 1")
    reps = [parse_size(parser, size) for size in args.sizes]
    e3gnn = e3gnn_pair_lines(parser, args.e3gnn_build) if args.e3gnn_build else None

    import torch

    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="ionmd-bench-"))
    suffix = ".pt2" if args.format == "aoti" else ".pt"
    # LAMMPS runs in `work`: a relative --model must be resolved here
    model = Path(args.model).resolve() if args.model else work / f"sevennet0{suffix}"
    if args.model and not model.is_file():
        parser.error(f"--model {args.model}: no such file")
    if not args.model:
        from ionmd.export import export_sevennet

        export_sevennet("7net-0", model, dtype="float32", format=args.format)

    rows = []
    for rep in reps:
        atoms = licl(rep)
        n = len(atoms)
        steps = args.steps or max(3, int(round(2000 / n)))
        best = {"plugin": np.inf, "bare": np.inf, "ase": np.inf}
        if args.e3gnn_build:
            best["e3gnn"] = best["e3gnn_kept"] = np.inf
        for _ in range(args.repeats):
            best["plugin"] = min(best["plugin"], time_lammps(
                atoms, f"pair_style ionmd {model}\npair_coeff * * Li Cl", work, steps, args.threads))
            if e3gnn:
                best["e3gnn"] = min(best["e3gnn"], time_lammps(atoms, e3gnn, work, steps,
                                                               args.threads))
                # the same peer with the allocator settings pair_style ionmd applies itself
                best["e3gnn_kept"] = min(best["e3gnn_kept"], time_lammps(
                    atoms, e3gnn, work, steps, args.threads, KEEP_FREED_MEMORY_ENV))
            best["bare"] = min(best["bare"], time_bare(atoms, model, steps))
            best["ase"] = min(best["ase"], time_ase(atoms, steps))
        rows.append((n, steps, best))
        print(f"{n} atoms done: " + ", ".join(f"{k} {n / v:.1f}" for k, v in best.items())
              + " atom-steps/s", flush=True)   # minutes per size: show progress

    print(f"\nSevenNet-0 float32, LiCl, {args.threads} thread(s), best of {args.repeats}, "
          f"torch {torch.__version__}")
    peer_cols = ["e3gnn", "e3gnn_kept"] if args.e3gnn_build else []
    cols = ["plugin", "bare", "ase"] + peer_cols
    print(f"{'atoms':>6} {'steps':>5} | " + " ".join(f"{c:>9}" for c in cols) + "  (atom-steps/s) | "
          f"{'plugin/bare time':>16} {'plugin/ase speed':>16}"
          + (f" {'plugin/e3gnn speed':>18} {'plugin/e3gnn_kept':>17}" if peer_cols else ""))
    for n, steps, best in rows:
        rate = {k: n / v for k, v in best.items()}
        line = (f"{n:>6} {steps:>5} | " + " ".join(f"{rate[c]:>9.1f}" for c in cols)
                + f"                 | {best['plugin'] / best['bare']:>16.3f} "
                f"{rate['plugin'] / rate['ase']:>16.2f}")
        if peer_cols:
            line += (f" {rate['plugin'] / rate['e3gnn']:>18.2f}"
                     f" {rate['plugin'] / rate['e3gnn_kept']:>17.2f}")
        print(line)
    if peer_cols:
        print("e3gnn_kept: SevenNet's pair_style e3gnn under the glibc settings pair_style ionmd "
              "applies itself (" + " ".join(f"{k}={v}" for k, v in KEEP_FREED_MEMORY_ENV.items())
              + ")")
    print(f"pair_style ionmd time outside the model call (graph + force/virial assembly), "
          f"same-run measurement: max {max(OVERHEAD_PERCENT):.3f}% of the model time")
    peer = PEER_E3GNN_512.get(args.threads)
    if peer and not args.e3gnn_build:
        big = max(rows, key=lambda r: r[0])
        print(f"peer: SevenNet's pair_style e3gnn, 512 atoms, {args.threads} thread(s): {peer} "
              f"atom-steps/s (measured 2026-11-24, ../shared/peers/e3gnn); plugin at {big[0]} atoms "
              f"= {big[0] / big[2]['plugin'] / peer:.2f}x that. This machine's speed has varied "
              "2x between days: --e3gnn-build BUILD times the peer in this run instead")
    return 0


if __name__ == "__main__":
    sys.exit(main())
