"""AOTInductor packaging (``.pt2``) of a contract model, for ``pair_style ionmd``.

An exporter hands over a *node-energy module*::

    forward(edge_vec: Tensor[E, 3], edge_index: Tensor[2, E] (int64),
            species: Tensor[N] (int64)) -> Tensor[N]   # per-node energies, eV

with the edge convention of :mod:`ionmd.export.contract` (a contract module becomes
one through :class:`ionmd.export.aoti_modules.NodeEnergy`). AOTInductor code has no
autograd at run time, so the packaged program computes the forces itself::

    forward(edge_vec, edge_index, species, nlocal: Tensor[1] (int64))
        -> (node_energy: Tensor[N], edge_grad: Tensor[E, 3])

where ``edge_grad = d(sum of the first nlocal node energies) / d edge_vec``. The
``nlocal`` mask is a tensor, not a slice, so the program has no data-dependent shape.

``torch.export`` cannot trace ``torch.autograd.grad`` directly (torch 2.13), so the
energy-and-gradient function is first traced to plain aten ops with ``make_fx``
(symbolic shapes), then exported with dynamic ``N`` and ``E``. Export specialises
sizes 0 and 1, hence both dimensions have a minimum of 2; ``pair_style ionmd`` pads
smaller graphs with two masked dummy nodes joined by two edges. Because tracing
records one path through the model, every package is checked against the eager
module on graphs of other sizes before it is accepted.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ionmd.errors import ExportError
from ionmd.export.contract import ModelMetadata, check_tolerance

AOTI_METADATA_KEY = "ionmd_metadata"
MIN_DIM = 2


def example_graph(metadata: ModelMetadata, *, natoms: int = 8, seed: int = 0,
                  device: str = "cpu"):
    """A small random periodic-free cluster with all pairs inside the cutoff as edges.

    Used to trace (seed 0) and to check packages (other seeds: the check-graph rule of
    :mod:`ionmd.export.staged`); realistic distances (>= 1.5 A) keep every branch of the
    model on its production path.
    """
    import numpy as np
    import torch

    rng = np.random.default_rng(seed)
    dtype = torch.float64 if metadata.dtype == "float64" else torch.float32
    side = (12.0 * natoms) ** (1.0 / 3.0)   # ~12 A^3 per atom, like a dense solid
    pos = []
    for _ in range(100000):
        trial = rng.uniform(0.0, side, 3)
        if all(np.linalg.norm(trial - p) > 1.5 for p in pos):
            pos.append(trial)
            if len(pos) == natoms:
                break
    else:
        raise RuntimeError(f"could not place {natoms} atoms 1.5 A apart in a {side:.1f} A box")
    pos = np.array(pos)
    diff = pos[None, :, :] - pos[:, None, :]          # x_j - x_i
    dist = np.linalg.norm(diff, axis=-1)
    i, j = np.nonzero((dist < metadata.cutoff) & (dist > 0))
    species = np.arange(natoms) % len(metadata.elements)
    return (
        torch.tensor(diff[i, j], dtype=dtype, device=device),
        torch.tensor(np.stack([i, j]), dtype=torch.int64, device=device),
        torch.tensor(species, dtype=torch.int64, device=device),
        torch.tensor([natoms - 1], dtype=torch.int64, device=device),
    )


def _check_against_eager(package, module, metadata: ModelMetadata, device: str) -> None:
    """Run the package and the eager energy-and-gradient module on graphs of other sizes
    (and a masked last node) and raise ExportError where an energy, edge gradient or force
    differs (:func:`ionmd.export.contract.outputs_error`)."""
    from ionmd.export.contract import outputs_error

    tol = check_tolerance(metadata)
    for natoms, seed in ((8, 1), (13, 2), (3, 3)):
        args = example_graph(metadata, natoms=natoms, seed=seed, device=device)
        err = outputs_error(package(*args), module(*args), args[1])
        if not err <= tol:   # also catches NaN
            raise ExportError(
                f"the AOTInductor package disagrees with the eager model on a "
                f"{natoms}-atom graph (relative error of an energy or force {err:.2e} > "
                f"{tol:.0e})")


def compile_program(module, args, dynamic_shapes, metadata: ModelMetadata,
                    output_dir: Path) -> list:
    """AOTInductor-compile one program (``module`` called on ``args``) for packaging.

    The module is traced to aten ops with symbolic shapes first (so it may call
    ``torch.autograd.grad``), then exported with ``dynamic_shapes`` (one dict per
    argument, as ``torch.export`` takes them) and compiled into ``output_dir``, a
    directory of its own: inductor names generated files by a hash of the code, and
    programs that differ only in their weights (eSEN's blocks) have the same code, so
    in one shared directory they overwrite each other's files. ``metadata`` travels
    with the program. Returns the generated files, for :func:`package_programs`.
    """
    import torch
    from torch.fx.experimental.proxy_tensor import make_fx

    output_dir.mkdir(parents=True, exist_ok=True)
    traced = make_fx(module, tracing_mode="symbolic", _allow_non_fake_inputs=True)(*args)
    program = torch.export.export(traced, args, dynamic_shapes=dynamic_shapes, strict=False)
    options = {"aot_inductor.package": True,
               "aot_inductor.output_path": str(output_dir),
               "aot_inductor.metadata": {AOTI_METADATA_KEY: metadata.to_text()}}
    if metadata.extra.get("kernels", "e3nn") != "e3nn":
        # cuEquivariance's reference method keeps one 0-d coefficient per path; inlined
        # as scalars, torch 2.13's Inductor fails to lower them (aten.unsqueeze of a
        # Constant). Kept as tensors, they compile.
        options["always_keep_tensor_constants"] = True
    return torch._inductor.aot_compile(program.module(check_guards=False), args,
                                       options=options)


def package_programs(path: Path, programs: dict) -> None:
    """Write compiled programs (name -> files of :func:`compile_program`) into one ``.pt2``;
    the runtime loads each by name (``AOTIModelPackageLoader(path, name)``)."""
    from torch._inductor.package import package_aoti

    package_aoti(str(path), programs)


def graph_dims():
    """The dynamic node and edge dimensions every ionmd program is exported with."""
    import torch

    return torch.export.Dim("nodes", min=MIN_DIM), torch.export.Dim("edges", min=MIN_DIM)


def save_aoti(node_energy_model, path: str | Path, metadata: ModelMetadata, *,
              device: str = "cpu", check: bool = True, extra_programs=None,
              extra_check=None) -> Path:
    """Package a node-energy module as an AOTInductor ``.pt2`` model file.

    Parameters
    ----------
    node_energy_model
        Eager ``torch.nn.Module`` following the node-energy signature (module doc),
        in the dtype named by ``metadata.dtype``.
    path
        Output file; ``.pt2`` is the conventional suffix.
    metadata
        Stored inside the package and read back by ``pair_style ionmd``.
    device
        ``"cpu"`` or ``"cuda"``: AOTInductor compiles for one device kind, so a
        GPU package must be exported on a machine with the GPU.
    check
        Compare the package with the eager module on fresh graphs (recommended); a
        package that differs (or fails to load or run) is removed and ExportError raised.
    extra_programs
        Optional callable ``(args, workdir) -> {name: files}`` compiling more programs
        (e.g. per-layer stages) into the same package, given the example graph ``args``
        and a scratch directory.
    extra_check
        Optional callable ``(package path)`` checking those programs, as ``check``.

    The package is written beside ``path`` and replaces it only once every check passed
    (:mod:`ionmd.export.written_whole`): a failed export leaves a model file at ``path``
    as it was (a re-export is the ordinary way to replace one; before, a package that
    failed its check was written over it and removed, the runs' model with it).

    Returns
    -------
    pathlib.Path
        The written package.
    """
    import torch

    from ionmd.export.aoti_modules import EnergyAndEdgeGradient

    from ionmd.export.written_whole import left_as_it_was, written_whole

    path = Path(path)
    module = EnergyAndEdgeGradient(node_energy_model).to(device).eval()
    for p in module.parameters():
        p.requires_grad_(False)
    args = example_graph(metadata, device=device)
    with written_whole(path) as scratch:
        try:
            nodes, edges = graph_dims()
            with tempfile.TemporaryDirectory(prefix="ionmd-aoti-") as workdir:
                programs = {"model": compile_program(module, args,
                                                     ({0: edges}, {1: edges}, {0: nodes},
                                                      None),
                                                     metadata, Path(workdir) / "model")}
                if extra_programs is not None:
                    programs.update(extra_programs(args, Path(workdir)))
                package_programs(scratch, programs)
        except ExportError as exc:
            raise ExportError(f"{exc}: {left_as_it_was(path)}") from exc
        except Exception as exc:   # torch raises many types; keep the cause attached
            raise ExportError(f"AOTInductor export failed: {type(exc).__name__}: {exc}: "
                              f"{left_as_it_was(path)}") from exc
        if check:
            kept_if_checked(scratch, lambda: _check_against_eager(
                torch._inductor.aoti_load_package(str(scratch)), module, metadata, device),
                replaces=path)
        if extra_check is not None:
            kept_if_checked(scratch, lambda: extra_check(scratch), replaces=path)
    return path


def kept_if_checked(path: Path, check, replaces: Path | None = None) -> None:
    """Run ``check()`` on the package written at ``path``; where it fails in any way (a
    mismatch, or a program that raises), the package is removed and ExportError says
    why, and that the file it was to replace (``replaces``) is as it was. (The stage
    check removed it on a mismatch only: a stage program that raised left the package on
    disk.)"""
    from ionmd.export.written_whole import left_as_it_was

    try:
        check()
    except Exception as exc:
        Path(path).unlink(missing_ok=True)     # a package that fails its check is not kept
        why = str(exc) if isinstance(exc, ExportError) else (
            f"the AOTInductor package fails on a test graph ({type(exc).__name__}: {exc}) "
            "although the eager model runs")
        kept = f" ({left_as_it_was(replaces)})" if replaces is not None else ""
        raise ExportError(
            f"{why}; the package {Path(path).name} was removed{kept}: the model has a path "
            "that tracing cannot capture or that compiles wrongly; export it as TorchScript "
            "(--format torchscript) where its family has that format, else report it") from exc


def stage_program_name(k: int, vjp: bool = False) -> str:
    """Name of stage ``k``'s forward (or vector-Jacobian) program inside a package."""
    return f"stage_{k}_vjp" if vjp else f"stage_{k}"


def stage_programs(stages, num_stages: int, metadata: ModelMetadata, workdir: Path, *,
                   device: str = "cpu") -> dict:
    """Compile a staged model's per-layer programs (docs/model-contract.md, "Stages in an
    AOTInductor package"): ``halo_embed``, and for ``k = 1..L`` the forward ``stage_k``
    and its vector-Jacobian product ``stage_k_vjp``.

    ``stages`` has ``halo_embed(species)`` and ``stage(k, h, edge_vec, edge_index,
    species) -> (h_k, node energies)`` on all rows. The vector-Jacobian programs also
    return the stage's node energies: ``metadata`` must carry :func:`stage_vjp_metadata`
    (it is written into every program).
    """
    import torch

    from ionmd.export.aoti_modules import StageEmbed, StageForward, StageVJP

    edge_vec, edge_index, species, nlocal = _stage_example_graph(metadata, device)
    nodes, edges = graph_dims()
    graph_shapes = ({0: edges}, {1: edges}, {0: nodes})
    programs = {"halo_embed": compile_program(StageEmbed(stages), (species,), ({0: nodes},),
                                              metadata, workdir / "halo_embed")}
    with torch.no_grad():
        h = stages.halo_embed(species).clone()
    for k in range(1, num_stages + 1):
        with torch.no_grad():
            h_next = stages.stage(k, h, edge_vec, edge_index, species)[0].clone()
        name, vjp = stage_program_name(k), stage_program_name(k, vjp=True)
        programs[name] = compile_program(
            StageForward(stages, k), (h, edge_vec, edge_index, species),
            ({0: nodes},) + graph_shapes, metadata, workdir / name)
        programs[vjp] = compile_program(
            StageVJP(stages, k), (h, edge_vec, edge_index, species, nlocal, torch.ones_like(h_next)),
            ({0: nodes},) + graph_shapes + (None, {0: nodes}), metadata, workdir / vjp)
        h = h_next
    return programs


def _stage_example_graph(metadata: ModelMetadata, device: str):
    """The example graph the stage programs are traced on: its node and edge counts differ
    from every feature width (and from 1-3). Tracing gives input sizes of equal value one
    symbol ("duck sizing"), so with N == D a reshape of h [N, D] fixes N for good."""
    widths = {int(w) for w in metadata.extra["halo_widths"].split()}
    widths |= {int(metadata.extra["stage_last_width"]), 1, 2, 3}
    for natoms in range(8, 64):
        graph = example_graph(metadata, natoms=natoms, device=device)
        if natoms not in widths and int(graph[0].shape[0]) not in widths:
            return graph
    raise ExportError(f"no example graph whose sizes differ from the feature widths {sorted(widths)}")


def save_staged_aoti(node_energy_model, stages, num_stages: int, path: str | Path,
                     metadata: ModelMetadata, *, device: str = "cpu") -> Path:
    """:func:`save_aoti` with the per-layer stage programs of :func:`stage_programs`,
    each checked against the eager stages (:func:`check_stage_programs`); a package that
    fails the check is removed, a file at ``path`` as it was. ``metadata`` must already
    carry the stages' widths (:func:`ionmd.export.staged.checked_stages`)."""
    stage_vjp_metadata(stages, num_stages, metadata)
    return save_aoti(node_energy_model, path, metadata, device=device,
                     extra_programs=lambda args, workdir: stage_programs(
                         stages, num_stages, metadata, workdir, device=device),
                     extra_check=lambda written: check_stage_programs(
                         written, stages, num_stages, metadata, device=device))


def stage_vjp_metadata(stages, num_stages: int, metadata: ModelMetadata) -> None:
    """Record in ``metadata`` that the ``stage_k_vjp`` programs return the stage's node
    energies (``stage_vjp_energies=1``) and the width ``D_L`` of the last stage's output
    (``stage_last_width``, the width of that program's ``g_h``), measured on the example
    graph. The runtime then runs the last stage once per step instead of twice."""
    import torch

    edge_vec, edge_index, species, _ = example_graph(metadata)
    with torch.no_grad():
        h = stages.halo_embed(species)
        for k in range(1, num_stages + 1):
            h, _ = stages.stage(k, h, edge_vec, edge_index, species)
    metadata.extra.update({"stage_vjp_energies": "1", "stage_last_width": str(h.shape[1])})


def check_stage_programs(path: Path, stages, num_stages: int, metadata: ModelMetadata,
                         device: str = "cpu") -> None:
    """Compare every stage program of a package with the eager stages on fresh graphs
    (tracing records one path through the model, as for the whole-model program), as the
    TorchScript stages are compared (:func:`ionmd.export.staged.check_stages`): node
    energies value by value (:func:`ionmd.export.staged.relative_error`), features and
    the stage gradients by :func:`ionmd.export.staged.feature_error`. (All were compared
    by feature_error, which scales by the largest entry: an energy off by 100x the
    tolerance beside one large energy passed.)"""
    import torch

    from ionmd.export.aoti_modules import StageEmbed, StageForward, StageVJP

    from ionmd.export.staged import feature_error, relative_error

    tol = check_tolerance(metadata)
    load = torch._inductor.package.load_package
    programs = {name: load(str(path), name) for name in
                ["halo_embed"] + [stage_program_name(k, v) for k in range(1, num_stages + 1)
                                  for v in (False, True)]}
    for natoms, seed in ((9, 4), (3, 5)):
        edge_vec, edge_index, species, nlocal = example_graph(metadata, natoms=natoms, seed=seed,
                                                              device=device)
        pairs = [("halo_embed", programs["halo_embed"](species), StageEmbed(stages)(species))]
        h = pairs[0][2]
        for k in range(1, num_stages + 1):
            inputs = (h, edge_vec, edge_index, species)
            want = StageForward(stages, k)(*inputs)
            g_h = torch.linspace(-1, 1, want[0].numel(), dtype=h.dtype,
                                 device=device).reshape(want[0].shape)
            g_h[int(nlocal):] = 0
            pairs.append((stage_program_name(k), programs[stage_program_name(k)](*inputs), want))
            pairs.append((stage_program_name(k, True),
                          programs[stage_program_name(k, True)](*inputs, nlocal, g_h),
                          StageVJP(stages, k)(*inputs, nlocal, g_h)))
            h = want[0].detach()
        for name, got, ref in pairs:
            got = got if isinstance(got, (list, tuple)) else [got]
            ref = ref if isinstance(ref, (list, tuple)) else [ref]
            # the node energies are each program's last output (StageForward: h_k, e_k;
            # StageVJP: g_h, g_vec, e_k); halo_embed returns features only
            last = len(ref) - 1 if name != "halo_embed" else -1
            for i, (a, b) in enumerate(zip(got, ref)):
                err = relative_error(a, b) if i == last else feature_error(a, b)
                if not err <= tol:
                    raise ExportError(
                        f"the AOTInductor program {name!r} disagrees with the eager stage on a "
                        f"{natoms}-atom graph (relative error {err:.2e} > {tol:.0e})")
