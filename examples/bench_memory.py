"""Peak host memory per atom and time per step of pair_style ionmd's memory modes, measured
in one run with the modes interleaved (this machine drifts +-20 % between runs).

usage: python examples/bench_memory.py --model sevennet0_f32.pt [other.pt ...] --atoms 4000
           [--modes "fast" "low chunk 4096" "low chunk 2048"] [--threads 2] [--repeats 2]

A mode is what follows `memory` in the pair_style line (`fast`, `low`, `auto`), optionally
with `chunk EDGES`. With several model files (e.g. two exports of one model), every mode
runs with each, interleaved too. Prints, per model and mode, the best time per step, its
ratio to the first row, and the peak host memory per atom (MB = 1e6 bytes); writes
OUTPUT/bench_memory.json (-o OUTPUT, default bench-memory; an earlier one is replaced only
with --overwrite).
Needs an exported model file: `ionmd export sevennet 7net-0 -o sn0.pt`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _common_elements(models: list[str], ap: argparse.ArgumentParser) -> list[str]:
    """The elements every model knows (their metadata), for the one cell they all run: the
    LiCl of earlier tables where they know Li and Cl, else a cell of these elements."""
    from ionmd.export import read_metadata

    known = [read_metadata(m)["elements"].split() for m in models]
    common = [e for e in known[0] if all(e in k for k in known[1:])]
    if not common:
        ap.error(f"--model {' '.join(models)}: no element all of them know, so no one cell "
                 "can be timed with each; give models of one chemistry")
    return common


def main() -> None:
    from ionmd.bench import default_cell, run_point, supercell_for

    ap = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)  # the whole docstring: what it needs
    ap.add_argument("--model", required=True, nargs="+")
    ap.add_argument("--atoms", type=int, default=4000)
    ap.add_argument("--modes", nargs="+", default=["fast", "low chunk 4096", "low chunk 2048"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("-o", "--output", default="bench-memory")
    ap.add_argument("--overwrite", action="store_true",
                    help="replace the bench_memory.json an earlier run left in OUTPUT")
    args = ap.parse_args()
    missing = [m for m in args.model if not Path(m).is_file()]
    if missing:
        ap.error(f"--model {' '.join(missing)}: no such file; export one with "
                 "`ionmd export sevennet 7net-0 -o FILE` (README)")
    out = Path(args.output)
    if (out / "bench_memory.json").exists() and not args.overwrite:
        ap.error(f"{out / 'bench_memory.json'} holds an earlier run's results: give another "
                 "-o OUTPUT, or --overwrite to replace them")
    atoms = supercell_for(default_cell(_common_elements(args.model, ap)), args.atoms)
    many = len(args.model) > 1
    runs = [(Path(m), mode, f"{Path(m).name}: {mode}" if many else mode)
            for mode in args.modes for m in args.model]
    rows: dict[str, list] = {label: [] for _, _, label in runs}
    for r in range(args.repeats):
        for model, mode, label in runs:   # interleaved: drift hits every row alike
            memory, _, rest = mode.partition(" ")
            tag = f"{model.stem}-" if many else ""
            p = run_point(model, atoms, 1, out / f"{tag}{mode.replace(' ', '_')}-{r}",
                          threads=args.threads, steps=args.steps, memory=memory, pair_extra=rest)
            rows[label].append({"s_per_step": p.ms_per_step / 1e3, "mb_per_atom": p.host_mb_per_atom,
                                "peak_mib": p.host_peak_mib_per_rank})
            print(f"{len(atoms)} atoms, {label:>16}, repeat {r}: {p.ms_per_step / 1e3:.2f} s/step, "
                  f"{p.host_peak_mib_per_rank:.0f} MiB, {p.host_mb_per_atom:.3f} MB/atom", flush=True)
    first = runs[0][2]
    base = min(x["s_per_step"] for x in rows[first])
    width = max(16, *(len(label) for label in rows))
    print(f"\n{'run':>{width}}  {'s/step':>8}  {'x first':>8}  {'MB/atom':>8}")
    for label, xs in rows.items():
        t = min(x["s_per_step"] for x in xs)
        print(f"{label:>{width}}  {t:8.2f}  {t / base:8.2f}  {max(x['mb_per_atom'] for x in xs):8.3f}")
    (out / "bench_memory.json").write_text(json.dumps(
        {"models": args.model, "atoms": len(atoms), "threads": args.threads, "rows": rows}, indent=1))


if __name__ == "__main__":
    from ionmd.errors import IonmdError

    try:
        main()
    except IonmdError as exc:   # a bad input or run: its message says what to do, no traceback
        sys.exit(f"{Path(__file__).name}: {exc}")
