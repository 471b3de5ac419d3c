"""MACE's edge convolution and symmetric contraction as cuEquivariance polynomials
(``ionmd export mace --kernels cueq``).

mace-torch has its own cuEquivariance back end, but its fused convolution patches a
module's ``forward`` on the instance (TorchScript compiles the class's), hard-codes the
``uniform_1d`` method and needs the model rebuilt with other weight layouts. ionmd builds
the two polynomials from the tables its fused CPU ops already read off the model
(:mod:`ionmd.export.mace_conv`, :mod:`ionmd.export.mace_product`), so they compute the
model's own function in its own layout, whatever e3nn's conventions:

- **convolution** (gather the senders, channel-wise tensor product, scatter into the
  receivers, one polynomial): inputs the per-edge path weights [E, P x U], the node
  features [N, I x U] (component-major), the edge harmonics [E, J]; every term of the
  e3nn product is one path ``w[p, u] x[i, u] Y[j] -> out[k, u]``.
- **symmetric contraction**: inputs the per-element monomial coefficients
  [elements, M x U] (the contraction's weights times its summed U tensors, formed each
  call: two small matrix products) indexed by each node's element, and the node features
  [N, I x U]; every symmetric monomial ``x_i1 ... x_inu`` (i1 <= ... <= inu) is one path.

Every operand's segments are one channel vector of U: the "single uniform mode" that
cuEquivariance's ``uniform_1d`` CUDA kernels take. The ``naive`` method (pure torch, any
device) computes the same polynomials; each module is checked with it against the block
it replaces when it is built (float64, values and gradients to 1e-12).
"""

from __future__ import annotations

import copy

import torch
from e3nn.util.jit import compile_mode

from ionmd.errors import ExportError
from ionmd.export.mace_conv import (channel_major_index, conv_terms, convolution_mismatch,
                                    fusable_convolutions)
from ionmd.export.mace_product import (contraction_mismatch, contraction_tables,
                                       fusable_contractions)


def _polynomial_module(polynomial, method: str):
    import cuequivariance_torch as cuet

    # math_dtype None: compute in the inputs' dtype (float64 exports stay float64)
    return cuet.SegmentedPolynomial(polynomial, method=method, math_dtype=None,
                                    name="ionmd_mace")


