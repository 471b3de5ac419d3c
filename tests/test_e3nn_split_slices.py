"""The exporter's rewrite of e3nn tensor-product slices into one split: same values and
gradients as e3nn's own code, and the rewrite is really there."""

from __future__ import annotations

import pytest
import torch

o3 = pytest.importorskip("e3nn.o3")


def build_tp():
    # a SevenNet-like convolution: per-edge weights, several paths, mixed irreps
    irreps_in1, irreps_in2 = o3.Irreps("8x0e+4x1o+2x2e"), o3.Irreps("1x0e+1x1o+1x2e")
    irreps_out = o3.Irreps("8x0e+4x1o+2x2e")
    instructions = [(i1, i2, o, "uvu", True)
                    for i1, (_, ir1) in enumerate(irreps_in1)
                    for i2, (_, ir2) in enumerate(irreps_in2)
                    for o, (_, ir_out) in enumerate(irreps_out)
                    if ir_out in ir1 * ir2 and irreps_in1[i1].mul == irreps_out[o].mul]
    return o3.TensorProduct(irreps_in1, irreps_in2, irreps_out, instructions,
                            shared_weights=False, internal_weights=False)


def test_split_tensor_products_match_e3nn():
    from ionmd.export.e3nn_split_slices import split_tensor_product_slices

    torch.manual_seed(0)
    plain = build_tp()
    with split_tensor_product_slices():
        split = build_tp()
    assert "split_with_sizes" in split._compiled_main_left_right.code
    assert "split_with_sizes" not in plain._compiled_main_left_right.code
    again = build_tp()                            # the provider is gone after the block
    assert "split_with_sizes" not in again._compiled_main_left_right.code

    n = 37
    x1 = torch.randn(n, plain.irreps_in1.dim, dtype=torch.float64)
    x2 = torch.randn(n, plain.irreps_in2.dim, dtype=torch.float64)
    w = torch.randn(n, plain.weight_numel, dtype=torch.float64)
    results = []
    for tp in (plain, split):
        tp.double()
        inputs = [t.clone().requires_grad_(True) for t in (x1, x2, w)]
        out = tp(*inputs)
        grads = torch.autograd.grad((out * out.detach().sin()).sum(), inputs)
        results.append((out.detach(), grads))
    (out_a, grads_a), (out_b, grads_b) = results
    torch.testing.assert_close(out_b, out_a, rtol=0, atol=1e-12)
    for ga, gb in zip(grads_a, grads_b):
        torch.testing.assert_close(gb, ga, rtol=0, atol=1e-12)
