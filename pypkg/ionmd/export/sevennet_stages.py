"""Per-layer stages of a SevenNet network (docs/model-contract.md, "Per-layer stages").

SevenNet's ``AtomGraphSequential`` is a flat sequence of modules on a data dict::

    [modal_input_prepare] onehot_idx_to_onehot onehot_to_feature_x   (node embedding)
    edge_embedding                                                   (edge geometry)
    {t}_self_connection_intro ... {t}_equivariant_gate               (layer t = 0..L-1)
    reduce_input_to_hidden reduce_hidden_to_energy rescale_atomic_energy  (readout)

Stage ``k`` is layer ``t = k-1`` cut at its input: it reads the node features ``x``
entering layer ``t`` for every node, re-runs the node-wise setup (modal index, one-hot
attributes; cheap) and the edge embedding on its own ``edge_vec``, runs the layer, and
returns ``x`` of the local nodes. Every module of a layer other than the convolution is
node-wise, and the convolution gathers messages into receivers only, so the rows of
the local nodes are exact when the ghost rows of ``x`` are. Ghost nodes only need the
modules between the layer input and the convolution that feed it (``self_interaction_1``);
the self-connection intro and everything after the convolution run on the local rows
only (for SevenNet-0 the self-connection is a tensor product with the 89-species one-hot,
as costly per node as a good part of the convolution). The last stage also runs the
readout and returns the local atomic energies.
"""

from __future__ import annotations

import re

from ionmd.errors import ExportError


# per-node entries of SevenNet's data dict that the local-only modules read
NODE_KEYS = ("x", "node_attr", "atom_type")


def split_layer(modules: list) -> tuple[list, list, object, list]:
    """Modules of one layer -> (local-only before the convolution, all-node before the
    convolution, the convolution, local-only after it)."""
    from sevenn.nn.convolution import IrrepsConvolution, IrrepsScatterGatterFusedConvolution

    # the fused class is what SevenNet's kernel patches (cuEquivariance) build
    conv_types = (IrrepsConvolution, IrrepsScatterGatterFusedConvolution)
    convs = [i for i, m in enumerate(modules) if isinstance(m, conv_types)]
    if len(convs) != 1:
        raise ExportError("a SevenNet layer without exactly one IrrepsConvolution "
                          f"({[type(m).__name__ for m in modules]}): cannot split it")
    c = convs[0]
    local_pre = [m for m in modules[:c] if "SelfConnection" in type(m).__name__]
    all_pre = [m for m in modules[:c] if "SelfConnection" not in type(m).__name__]
    return local_pre, all_pre, modules[c], modules[c + 1:]


def split_sevennet(net) -> tuple[list, object, list[list], list]:
    """``net`` (AtomGraphSequential without the caller-side modules) ->
    (node setup modules, edge embedding, modules of each layer, readout modules)."""
    setup, layers, readout, edge = [], {}, [], None
    for name, module in net._modules.items():
        match = re.match(r"(\d+)_", name)
        if name == "edge_embedding":
            edge = module
        elif match:
            if readout:
                raise ExportError(f"SevenNet module {name} comes after the readout: cannot split")
            layers.setdefault(int(match.group(1)), []).append(module)
        elif layers:
            readout.append(module)
        else:
            setup.append(module)
    if edge is None or not layers or sorted(layers) != list(range(len(layers))):
        raise ExportError("SevenNet network has no edge_embedding or numbered layers "
                          f"({', '.join(net._modules)}): cannot split it into stages")
    return setup, edge, [layers[t] for t in range(len(layers))], readout


def build_staged(wrapper):
    """The staged module (:class:`ionmd.export.sevennet_modules.SevenNetStaged`) around a
    ``SevenNetEdgeModel`` wrapper (same parameters)."""
    from ionmd.export.sevennet_modules import SevenNetStaged

    setup, edge, layers, readout = split_sevennet(wrapper.model)
    return SevenNetStaged(wrapper, setup, edge, layers, readout).eval()
