"""Per-layer stages of a model file, for the halo exchange of ``pair_style ionmd``.

A staged model file is an ordinary contract file (its ``forward`` still works in every
mode) whose TorchScript module also has two methods (docs/model-contract.md)::

    halo_embed(species: Tensor[N]) -> Tensor[N, D_0]
    halo_stage(k: int, h: Tensor[N, D_{k-1}], edge_vec: Tensor[E, 3],
               edge_index: Tensor[2, E], species: Tensor[N], nlocal: int)
        -> Tuple[Tensor[nlocal, D_k], Tensor[nlocal]]

``k`` runs over ``1..L``; stage ``k`` reads the features ``h`` of every node (local and
ghost), receives edges only into local nodes, and returns the next features and the
energy contribution of the local nodes. The atomic energy is the sum of the
contributions of all stages. The metadata says ``halo_stages=L`` and
``halo_widths=D_0 ... D_{L-1}`` (the widths exchanged; ``D_L`` is never exchanged).

This module holds the exporter-side helpers: the metadata entries, a pure-torch
evaluation of the stages on one graph (every node local, so the exchange is the
identity), and the check every staged export runs before it is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ionmd.errors import ExportError

STAGE_METHODS = ("halo_embed", "halo_stage")


def stage_metadata(widths: Sequence[int]) -> dict[str, str]:
    """Metadata entries of a staged model with ``len(widths)`` stages.

    Parameters
    ----------
    widths
        ``D_0 .. D_{L-1}``: per-atom feature width read by stage ``k = 1..L``.
    """
    widths = [int(w) for w in widths]
    if not widths or min(widths) < 1:
        raise ExportError(f"a staged model needs one positive feature width per stage, got {widths}")
    return {"halo_stages": str(len(widths)), "halo_widths": " ".join(map(str, widths))}


def run_stages(module, edge_vec, edge_index, species, num_stages: int):
    """Per-atom energies of every node of one graph, evaluated stage by stage.

    Every node is treated as local (``nlocal = N``), so no exchange is needed: this is
    what ``pair_style ionmd`` computes on one rank without ghosts, written in torch.

    Returns
    -------
    (torch.Tensor, list[int])
        Energies [N] in float64, and the widths ``D_0 .. D_{L-1}`` of the features read
        by stages ``1..L``.
    """
    energy, features = _stage_features(module, edge_vec, edge_index, species, num_stages)
    return energy, [int(h.shape[1]) for h in features]


def _stage_features(module, edge_vec, edge_index, species, num_stages: int):
    """Energies [N] and the features h_0 .. h_{L-1} of every node read by stages 1..L."""
    import torch

    n = int(species.shape[0])
    h = module.halo_embed(species)
    features = []
    energy = torch.zeros(n, dtype=torch.float64, device=edge_vec.device)
    for k in range(1, num_stages + 1):
        features.append(h)
        h, e_k = module.halo_stage(k, h, edge_vec, edge_index, species, n)
        energy = energy + e_k.to(torch.float64)
    return energy, features


def _local_part_error(module, edge_vec, edge_index, species, num_stages: int) -> float:
    """Largest relative error of the stages when only the first half of the nodes is
    local: every stage gets the exact features of all nodes, the edges into the local
    nodes and ``nlocal``, and must reproduce the local rows of the all-local run."""
    n = int(species.shape[0])
    m = max(1, n // 2)
    _, features = _stage_features(module, edge_vec, edge_index, species, num_stages)
    keep = edge_index[0] < m
    worst = 0.0
    for k in range(1, num_stages + 1):
        h_all, e_all = module.halo_stage(k, features[k - 1], edge_vec, edge_index, species, n)
        h_loc, e_loc = module.halo_stage(k, features[k - 1], edge_vec[keep], edge_index[:, keep],
                                         species, m)
        pairs = [(e_loc, e_all[:m])] + ([(h_loc, h_all[:m])] if k < num_stages else [])
        for got, ref in pairs:
            worst = max(worst, relative_error(got, ref))
    return worst


def relative_error(got, ref) -> float:
    """``max|got - ref| / max(1, max|ref|)`` in float64, the export checks' measure (0 for
    empty tensors)."""
    import torch

    if ref.numel() == 0:
        return 0.0
    ref = ref.to(torch.float64)
    scale = max(1.0, float(ref.abs().max()))
    return float((got.to(torch.float64) - ref).abs().max()) / scale


def check_stages(module, graphs, num_stages: int, *, rtol: float, reference=None) -> list[int]:
    """Compare the staged evaluation with ``forward`` on ``graphs``; raise if they differ.

    Two checks per graph: the stages chained on the whole graph equal the reference
    energies, and each stage run with only the first half of the nodes local (edges
    into them only, exact features of all nodes) gives the local rows of the whole-graph
    run, as it must under the halo exchange.

    Parameters
    ----------
    module
        Eager or scripted module with the two stage methods.
    graphs
        Iterable of ``(edge_vec, edge_index, species)`` with every node local.
    num_stages
        ``L`` of the metadata.
    rtol
        Largest accepted ``max|E_staged - E_ref| / max(1, max|E_ref|)``.
    reference
        Module whose contract ``forward`` gives the reference energies (default:
        ``module`` itself), e.g. the family's unsplit wrapper.

    Returns
    -------
    list[int]
        The feature widths ``D_0 .. D_{L-1}`` (for the metadata).
    """
    import torch

    reference = module if reference is None else reference
    worst, widths = 0.0, []
    for edge_vec, edge_index, species in graphs:
        with torch.no_grad():
            ref = reference(edge_vec, edge_index, species, int(species.shape[0]))
            got, widths = run_stages(module, edge_vec, edge_index, species, num_stages)
            local = _local_part_error(module, edge_vec, edge_index, species, num_stages)
        worst = max(worst, relative_error(got, ref), local)
    if not worst <= rtol:
        raise ExportError(f"the per-layer stages of the export disagree with its forward by "
                          f"{worst:.3g} (relative, allowed {rtol:g}): the stage split is wrong")
    return widths


def random_graphs(elements: int, cutoff: float, dtype, *, seed: int = 0, count: int = 2):
    """Small random periodic-free graphs (all pairs within ``cutoff``) for export checks."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    out = []
    for n in (7, 12)[:count]:
        pos = torch.rand((n, 3), generator=gen, dtype=torch.float64) * cutoff * 1.2
        species = torch.randint(0, elements, (n,), generator=gen)
        d = pos[None, :, :] - pos[:, None, :]
        r = d.norm(dim=-1)
        i, j = torch.nonzero((r < cutoff) & (r > 0), as_tuple=True)
        out.append((d[i, j].to(dtype), torch.stack([i, j]), species))
    return out


