"""``ionmd`` command line: a thin layer over the Python API."""

from __future__ import annotations

import argparse
import sys

from ionmd.errors import IonmdError


def _cmd_export_sevennet(args: argparse.Namespace) -> None:
    from ionmd.export import export_sevennet

    path = export_sevennet(args.model, args.output, dtype=args.dtype, modal=args.modal,
                           format=args.format, device=args.device, stages=args.stages)
    print(f"wrote {path}")


def _cmd_export_mace(args: argparse.Namespace) -> None:
    from ionmd.export import export_mace

    path = export_mace(args.model, args.output, dtype=args.dtype, head=args.head,
                       format=args.format, device=args.device, stages=args.stages)
    print(f"wrote {path}")


def _cmd_export_esen(args: argparse.Namespace) -> None:
    from ionmd.export.esen import export_esen

    path = export_esen(args.checkpoint, args.output, dtype=args.dtype, task=args.task,
                       device=args.device)
    print(f"wrote {path}")


def _cmd_inspect(args: argparse.Namespace) -> None:
    from ionmd.export import read_metadata

    meta = read_metadata(args.file)
    width = max(len(k) for k in meta)
    for key, value in meta.items():
        print(f"{key:<{width}}  {value}")


def _cmd_plugin_path(args: argparse.Namespace) -> None:
    from ionmd._plugin import plugin_path

    print(plugin_path())


def _add_format_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("torchscript", "aoti"), default="torchscript",
                        help="TorchScript (.pt, default) or an AOTInductor package (.pt2, "
                             "compiled ahead of time; takes minutes to export)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="device an AOTInductor package is compiled for (default: cpu)")
    parser.add_argument("--stages", action=argparse.BooleanOptionalAction, default=True,
                        help="also write one stage per interaction layer (TorchScript only), "
                             "for the per-layer halo exchange on several MPI ranks "
                             "(default: on; --no-stages for the plain contract only)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ionmd", description="ML interatomic potentials in LAMMPS for solid-state electrolytes"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    export = sub.add_parser("export", help="export a model to an ionmd model file")
    families = export.add_subparsers(dest="family", required=True)
    sn = families.add_parser("sevennet", help="SevenNet checkpoint or pretrained name")
    sn.add_argument("--model", default="7net-0",
                    help="pretrained name in the sevenn wheel (7net-0, 7net-l3i5, 7net-mf-0) "
                         "or a checkpoint path (default: 7net-0)")
    sn.add_argument("-o", "--output", required=True, help="model file to write (.pt)")
    sn.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    sn.add_argument("--modal", default=None, help="fidelity of a multi-fidelity model (e.g. PBE)")
    _add_format_options(sn)
    sn.set_defaults(func=_cmd_export_sevennet)
    es = families.add_parser("esen", help="fairchem eSEN checkpoint (energy-conserving)")
    es.add_argument("checkpoint", help="fairchem 2 inference checkpoint (.pt)")
    es.add_argument("-o", "--output", required=True, help="model file to write (.pt2)")
    es.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    es.add_argument("--task", default=None,
                    help="fairchem task (dataset) name, for models trained on several")
    es.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                    help="device the AOTInductor package is compiled for (default: cpu)")
    es.set_defaults(func=_cmd_export_esen)

    mc = families.add_parser("mace", help="MACE .model file (mace_run_train, foundation models)")
    mc.add_argument("model", help="MACE model file")
    mc.add_argument("-o", "--output", required=True, help="model file to write (.pt or .pt2)")
    mc.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    mc.add_argument("--head", default=None,
                    help="head of a multi-head model (default: the head named 'Default')")
    _add_format_options(mc)
    mc.set_defaults(func=_cmd_export_mace)

    inspect = sub.add_parser("inspect", help="print the metadata of a model file")
    inspect.add_argument("file")
    inspect.set_defaults(func=_cmd_inspect)

    plugin = sub.add_parser("plugin-path", help="print the path of ionmdplugin.so")
    plugin.set_defaults(func=_cmd_plugin_path)

    from ionmd import cli_analyze, cli_bench, cli_run, cli_screen, cli_sweep

    cli_analyze.register(sub)
    cli_bench.register(sub)
    cli_screen.register(sub)
    cli_run.register(sub)
    cli_sweep.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (:mod:`ionmd.errors`): 0 done, 1 an error
    (message on stderr), 2 usage (argparse exits itself), 3 a run failed (``screen``: every
    input), 4 a run was interrupted (resumable), 128 + N stopped by signal N."""
    from ionmd.errors import EXIT_ERROR, EXIT_OK, EXIT_SIGNAL_BASE, RunInterrupted

    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except RunInterrupted as exc:
        print(f"ionmd: {exc}", file=sys.stderr)
        return EXIT_SIGNAL_BASE + exc.signum
    except IonmdError as exc:
        print(f"ionmd: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:       # Ctrl-C outside a run (reading inputs, planning)
        print("ionmd: interrupted", file=sys.stderr)
        return EXIT_SIGNAL_BASE + 2
    return EXIT_OK if code is None else int(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
