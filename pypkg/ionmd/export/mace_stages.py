"""Per-layer stages of a MACE model (docs/model-contract.md, "Per-layer stages").

MACE (``MACE``/``ScaleShiftMACE``) computes, for interaction ``i = 0..L-1``::

    node_feats, sc = interactions[i](node_attrs, node_feats, edge_attrs, edge_feats, ...)
    node_feats     = products[i](node_feats, sc, node_attrs)
    e_i            = readouts[i](node_feats)

and the atomic energy ``e0 + scale_shift(pair + sum_i e_i)``. Stage ``k`` is interaction
``i = k-1`` cut at its input (the node features before the interaction's node-wise
self-connection and up-projection): it recomputes the one-hot attributes from the
species and the edge embedding from its own ``edge_vec``, runs the interaction on all
nodes (messages go only into local receivers), keeps the local rows, and runs the
product and readout on them. ``scale_shift`` is affine, so stage 1 carries
``e0 + scale_shift(pair + e_1)`` and stage ``k > 1`` carries
``scale_shift(e_k) - scale_shift(0)``.

This holds for every interaction block of mace-torch 0.3.x (residual or not: a
non-residual block returns ``sc = None``; density-normalised, attention and non-linear
variants only add node-wise terms and per-receiver sums) and every energy readout.
A model with ``use_last_readout_only`` has one readout, on the last layer: its earlier
stages carry no energy. Layouts that cannot be split are refused by
:func:`check_splittable`, and ``build_mace_module`` then exports them unstaged.
"""

from __future__ import annotations

from ionmd.errors import ExportError


def check_splittable(model) -> None:
    """Refuse MACE variants whose energy is not a sum of per-layer readouts."""
    if hasattr(model, "joint_embedding"):
        raise ExportError("this MACE model has extra embedded features (joint_embedding), "
                          "which its per-layer stages do not carry")
    if len(model.readouts) not in (1, len(model.interactions)) or \
            len(model.products) != len(model.interactions):
        raise ExportError(f"this MACE model has {len(model.readouts)} readouts and "
                          f"{len(model.products)} products for {len(model.interactions)} "
                          "interactions: cannot split it into per-layer stages")


def layer_readouts(model) -> list:
    """One readout per interaction, as MACE applies them: ``readouts[i]`` reads layer
    ``i``; a single readout (``use_last_readout_only``) reads the last layer only, and
    the earlier layers get ``None`` (no energy)."""
    readouts = list(model.readouts)
    if len(readouts) == len(model.interactions):
        return readouts
    return [None] * (len(model.interactions) - 1) + readouts


def build_staged(wrapper):
    """The staged module (:class:`ionmd.export.mace_modules.MACEStaged`) around a
    ``MACEEdgeModel`` wrapper (same parameters)."""
    from ionmd.export.mace_modules import MACEStaged

    check_splittable(wrapper.model)
    return MACEStaged(wrapper, layer_readouts(wrapper.model)).eval()
