"""``ionmd bench MODEL --atoms 1000,8000 --np 1,2``: throughput, peak memory per rank and
strong/weak scaling of pair_style ionmd, as a table, JSON, CSV and a plot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ionmd.cli.options import add_order_arguments, order_options, positive_int


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers")
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give positive integers, e.g. 1000,8000")
    return values


OUTPUT_FILES = ("bench.json", "bench.csv", "bench.png", "max_atoms.json")


def _holds_results(path: Path) -> bool:
    """Whether an earlier bench.json / max_atoms.json holds a measured point (one whose
    every point failed, e.g. --device cuda on a CPU machine, holds nothing to protect)."""
    import json

    try:
        points = json.loads(path.read_text()).get("points", [])
    except (OSError, ValueError, AttributeError):
        return True                       # unreadable: not ours to judge, keep it
    return any(p.get("failed") is None for p in points)


def _check_output(out: Path, overwrite: bool, clear: bool = True) -> None:
    """Refuse an output path that is a file, or a folder holding another bench run's
    measurements unless --overwrite; with ``clear``, then delete that run's files and point
    folders so that nothing stale (an old bench.csv, bench.png) sits beside the new run's.
    (The command checks first and clears only once its inputs are checked: a bad input
    with --overwrite deletes nothing.)"""
    import shutil

    from ionmd.errors import IonmdError

    if out.exists() and not out.is_dir():
        raise IonmdError(f"output {out} is a file, not a folder; give another -o")
    earlier = [name for name in ("bench.json", "max_atoms.json")
               if (out / name).is_file() and _holds_results(out / name)]
    if earlier and not overwrite:
        raise IonmdError(f"{out} already holds a bench run ({', '.join(earlier)}); give another "
                         f"-o, or --overwrite to replace it")
    if not out.is_dir() or not clear:
        return
    for name in OUTPUT_FILES:
        (out / name).unlink(missing_ok=True)
    for sub in out.iterdir():           # only the point folders a bench run writes
        if sub.is_dir() and (sub / "in.bench").is_file() and (sub / "bench.data").is_file():
            shutil.rmtree(sub)


def _cmd_bench(args: argparse.Namespace) -> int | None:
    from ionmd.bench import bench
    from ionmd.bench.cells import supercell_for
    from ionmd.bench.checks import check_device, check_model, ghost_modes, memory_modes
    from ionmd.bench.report import table

    _check_output(Path(args.output), args.overwrite, clear=False)
    structure, name = _structure(args)
    if args.max_atoms:
        return _max_atoms(args, structure, name)
    check_model(Path(args.model), structure, ghost_modes(args.ghost))
    memory_modes(args.memory)
    check_device(args.device)
    for n in args.atoms or []:
        supercell_for(structure, n)
    _check_output(Path(args.output), args.overwrite)   # inputs checked: clear the earlier run
    result = bench(Path(args.model), args.atoms or [1000, 8000], args.np or [1, 2],
                   Path(args.output),
                   structure=structure,
                   structure_name=name, threads=args.threads, steps=args.steps,
                   device=args.device, ghost=args.ghost, memory=args.memory,
                   progress=not args.no_progress)
    print(table(result))
    print(f"wrote {args.output}/bench.json, bench.csv, bench.png")
    failed = sum(p.failed is not None for p in result.points)
    if failed:   # the table shows why; the other points are still worth having
        print(f"ionmd bench: {failed} of {len(result.points)} point(s) failed", file=sys.stderr)


def _structure(args: argparse.Namespace):
    """The cell to replicate and its name: ``--structure``, else the model's default cell
    (LiCl where it knows Li and Cl, else one of its own elements), said on the terminal."""
    from ionmd.bench.cells import LICL_NAME, cell_summary, model_default_cell

    if not args.structure:
        cell = model_default_cell(Path(args.model))
        print(f"ionmd bench: no --structure: {cell_summary(cell)}"
              + ("" if cell.info["name"] == LICL_NAME
                 else " (not LiCl: the model does not know both Li and Cl)")
              + "; give --structure FILE to time your own material", file=sys.stderr)
        return cell, cell.info["name"]
    from ionmd.protocols.prepare import as_atoms
    from ionmd.structures import load_structure

    loaded = load_structure(args.structure, order_options(args))
    name = Path(args.structure).name
    if loaded.ordering:
        name += f" ({loaded.ordering})"
    return as_atoms(loaded.structure), name


def _max_atoms(args: argparse.Namespace, structure, name: str) -> int | None:
    from ionmd.bench import largest_cell
    from ionmd.bench.capacity import parse_size_mib
    from ionmd.bench.checks import check_device, check_model, ghost_modes, memory_modes
    from ionmd.bench.points import limiting_mb_per_atom, limiting_peak_mib
    from ionmd.errors import EXIT_ERROR, IonmdError

    ranks = args.np or [1]
    ghost = ghost_modes(args.ghost)
    if len(ranks) != 1 or len(memory_modes(args.memory)) != 1 or len(ghost) != 1:
        raise IonmdError("--max-atoms searches one configuration: give one --np value (default "
                         "1), one --ghost mode and one --memory mode")
    if args.steps is not None:
        raise IonmdError("--steps has no effect with --max-atoms (it measures the peak memory of "
                         "one force call per cell): drop it, or time cells without --max-atoms")
    budget = parse_size_mib(args.max_atoms)
    check_device(args.device)
    check_model(Path(args.model), structure, ghost)
    _check_output(Path(args.output), args.overwrite)   # inputs checked: clear the earlier run
    if args.atoms and len(args.atoms) >= 2:
        start = tuple(args.atoms[:2])
    elif args.atoms:                      # one size: start there, then 4x as many atoms
        start = (args.atoms[0], 4 * args.atoms[0])
    else:
        start = (1000, 4000)
    res = largest_cell(Path(args.model), budget, Path(args.output),
                       structure=structure, structure_name=name, ranks=ranks[0],
                       threads=args.threads, device=args.device, memory=args.memory,
                       ghost=ghost[0], start_atoms=start, progress=not args.no_progress)
    title = f"{res.memory_kind} MiB/rank"
    print(f"{'atoms':>9} {title:>14} {'MB/atom':>8}  fits")
    for p in sorted(res.points, key=lambda p: p.atoms):
        if p.failed:
            print(f"{p.atoms:>9} {'-':>14} {'-':>8}  no: {p.failed[:80]}")
        else:
            print(f"{p.atoms:>9} {limiting_peak_mib(p):>14.0f} {limiting_mb_per_atom(p):>8.3f}  "
                  f"{'yes' if limiting_peak_mib(p) <= res.budget_mib else 'no'}")
    print(f"peak memory of one force call (run 0) per point; budget {args.max_atoms} = "
          f"{res.budget_mib:.0f} MiB of {res.memory_kind} memory per rank; MB/atom includes the "
          f"fixed footprint (libtorch, model, LAMMPS)")
    print(res.summary())
    print(f"wrote {args.output}/max_atoms.json")
    if res.largest is None:
        return EXIT_ERROR


def register(subparsers) -> None:
    p = subparsers.add_parser("bench", help="throughput, memory and MPI scaling of a model file")
    p.add_argument("model", help="ionmd model file (from `ionmd export`)")
    p.add_argument("--atoms", type=_int_list, default=None,
                   help="system sizes, comma-separated (nearest supercells; default 1000,8000; "
                        "with --max-atoms: the first two sizes of the search, default 1000,4000; "
                        "one size A: A,4A)")
    p.add_argument("--max-atoms", metavar="SIZE",
                   help="find the largest cell whose peak memory per rank (host; on a GPU, "
                        "torch's GPU allocations) stays within SIZE (e.g. 20GB = 20e9 bytes; "
                        "16GiB or 16G = 16 x 2^30 bytes; 2e4MB), measuring cells until one is "
                        "within 10 %% below it and no cell 10 %% larger fits")
    p.add_argument("--np", type=_int_list, default=None,
                   help="MPI ranks, comma-separated (default 1,2; with --max-atoms 1)")
    p.add_argument("--threads", type=positive_int, default=1, help="torch/OpenMP threads per rank")
    p.add_argument("--steps", type=positive_int, default=None,
                   help="timed steps per point (default: ~20000 atom-steps, at least 3)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--ghost", default="auto",
                   help="ghost mode: auto, redundant or halo; several, comma-separated "
                        "(halo,redundant), are compared against one serial baseline")
    p.add_argument("--memory", default="auto",
                   help="pair_style ionmd memory mode: auto (the plugin's default), fast or "
                        "low; several, comma-separated (fast,low), are measured interleaved")
    p.add_argument("--structure", help="structure file to replicate (default: LiCl rocksalt "
                                       "where the model knows Li and Cl, else a rocksalt of "
                                       "its own elements, printed); partial occupancies need "
                                       "--order")
    add_order_arguments(p)
    p.add_argument("-o", "--output", default="bench-out",
                   help="output folder (default: bench-out)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the bench run an output folder already holds (its bench.* / "
                        "max_atoms.json files and point folders are deleted once the inputs are "
                        "checked)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_bench)
