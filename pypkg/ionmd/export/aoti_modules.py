"""Modules that :mod:`ionmd.export.aoti` traces: the node-energy adapter of a contract
module (``NodeEnergy``) and the energy-and-gradient program (``EnergyAndEdgeGradient``).
Imported only when exporting, so that ``import ionmd.export`` stays free of torch."""

from __future__ import annotations

import torch


class EnergyAndEdgeGradient(torch.nn.Module):
    """Node energies and dE_local/d edge_vec in one forward (see :mod:`ionmd.export.aoti`)."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, edge_vec, edge_index, species, nlocal):
        with torch.enable_grad():
            vec = edge_vec.detach().requires_grad_(True)
            node_energy = self.model(vec, edge_index, species)
            local = torch.arange(species.shape[0], device=species.device) < nlocal
            total = (node_energy * local.to(node_energy.dtype)).sum()
            (grad,) = torch.autograd.grad(total, vec)
        return node_energy.detach(), grad.detach()


class NodeEnergy(torch.nn.Module):
    """A contract module ``(edge_vec, edge_index, species, nlocal) -> local energies``
    seen as a node-energy module ``(edge_vec, edge_index, species) -> all node energies``,
    the signature :func:`ionmd.export.aoti.save_aoti` takes."""

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, edge_vec, edge_index, species):
        return self.inner(edge_vec, edge_index, species, species.shape[0])
