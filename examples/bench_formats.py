"""Benchmark: TorchScript (.pt) vs AOTInductor (.pt2) model files in pair_style ionmd.

For each model family, exports the model in both formats (timing the one-off export)
and prints, in one run, LAMMPS atom-steps/s of an NVE run (the Pair time of the timed
run) with each file at ~100 and ~1000 atoms, and the AOTI/TorchScript ratio. Runs are
interleaved and the best of ``--repeats`` is kept (this machine is noisy).

Families:
  sevennet  SevenNet-0 (the sevenn wheel's checkpoint), float32
  mace      random weights, MACE-MP-0a medium architecture (128 channels, max_L 1,
            correlation 3, 2 interactions, r_max 6 A), float32
  esen      random weights, AQVolt26 eSEN-L4 (4 layers, 128 channels, lmax=mmax=2,
            6 A), float32 -- needs ionmd.export.esen

usage: python examples/bench_formats.py [--families sevennet mace esen] [--sizes 2x2x3 5x5x5]
                                        [--export-dir DIR] [--export-only]

With --export-dir, exported files (and their export times, export_times.json) are kept
and reused: export once (minutes of compilation), time later on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from bench_sevennet import licl, parse_size, time_lammps  # noqa: E402


def export_family(family: str, fmt: str, out: Path) -> Path:
    if family == "sevennet":
        from ionmd.export import export_sevennet

        return export_sevennet("7net-0", out, dtype="float32", format=fmt)
    if family == "mace":
        from tiny_mace import write_tiny_mace

        from ionmd.export import export_mace

        src = out.parent / "mace_mp0a_medium_random.model"
        if not src.exists():
            write_tiny_mace(src, channels=128, num_interactions=2, correlation=3, max_L=1,
                            r_max=6.0)
        return export_mace(src, out, dtype="float32", format=fmt)
    if family == "esen":
        from ionmd.export.esen import export_esen

        sys.path.insert(0, str(HERE.parent / "tests"))
        from tiny_esen import write_tiny_esen_checkpoint

        src = out.parent / "esen_l4_random.pt"
        if not src.exists():   # AQVolt26 eSEN-L4: 4 layers, 128 channels, lmax = mmax = 2, 6 A
            write_tiny_esen_checkpoint(src, layers=4, channels=128)
        if fmt != "aoti":
            raise SystemExit("eSEN exports only as AOTInductor packages")
        return export_esen(src, out, dtype="float32")
    raise SystemExit(f"unknown family {family}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)  # the whole docstring: what it needs
    parser.add_argument("--families", nargs="+", default=["sevennet", "mace"],
                        choices=["sevennet", "mace", "esen"])
    parser.add_argument("--sizes", nargs="+", default=["2x2x3", "5x5x5"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--export-dir", type=Path, default=None,
                        help="keep exported files here and reuse them on the next run")
    parser.add_argument("--export-only", action="store_true", help="export, time nothing")
    args = parser.parse_args(argv)
    reps = [parse_size(parser, size) for size in args.sizes]   # refused before any export
    os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    # absolute: LAMMPS runs inside it and reads the model files by this path
    work = (args.export_dir or Path(tempfile.mkdtemp(prefix="ionmd-bench-formats-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    times_file = work / "export_times.json"
    times = json.loads(times_file.read_text()) if times_file.exists() else {}

    rows = []
    for family in args.families:
        files, export_s = {}, {}
        formats = ["aoti"] if family == "esen" else ["torchscript", "aoti"]
        for fmt in formats:
            target = work / f"{family}.{'pt2' if fmt == 'aoti' else 'pt'}"
            key = f"{family}/{fmt}"
            if target.exists() and key in times:
                files[fmt], export_s[fmt] = target, times[key]
            else:
                t0 = time.perf_counter()
                files[fmt] = export_family(family, fmt, target)
                export_s[fmt] = times[key] = time.perf_counter() - t0
                times_file.write_text(json.dumps(times, indent=1))
            print(f"{family:9s} {fmt:11s} export {export_s[fmt]:7.1f} s", flush=True)
        if args.export_only:
            continue
        for rep in reps:
            atoms = licl(rep)
            n = len(atoms)
            steps = max(3, int(round(1500 / n)))
            best = {fmt: np.inf for fmt in formats}
            for _ in range(args.repeats):
                for fmt in formats:
                    best[fmt] = min(best[fmt], time_lammps(
                        atoms, f"pair_style ionmd {files[fmt]}\npair_coeff * * Li Cl", work,
                        steps, args.threads))
            rows.append((family, n, {f: n / t for f, t in best.items()}))
            print(f"{family:9s} {n:5d} atoms  " + "  ".join(
                f"{f} {n / t:7.1f} atom-steps/s" for f, t in best.items()), flush=True)

    print(f"\nthreads={args.threads}; atom-steps/s (higher is better), Pair time of a LAMMPS NVE run")
    print(f"{'family':9s} {'atoms':>6s} {'torchscript':>12s} {'aoti':>10s} {'aoti/ts':>8s}")
    for family, n, speed in rows:
        ts = speed.get("torchscript", np.nan)
        print(f"{family:9s} {n:6d} {ts:12.1f} {speed['aoti']:10.1f} {speed['aoti'] / ts:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
