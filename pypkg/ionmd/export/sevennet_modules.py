"""TorchScript modules that wrap a SevenNet network into the ionmd contract: the plain
contract (``SevenNetEdgeModel``) and its per-layer stages (``SevenNetStaged``; the split
itself is in :mod:`ionmd.export.sevennet_stages`). Imported only when exporting, so that
``import ionmd.export`` stays free of torch."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import torch

from ionmd.export.sevennet_stages import NODE_KEYS, split_layer


def sevennet_inputs(species: torch.Tensor, edge_vec: torch.Tensor,
                    edge_index: torch.Tensor) -> Dict[str, torch.Tensor]:
    """SevenNet's input dict from the contract's tensors."""
    # a tensor op, not torch.tensor([N]): tracing for AOTInductor would freeze N
    num_atoms = torch.ones_like(species).sum().reshape(1)
    return {"x": species, "edge_index": edge_index, "edge_vec": edge_vec,
            "num_atoms": num_atoms, "nlocal": num_atoms.cpu()}


class OnehotInModelDtype(torch.nn.Module):
    """SevenNet's OnehotEmbedding casts to float32 unconditionally; this one follows the
    model dtype so float64 exports stay float64 end to end."""

    def __init__(self, num_classes: int, key_x: str, key_output: str, key_save: Optional[str],
                 key_additional: Optional[str], dtype: torch.dtype):
        super().__init__()
        self.num_classes = num_classes
        self.key_x = key_x
        self.key_output = key_output
        self.key_save = key_save
        self.key_additional = key_additional
        self.register_buffer("_dtype_probe", torch.zeros(0, dtype=dtype))

    def forward(self, data: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        inp = data[self.key_x]
        embd = torch.nn.functional.one_hot(inp, self.num_classes).to(self._dtype_probe.dtype)
        data[self.key_output] = embd
        if self.key_additional is not None:
            data[self.key_additional] = embd
        if self.key_save is not None:
            data[self.key_save] = inp
        return data


class SevenNetEdgeModel(torch.nn.Module):
    """Contract wrapper: (edge_vec, edge_index, species, nlocal) -> local energies."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, edge_vec: torch.Tensor, edge_index: torch.Tensor,
                species: torch.Tensor, nlocal: int) -> torch.Tensor:
        out = self.model(sevennet_inputs(species, edge_vec, edge_index))
        return out["atomic_energy"].reshape(-1)[:nlocal]


class DictChain(torch.nn.Module):
    def __init__(self, modules: List[torch.nn.Module]):
        super().__init__()
        self.mods = torch.nn.ModuleList(modules)

    def forward(self, data: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        for m in self.mods:
            data = m(data)
        return data


class LayerStage(torch.nn.Module):
    """One SevenNet layer with the node-wise work restricted to the rows that need it."""

    def __init__(self, modules: List[torch.nn.Module]):
        super().__init__()
        local_pre, all_pre, conv, post = split_layer(modules)
        self.local_pre = DictChain(local_pre)
        self.all_pre = DictChain(all_pre)
        self.conv = conv
        self.post = DictChain(post)
        self.node_keys: List[str] = list(NODE_KEYS)

    def forward(self, data: Dict[str, torch.Tensor], nlocal: int) -> Dict[str, torch.Tensor]:
        local: Dict[str, torch.Tensor] = {}
        for key, value in data.items():
            local[key] = value[:nlocal] if key in self.node_keys else value
        local = self.local_pre(local)
        data = self.conv(self.all_pre(data))
        local["x"] = data["x"][:nlocal]
        return self.post(local)


class SevenNetStaged(torch.nn.Module):
    """Contract ``forward`` (the whole network) plus ``halo_embed``/``halo_stage``."""

    def __init__(self, full: torch.nn.Module, setup, edge, layers, readout):
        super().__init__()
        self.full = full
        self.setup = DictChain(setup)
        self.edge = edge
        self.layers = torch.nn.ModuleList([LayerStage(m) for m in layers])
        self.readout = DictChain(readout)
        self.num_stages = len(layers)

    def forward(self, edge_vec: torch.Tensor, edge_index: torch.Tensor,
                species: torch.Tensor, nlocal: int) -> torch.Tensor:
        return self.full(edge_vec, edge_index, species, nlocal)

    @torch.jit.export
    def halo_embed(self, species: torch.Tensor) -> torch.Tensor:
        no_index = torch.zeros((2, 0), dtype=torch.int64, device=species.device)
        no_vec = torch.zeros((0, 3), device=species.device)
        return self.setup(sevennet_inputs(species, no_vec, no_index))["x"]

    @torch.jit.export
    def halo_stage(self, k: int, h: torch.Tensor, edge_vec: torch.Tensor,
                   edge_index: torch.Tensor, species: torch.Tensor,
                   nlocal: int) -> Tuple[torch.Tensor, torch.Tensor]:
        data = self.setup(sevennet_inputs(species, edge_vec, edge_index))
        data["x"] = h
        data = self.edge(data)
        for t, layer in enumerate(self.layers):
            if t + 1 == k:
                data = layer(data, nlocal)
        x = data["x"]
        if k == self.num_stages:
            energy = self.readout(data)["atomic_energy"].reshape(-1)
        else:
            energy = torch.zeros(nlocal, dtype=x.dtype, device=x.device)
        return x, energy
