"""Benchmark a full-size eSEN-L4 (AQVolt26 architecture, random weights).

Writes a random-weight eSEN-L4 checkpoint (4 layers, 128 channels, lmax = mmax = 2,
64 Gaussians, 6 A cutoff) in fairchem's format, then prints

* the eager per-call cost of what pair_style ionmd asks of the model (node energies
  and dE/d edge_vec) at ~100 and ~1000 atoms (rock-salt LiCl supercells),
* the one-off AOTInductor export time (``ionmd.export.esen.export_esen``) and the
  per-call cost of the package at the same sizes, with its agreement to eager.

Not a test: run it by hand, e.g.
``OMP_NUM_THREADS=2 .venv/bin/python examples/bench_esen.py --out /tmp/esen-bench`` (the
installed ionmd, as every other example).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch
from ase.build import bulk
from ase.neighborlist import neighbor_list

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from tiny_esen import write_tiny_esen_checkpoint  # noqa: E402

from ionmd.export.esen import build_esen_node_energy_model, export_esen  # noqa: E402

SIZES = {"~100": (3, 2, 2), "~1000": (5, 5, 5)}  # conventional LiCl cells (8 atoms)


def graph(reps, meta, dtype):
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * reps
    atoms.rattle(0.05, seed=1)
    i, j, vec = neighbor_list("ijD", atoms, meta.cutoff)
    species = [meta.elements.index(s) for s in atoms.get_chemical_symbols()]
    n = len(atoms)
    return n, (torch.tensor(vec, dtype=dtype), torch.tensor(np.stack([i, j])),
               torch.tensor(species), torch.tensor([n]))


def eager_call(module, edge_vec, edge_index, species, nlocal):
    vec = edge_vec.clone().requires_grad_(True)
    node_e = module(vec, edge_index, species)
    (g,) = torch.autograd.grad(node_e[: int(nlocal)].sum(), vec)
    return node_e.detach(), g


def timed(fn, repeat, warmup):
    if warmup:
        fn()
    start = time.perf_counter()
    for _ in range(repeat):
        out = fn()
    return (time.perf_counter() - start) / repeat, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)  # the whole docstring: what it needs
    parser.add_argument("--out", type=Path, default=Path("bench-out/esen"))
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-aoti", action="store_true", help="eager timings only")
    parser.add_argument("--package", type=Path, default=None,
                        help="time this .pt2 (exported from the same seeded checkpoint) "
                             "instead of exporting again")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    dtype = getattr(torch, args.dtype)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.dtype}")

    ckpt = write_tiny_esen_checkpoint(args.out / "esen_l4_random.pt", layers=4, channels=128,
                                      num_distance_basis=64, cutoff=6.0, seed=3)
    start = time.perf_counter()
    module, meta = build_esen_node_energy_model(ckpt, args.dtype)
    print(f"eSEN-L4: {sum(p.numel() for p in module.parameters())} parameters, "
          f"receptive field {meta.num_layers} hops x {meta.cutoff} A, "
          f"build {time.perf_counter() - start:.1f} s")

    graphs = {label: graph(reps, meta, dtype) for label, reps in SIZES.items()}
    eager = {}
    for k, (label, (n, x)) in enumerate(graphs.items()):
        # one warm-up, on the small graph: a large graph's call costs seconds to minutes
        sec, out = timed(lambda: eager_call(module, *x), args.repeat, warmup=k == 0)
        eager[label] = out
        print(f"eager  {label:>5} atoms: {n:5d} atoms, {x[0].shape[0]:7d} edges, "
              f"{sec * 1e3:9.1f} ms/call, {n / sec:9.1f} atom-steps/s")
    if args.skip_aoti:
        return

    pt2 = args.package
    if pt2 is None:
        start = time.perf_counter()
        pt2 = export_esen(ckpt, args.out / f"esen_l4_{args.dtype}.pt2", dtype=args.dtype)
        print(f"AOTInductor export (trace + compile + check): "
              f"{time.perf_counter() - start:.0f} s, {pt2.stat().st_size / 1e6:.1f} MB")
    package = torch._inductor.aoti_load_package(str(pt2))
    for k, (label, (n, x)) in enumerate(graphs.items()):
        sec, (node_e, grad) = timed(lambda: package(*x), args.repeat, warmup=k == 0)
        ref_e, ref_g = eager[label]
        err_e = float((node_e.double().sum() - ref_e.double().sum()).abs()) / n
        err_g = float((grad - ref_g).abs().max())
        print(f"aoti   {label:>5} atoms: {n:5d} atoms, {sec * 1e3:9.1f} ms/call, "
              f"{n / sec:9.1f} atom-steps/s, |dE|/atom {err_e:.1e} eV, max|dg| {err_g:.1e} eV/A")


if __name__ == "__main__":
    main()
