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

Check graphs, one rule for every export check: fixed seeds (a check gives the same
verdict on every run), and no check on the graph a program was traced on (a traced
program reproduces its own example whatever path it recorded). TorchScript modules are
scripted, not traced: the contract check (:class:`ionmd.export.contract.EagerReference`)
runs :func:`random_graphs` seed 1, the stage check (:func:`checked_stages`) seed 0, so
the two see different graphs. AOTInductor programs are traced on
:func:`ionmd.export.aoti.example_graph` seed 0 and checked on seeds 1-3 (whole model:
8, 13 and 3 atoms) and 4-5 (stages: 9 and 3 atoms), other sizes than the traced one
among them. (Measured: on 2-element models every one of these graphs holds both
species among its local half, and no node without an edge.)
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
    energy, features, _ = _stage_features(module, edge_vec, edge_index, species, num_stages)
    return energy, [int(h.shape[1]) for h in features]


def _stage_features(module, edge_vec, edge_index, species, num_stages: int):
    """Energies [N], the features h_0 .. h_{L-1} of every node read by stages 1..L, and
    each stage's output ``(h_k, e_k)``."""
    import torch

    n = int(species.shape[0])
    h = module.halo_embed(species)
    features, outputs = [], []
    energy = torch.zeros(n, dtype=torch.float64, device=edge_vec.device)
    for k in range(1, num_stages + 1):
        features.append(h)
        h, e_k = module.halo_stage(k, h, edge_vec, edge_index, species, n)
        outputs.append((h, e_k))
        energy = energy + e_k.to(torch.float64)
    return energy, features, outputs


