"""Does `ionmd screen` rank known fast Li conductors above known poor ones?

Structures:
  fast  - the six shipped electrolytes (pypkg/ionmd/data/structures: Li10GeP2S12,
          Li7P3S11, Li6PS5Cl, Li3InCl6, Li3YCl6, beta-Li3PS4; room-temperature
          conductivities of 1e-4 to 1e-2 S/cm in the papers their files cite), ordered
          with `--order random --order-tol 0.15 --order-min-distance 1.7` (LGPS's site
          model fills some of its 1.73 A Li-Li pairs at any ordering; the default rule,
          0.8 x covalent radii, 2.05 A, refuses that), and Li3N (about 1e-3 S/cm).
  poor  - stoichiometric binaries built here with ASE at their experimental lattice
          constants: rock-salt LiF and LiCl, antifluorite Li2O and Li2S (far below
          1e-8 S/cm at room temperature).

All are screened with one protocol (`ionmd screen` in-process; default: each mobile ion
at least 5.5 A from its own images, about the width of the narrowest electrolyte cell, so
the binaries are not scored in 2- or 3-atom cells where the lone ion moves through an
empty anion lattice). The table is sorted by Xi; the verdict says whether every fast
conductor ranks above every poor one, by Xi and by MPE, and lists the inversions.

With `--budget-s`, the model's time per atom evaluation is measured first on the largest
structure (batch sizes 4096-65536 atoms), and the finest grid spacing of 0.25-0.5 A whose
estimated model + level-map time fits the budget is used (cost ~ spacing^-3).

usage: python examples/screen_ranking.py --model 7net0_f32.pt -o OUT
           [--device cuda] [--spacing 0.25 | --budget-s 300] [--min-image-distance 5.5]
           [--primitive-binaries]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

SPACINGS = (0.25, 0.3, 0.35, 0.4, 0.5)
FAST = ("Li10GeP2S12", "Li7P3S11", "Li6PS5Cl", "Li3InCl6", "Li3YCl6", "beta-Li3PS4", "Li3N")
POOR = ("LiF", "LiCl", "Li2O", "Li2S")
ORDER_MIN_DISTANCE = 1.7    # A: every arrangement of LGPS's Li1 sites has 1.73 A pairs


def simple_structures():
    """Binaries and Li3N at experimental lattice constants (A)."""
    from ase import Atoms
    from ase.build import bulk

    li3n = Atoms("NLiLiLi", scaled_positions=[[0, 0, 0], [0, 0, 0.5], [1 / 3, 2 / 3, 0],
                                              [2 / 3, 1 / 3, 0]],
                 cell=[[3.648, 0, 0], [-3.648 / 2, 3.648 * np.sqrt(3) / 2, 0], [0, 0, 3.875]],
                 pbc=True)
    return {"LiF": bulk("LiF", "rocksalt", a=4.027), "LiCl": bulk("LiCl", "rocksalt", a=5.130),
            "Li2O": bulk("OLi2", "fluorite", a=4.611), "Li2S": bulk("SLi2", "fluorite", a=5.708),
            "Li3N": li3n}


def inputs(outdir: Path) -> list[Path]:
    from ase.io import write

    from ionmd.structures import example_names
    from ionmd.structures.examples import example_path

    paths = [Path(str(example_path(n))) for n in example_names()]
    folder = outdir / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    for name, atoms in simple_structures().items():
        write(folder / f"{name}.cif", atoms)
        paths.append(folder / f"{name}.cif")
    return paths


def calibrate(runner, plans, batches=(4096, 16384, 65536), calls=3) -> dict:
    """Model seconds per atom evaluation at each batch size, on the costliest structure."""
    import torch

    from ionmd.screen.screen import time_model

    plan = max(plans.values(), key=lambda p: p.atom_evaluations)
    out = {"structure": plan.cell_atoms.get_chemical_formula(), "atoms": len(plan.cell_atoms),
           "per_batch": []}
    cuda = runner.device.type == "cuda"
    for batch in batches:
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(runner.device)
        try:
            cost = time_model(runner, plan, batch, calls)
        except torch.cuda.OutOfMemoryError:
            print(f"  batch {batch:>6} atoms: out of GPU memory", flush=True)
            break
        peak = torch.cuda.max_memory_allocated(runner.device) / 2**30 if cuda else None
        out["per_batch"].append({"batch_atoms": cost["batch_atoms"], "replicas": cost["replicas"],
                                 "us_per_atom_model": 1e6 * cost["model"],
                                 "us_per_atom_wall": 1e6 * cost["wall"],
                                 "points_per_s": cost["points_per_s"], "gpu_peak_GiB": peak})
        print(f"  batch {cost['batch_atoms']:>6} atoms ({cost['replicas']} points): "
              f"{1e6 * cost['model']:.2f} us/atom model, {1e6 * cost['wall']:.2f} us/atom "
              f"with graph building, {cost['points_per_s']:.0f} points/s"
              + (f", GPU peak {peak:.1f} GiB" if cuda else ""), flush=True)
    if cuda:
        torch.cuda.empty_cache()
    return out


def level_map_seconds_per_point() -> float:
    """Host time of one ion's level map per supercell point (random 30^3 grid)."""
    from ionmd.screen.descriptors import ion_landscape

    e = np.random.default_rng(1).random((30, 30, 30))
    e[e > 0.9] = np.inf
    t0 = time.perf_counter()
    ion_landscape(e, np.eye(3) * 7.5)
    return (time.perf_counter() - t0) / (8 * e.size)


