"""``ionmd run PROTOCOL STRUCTURE --model FILE`` and ``ionmd status DIR...|CAMPAIGN``."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from ionmd import strict_json
from ionmd.analysis.run_files import STATUS
from ionmd.cli.options import add_order_arguments, order_options, positive_int
from ionmd.errors import IonmdError
from ionmd.strict_json import nonfinite_to_null
from ionmd.structures.ordering_rank_note import RANKING_RECORD

"""``--order-model-rank``'s record, in the runs' protocol folder (:func:`_write_ranking`)."""


def _cmd_run(args: argparse.Namespace) -> None:
    from ionmd.protocols import get_protocol, run_all
    from ionmd.protocols.checks import check_protocol
    from ionmd.protocols.evscan import run_ev_scan, write_ev_scan
    from ionmd.protocols.plan import loading_notes, plan_runs_and_cell
    from ionmd.protocols.run_length import lengthening_runs
    from ionmd.structures import load_structure

    overrides: dict = {}
    for item in args.set or []:       # a later --set of a key wins, as repeated options do
        key, sep, value = item.partition("=")
        if not sep:
            raise IonmdError(f"--set expects KEY=VALUE (e.g. --set timestep_fs=2), got {item!r}")
        overrides[key.strip()] = value.strip()
    said = {key: f"--set {key}={value}" for key, value in overrides.items()}

    def put(key: str, value, how: str) -> None:
        if key in overrides:     # a flag won over --set whatever their order: say it instead
            raise IonmdError(f"{said[key]} and {how} both set {key}: give one of them")
        overrides[key], said[key] = value, how

    if args.temps:
        put("temperatures", args.temps, f"--temps {args.temps}")
    # the command line's time options go in under the names a campaign file uses, so that
    # ionmd.protocols.checks refuses a contradiction in one way for both
    for key, value in (("time", args.time), ("max_time", args.max_time),
                       ("until", args.until), ("check_every", args.check_every)):
        if value:
            put(key, value, f"--{key.replace('_', '-')} {value}")
    if args.replicas is not None:
        put("replicas", args.replicas, f"--replicas {args.replicas}")
    if args.supercell:
        put("supercell", None if args.supercell.lower() == "none" else args.supercell,
            f"--supercell {args.supercell}")
    if args.template:
        put("template", str(Path(args.template).resolve()), f"--template {args.template}")
    protocol = get_protocol(args.protocol, **overrides)
    if args.runner == "module" and args.np > 1:   # before any run directory is written
        raise IonmdError(f"--np {args.np} with --runner module: the module runner runs "
                         f"LAMMPS in this Python process on one rank; for --np {args.np} "
                         f"use --runner subprocess (mpirun -np N lmp)")
    if not args.dry_run:    # the cores of this machine: a dry run may plan for another
        _check_cores(args.np, args.oversubscribe)
    _check_model(args.model)    # before the structure: ordering a cell may take minutes
    # the protocol's own settings too (a run shorter than its discard was refused only
    # after the Ewald ordering and --order-model-rank's model energies: minutes)
    check_protocol(protocol)
    # a disordered file is ordered in the protocol's supercell, which then is not repeated
    loaded = load_structure(args.structure, dataclasses.replace(order_options(args),
                                                                supercell=protocol.supercell))
    name = args.name or Path(args.structure).stem
    loaded, ranking = _rank_orderings(loaded, args, protocol)
    if loaded.supercell:
        print(f"{args.structure}: supercell {loaded.supercell}")
    if loaded.ordering:
        print(f"{args.structure}: partial occupancies ordered ({loaded.ordering}): "
              f"{len(loaded.structure)} atoms, {loaded.structure.composition.reduced_formula}")
    atoms = loaded.structure
    if protocol.family == "ev":
        if ranking is not None:
            # the scan's folder accepted first (another cell in it is refused): not beside
            # a refusal, over the ranking of the cell the folder holds
            scan = write_ev_scan(protocol, atoms, args.model, args.output, name=name,
                                 in_run_cell=loaded.in_run_cell)
            _write_ranking(ranking, scan)
        res = run_ev_scan(protocol, atoms, args.model, args.output, name=name, nprocs=args.np,
                          runner=args.runner, dry_run=args.dry_run,
                          in_run_cell=loaded.in_run_cell)
        if res is None:
            print(f"E-V scan inputs ({protocol.n_points} volumes) written under {args.output}; "
                  "nothing run (--dry-run)")
            return None
        b0 = "n/a" if res.bulk_modulus_GPa is None else f"{res.bulk_modulus_GPa:.4g}"
        v0 = "n/a" if res.v0 is None else f"{res.v0:.6g}"
        print(f"E-V scan: B0 = {b0} GPa, V0 = {v0} A^3, "
              f"{'FAILED: ' + '; '.join(res.reasons) if res.failed else 'ok'}")
        rho = [("E compressed", res.spearman_compression_energy),
               ("dE/dV compressed", res.spearman_compression_derivative),
               ("E tensile", res.spearman_tension_energy)]
        print("  Spearman " + ", ".join(f"{k} {'n/a' if r is None else f'{r:+.3f}'}"
                                        for k, r in rho))
        if res.flags:
            print("  flags (ionmd's stricter checks, not the verdict): " + "; ".join(res.flags))
        from ionmd.errors import EXIT_FAILED

        return EXIT_FAILED if res.failed else None
    # run.json keeps what reading did to the file (printed once above and as a note); a
    # run folder this command made with a shorter --time is made longer (run_length)
    with lengthening_runs():
        runs, cell = plan_runs_and_cell(protocol, atoms, args.model, args.output, name=name,
                                        in_run_cell=loaded.in_run_cell,
                                        structure_notes=loading_notes(loaded, args.structure))
    # the runs were accepted: not beside a refusal; in their protocol's folder
    _write_ranking(ranking, runs[0].path.parent.parent if runs else None)
    print(f"{len(runs)} run(s) of {protocol.name} under {args.output}, {len(cell)} atoms "
          f"({cell.get_chemical_formula()}) each")
    for line in protocol.schedule_summary():
        print(f"  {line}")
    if args.dry_run:
        return
    statuses = run_all(runs, nprocs=args.np, progress=not args.no_progress,
                       runner=args.runner)
    _print_table(list(zip([r.path for r in runs], statuses)))
    return _exit_status(statuses)


def _rank_orderings(loaded, args: argparse.Namespace, protocol):
    """With ``--order-model-rank N``: ``loaded`` holding the candidate of lowest model
    energy (its ordering line says which, its Ewald rank and the spread), and the
    ``ModelRanking``; else ``loaded`` as it is and None (a file with nothing to order: a
    note says N ranked nothing). The run cell's checks come first
    (they depend on composition and lattice only, the same for every candidate): a cell
    refused there would otherwise be refused after minutes of model energies."""
    if not loaded.candidates:
        if args.order_model_rank > 1:       # asked for, and nothing to rank: said, not silent
            import sys

            from ionmd.structures.ordering_rank_note import nothing_to_rank

            note = nothing_to_rank(f"--order-model-rank {args.order_model_rank}",
                                   "the runs start from the file's own cell")
            print(f"ionmd: note: {args.structure} has {note}", file=sys.stderr)
        return loaded, None
    from ionmd.protocols.checks import check_cell
    from ionmd.protocols.prepare import as_atoms, run_cell
    from ionmd.screen.ordering_rank import rank_by_model

    if protocol.family != "ev":
        check_cell(protocol, run_cell(protocol, as_atoms(loaded.structure), loaded.in_run_cell))

    print(f"{args.structure}: ranking {len(loaded.candidates)} lowest-Ewald arrangements by "
          f"the model's energy ({len(loaded.structure)} atoms each)")
    return rank_by_model(loaded, args.model, args.order_model_rank)


def _write_ranking(ranking, folder: Path | None) -> None:
    """The ranking kept in ``folder/ordering_rank.json``: the folder of the runs that start
    from its cell, ``OUT/<name>/<model>/<protocol>`` (their ``T*K/r*`` below it; an E-V
    scan's own folder). One level up, in ``OUT/<name>/<model>``, every protocol's runs
    shared one file, so the last command's ranking (another protocol's, another cell) took
    the place of the record of runs it did not make; a campaign's cache there is another
    file (``ionmd.sweep.campaign_ranking.RANKING_FILE``)."""
    if ranking is None or folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    strict_json.write(folder / RANKING_RECORD, ranking.record())


def _check_model(given: str) -> None:
    """Refuse a ``--model`` that is no ionmd model file (its metadata unread), saying the
    ``ionmd export`` command where it names a model the exporters know (``7net-0``, a MACE
    ``.model`` file: :func:`ionmd.export.model_names.export_hint`).

    Raises
    ------
    IonmdError
        If ``given`` is no ionmd model file."""
    from ionmd.errors import ModelFileError
    from ionmd.export.contract import read_metadata
    from ionmd.export.model_names import export_hint

    try:
        read_metadata(given)
    except ModelFileError as exc:
        # a file without ionmd metadata is told its export command by read_metadata itself
        hint = None if "has no ionmd metadata" in str(exc) else export_hint(given)
        if hint is None and not Path(given).exists():
            hint = "give a model file written by `ionmd export ...` (see `ionmd export -h`)"
        raise IonmdError(f"{exc}; {hint}" if hint else str(exc)) from None


def _check_cores(ranks: int, oversubscribe: bool) -> None:
    """Refuse ``--np`` ranks x ``OMP_NUM_THREADS`` threads (each rank's: see
    :func:`ionmd.cores.omp_threads`) beyond the cores mpirun may use before anything
    starts, unless ``--oversubscribe`` (then a warning)."""
    import sys

    from ionmd.cores import mpi_cores, omp_threads, oversubscription

    why = oversubscription(ranks, omp_threads(), available=mpi_cores())
    if why is None:
        return
    if oversubscribe:
        print(f"warning: --oversubscribe: {why}", file=sys.stderr)
        return
    raise IonmdError(f"--np {ranks}: {why}. Lower --np (or OMP_NUM_THREADS), or add "
                     f"--oversubscribe if you mean it")


def _exit_status(statuses: list[dict]) -> int:
    """0 all completed, 3 a run failed, 4 a run interrupted (see RUN_EPILOG), with a line
    on stderr saying so."""
    import sys

    from ionmd.errors import EXIT_FAILED, EXIT_INTERRUPTED
    from ionmd.protocols.plan import exit_status

    code = exit_status(statuses)
    n_failed = sum(s.get("state") == "failed" for s in statuses)
    n_open = sum(s.get("state") not in ("failed", "completed") for s in statuses)
    if code == EXIT_FAILED:
        print(f"ionmd: {n_failed} of {len(statuses)} run(s) failed"
              + (f", {n_open} interrupted" if n_open else ""), file=sys.stderr)
    elif code == EXIT_INTERRUPTED:
        print(f"ionmd: {n_open} of {len(statuses)} run(s) interrupted; run the same command "
              f"again to resume", file=sys.stderr)
    return code


def _print_table(rows) -> None:
    from ionmd.protocols.stopping import describe_checks

    print(f"{'state':<11} {'step':>9} {'planned':>9}  run directory / reason")
    for path, st in rows:
        notes = [st["reason"]] if st.get("reason") else []
        if st.get("ev_failed"):     # an E-V scan that ran but failed the paper's verdict
            notes.append("E-V verdict FAILED: " + "; ".join(st.get("reasons") or []))
        checks = describe_checks(st)
        if checks:
            notes.append(checks)
        print(f"{st.get('state', '?'):<11} {st.get('step', 0):>9} {st.get('planned_steps', ''):>9}  "
              f"{path}" + "".join(f"\n{'':<32}{n}" for n in notes))


CAMPAIGN_SUFFIXES = (".toml", ".yaml", ".yml")


def _cmd_status(args: argparse.Namespace) -> None:
    campaigns = [d for d in args.dirs if Path(d).suffix.lower() in CAMPAIGN_SUFFIXES]
    if campaigns:       # a campaign: what `ionmd sweep status` prints
        if len(args.dirs) > 1:
            raise IonmdError("give one campaign file, or run directories, not both: "
                             f"{' '.join(args.dirs)}")
        from ionmd.cli.sweep import print_campaign_status

        return print_campaign_status(campaign_file=campaigns[0], as_json=args.json)
    rows = []
    for d in args.dirs:
        found = sorted(Path(d).rglob(STATUS))
        if not found:
            raise IonmdError(f"no run directories ({STATUS}) under {d}")
        for f in found:
            rows.append((f.parent, json.loads(f.read_text())))
    if args.json:
        # strict JSON: status files of older releases may hold NaN (strict_json)
        print(strict_json.dumps(nonfinite_to_null({str(p): s for p, s in rows}), indent=2))
    else:
        _print_table(rows)


RUN_EPILOG = (
    "Exit status: 0 every run completed; 1 an error (bad input, refused settings; message "
    "on stderr); 2 command-line usage; 3 a run failed for good (a LAMMPS error such as a "
    "non-finite energy, lost atoms, fix halt: not rerun); 4 no run failed but one was "
    "interrupted (LAMMPS killed, disk full): run the same command again to resume it; "
    "128+N ionmd was stopped by signal N (130 Ctrl-C, 143 SIGTERM): LAMMPS was stopped too "
    "and the run recorded as interrupted (resumable). status.json holds the state "
    "(pending, running, completed, failed, interrupted), the reason and the step.")


def register(subparsers) -> None:
    from ionmd.protocols.presets import PRESETS

    p = subparsers.add_parser("run", help="run a simulation protocol on a structure",
                              description="Presets: " + "; ".join(
                                  f"{k} ({v.source})" for k, v in PRESETS.items()),
                              epilog=RUN_EPILOG)
    p.add_argument("protocol", choices=list(PRESETS))
    p.add_argument("structure", help="structure file (CIF, POSCAR, extxyz, ...) or a shipped "
                                     "example name; partial occupancies need --order")
    p.add_argument("--model", required=True, help="ionmd model file (from `ionmd export`)")
    p.add_argument("--temps", help="temperatures, K: 500:900:100 (inclusive) or 500,700,900")
    p.add_argument("--time", help="duration per run: 110ps, 1ns, 500fs")
    p.add_argument("--until", metavar="RULE",
                   help="stopping rule: run in pieces until every criterion holds, e.g. "
                        "'D_rel_ci<=0.2,hops>=10' (quantities: D_rel_ci, hops, hops_per_ion, "
                        "msd_exponent, time_ps; see docs/convergence.md)")
    p.add_argument("--max-time", help="with --until: the most a run may last (default: the "
                                      "protocol's duration), e.g. 2ns")
    p.add_argument("--check-every", help="with --until: time between checks (default 20ps)")
    p.add_argument("--np", type=positive_int, default=1,
                   help="MPI ranks (mpirun -np N lmp); N x OMP_NUM_THREADS beyond the "
                        "available cores is refused unless --oversubscribe")
    p.add_argument("--oversubscribe", action="store_true",
                   help="run --np ranks even where they outnumber the available cores "
                        "(a warning instead of an error)")
    p.add_argument("--runner", choices=["subprocess", "module"], default="subprocess",
                   help="run LAMMPS as `lmp`/`mpirun -np N lmp` subprocesses (default) or "
                        "in this process through the `lammps` Python module (one rank)")
    # checked with the protocol's other values (ionmd.protocols.checks), so that
    # --replicas 0 is refused as --set replicas=0 and a campaign's replicas = 0 are
    p.add_argument("--replicas", metavar="N", help="runs per temperature (velocity seeds)")
    p.add_argument("--supercell", help="2x2x2, 8A (every width >= 8 A) or none")
    p.add_argument("--template", help="your own input template (string.Template placeholders)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override any protocol parameter, e.g. --set timestep_fs=2 (repeatable)")
    p.add_argument("--name", help="structure name in paths and run.json (default: file stem)")
    p.add_argument("-o", "--output", default="runs",
                   help="root of the run directories (default: runs)")
    p.add_argument("--dry-run", action="store_true",
                   help="write the run directories (E-V scan: its inputs), run nothing")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_order_arguments(p, model_rank=True)
    p.set_defaults(func=_cmd_run)

    s = subparsers.add_parser(
        "status", help="state of the run directories under DIR, or of a campaign's runs",
        description="Folders: every run directory (status.json) below them. A campaign "
                    "file (.toml, .yaml, .yml): every run of the campaign, as `ionmd sweep "
                    "status CAMPAIGN` prints it.")
    s.add_argument("dirs", nargs="+", metavar="PATH",
                   help="folders holding run directories, or one campaign file")
    s.add_argument("--json", action="store_true",
                   help="print the status files (a campaign: its rows) as JSON")
    s.set_defaults(func=_cmd_status)
