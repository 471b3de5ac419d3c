"""MACE's self-connection as one linear map per element (``SpeciesLinear``).

Each MACE interaction has a ``skip_tp``: an e3nn ``FullyConnectedTensorProduct`` of the
node features with the node attributes, which in MACE are the one-hot element vector.
e3nn evaluates it for every node against all elements (its weights are [elements, U, V]
per path), so MACE-MP-0a's 89-element table costs ~89x the work of the one linear map
that a node's element selects. With one-hot attributes the tensor product is exactly
``x_l @ W_l[element]`` per irrep block (scalars times an irrep only rescale it), so
:class:`SpeciesLinear` keeps those maps, read from the tensor product by probing it with
unit vectors, and applies each element's map to that element's nodes only. It is checked
against e3nn's module at export (:func:`fuse_mace_self_connections`).
"""


import copy
import math
from typing import List, Optional, Tuple

import torch
from e3nn.util.jit import compile_mode

from ionmd.errors import ExportError
from ionmd.export.mace_conv import irrep_offsets
from ionmd.export.staged import feature_error


def fusable(tp) -> Optional[str]:
    """Why ``tp`` is not a self-connection that :class:`SpeciesLinear` can replace, or None."""
    needed = ("irreps_in1", "irreps_in2", "irreps_out", "instructions")
    if not all(hasattr(tp, a) for a in needed):
        return f"{type(tp).__name__} is not an e3nn tensor product"
    if any(ir.l != 0 or ir.p != 1 for _, ir in tp.irreps_in2):
        return "its second input is not scalars (element one-hot)"
    if not getattr(tp, "internal_weights", False) or not getattr(tp, "shared_weights", False):
        return "its weights are not its own"
    for ins in tp.instructions:
        if ins.connection_mode != "uvw" or not ins.has_weight:
            return f"a path of mode {ins.connection_mode!r} is not a weighted 'uvw' path"
        if tp.irreps_in1[ins.i_in1].ir != tp.irreps_out[ins.i_out].ir:
            return "a path changes the irrep"
    return None


@torch.no_grad()
def element_maps(tp) -> List[Tuple[int, int, torch.Tensor]]:
    """(input block, output block, W [elements, U, V]) of each path of ``tp``, with
    ``out[v, m] = sum_u x[u, m] W[element, u, v]``, read by evaluating ``tp`` on unit
    vectors (m = 0) for every element, so e3nn's normalisation is included as it is."""
    blocks_in, blocks_out = irrep_offsets(tp.irreps_in1), irrep_offsets(tp.irreps_out)
    num_elements = tp.irreps_in2.dim
    dtype = next(tp.parameters()).dtype
    maps = []
    for path, ins in enumerate(tp.instructions):
        start, mul, dim = blocks_in[ins.i_in1]
        out_start, out_mul, _ = blocks_out[ins.i_out]
        x = torch.zeros(num_elements * mul, tp.irreps_in1.dim, dtype=dtype)
        rows = torch.arange(num_elements * mul)
        x[rows, start + (rows % mul) * dim] = 1.0
        attrs = torch.eye(num_elements, dtype=dtype).repeat_interleave(mul, dim=0)
        # only this path: other paths into the same output block are read separately
        out = _single_path(tp, path)(x, attrs)
        cols = out_start + torch.arange(out_mul) * dim
        maps.append((ins.i_in1, ins.i_out, out[:, cols].reshape(num_elements, mul, out_mul)))
    return maps


def _single_path(tp, path: int):
    """A copy of ``tp`` with the weights of every path but ``path`` set to zero (e3nn keeps
    the weights of its paths one after the other, in the order of its instructions)."""
    one = copy.deepcopy(tp)
    with torch.no_grad():
        offset = 0
        for k, ins in enumerate(one.instructions):
            size = math.prod(ins.path_shape)
            if k != path:
                one.weight[offset:offset + size] = 0.0
            offset += size
    return one