def metadata_graphs(metadata, *, max_elements: int | None = None, seed: int = 0):
    """:func:`random_graphs` for a model of ``metadata``: its dtype, cutoff and elements
    (at most ``max_elements`` of them drawn)."""
    import torch

    dtype = torch.float64 if metadata.dtype == "float64" else torch.float32
    elements = len(metadata.elements)
    if max_elements is not None:
        elements = min(elements, max_elements)
    return random_graphs(elements, metadata.cutoff, dtype, seed=seed)


def checked_stages(module, metadata, reference, *, max_elements: int | None = None):
    """Check a staged module (eager or scripted) against ``reference`` (the unstaged
    model) on random graphs and record its feature widths in ``metadata``; returns
    ``module``. ``max_elements`` caps the species drawn (eSEN: 8 of its 100)."""
    widths = check_stages(module, metadata_graphs(metadata, max_elements=max_elements),
                          metadata.num_layers, rtol=1e-11 if metadata.dtype == "float64" else 1e-4,
                          reference=reference)
    metadata.extra.update(stage_metadata(widths))
    return module


def checked_frozen_stages(scripted, metadata, reference):
    """The exporters' last step for a staged TorchScript model: :func:`checked_stages`,
    then freeze the module keeping its stage methods."""
    import torch

    checked_stages(scripted, metadata, reference)
    return torch.jit.freeze(scripted, preserved_attrs=list(STAGE_METHODS))


def save_staged_torchscript(module, path: str | Path, metadata):
    """Freeze a scripted staged module (keeping its stage methods) and save it."""
    import torch

    from ionmd.export.contract import save_torchscript

    frozen = torch.jit.freeze(module.eval(), preserved_attrs=list(STAGE_METHODS))
    return save_torchscript(frozen, path, metadata)
