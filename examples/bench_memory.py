"""Peak host memory per atom and time per step of pair_style ionmd's memory modes, measured
in one run with the modes interleaved (this machine drifts +-20 % between runs).

usage: python examples/bench_memory.py --model sevennet0_f32.pt --atoms 4000
           [--modes "fast" "low chunk 4096" "low chunk 2048"] [--threads 2] [--repeats 2]

A mode is what follows `memory` in the pair_style line (`fast`, `low`, `auto`), optionally
with `chunk EDGES`. Prints, per mode, the best time per step, its ratio to the first mode,
and the peak host memory per atom (MB = 1e6 bytes); writes bench_memory.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    from ionmd.bench import default_cell, run_point, supercell_for

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--atoms", type=int, default=4000)
    ap.add_argument("--modes", nargs="+", default=["fast", "low chunk 4096", "low chunk 2048"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("-o", "--output", default="bench-memory")
    args = ap.parse_args()
    atoms = supercell_for(default_cell(), args.atoms)
    out = Path(args.output)
    rows: dict[str, list] = {m: [] for m in args.modes}
    for r in range(args.repeats):
        for mode in args.modes:          # interleaved: drift hits every mode alike
            memory, _, rest = mode.partition(" ")
            p = run_point(Path(args.model), atoms, 1, out / f"{mode.replace(' ', '_')}-{r}",
                          threads=args.threads, steps=args.steps, memory=memory, pair_extra=rest)
            rows[mode].append({"s_per_step": p.ms_per_step / 1e3, "mb_per_atom": p.host_mb_per_atom,
                               "peak_mib": p.host_peak_mib_per_rank})
            print(f"{len(atoms)} atoms, {mode:>16}, repeat {r}: {p.ms_per_step / 1e3:.2f} s/step, "
                  f"{p.host_peak_mib_per_rank:.0f} MiB, {p.host_mb_per_atom:.3f} MB/atom", flush=True)
    base = min(x["s_per_step"] for x in rows[args.modes[0]])
    print(f"\n{'mode':>16}  {'s/step':>8}  {'x ' + args.modes[0]:>10}  {'MB/atom':>8}")
    for mode, xs in rows.items():
        t = min(x["s_per_step"] for x in xs)
        print(f"{mode:>16}  {t:8.2f}  {t / base:10.2f}  {max(x['mb_per_atom'] for x in xs):8.3f}")
    (out / "bench_memory.json").write_text(json.dumps(
        {"model": args.model, "atoms": len(atoms), "threads": args.threads, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
