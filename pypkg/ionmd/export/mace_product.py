"""MACE's symmetric contraction as one fused op (``torch.ops.ionmd.symmetric_contraction``).

Each MACE product block contracts a node's features with themselves up to the
correlation order nu: out[c, o] = sum_nu sum U_nu[o, i1..inu, k] W_nu[element, k, c]
x[c, i1] ... x[c, inu]. mace-torch evaluates the dense U tensors with einsum; at
correlation 3 its intermediates hold [N, C, 3, 16, 16] floats, though only a few hundred
symmetric monomials (i1 <= ... <= inu) are nonzero. :class:`FusedSymmetricContraction`
keeps those monomials, sums U over the orderings of each, multiplies by the weights of
the elements present (one small matmul per call) and lets the op evaluate the monomials
node by node. Off the CPU, or for node attributes that are not one-hot, it runs MACE's
own module, which it keeps.
"""

from __future__ import annotations

import copy
from typing import Optional

import torch
from e3nn.util.jit import compile_mode

from ionmd.errors import ExportError
from ionmd.export.mace_conv import NOT_FUSED
from ionmd.export.staged import feature_error


def _contraction_weights(contraction) -> dict[int, torch.Tensor]:
    """nu -> weights [elements, K, C] of one mace Contraction (its loop builds
    ``weights_max`` for nu = correlation, then ``weights[0]`` for correlation - 1, ...)."""
    out = {contraction.correlation: contraction.weights_max.detach()}
    for k, w in enumerate(contraction.weights):
        out[contraction.correlation - 1 - k] = w.detach()
    return out


def fusable(sc) -> Optional[str]:
    """Why the product's contraction ``sc`` cannot be fused, or None if it can."""
    if not hasattr(sc, "contractions") or not all(
            hasattr(c, "U_tensors") and hasattr(c, "weights_max") for c in sc.contractions):
        return f"{type(sc).__name__} is not mace-torch's SymmetricContraction"
    return None


def contraction_tables(sc):
    """(entry_index [J, 1 + nu_max], S [J, K_total], W [elements, K_total, C], out_order,
    number of output components): the op's inputs for ``sc``."""
    keys: dict[tuple, int] = {}
    rows, weights = [], []        # (row, column of S, value); W of each (contraction, nu)
    k_total, o_base, out_order = 0, 0, []
    channels = None
    for contraction in sc.contractions:
        w_by_nu = _contraction_weights(contraction)
        num_o = None
        for nu in range(1, contraction.correlation + 1):
            U = contraction.U_tensors(nu).detach().to(torch.float64)
            has_o = U.dim() == nu + 2
            num_o = U.shape[0] if has_o else 1
            w = w_by_nu[nu]
            channels = w.shape[2]
            for idx in (U != 0).any(-1).nonzero().tolist():
                o, ii = (idx[0], idx[1:]) if has_o else (0, idx)
                key = (o_base + o, *sorted(ii))
                row = keys.setdefault(key, len(keys))
                values = U[tuple(idx)]
                for k in values.nonzero().flatten().tolist():
                    rows.append((row, k_total + k, float(values[k])))
            weights.append(w)
            k_total += w.shape[1]
        for c in range(channels):        # MACE's layout of this output: [C, O] per node
            for o in range(num_o):
                out_order.append((o_base + o) * channels + c)
        o_base += num_o
    nu_max = max(len(k) - 1 for k in keys)
    entry_index = torch.full((len(keys), 1 + nu_max), -1, dtype=torch.int64)
    for key, row in keys.items():
        entry_index[row, :len(key)] = torch.tensor(key)
    S = torch.zeros(len(keys), k_total, dtype=torch.float64)
    for row, k, v in rows:
        S[row, k] += v               # the orderings of one monomial add up
    W = torch.cat(weights, dim=1)
    return entry_index, S.to(W.dtype), W, torch.tensor(out_order, dtype=torch.int64), o_base


@compile_mode("script")
class FusedSymmetricContraction(torch.nn.Module):
    """Drop-in for mace-torch's SymmetricContraction: (x [N, C, I], node_attrs) -> [N, out]."""

    def __init__(self, sc):
        super().__init__()
        self.sc = sc
        entry_index, S, W, out_order, num_out = contraction_tables(sc)
        self.num_out = int(num_out)
        self.num_i = int(sc.contractions[0].U_tensors(1).shape[-2])   # (lmax + 1)^2
        self.register_buffer("entry_index", entry_index)
        self.register_buffer("S", S)
        self.register_buffer("W", W)
        self.register_buffer("out_order", out_order)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        element = y.argmax(dim=1)
        if x.device.type != "cpu" or not torch.equal(
                y, torch.nn.functional.one_hot(element, y.shape[1]).to(y.dtype)):
            return self.sc(x, y)
        present, group = torch.unique(element, return_inverse=True)
        coefficients = torch.matmul(self.S, self.W.index_select(0, present))   # [G, J, C]
        out = torch.ops.ionmd.symmetric_contraction(
            x.transpose(1, 2).contiguous(), group, coefficients, self.entry_index, self.num_out)
        return out.reshape(x.shape[0], -1).index_select(1, self.out_order)


def contraction_mismatch(module64: torch.nn.Module, sc64) -> Optional[str]:
    """Which of the output and d/dx of the float64 contraction ``module64`` differs from
    mace-torch's float64 ``sc64`` by more than 1e-12 on random nodes of every element
    (None: none)."""
    gen = torch.Generator().manual_seed(0)
    num_elements, _, channels = sc64.contractions[0].weights_max.shape
    num_i = int(sc64.contractions[0].U_tensors(1).shape[-2])
    n = 2 * num_elements + 3
    x = torch.randn(n, channels, num_i, dtype=torch.float64, generator=gen, requires_grad=True)
    y = torch.nn.functional.one_hot(torch.arange(n) % num_elements, num_elements).double()
    results = []
    for module in (module64, sc64):
        out = module(x, y)
        probe = torch.randn(out.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
        results.append((out, torch.autograd.grad((out * probe).sum(), x)[0]))
    for name, a, b in zip(("output", "d/dx"), *results):
        if feature_error(a, b) > 1e-12:
            return name
    return None


def _check_against_mace(sc, where: str) -> None:
    """Fused and MACE's contraction, and d/dx, on random float64 nodes of every element
    (the fused tables built again in float64: a float32 model's differ by round-off)."""
    sc64 = copy.deepcopy(sc).double()
    name = contraction_mismatch(FusedSymmetricContraction(sc64), sc64)
    if name is not None:
        raise ExportError(f"fused symmetric contraction of {where} differs from MACE's "
                          f"({name}); {NOT_FUSED}")


def fusable_contractions(model, skipped: list[str]):
    """(where, product, contraction) of each product block with mace-torch's symmetric
    contraction; why the others do not is appended to ``skipped``."""
    for k, product in enumerate(model.products):
        where = f"product {k}"
        sc = getattr(product, "symmetric_contractions", None)
        why = fusable(sc)
        if why is not None:
            skipped.append(f"{where}: {why}")
            continue
        yield where, product, sc


def fuse_mace_products(model) -> list[str]:
    """Replace each product block's symmetric contraction by
    :class:`FusedSymmetricContraction`; returns why a block was left alone."""
    from ionmd import _ops

    _ops.load()
    skipped: list[str] = []
    for where, product, sc in fusable_contractions(model, skipped):
        fused = FusedSymmetricContraction(sc)
        _check_against_mace(sc, where)
        product.symmetric_contractions = fused
    return skipped
