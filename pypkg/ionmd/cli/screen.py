"""``ionmd screen``: PES-descriptor screening of many structures with one model file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ionmd.cli.options import (
    add_order_arguments,
    element_symbol,
    non_negative_float,
    order_options,
    positive_float,
    positive_int,
)


def _thresholds(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(x) for x in text.replace(",", " ").split())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"thresholds must be numbers in eV: {text!r}") from exc
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError("thresholds must be positive energies in eV")
    return values


def _count(text: str) -> int:
    """--top: a whole number >= 0 (a negative one sliced the ranking from its end: --top -1
    wrote every structure but the last)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"give a whole number >= 0, got {text!r}")
    return value


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``screen`` subcommand to ``ionmd``'s subparsers."""
    from ionmd.screen.descriptors import DEFAULT_THRESHOLDS
    from ionmd.screen.level_map import CONNECTIVITIES
    from ionmd.screen.screen import CELL_CHOICES

    p = subparsers.add_parser(
        "screen", help="rank structures by PES descriptors (MPE, free volumes, Xi)",
        description="Scan one mobile ion over a grid in each frozen framework with an ionmd "
                    "model file and report the minimal percolation energy, free volumes and Xi "
                    "(Maevskiy et al.). Results go to OUT/screen.csv and OUT/screen.json; "
                    "structures already in OUT are skipped (resume).",
        epilog="Exit status: 0 every input screened, 1 an error (bad model file or settings), "
               "2 usage, 3 some or every structure failed (each is a row of the results with "
               "status error; the others are written). --dry-run exits as the screen would: "
               "3 where a file cannot be read or ordered or a structure is refused (its "
               "line says why), 0 where every listed structure would be screened.")
    p.add_argument("structures", nargs="+", help="structure files (CIF, POSCAR, extxyz...)")
    p.add_argument("--model", required=True, help="model file written by `ionmd export`")
    p.add_argument("--species", default="Li", type=element_symbol,
                   help="mobile species (default Li)")
    p.add_argument("--spacing", type=positive_float, default=0.25,
                   help="largest grid step, A (0.25; above 0.5 a warning: MPE and Xi then "
                        "follow the grid, docs/screen.md)")
    p.add_argument("--rmin", type=non_negative_float, default=1.2,
                   help="grid points closer than this to the framework are skipped, A (1.2)")
    p.add_argument("--thresholds", type=_thresholds, default=DEFAULT_THRESHOLDS,
                   help="free-volume thresholds, eV, comma separated (0.1,...,1.0)")
    p.add_argument("--cell", choices=CELL_CHOICES, default="primitive",
                   help="cell the mobile ion is replicated with (default: standard primitive)")
    p.add_argument("--min-image-distance", type=non_negative_float, default=0.0, metavar="D",
                   help="repeat the cell until the mobile ion is >= D A from its own images "
                        "(dilute limit; default 0: one mobile ion per cell, as the seed)")
    p.add_argument("--connectivity", choices=CONNECTIVITIES, default="sqrt3",
                   help="grid neighbours of the level map (default sqrt3, as the seed's code)")
    p.add_argument("--max-points", type=positive_int, default=200_000,
                   help="refuse structures needing more model evaluations (default 200000)")
    p.add_argument("--dry-run", action="store_true",
                   help="print each structure's cell, grid and number of model evaluations "
                        "and the estimated model time (two timed calls), screen nothing (to "
                        "size --spacing and --max-points)")
    p.add_argument("--no-symmetry", dest="symmetry", action="store_false",
                   help="evaluate every grid point of every mobile ion (no symmetry reduction)")
    p.add_argument("--batch-atoms", type=positive_int, default=None,
                   help="atoms per model call, replicas batched up to this (default: 64 on "
                        "CPU, where larger calls are no faster; 16384 on a GPU)")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda, cuda:1)")
    p.add_argument("--top", type=_count, default=0,
                   help="write the top N structures by Xi to OUT/campaign.yaml for MD; a "
                        "crystal already chosen under another name (pymatgen "
                        "StructureMatcher) is left out, and a narrow cell (NOT COMPARABLE) "
                        "or a row to CHECK is marked above its entry; both are named with "
                        "the reason in the file and on stderr")
    p.add_argument("--rank-by", choices=("xi", "mpe"), default="xi",
                   help="order of --top: xi (the seed's ranking) or mpe (lowest first; it "
                        "separated fast from poor conductors better in docs/screen.md)")
    p.add_argument("--cube", action="store_true", help="write PES and level map CUBE files")
    p.add_argument("--png", action="store_true",
                   help="write level-map slices with the 0.5 eV contour as PNG")
    p.add_argument("-o", "--output", default="screen_out",
                   help="output folder (default: screen_out)")
    add_order_arguments(p, model_rank=True)
    p.set_defaults(func=run)
    return p


def _settings(args: argparse.Namespace):
    from ionmd.screen.screen import ScreenSettings

    return ScreenSettings(species=args.species, spacing=args.spacing, rmin=args.rmin,
                          thresholds=tuple(args.thresholds), cell=args.cell,
                          connectivity=args.connectivity, max_points=args.max_points,
                          max_nodes=args.batch_atoms or (64 if args.device == "cpu" else 16384),
                          symmetry=args.symmetry, min_image_distance=args.min_image_distance)


