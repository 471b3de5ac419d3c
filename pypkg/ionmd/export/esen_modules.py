"""The module that wraps a fairchem eSEN backbone and energy head into a node-energy
module (``ESENNodeEnergy``; how the contract is met is in :mod:`ionmd.export.esen`).
Imported only when exporting, so that ``import ionmd.export`` stays free of torch."""

from __future__ import annotations

import torch


class _GraphDict(dict):
    """The mapping the backbone reads: a dict whose ``get`` takes ``default=`` by
    keyword, as fairchem's ``AtomicData.get`` does."""

    def get(self, key, default=None):  # noqa: D401 - dict protocol
        return super().get(key, default)


class ESENNodeEnergy(torch.nn.Module):
    """Contract module: ``(edge_vec, edge_index, species) -> node energies [N]``."""

    def __init__(self, backbone, energy_block, z_of_species, ref_of_species, rmsd,
                 csd_embedding):
        super().__init__()
        self.backbone = backbone
        self.energy_block = energy_block
        self.register_buffer("z_of_species", z_of_species)
        self.register_buffer("ref_of_species", ref_of_species)
        self.register_buffer("rmsd", rmsd)
        self.register_buffer("csd_embedding", csd_embedding)
        # the charge/spin/dataset embedding is per structure and fixed here;
        # shadow the backbone's method with the stored value (instance attribute)
        object.__setattr__(backbone, "csd_embedding", self._stored_csd)

    def _stored_csd(self, charge, spin, dataset):
        return self.csd_embedding

    def forward(self, edge_vec, edge_index, species):
        n = species.shape[0]
        zeros_n = torch.zeros_like(species)
        data = _GraphDict(
            atomic_numbers=self.z_of_species[species],
            batch=zeros_n,
            natoms=zeros_n[:1] + n,
            charge=zeros_n[:1],
            spin=zeros_n[:1],
            dataset=None,
            pos=edge_vec.new_zeros((n, 3)),
            cell=torch.eye(3, dtype=edge_vec.dtype, device=edge_vec.device).unsqueeze(0),
            cell_offsets=edge_vec,
            # fairchem: messages flow src=edge_index[0] -> dst=edge_index[1]
            edge_index=edge_index.flip(0),
        )
        emb = self.backbone(data)
        scalars = emb["node_embedding"][:, 0, :]
        node_energy = self.energy_block(scalars).reshape(-1)
        return node_energy * self.rmsd + self.ref_of_species[species]
