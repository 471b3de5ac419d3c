"""Benchmark of `ionmd screen`: grid points per second vs a plain loop over the model's
own ASE calculator, and wall time per structure at the seed's 0.25 A grid.

Prints, for each example structure (standard primitive cell):
  plain    - SevenNet's SevenNetCalculator (float32), one get_potential_energy per grid
             point, on a random sample of scanned points (the seed's reference code does this)
  batched  - the exported model file, energy only, many replicas per call, same points
  screen   - the whole `ionmd screen` computation at 0.25 A (batched + symmetry
             reduction + level maps), scanned grid points per wall second
and the speed-ups batched/plain and screen/plain.

usage: python examples/bench_screen.py [--model sevennet0_f32.pt] [--sample 60] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def structures():
    from ase import Atoms
    from ase.build import bulk

    li3n = Atoms("NLiLiLi", scaled_positions=[[0, 0, 0], [0, 0, 0.5], [1 / 3, 2 / 3, 0],
                                              [2 / 3, 1 / 3, 0]],
                 cell=[[3.65, 0, 0], [-3.65 / 2, 3.65 * np.sqrt(3) / 2, 0], [0, 0, 3.87]],
                 pbc=True)
    return {"LiCl": bulk("LiCl", "rocksalt", a=5.14), "LiF": bulk("LiF", "rocksalt", a=4.03),
            "Li2S": bulk("SLi2", "fluorite", a=5.70), "Li3N": li3n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)  # the whole docstring: what it needs
    parser.add_argument("--model", help="float32 SevenNet-0 model file (exported if absent)")
    parser.add_argument("--sample", type=int, default=60, help="points timed in the plain loop")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--spacing", type=float, default=0.25)
    parser.add_argument("--device", default="cpu", help="torch device of the batched runs")
    parser.add_argument("--batch-atoms", type=int, default=64)
    args = parser.parse_args()
    if args.model is not None and not Path(args.model).is_file():
        parser.error(f"--model {args.model}: no such file; leave --model out to export "
                     "SevenNet-0 here, or `ionmd export sevennet 7net-0 -o FILE`")

    import torch
    from ionmd.screen.batched_energy import FrameworkScan, ModelRunner
    from ionmd.screen.grid import allowed_masks, cartesian_points, grid_shape
    from ionmd.screen.screen import ScreenSettings, choose_cell, screen_structure
    from sevenn.calculator import SevenNetCalculator

    torch.set_num_threads(args.threads)
    model = args.model
    if model is None:
        from ionmd.export import export_sevennet

        model = export_sevennet("7net-0", Path(tempfile.mkdtemp()) / "7net0_f32.pt")
    runner = ModelRunner(model, device=args.device)
    calc = SevenNetCalculator("7net-0", device="cpu")
    rng = np.random.default_rng(0)
    print(f"SevenNet-0 float32, batched on {args.device}, {args.threads} thread(s), "
          f"grid {args.spacing} A\n")
    print(f"{'structure':<10}{'atoms':>6}{'grid':>10}{'scanned':>9}{'evaluated':>10}"
          f"{'plain pt/s':>11}{'batched pt/s':>13}{'screen pt/s':>12}{'screen s':>9}"
          f"{'x batched':>10}{'x screen':>9}{'MPE eV':>8}{'Xi':>6}")
    for name, atoms in structures().items():
        cell = choose_cell(atoms, "primitive")
        shape = grid_shape(cell.cell.array, args.spacing)
        mask = allowed_masks(cell, [0], shape, 1.2)[0].ravel()
        pts = cartesian_points(cell.cell.array, shape)[mask]
        pick = pts[rng.choice(len(pts), min(args.sample, len(pts)), replace=False)]

        t0 = time.perf_counter()
        for p in pick:
            moved = cell.copy()
            moved.positions[0] = p
            moved.calc = calc
            moved.get_potential_energy()
        plain = len(pick) / (time.perf_counter() - t0)

        scan = FrameworkScan(runner, cell, 0)
        scan.energies(pick[:4])                                  # warm-up
        t0 = time.perf_counter()
        scan.energies(pick, max_nodes=args.batch_atoms)
        batched = len(pick) / (time.perf_counter() - t0)

        res = screen_structure(atoms, runner, ScreenSettings(spacing=args.spacing,
                                                             max_nodes=args.batch_atoms))
        scanned = res.extra["n_scanned"]
        screen_rate = scanned / res.wall_s
        d = res.descriptors
        print(f"{name:<10}{len(cell):>6}{'x'.join(map(str, shape)):>10}{scanned:>9}"
              f"{res.n_evaluated:>10}{plain:>11.1f}{batched:>13.1f}{screen_rate:>12.1f}"
              f"{res.wall_s:>9.1f}{batched / plain:>10.1f}{screen_rate / plain:>9.1f}"
              f"{d.mpe:>8.3f}{d.xi:>6.2f}")
    rate = runner.seconds_per_node()
    print(f"\nmodel time per atom evaluation (energy only, batched): {rate * 1e3:.2f} ms")


if __name__ == "__main__":
    from ionmd.errors import IonmdError

    try:
        main()
    except IonmdError as exc:   # a bad input or run: its message says what to do, no traceback
        sys.exit(f"{Path(__file__).name}: {exc}")