def _dry_run(args: argparse.Namespace, runner, settings) -> int | None:
    """One line per structure the screen would evaluate (in an output folder that holds
    rows: those it would skip and the files it would screen again said first, and only the
    rest costed); nothing is evaluated or written. Returns the exit status the screen
    would give (:func:`_dry_run_status`): a script that checks a dry run first must not
    take refused files for a clean plan."""
    from ionmd.screen.batch import ScreenBatch, plan_inputs
    from ionmd.screen.screen import time_model

    batch = ScreenBatch(args.structures, Path(args.output), runner, settings, model=args.model,
                        order=order_options(args), record_settings=False)
    if batch.resumed:
        print(f"{args.output} already holds {batch.resumed} finished structure(s) of these "
              "inputs: skipped")
    for path in batch.changed:
        print(f"{path} changed since its rows were written: screened again")
    if not batch.todo:
        print(f"nothing to screen: every input is finished in {args.output}")
        return None
    total, costliest, refusals = 0, None, 0
    print(f"{'structure':<24}{'cell':>16}{'atoms':>6}{'grid':>12}{'ions':>5}"
          f"{'evaluations':>12}{'atom evals':>12}")
    for name, plan, why in plan_inputs(batch.todo, runner, settings, order_options(args),
                                       batch.names, skip=batch.finished):
        if plan is None:
            print(f"{name:<24}{why}")
            refusals += 1
            continue
        refused = plan.n_evaluations > settings.max_points     # an error row, not screened
        refusals += refused
        if not refused:
            total += plan.atom_evaluations
            if costliest is None or plan.atom_evaluations > costliest.atom_evaluations:
                costliest = plan
        flag = "  > --max-points: refused, not in the total" if refused else ""
        print(f"{name:<24}{plan.cell_atoms.get_chemical_formula():>16}"
              f"{len(plan.cell_atoms):>6}{'x'.join(map(str, plan.grid)):>12}"
              f"{len(plan.mobile):>5}{plan.n_evaluations:>12}"
              f"{plan.atom_evaluations:>12.2e}{flag}")
    if costliest is not None:
        rate = time_model(runner, costliest, settings.max_nodes)["model"]
        print(f"total {total:.2e} atom evaluations; the model takes {rate * 1e6:.1f} us per "
              f"atom evaluation on {args.device} ({settings.max_nodes} atoms per call, "
              f"measured on {costliest.cell_atoms.get_chemical_formula()}): about "
              f"{total * rate / 3600:.2g} h of model time, plus the level maps")
    return _dry_run_status(refusals, screenable=costliest is not None)


def _dry_run_status(refusals: int, screenable: bool) -> int | None:
    """The exit status of the screen the dry run plans: EXIT_FAILED where a structure would
    be an error row (a dry run said 0 while the screen said 3)."""
    from ionmd.errors import EXIT_FAILED

    if not refusals:
        return None
    what = "every structure" if not screenable else f"{refusals} structure(s)"
    print(f"ionmd: {what} would fail (the lines above say why): the screen would exit with "
          "status 3, as this dry run does", file=sys.stderr)
    return EXIT_FAILED


def run(args: argparse.Namespace) -> int | None:
    """Screen every structure (:class:`ionmd.screen.batch.ScreenBatch`); one row each;
    errors are recorded and the rest go on. Returns :data:`ionmd.errors.EXIT_FAILED` when
    any structure failed."""
    from tqdm import tqdm

    from ionmd.host_memory import keep_freed_host_memory
    from ionmd.screen.batch import ScreenBatch
    from ionmd.screen.batched_energy import ModelRunner

    keep_freed_host_memory()     # each batch re-faulted its tensors otherwise (see the module)
    outdir = Path(args.output)
    runner = ModelRunner(args.model, device=args.device)
    settings = _settings(args)
    _warn_coarse_grid(settings.spacing)
    if args.dry_run:
        return _dry_run(args, runner, settings)
    batch = ScreenBatch(args.structures, outdir, runner, settings, model=args.model,
                        order=order_options(args))
    # what ionmd says goes to stderr, beside the progress bars and the summary; stdout
    # carries only tables (--dry-run)
    if batch.resumed:
        print(f"resuming: {batch.resumed} structure(s) already in {outdir}", file=sys.stderr)

    def warn(line: str) -> None:
        tqdm.write(f"ionmd: {line}", file=sys.stderr)

    batch.run(cube=args.cube, png=args.png, warn=warn)
    if args.top and batch.screened:
        batch.write_campaign(args.top, args.rank_by, warn)
    else:     # an earlier --top's campaign may rank files screened again by their old numbers
        if args.top:
            print("ionmd: no structure screened, so no campaign.yaml", file=sys.stderr)
        batch.refresh_campaign(warn)
    before = f" ({batch.resumed} finished before)" if batch.resumed else ""
    print(f"{batch.screened - batch.resumed} structure(s) screened now{before}, "
          f"{batch.failures} failed; results in {outdir}", file=sys.stderr)
    return _exit_status(batch, outdir)


def _warn_coarse_grid(spacing: float) -> None:
    """Say, before any work, that a coarse --spacing gives descriptors of the grid."""
    from ionmd.screen.screen import coarse_grid_note

    note = coarse_grid_note(spacing)
    if note:
        print(f"ionmd: warning: {note}", file=sys.stderr)


def _exit_status(batch, outdir: Path) -> int | None:
    """EXIT_FAILED where anything failed (scripts must not take a partial screen for a whole
    one; the error rows say what), 0 where every input was screened."""
    from ionmd.errors import EXIT_FAILED

    if not batch.any_input_screened:
        print("ionmd: every input failed (exit status 3)", file=sys.stderr)
        return EXIT_FAILED
    if batch.failures:
        print(f"ionmd: {batch.failures} failed: see the rows with status error (stage, "
              f"error_type, error) or output_error in {outdir / 'screen.csv'}; the other "
              "results are written (exit status 3)", file=sys.stderr)
        return EXIT_FAILED
    return None
