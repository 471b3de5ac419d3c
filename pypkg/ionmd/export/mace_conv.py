"""MACE's edge convolution as one fused op (``torch.ops.ionmd.channelwise_conv``).

Every MACE interaction block computes its message as::

    mji = conv_tp(node_feats[sender], edge_attrs, tp_weights)    # e3nn, "uvu" paths
    message = scatter_sum(mji, receiver)

e3nn's generic tensor product materialises each edge's output (128 channels x 40
components for MACE-MP-0a's second layer) and several copies of it, and its backward of
column slices zero-fills whole tensors: at 1,000 atoms it is most of MACE's time and
memory. mace-torch lets a block hand both steps to one fused module (``conv_fusion``,
the hook its cuEquivariance and OpenEquivariance backends use);
:func:`fuse_mace_convolutions` installs :class:`ChannelwiseConv` there. Its terms, the
nonzero coefficients of every path with e3nn's normalisation included, are read off
the block's own e3nn tensor product by probing it with unit vectors, so the op
reproduces it whatever e3nn's conventions, and each fused block is checked against the
e3nn product at export. Off the CPU the module runs the e3nn product as before.
"""

from __future__ import annotations

import copy
from typing import Optional

import torch
from e3nn.util.jit import compile_mode

from ionmd.errors import ExportError
from ionmd.export.staged import feature_error


def irrep_offsets(irreps) -> list[tuple[int, int, int]]:
    """(start in the e3nn layout, multiplicity, 2l+1) of each irrep block."""
    out, start = [], 0
    for mul, ir in irreps:
        out.append((start, mul, ir.dim))
        start += mul * ir.dim
    return out


def channel_major_index(irreps, channels: int) -> torch.Tensor:
    """Index that reorders e3nn's [block][u][m] layout into [component][u]."""
    cols = []
    for start, _, dim in irrep_offsets(irreps):
        for m in range(dim):
            cols.extend(start + u * dim + m for u in range(channels))
    return torch.tensor(cols, dtype=torch.int64)


def fusable(tp) -> Optional[str]:
    """Why the e3nn tensor product ``tp`` cannot be fused, or None if it can."""
    if not all(hasattr(tp, a) for a in ("instructions", "irreps_in1", "irreps_in2", "irreps_out")):
        return f"{type(tp).__name__} is not an e3nn TensorProduct"
    muls = {mul for mul, _ in tp.irreps_in1} | {tp.irreps_out[i.i_out].mul for i in tp.instructions}
    if len(muls) != 1:
        return "its irreps do not all have the same number of channels"
    if any(mul != 1 for mul, _ in tp.irreps_in2):
        return "its second input has more than one channel per irrep"
    if any(i.connection_mode != "uvu" or not i.has_weight for i in tp.instructions):
        return "not every path is a weighted 'uvu' path"
    if getattr(tp, "shared_weights", True) or getattr(tp, "internal_weights", True):
        return "its weights are not given per edge"
    channels = muls.pop()
    if tp.weight_numel != len(tp.instructions) * channels:
        return "its weights are not one per path and channel"
    return None


def conv_terms(tp) -> tuple[torch.Tensor, torch.Tensor]:
    """Nonzero coefficients of ``tp``: index [K, 4] (path, in1 component, in2 component,
    out component, components counted in the channel-major layout) and value [K] (float64).

    Found by evaluating a float64 copy of ``tp`` on unit vectors of channel 0 (a "uvu"
    path does not mix channels), one per path and pair of input components."""
    tp64 = copy.deepcopy(tp).to(torch.float64)
    channels = tp.irreps_in1[0].mul
    in1, in2, out = (irrep_offsets(i) for i in (tp.irreps_in1, tp.irreps_in2, tp.irreps_out))
    comp1 = [sum(d for _, _, d in in1[:k]) for k in range(len(in1))]
    comp_out = [sum(d for _, _, d in out[:k]) for k in range(len(out))]
    probes = []      # (path, in1 component, in2 component) of each row
    for p, ins in enumerate(tp.instructions):
        for m1 in range(in1[ins.i_in1][2]):
            for m2 in range(in2[ins.i_in2][2]):
                probes.append((p, ins, m1, m2))
    x1 = torch.zeros(len(probes), tp.irreps_in1.dim, dtype=torch.float64)
    x2 = torch.zeros(len(probes), tp.irreps_in2.dim, dtype=torch.float64)
    w = torch.zeros(len(probes), tp.weight_numel, dtype=torch.float64)
    for row, (p, ins, m1, m2) in enumerate(probes):
        x1[row, in1[ins.i_in1][0] + m1] = 1.0          # channel 0 of component m1
        x2[row, in2[ins.i_in2][0] + m2] = 1.0
        w[row, p * channels] = 1.0
    with torch.no_grad():
        y = tp64(x1, x2, w)
    index, value = [], []
    tol = 1e-12 * float(y.abs().max()) if y.numel() else 0.0
    for row, (p, ins, m1, m2) in enumerate(probes):
        for blk, (start, _, dim) in enumerate(out):
            for m3 in range(dim):
                v = float(y[row, start + m3])            # channel 0 of component m3
                if abs(v) > tol:
                    index.append((p, comp1[ins.i_in1] + m1, in2[ins.i_in2][0] + m2,
                                  comp_out[blk] + m3))
                    value.append(v)
    return torch.tensor(index, dtype=torch.int64).reshape(-1, 4), torch.tensor(value, dtype=torch.float64)