class _PathMap(torch.nn.Module):
    """One path's maps W [elements, U, V] (a module, so TorchScript can iterate over them)."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.register_buffer("w", w.contiguous())


@compile_mode("script")
class SpeciesLinear(torch.nn.Module):
    """``tp(x, one_hot(element))`` as ``x_block @ W[element]`` per path, element by element."""

    in_start: List[int]
    in_mul: List[int]
    out_start: List[int]
    out_mul: List[int]
    dims: List[int]

    def __init__(self, tp):
        super().__init__()
        blocks_in, blocks_out = irrep_offsets(tp.irreps_in1), irrep_offsets(tp.irreps_out)
        self.in_start, self.in_mul, self.out_start, self.out_mul, self.dims = [], [], [], [], []
        paths = []
        for i_in, i_out, w in element_maps(tp):
            self.in_start.append(blocks_in[i_in][0])
            self.in_mul.append(blocks_in[i_in][1])
            self.dims.append(blocks_in[i_in][2])
            self.out_start.append(blocks_out[i_out][0])
            self.out_mul.append(blocks_out[i_out][1])
            paths.append(_PathMap(w))
        self.paths = torch.nn.ModuleList(paths)
        self.dim_out = int(tp.irreps_out.dim)

    def forward(self, x: torch.Tensor, node_attrs: torch.Tensor) -> torch.Tensor:
        element = node_attrs.argmax(dim=1)
        out = x.new_zeros((x.shape[0], self.dim_out))
        present: List[int] = torch.unique(element).tolist()
        for e in present:
            idx = (element == e).nonzero().squeeze(1)
            xe = x.index_select(0, idx)
            ye = x.new_zeros((idx.shape[0], self.dim_out))
            for k, path in enumerate(self.paths):
                d, u, v = self.dims[k], self.in_mul[k], self.out_mul[k]
                block = xe.narrow(1, self.in_start[k], u * d).reshape(-1, u, d).transpose(1, 2)
                y = torch.matmul(block, path.w[e]).transpose(1, 2).reshape(-1, v * d)
                ye.narrow(1, self.out_start[k], v * d).add_(y)
            out.index_copy_(0, idx, ye)
        return out


def _check_against_e3nn(fused: SpeciesLinear, tp, where: str) -> None:
    gen = torch.Generator().manual_seed(0)
    dtype = next(tp.parameters()).dtype
    n = 3 * tp.irreps_in2.dim
    x = torch.randn(n, tp.irreps_in1.dim, generator=gen, dtype=torch.float64).to(dtype)
    attrs = torch.nn.functional.one_hot(torch.randperm(n, generator=gen) % tp.irreps_in2.dim,
                                        tp.irreps_in2.dim).to(dtype)
    with torch.no_grad():
        err = feature_error(fused(x, attrs), tp(x, attrs))
    tol = 1e-10 if dtype == torch.float64 else 1e-4
    if not err <= tol:
        raise ExportError(f"the per-element self-connection of {where} disagrees with e3nn's "
                          f"tensor product by {err:.2e} (relative); export with --no-fused")


def fuse_mace_self_connections(model) -> Tuple[int, List[str]]:
    """Replace each interaction's ``skip_tp`` by :class:`SpeciesLinear`. Returns how many
    were replaced and why others were left alone (blocks whose self-connection is not a
    product with the node attributes, such as the attention block's none or the non-linear
    block's plain linear, are not counted). Call after the model has its final dtype."""
    fused_count, skipped = 0, []
    for k, block in enumerate(model.interactions):
        where = f"interaction {k} ({type(block).__name__})"
        tp = getattr(block, "skip_tp", None)
        if tp is None or not (hasattr(tp, "irreps_in2") or isinstance(tp, SpeciesLinear)):
            continue
        why = "it is already per element" if isinstance(tp, SpeciesLinear) else fusable(tp)
        if why is not None:
            skipped.append(f"{where}: self-connection: {why}")
            continue
        fused = SpeciesLinear(tp)
        _check_against_e3nn(fused, tp, where)
        block.skip_tp = fused
        fused_count += 1
    return fused_count, skipped
