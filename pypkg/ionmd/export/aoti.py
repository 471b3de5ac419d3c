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

from pathlib import Path

from ionmd.errors import ExportError
from ionmd.export.contract import ModelMetadata

AOTI_METADATA_KEY = "ionmd_metadata"
MIN_DIM = 2


def example_graph(metadata: ModelMetadata, *, natoms: int = 8, seed: int = 0,
                  device: str = "cpu"):
    """A small random periodic-free cluster with all pairs inside the cutoff as edges.

    Used to trace and to check packages; realistic distances (>= 1.5 A) keep every
    branch of the model on its production path.
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
    tol = 1e-9 if metadata.dtype == "float64" else 2e-4
    for natoms, seed in ((8, 1), (13, 2), (3, 3)):
        args = example_graph(metadata, natoms=natoms, seed=seed, device=device)
        got = package(*args)
        want = module(*args)
        for name, a, b in zip(("node energies", "edge gradients"), got, want):
            scale = max(1.0, float(b.abs().max()))
            err = float((a - b).abs().max()) / scale
            if not err <= tol:   # also catches NaN
                raise ExportError(
                    f"the AOTInductor package disagrees with the eager model on a "
                    f"{natoms}-atom graph ({name}: relative error {err:.2e} > {tol:.0e}); "
                    "the model has a data-dependent path that tracing cannot capture: "
                    "export it as TorchScript (--format torchscript) instead"
                )


def save_aoti(node_energy_model, path: str | Path, metadata: ModelMetadata, *,
              device: str = "cpu", check: bool = True) -> Path:
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
        Compare the package with the eager module on fresh graphs (recommended).

    Returns
    -------
    pathlib.Path
        The written package.
    """
    import torch
    from torch.fx.experimental.proxy_tensor import make_fx

    from ionmd.export.aoti_modules import EnergyAndEdgeGradient

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    module = EnergyAndEdgeGradient(node_energy_model).to(device).eval()
    for p in module.parameters():
        p.requires_grad_(False)
    args = example_graph(metadata, device=device)
    try:
        traced = make_fx(module, tracing_mode="symbolic", _allow_non_fake_inputs=True)(*args)
        nodes = torch.export.Dim("nodes", min=MIN_DIM)
        edges = torch.export.Dim("edges", min=MIN_DIM)
        program = torch.export.export(
            traced, args, dynamic_shapes=({0: edges}, {1: edges}, {0: nodes}, None),
            strict=False,
        )
        torch._inductor.aoti_compile_and_package(
            program, package_path=str(path),
            inductor_configs={"aot_inductor.metadata": {AOTI_METADATA_KEY: metadata.to_text()}},
        )
    except ExportError:
        raise
    except Exception as exc:   # torch raises many types; keep the cause attached
        raise ExportError(f"AOTInductor export failed: {type(exc).__name__}: {exc}") from exc
    if check:
        package = torch._inductor.aoti_load_package(str(path))
        _check_against_eager(package, module, metadata, device)
    return path