def last_linear_layer(mlp) -> Optional[torch.Tensor]:
    """The matrix of an e3nn FullyConnectedNet's last layer (linear, no bias), normalisation
    included, in float64 whatever the model's dtype, or None for another radial MLP. (The
    normalisation divides by sqrt(width): in float32 it rounds unless the width is a
    perfect square, and the split check compares in float64.)"""
    from e3nn.nn import FullyConnectedNet

    if type(mlp) is not FullyConnectedNet or len(mlp) == 0 or mlp[-1].act is not None:
        return None
    last = mlp[-1]
    return (last.weight.double() / (last.h_in * last.var_in / last.var_out) ** 0.5).detach()


@compile_mode("script")
class ChannelwiseConv(torch.nn.Module):
    """``conv_fusion`` module: (node_feats, edge_attrs, tp_weights, edge_index) -> the
    message summed over each receiver's edges, in the layout of ``tp.irreps_out``.

    With ``linear`` (the radial MLP's last layer, [H, P * U]), ``tp_weights`` are the MLP's
    hidden features [E, H] (times MACE's cutoff, a per-edge factor that commutes with the
    linear layer) and the op applies ``linear`` one block of edges at a time, so the
    per-edge weights [E, P * U] are never stored (:func:`fuse_mace_convolutions`)."""

    def __init__(self, tp, linear: Optional[torch.Tensor] = None):
        super().__init__()
        self.tp = tp
        self.has_linear = linear is not None
        self.register_buffer("linear", linear if linear is not None else torch.zeros(0, 0))
        self.channels = int(tp.irreps_in1[0].mul)
        self.num_in = int(tp.irreps_in1.dim // self.channels)
        self.num_paths = len(tp.instructions)
        self.num_out = int(tp.irreps_out.dim // self.channels)
        index, value = conv_terms(tp)
        self.register_buffer("term_index", index)
        self.register_buffer("term_value", value)   # float64; the op casts to the features' dtype
        self.register_buffer("in_order", channel_major_index(tp.irreps_in1, self.channels))
        # e3nn position of each output column = inverse of its channel-major index
        self.register_buffer("out_order", torch.argsort(channel_major_index(tp.irreps_out, self.channels)))

    def forward(self, node_feats: torch.Tensor, edge_attrs: torch.Tensor,
                tp_weights: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        n = node_feats.shape[0]
        if node_feats.device.type != "cpu":
            w = tp_weights @ self.linear if self.has_linear else tp_weights
            mji = self.tp(node_feats[edge_index[0]], edge_attrs, w)
            message = torch.zeros((n, mji.shape[1]), dtype=mji.dtype, device=mji.device)
            return message.index_add(0, edge_index[1], mji)
        x = node_feats.index_select(1, self.in_order).view(n, self.num_in, self.channels)
        linear: Optional[torch.Tensor] = None
        w = tp_weights
        if self.has_linear:
            linear = self.linear              # tp_weights are the MLP's hidden features
        else:
            w = tp_weights.reshape(tp_weights.shape[0], self.num_paths, self.channels)
        out = torch.ops.ionmd.channelwise_conv(
            x, edge_attrs, w, edge_index[0], edge_index[1], n, self.num_out,
            self.term_index, self.term_value, linear)
        return out.view(n, self.num_out * self.channels).index_select(1, self.out_order)


NOT_FUSED = ("export without the fused ops (`ionmd export mace ... --no-fused`, "
             "`export_mace(..., fused=False)`) and report this")
"""What to do when a fused op does not reproduce MACE's (the message's end)."""


def convolution_mismatch(conv64: torch.nn.Module, tp64, linear: Optional[torch.Tensor] = None
                         ) -> Optional[str]:
    """Which of the message and its gradients (x, Y, weights) of the float64 ``conv_fusion``
    module ``conv64`` differs from the float64 e3nn product ``tp64`` + scatter by more than
    1e-12 on a random graph (None: none). With ``linear`` (the radial MLP's last layer, in
    the module), the weights are its hidden features and e3nn gets them @ linear."""
    gen = torch.Generator().manual_seed(0)
    n, e = 7, 23
    x = torch.randn(n, tp64.irreps_in1.dim, dtype=torch.float64, generator=gen, requires_grad=True)
    y = torch.randn(e, tp64.irreps_in2.dim, dtype=torch.float64, generator=gen, requires_grad=True)
    width = linear.shape[0] if linear is not None else tp64.weight_numel
    w = torch.randn(e, width, dtype=torch.float64, generator=gen, requires_grad=True)
    edge_index = torch.randint(0, n, (2, e), generator=gen)
    probe = torch.randn(n, tp64.irreps_out.dim, dtype=torch.float64, generator=gen)
    results = []
    for fn in (lambda: conv64(x, y, w, edge_index),
               lambda: torch.zeros(n, tp64.irreps_out.dim, dtype=torch.float64).index_add(
                   0, edge_index[1], tp64(x[edge_index[0]], y,
                                          w @ linear if linear is not None else w))):
        out = fn()
        results.append([out, *torch.autograd.grad((out * probe).sum(), (x, y, w))])
    for name, a, b in zip(("message", "d/dx", "d/dY", "d/dweights"), *results):
        if feature_error(a.detach(), b.detach()) > 1e-12:
            return name
    return None


def _check_against_e3nn(conv: ChannelwiseConv, tp, where: str) -> None:
    """Fused and e3nn message, and their gradients, on a random float64 graph (with the
    radial MLP's last layer inside the op: e3nn's product of the hidden features @ linear)."""
    conv64 = copy.deepcopy(conv).double()
    name = convolution_mismatch(conv64, copy.deepcopy(tp).double(),
                                conv64.linear if conv64.has_linear else None)
    if name is not None:
        raise ExportError(f"fused convolution of {where} differs from e3nn's tensor product "
                          f"({name}); {NOT_FUSED}")


def _split_radial_mlp(mlp, linear: torch.Tensor, where: str):
    """The MLP without its last layer, checked: its output @ linear is the MLP's output."""
    hidden = torch.nn.Sequential(*list(mlp)[:-1])
    feats = torch.randn(11, mlp.hs[0], dtype=torch.float64,
                        generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        a = copy.deepcopy(hidden).double()(feats) @ linear.double()
        b = copy.deepcopy(mlp).double()(feats)
    if feature_error(a.detach(), b.detach()) > 1e-12:
        raise ExportError(f"the radial MLP of {where} does not split at its last layer; "
                          f"{NOT_FUSED}")
    return hidden


def fusable_convolutions(model, skipped: list[str]):
    """(where, block, tp) of each interaction whose convolution ``tp`` is a plain
    channel-wise tensor product; why the others are not is appended to ``skipped``."""
    for k, block in enumerate(model.interactions):
        where = f"interaction {k} ({type(block).__name__})"
        tp = getattr(block, "conv_tp", None)
        why = "it already has a fused convolution" if hasattr(block, "conv_fusion") else \
            fusable(tp) if tp is not None else "it has no conv_tp"
        if why is not None:
            skipped.append(f"{where}: {why}")
            continue
        yield where, block, tp


def fuse_mace_convolutions(model) -> list[str]:
    """Replace each interaction's e3nn convolution by :class:`ChannelwiseConv` where it is a
    plain channel-wise tensor product; returns why each block was left alone (empty if all
    were fused). Where the radial MLP is e3nn's (a linear last layer), that layer moves into
    the op. Call after the model has its final dtype."""
    from ionmd import _ops

    _ops.load()
    skipped: list[str] = []
    for where, block, tp in fusable_convolutions(model, skipped):
        mlp = getattr(block, "conv_tp_weights", None)
        linear = last_linear_layer(mlp)
        conv = ChannelwiseConv(tp, linear.to(mlp[-1].weight.dtype) if linear is not None else None)
        _check_against_e3nn(conv, tp, where)
        if linear is not None:
            block.conv_tp_weights = _split_radial_mlp(mlp, linear, where)
        block.conv_tp = conv
        block.conv_fusion = "ionmd"
    return skipped