def _local_part_error(module, edge_vec, edge_index, species, num_stages: int,
                      all_local=None) -> float:
    """Largest relative error of the stages when only the first half of the nodes is
    local: every stage gets the exact features of all nodes, the edges into the local
    nodes and ``nlocal``, and must reproduce the local rows of the all-local run.
    ``all_local``: that run's ``(features, outputs)`` (:func:`_stage_features`) where
    the caller has it, else it is run here."""
    if all_local is None:
        all_local = _stage_features(module, edge_vec, edge_index, species, num_stages)[1:]
    features, outputs = all_local
    m = max(1, int(species.shape[0]) // 2)
    keep = edge_index[0] < m
    worst = 0.0
    for k, (h, (h_all, e_all)) in enumerate(zip(features, outputs), start=1):
        h_loc, e_loc = module.halo_stage(k, h, edge_vec[keep], edge_index[:, keep], species, m)
        worst = max(worst, relative_error(e_loc, e_all[:m]))
        if k < len(features):
            worst = max(worst, feature_error(h_loc, h_all[:m]))
    return worst


def relative_error(got, ref) -> float:
    """The export checks' measure, value by value: ``max_i |got_i - ref_i| / (|ref_i| +
    typical)`` in float64, ``typical`` the median of ``|ref|`` (0 for empty tensors).

    Each value is held to its own size, with the typical one as a floor for values near
    zero: scaled by the largest value instead, one close pair's forces (a ZBL core at
    0.45 A: 800 eV/A beside 10 eV/A) hid errors a thousand times the tolerance in
    every other atom. ``typical`` falls back to the mean of ``|ref|`` where most values
    are zero, and to 1 (an absolute measure) where all are."""
    import torch

    if ref.numel() == 0:
        return 0.0
    # detached: float() of a tensor that requires grad warns on the user's terminal
    got, ref = got.detach(), ref.detach().to(torch.float64)
    size = ref.abs()
    typical = float(size.median())
    if typical == 0.0:
        typical = float(size.mean()) or 1.0
    return float(((got.to(torch.float64) - ref).abs() / (size + typical)).max())


def feature_error(got, ref) -> float:
    """``max|got - ref| / max(1, max|ref|)`` in float64 (0 for empty tensors): the measure
    for a model's inner features, whose float32 rounding follows their largest entries
    (7net-l3i5's fourth stage: entries of 165 beside a median of 0.4, summed in another
    order where fewer nodes are local, differ by 9e-4 in values of 1; value by value,
    :func:`relative_error`, that is 6e-4, beyond the 1e-4 allowed)."""
    import torch

    if ref.numel() == 0:
        return 0.0
    got, ref = got.detach(), ref.detach().to(torch.float64)
    scale = max(1.0, float(ref.abs().max()))
    return float((got.to(torch.float64) - ref).abs().max()) / scale


def check_stages(module, graphs, num_stages: int, *, rtol: float, reference=None) -> list[int]:
    """Compare the staged evaluation with ``forward`` on ``graphs``; raise if they differ.

    Two checks per graph: the stages chained on the whole graph equal the reference
    energies, and each stage run with only the first half of the nodes local (edges
    into them only, exact features of all nodes) gives the local rows of the whole-graph
    run, as it must under the halo exchange. TorchScript runs as in ``pair_style ionmd``
    (:func:`ionmd._ops.torchscript_as_the_plugin`: no executor optimisation, which also
    spares the seconds the executor spends specialising graphs it runs once).

    Parameters
    ----------
    module
        Eager or scripted module with the two stage methods.
    graphs
        Iterable of ``(edge_vec, edge_index, species)`` with every node local.
    num_stages
        ``L`` of the metadata.
    rtol
        Largest accepted :func:`relative_error` of the staged energies (and
        :func:`feature_error` of the features where only half the nodes are local).
    reference
        Module whose contract ``forward`` gives the reference energies (default:
        ``module`` itself), e.g. the family's unsplit wrapper.

    Returns
    -------
    list[int]
        The feature widths ``D_0 .. D_{L-1}`` (for the metadata).
    """
    import torch

    from ionmd._ops import torchscript_as_the_plugin

    reference = module if reference is None else reference
    worst, widths = 0.0, []
    for edge_vec, edge_index, species in graphs:
        with torch.no_grad(), torchscript_as_the_plugin():
            ref = reference(edge_vec, edge_index, species, int(species.shape[0]))
            got, features, outputs = _stage_features(module, edge_vec, edge_index, species,
                                                     num_stages)
            local = _local_part_error(module, edge_vec, edge_index, species, num_stages,
                                      (features, outputs))
        widths = [int(h.shape[1]) for h in features]
        worst = max(worst, relative_error(got, ref), local)
    if not worst <= rtol:
        raise ExportError(f"the per-layer stages of the export disagree with its forward by "
                          f"{worst:.3g} (relative, allowed {rtol:g}): the stage split is wrong")
    return widths


def random_graphs(elements: int, cutoff: float, dtype, *, seed: int = 0, count: int = 2):
    """Small random periodic-free graphs for export checks: 7 and 12 atoms in a cube of
    side 1.2 ``cutoff``, every pair within ``cutoff`` an edge, no two atoms closer than
    :func:`check_min_distance`."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    out = []
    for n in (7, 12)[:count]:
        pos = _spread_points(n, cutoff * 1.2, check_min_distance(cutoff), gen)
        species = torch.randint(0, elements, (n,), generator=gen)
        d = pos[None, :, :] - pos[:, None, :]
        r = d.norm(dim=-1)
        i, j = torch.nonzero((r < cutoff) & (r > 0), as_tuple=True)
        out.append((d[i, j].to(dtype), torch.stack([i, j]), species))
    return out


def check_min_distance(cutoff: float) -> float:
    """The closest two atoms of a check graph may be: 1.5 A (0.3 ``cutoff`` for short
    cutoffs). Closer pairs (uniform points put them at 0.45 A) drive a model far out of
    its training range, to per-atom energies of 1e6 eV, and their forces swamp the rest."""
    return min(1.5, 0.3 * float(cutoff))


def _spread_points(n: int, side: float, min_distance: float, gen):
    """``n`` uniform points in a cube of ``side``, each new one redrawn until it is
    ``min_distance`` from the others (random sequential addition: at the densities used,
    under a tenth of the space is excluded, so few draws are redrawn)."""
    import torch

    points = []
    for _ in range(1000 * n):
        trial = torch.rand(3, generator=gen, dtype=torch.float64) * side
        if all(float((trial - p).norm()) >= min_distance for p in points):
            points.append(trial)
            if len(points) == n:
                return torch.stack(points)
    raise ExportError(f"cannot place {n} atoms {min_distance:g} A apart in a {side:g} A cube")


def metadata_graphs(metadata, *, max_elements: int | None = None, seed: int = 0):
    """:func:`random_graphs` for a model of ``metadata``: its dtype, cutoff and elements
    (at most ``max_elements`` of them drawn); ``seed`` per check (module doc)."""
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
    """The exporters' last step for a staged TorchScript model: freeze the module keeping
    its stage methods, then :func:`checked_stages` on the frozen module, the one written."""
    import torch

    frozen = torch.jit.freeze(scripted, preserved_attrs=list(STAGE_METHODS))
    return checked_stages(frozen, metadata, reference)


def save_staged_torchscript(module, path: str | Path, metadata):
    """Freeze a scripted staged module (keeping its stage methods) and save it."""
    import torch

    from ionmd.export.contract import save_torchscript

    frozen = torch.jit.freeze(module.eval(), preserved_attrs=list(STAGE_METHODS))
    return save_torchscript(frozen, path, metadata)