def choose_spacing(plans, rate: float, lm_rate: float, budget: float) -> tuple[float, dict]:
    """Finest spacing whose estimated time fits ``budget`` (plans made at 0.25 A)."""
    atom_evals = sum(p.atom_evaluations for p in plans.values())
    lm_points = sum(8 * int(np.prod(p.grid)) * len(p.mobile) for p in plans.values())
    estimate = {}
    for s in SPACINGS:
        f = (0.25 / s) ** 3
        estimate[s] = f * (atom_evals * rate + lm_points * lm_rate)
    fits = [s for s in SPACINGS if estimate[s] <= budget]
    return (fits[0] if fits else SPACINGS[-1]), estimate


def verdict(rows: list[dict]) -> dict:
    """Every fast above every poor? By Xi (higher = better) and by MPE (lower = better).
    With no screened structure of one class there is nothing to compare: ``None`` and why
    (``--only LiCl LiF`` printed ``fast_above_poor: true`` with no fast conductor)."""
    ok = [r for r in rows if r.get("status") == "ok"]
    fast = [r for r in ok if r["name"] in FAST]
    poor = [r for r in ok if r["name"] in POOR]
    missing = [cls for cls, members in (("fast", fast), ("poor", poor)) if not members]
    if missing:
        why = f"no {' and no '.join(missing)} conductor screened: nothing to compare"
        return {key: {"fast_above_poor": None, "inversions": [], "why": why}
                for key in ("xi", "mpe")}
    mpe = {r["name"]: (r["mpe_eV"] if r["mpe_eV"] is not None else float("inf")) for r in ok}
    out = {}
    for key, better in (("xi", lambda a, b: a["xi"] > b["xi"]),
                        ("mpe", lambda a, b: mpe[a["name"]] < mpe[b["name"]])):
        inv = [(f["name"], p["name"]) for f in fast for p in poor if not better(f, p)]
        out[key] = {"fast_above_poor": not inv, "inversions": inv}
    return out


def table(rows: list[dict]) -> None:
    ok = sorted((r for r in rows if r.get("status") == "ok"), key=lambda r: -r["xi"])
    print(f"{'rank':>4} {'structure':<13}{'class':>6}{'cell':>16}{'atoms':>6}{'grid':>11}"
          f"{'ions':>5}{'MPE eV':>8}{'FV_LM(.5)':>10}{'FV_E(.5)':>9}{'Xi':>7}{'wall s':>8}")
    for k, r in enumerate(ok, 1):
        cls = "fast" if r["name"] in FAST else "poor" if r["name"] in POOR else "?"
        mpe = f"{r['mpe_eV']:.3f}" if r["mpe_eV"] is not None else "none"
        print(f"{k:>4} {r['name']:<13}{cls:>6}{r['formula']:>16}{r['natoms']:>6}"
              f"{r['grid']:>11}{r['mobile_ions_aggregated']:>5}{mpe:>8}"
              f"{r['fv_connected_0.5eV']:>10.4f}{r['fv_disconnected_0.5eV']:>9.4f}"
              f"{r['xi']:>7.3f}{r['wall_s']:>8.1f}")
    for r in rows:
        if r.get("status") != "ok":
            print(f"     {r['name']:<13} error: {r['error']}")