def conv_polynomial(tp):
    """The convolution of the e3nn "uvu" product ``tp`` as a cue.SegmentedPolynomial
    (inputs: weights [P x U], features [I x U] component-major, harmonics [J]; output
    [K x U] component-major)."""
    import cuequivariance as cue

    channels = tp.irreps_in1[0].mul
    index, value = conv_terms(tp)
    stp = cue.SegmentedTensorProduct.from_subscripts("u,u,,u")
    for operand, count in enumerate((len(tp.instructions), tp.irreps_in1.dim // channels)):
        for _ in range(count):
            stp.add_segment(operand, (channels,))
    for _ in range(tp.irreps_in2.dim):
        stp.add_segment(2, ())
    for _ in range(tp.irreps_out.dim // channels):
        stp.add_segment(3, (channels,))
    for (path, i, j, k), c in zip(index.tolist(), value.tolist()):
        stp.add_path(path, i, j, k, c=c)
    return cue.SegmentedPolynomial.eval_last_operand(stp)


@compile_mode("script")
class CueConv(torch.nn.Module):
    """``conv_fusion`` module (the hook :class:`ionmd.export.mace_conv.ChannelwiseConv`
    also uses): (node_feats, edge_attrs, tp_weights, edge_index) -> each receiver's
    summed message, in the layout of ``tp.irreps_out``."""

    def __init__(self, tp, method: str):
        super().__init__()
        channels = int(tp.irreps_in1[0].mul)
        self.poly = _polynomial_module(conv_polynomial(tp), method)
        self.register_buffer("in_order", channel_major_index(tp.irreps_in1, channels))
        self.register_buffer("out_order",
                             torch.argsort(channel_major_index(tp.irreps_out, channels)))

    def forward(self, node_feats: torch.Tensor, edge_attrs: torch.Tensor,
                tp_weights: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        x = node_feats.index_select(1, self.in_order)
        out = self.poly([tp_weights, x, edge_attrs], {1: edge_index[0]},
                        {0: node_feats}, {0: edge_index[1]})[0]
        return out.index_select(1, self.out_order)


def contraction_polynomial(entry_index: torch.Tensor, num_components: int, num_out: int,
                           channels: int):
    """The symmetric contraction as a cue.SegmentedPolynomial: inputs the monomial
    coefficients [M x U] and the features [I x U] (component-major); output [O x U].
    ``entry_index`` rows are (output component, i1 <= ... <= inu, -1 padding): the
    monomials of :func:`ionmd.export.mace_product.contraction_tables`."""
    import cuequivariance as cue

    by_degree: dict[int, list[tuple[int, list[int], int]]] = {}
    for m, row in enumerate(entry_index.tolist()):
        factors = [i for i in row[1:] if i >= 0]
        by_degree.setdefault(len(factors), []).append((m, factors, row[0]))
    operations = []
    for degree, monomials in sorted(by_degree.items()):
        stp = cue.SegmentedTensorProduct.from_subscripts(",".join(["u"] * (degree + 2)))
        for operand, count in ((0, len(entry_index)), *((1 + f, num_components)
                                                        for f in range(degree)),
                               (degree + 1, num_out)):
            for _ in range(count):
                stp.add_segment(operand, (channels,))
        for m, factors, o in monomials:
            stp.add_path(m, *factors, o, c=1.0)
        operations.append((cue.Operation([0] + [1] * degree + [2]), stp))
    first = operations[0][1].operands      # every degree segments the buffers alike
    return cue.SegmentedPolynomial([first[0], first[1]], [first[-1]], operations)


@compile_mode("script")
class CueSymmetricContraction(torch.nn.Module):
    """Drop-in for mace-torch's SymmetricContraction: (x [N, C, I], node_attrs one-hot)
    -> [N, out]; node attributes that are not one-hot run MACE's own module."""

    def __init__(self, sc, method: str):
        super().__init__()
        self.sc = sc
        entry_index, S, W, out_order, num_out = contraction_tables(sc)
        channels = int(W.shape[2])
        self.num_components = int(sc.contractions[0].U_tensors(1).shape[-2])
        self.poly = _polynomial_module(
            contraction_polynomial(entry_index, self.num_components, int(num_out), channels),
            method)
        self.register_buffer("S", S)
        self.register_buffer("W", W)
        self.register_buffer("out_order", out_order)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        element = y.argmax(dim=1)
        if not torch.equal(y, torch.nn.functional.one_hot(element, y.shape[1]).to(y.dtype)):
            return self.sc(x, y)
        coefficients = torch.matmul(self.S, self.W)          # [elements, M, C]
        out = self.poly([coefficients.reshape(coefficients.shape[0], -1),
                         x.transpose(1, 2).reshape(x.shape[0], -1)], {0: element})[0]
        return out.index_select(1, self.out_order)


def _check(what: str, where: str, mismatch) -> None:
    if mismatch is not None:
        raise ExportError(f"cuEquivariance {what} of {where} differs from mace-torch's "
                          f"({mismatch}); export with --kernels e3nn and report this")


def _check_conv(tp, where: str) -> CueConv:
    """The polynomial (naive, float64) against e3nn's product + scatter, with gradients;
    returns the checked module."""
    tp64 = copy.deepcopy(tp).double()
    conv64 = CueConv(tp64, "naive").double()
    _check("convolution", where, convolution_mismatch(conv64, tp64))
    return conv64


def _check_contraction(sc, where: str) -> CueSymmetricContraction:
    """The polynomial (naive, float64) against mace-torch's contraction, with d/dx, on
    nodes of every element; returns the checked module."""
    sc64 = copy.deepcopy(sc).double()
    cue64 = CueSymmetricContraction(sc64, "naive").double()
    _check("symmetric contraction", where, contraction_mismatch(cue64, sc64))
    return cue64


def install_cueq(model, method: str) -> tuple[list[str], list[str]]:
    """Replace each interaction's convolution and each product's symmetric contraction
    by cuEquivariance polynomials computed with ``method``; returns why convolutions and
    why contractions were left alone (empty if none was). Call after the model has its
    final dtype."""
    dtype = next(model.parameters()).dtype

    def final(checked: torch.nn.Module, build) -> torch.nn.Module:
        # the checked float64 module in the model's dtype is the same polynomial; building
        # one costs seconds (cuEquivariance optimises the naive method's einsums)
        return (checked if method == "naive" else build()).to(dtype)

    kept_conv: list[str] = []
    kept_product: list[str] = []
    for where, block, tp in fusable_convolutions(model, kept_conv):
        block.conv_tp = final(_check_conv(tp, where), lambda: CueConv(tp, method))
        block.conv_fusion = "cueq"
    for where, product, sc in fusable_contractions(model, kept_product):
        product.symmetric_contractions = final(_check_contraction(sc, where),
                                               lambda: CueSymmetricContraction(sc, method))
    return kept_conv, kept_product
