"""Faster backward for e3nn tensor products: column slices become one ``split``.

e3nn's tensor-product code generator takes each path's weights (and each irrep of the
inputs) as a column slice ``t[:, a:b]`` of one flat tensor. Autograd's backward of every
such slice allocates a zero tensor of the *whole* flat width, copies the slice gradient in,
and the engine then adds all of them up: for SevenNet-0's per-edge weights ([edges, 960],
~18 paths per layer) that is 90 full-size fills, copies and adds per force call, 15-20 % of
its CPU time. One ``split_with_sizes`` gives the same pieces, and its backward is a single
concatenation. The values are the same tensors (views of the same memory); energies are
bitwise equal and forces equal to float rounding of the gradient sums (tested).

Used while a model is built (e3nn generates this code in ``TensorProduct.__init__``), as a
code-generation provider that e3nn tries before its own. e3nn has no public hook for this:
``_CODEGEN_PROVIDERS_LEFT_RIGHT`` is private, so any change there leaves the default path
(the rewrite is skipped, nothing breaks).
"""

from __future__ import annotations

import contextlib
import operator


def _column_slices(node) -> list:
    """``(start, stop, user)`` for the users of ``node`` of the form ``node[:, a:b]``."""
    out = []
    for user in node.users:
        if user.op != "call_function" or user.target is not operator.getitem:
            continue
        idx = user.args[1]
        if (isinstance(idx, tuple) and len(idx) == 2 and idx[0] == slice(None)
                and isinstance(idx[1], slice) and idx[1].step is None
                and isinstance(idx[1].start, int) and isinstance(idx[1].stop, int)):
            out.append((idx[1].start, idx[1].stop, user))
    return sorted(out, key=lambda t: t[0])


def split_column_slices(graphmod):
    """Rewrite, in an fx ``GraphModule``, every set of column slices that tiles a reshaped
    tensor ``t.reshape(..., W)`` exactly (``t[:, 0:a]``, ``t[:, a:b]``, ... ``t[:, y:W]``)
    into one ``t.split_with_sizes([...], dim=1)``. Anything else is left alone."""
    if graphmod is None:
        return None
    graph = graphmod.graph
    changed = False
    for node in list(graph.nodes):
        if not (node.op == "call_method" and node.target == "reshape"
                and isinstance(node.args[-1], int)):
            continue
        slices = _column_slices(node)
        bounds = [0] + [b for _, b, _ in slices]
        if len(slices) < 2 or [a for a, _, _ in slices] != bounds[:-1] or \
                bounds[-1] != node.args[-1]:
            continue                        # not an exact tiling of the last dimension
        with graph.inserting_after(node):
            split = graph.call_method("split_with_sizes",
                                      (node, [b - a for a, b, _ in slices]), {"dim": 1})
        for k, (_, _, user) in enumerate(slices):
            with graph.inserting_after(split):
                piece = graph.call_function(operator.getitem, (split, k))
            user.replace_all_uses_with(piece)
            graph.erase_node(user)
        changed = True
    if changed:
        graph.lint()
        graphmod.recompile()
    return graphmod


@contextlib.contextmanager
def split_tensor_product_slices():
    """Within this block, e3nn ``TensorProduct``s are generated with
    :func:`split_column_slices` applied (build the model inside it)."""
    try:
        from e3nn.o3._tensor_product import _tensor_product as tp_module
        from e3nn.o3._tensor_product._codegen import codegen_tensor_product_left_right
        providers = tp_module._CODEGEN_PROVIDERS_LEFT_RIGHT
    except (ImportError, AttributeError):     # another e3nn layout: build as e3nn does
        yield
        return

    def provider(*args):
        return split_column_slices(codegen_tensor_product_left_right(*args))

    providers.insert(0, provider)
    try:
        yield
    finally:
        providers.remove(provider)