def screen(paths, outdir: Path, args, spacing: float, extra=()) -> list[dict]:
    from ionmd.cli import main
    from ionmd.screen.output import load_rows

    argv = ["screen", *map(str, paths), "--model", args.model, "--device", args.device,
            "--spacing", str(spacing), "--order", "random", "--order-tol", "0.15",
            "--order-min-distance", str(ORDER_MIN_DISTANCE),
            "--order-seed", str(args.order_seed), "--max-points", "1000000000",
            "-o", str(outdir), *extra]
    if args.batch_atoms:
        argv += ["--batch-atoms", str(args.batch_atoms)]
    main(argv)
    return load_rows(outdir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)  # the whole docstring: what it needs
    parser.add_argument("--model", required=True, help="SevenNet-0 (or other) model file")
    parser.add_argument("-o", "--output", default="screen_ranking")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--spacing", type=float, default=0.25)
    parser.add_argument("--budget-s", type=float, default=None,
                        help="pick the spacing whose estimated time fits this many seconds")
    parser.add_argument("--min-image-distance", type=float, default=5.5)
    parser.add_argument("--order-seed", type=int, default=0)
    parser.add_argument("--batch-atoms", type=int, default=None)
    parser.add_argument("--only", nargs="+", default=None, metavar="NAME",
                        help="screen only these structures (e.g. LiF Li3InCl6)")
    parser.add_argument("--primitive-binaries", action="store_true",
                        help="also screen the simple crystals in the default protocol "
                             "(standard primitive cell, one mobile ion per cell)")
    args = parser.parse_args()
    if not Path(args.model).is_file():
        parser.error(f"--model {args.model}: no such file; export SevenNet-0 with "
                     "`ionmd export sevennet 7net-0 -o FILE` (README)")

    from ionmd.structures import OrderOptions
    from ionmd.host_memory import keep_freed_host_memory
    from ionmd.screen import read_screen_inputs
    from ionmd.screen.batched_energy import ModelRunner
    from ionmd.screen.screen import ScreenSettings, plan_screen

    keep_freed_host_memory()
    outdir = Path(args.output)
    paths = inputs(outdir)
    if args.only:      # in the order given (cheap ones first survive a time limit)
        by_name = {p.stem: p for p in paths}
        unknown = [n for n in args.only if n not in by_name]
        if unknown:
            parser.error(f"--only {' '.join(unknown)}: not among the structures "
                         f"({' '.join(by_name)})")
        paths = [by_name[n] for n in args.only]
    report: dict = {"model": args.model, "device": args.device,
                    "min_image_distance_A": args.min_image_distance}
    spacing = args.spacing
    if args.budget_s:
        runner = ModelRunner(args.model, device=args.device)
        settings = ScreenSettings(spacing=0.25, min_image_distance=args.min_image_distance)
        t0 = time.perf_counter()
        plans = {}
        for path in paths:
            order = OrderOptions("random", args.order_seed, 0.15, ORDER_MIN_DISTANCE)
            for name, atoms in read_screen_inputs(path, order):
                plans[name] = plan_screen(atoms, settings, runner)
                print(f"  {plans[name].describe('Li')}", flush=True)
        print(f"planned in {time.perf_counter() - t0:.1f} s; calibrating on {args.device}",
              flush=True)
        report["calibration"] = calibrate(runner, plans)
        per_batch = report["calibration"]["per_batch"]
        if args.batch_atoms or args.device == "cpu":   # the batch the screen will use
            default = args.batch_atoms or 64
            best = min(per_batch, key=lambda b: abs(b["batch_atoms"] - default))
        else:                                          # a GPU: the fastest batch measured
            best = min(per_batch, key=lambda b: b["us_per_atom_wall"])
            args.batch_atoms = best["batch_atoms"]
        rate = best["us_per_atom_wall"] * 1e-6
        report["batch_atoms"] = args.batch_atoms
        lm_rate = level_map_seconds_per_point()
        spacing, estimate = choose_spacing(plans, rate, lm_rate, args.budget_s)
        report.update({"level_map_us_per_point": lm_rate * 1e6,
                       "estimated_s": {str(k): round(v, 1) for k, v in estimate.items()},
                       "atom_evaluations_at_0.25": {k: p.atom_evaluations
                                                    for k, p in plans.items()}})
        print("estimated time per spacing: " + ", ".join(
            f"{s} A {estimate[s]:.0f} s" for s in SPACINGS) + f" -> {spacing} A", flush=True)
    report["spacing_A"] = spacing
    t0 = time.perf_counter()
    rows = screen(paths, outdir / "dilute", args, spacing,
                  ["--min-image-distance", str(args.min_image_distance)])
    report["dilute"] = {"wall_s": time.perf_counter() - t0, "rows": rows,
                        "verdict": verdict(rows)}
    print(f"\nAll structures, mobile ion >= {args.min_image_distance} A from its images, "
          f"grid {spacing} A, {args.device}:")
    table(rows)
    print(json.dumps(report["dilute"]["verdict"]))
    if args.primitive_binaries:
        simple = [p for p in paths if p.stem in simple_structures()]
        rows = screen(simple, outdir / "primitive", args, 0.25)
        report["primitive"] = {"rows": rows}
        print("\nSimple crystals in the default protocol (standard primitive cell, one mobile "
              "ion per cell, 0.25 A):")
        table(rows)
    (outdir / "ranking.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
