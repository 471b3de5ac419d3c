"""TorchScript modules that wrap a MACE model into the ionmd contract: the plain contract
(``MACEEdgeModel``; the edge convention is explained in :mod:`ionmd.export.mace`) and
its per-layer stages (``MACEStaged``; the split itself is in
:mod:`ionmd.export.mace_stages`). Imported only when exporting, so that
``import ionmd.export`` stays free of torch."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import torch
from e3nn.util.jit import compile_mode


@compile_mode("script")
class MACEEdgeModel(torch.nn.Module):
    """Contract wrapper: (edge_vec, edge_index, species, nlocal) -> local energies."""

    def __init__(self, model: torch.nn.Module, num_elements: int, head: int):
        super().__init__()
        self.model = model
        self.num_elements = num_elements
        self.register_buffer("head", torch.tensor([head], dtype=torch.int64))

    def forward(self, edge_vec: torch.Tensor, edge_index: torch.Tensor,
                species: torch.Tensor, nlocal: int) -> torch.Tensor:
        n = species.shape[0]
        node_attrs = torch.nn.functional.one_hot(species, self.num_elements).to(edge_vec.dtype)
        zeros_n = torch.zeros_like(species)
        data: Dict[str, torch.Tensor] = {
            "positions": torch.zeros((n, 3), dtype=edge_vec.dtype, device=edge_vec.device),
            "edge_index": torch.stack([edge_index[1], edge_index[0]]),
            "shifts": -edge_vec,
            "unit_shifts": torch.zeros_like(edge_vec),
            "node_attrs": node_attrs,
            "batch": zeros_n,
            "ptr": torch.stack([zeros_n.sum(), torch.ones_like(species).sum()]),
            "cell": torch.zeros((3, 3), dtype=edge_vec.dtype, device=edge_vec.device),
            "head": self.head,
        }
        out = self.model(data, training=False, compute_force=False, compute_virials=False,
                         compute_stress=False, compute_displacement=False)
        node_energy = out["node_energy"]
        assert node_energy is not None
        return node_energy[:nlocal]


@compile_mode("script")
class NoReadout(torch.nn.Module):
    """Readout of a layer whose features MACE does not read (zero energy)."""

    def __init__(self, num_heads: int):
        super().__init__()
        self.num_heads = num_heads

    def forward(self, x: torch.Tensor, heads: Optional[torch.Tensor] = None) -> torch.Tensor:
        return torch.zeros((x.shape[0], self.num_heads), dtype=x.dtype, device=x.device)


@compile_mode("script")
class MACEStaged(torch.nn.Module):
    """Contract ``forward`` (the unsplit wrapper) plus ``halo_embed``/``halo_stage``.

    ``readouts`` has one entry per interaction, ``None`` for a layer that MACE does not
    read (:func:`ionmd.export.mace_stages.layer_readouts`)."""

    def __init__(self, wrapper: torch.nn.Module, readouts: List[Optional[torch.nn.Module]]):
        super().__init__()
        model = wrapper.model
        self.full = wrapper
        self.num_elements = wrapper.num_elements
        self.register_buffer("head", wrapper.head.clone())
        self.register_buffer("atomic_numbers", model.atomic_numbers.clone())
        self.node_embedding = model.node_embedding
        self.spherical_harmonics = model.spherical_harmonics
        self.radial_embedding = model.radial_embedding
        self.atomic_energies_fn = model.atomic_energies_fn
        self.interactions = model.interactions
        self.products = model.products
        num_heads = len(getattr(model, "heads", None) or ["Default"])
        self.readouts = torch.nn.ModuleList([
            NoReadout(num_heads) if r is None else r for r in readouts])
        # optional parts: TorchScript resolves hasattr() at compile time
        if hasattr(model, "pair_repulsion"):
            self.pair_repulsion_fn = model.pair_repulsion_fn
        if hasattr(model, "scale_shift"):
            self.scale_shift = model.scale_shift

    def forward(self, edge_vec: torch.Tensor, edge_index: torch.Tensor,
                species: torch.Tensor, nlocal: int) -> torch.Tensor:
        return self.full(edge_vec, edge_index, species, nlocal)

    def _attrs(self, species: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return torch.nn.functional.one_hot(species, self.num_elements).to(dtype)

    def _shift(self, x: torch.Tensor, heads: torch.Tensor) -> torch.Tensor:
        if hasattr(self, "scale_shift"):
            return self.scale_shift(x, heads)
        return x

    @torch.jit.export
    def halo_embed(self, species: torch.Tensor) -> torch.Tensor:
        dtype = self.atomic_energies_fn.atomic_energies.dtype
        return self.node_embedding(self._attrs(species, dtype))

    @torch.jit.export
    def halo_stage(self, k: int, h: torch.Tensor, edge_vec: torch.Tensor,
                   edge_index: torch.Tensor, species: torch.Tensor,
                   nlocal: int) -> Tuple[torch.Tensor, torch.Tensor]:
        node_attrs = self._attrs(species, h.dtype)
        mace_index = torch.stack([edge_index[1], edge_index[0]])  # [sender, receiver]
        vectors = -edge_vec                                       # x_receiver - x_sender
        lengths = torch.linalg.norm(vectors, dim=-1, keepdim=True)
        edge_attrs = self.spherical_harmonics(vectors)
        edge_feats, cutoff = self.radial_embedding(lengths, node_attrs, mace_index,
                                                   self.atomic_numbers)
        heads = self.head.expand(nlocal)
        arange = torch.arange(nlocal, device=h.device)
        local_attrs = node_attrs[:nlocal]
        node_feats = h[:nlocal]
        energy = torch.zeros(nlocal, dtype=h.dtype, device=h.device)
        for i, (interaction, product, readout) in enumerate(
                zip(self.interactions, self.products, self.readouts)):
            if i + 1 == k:
                feats, sc = interaction(node_attrs=node_attrs, node_feats=h,
                                        edge_attrs=edge_attrs, edge_feats=edge_feats,
                                        edge_index=mace_index, cutoff=cutoff,
                                        first_layer=(i == 0))
                # non-residual blocks (RealAgnosticInteractionBlock) return sc=None;
                # TorchScript types `sc` per block and drops the branch for them
                local_sc: Optional[torch.Tensor] = None
                if sc is not None:
                    local_sc = sc[:nlocal]
                node_feats = product(node_feats=feats[:nlocal], sc=local_sc,
                                     node_attrs=local_attrs)
                energy = readout(node_feats, heads)[arange, heads]
        if k == 1:
            if hasattr(self, "pair_repulsion_fn"):
                pair = self.pair_repulsion_fn(lengths, node_attrs, mace_index,
                                              self.atomic_numbers)
                energy = energy + pair[:nlocal]
            e0 = self.atomic_energies_fn(local_attrs)[arange, heads]
            energy = e0 + self._shift(energy, heads)
        else:
            energy = self._shift(energy, heads) - self._shift(torch.zeros_like(energy), heads)
        return node_feats, energy
