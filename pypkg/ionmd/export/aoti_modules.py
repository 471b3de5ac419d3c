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


class AllRowStages(torch.nn.Module):
    """A module with the staged contract's ``halo_embed``/``halo_stage`` (SevenNet and MACE
    exports) seen as the all-rows ``stage(k, ...)`` that :func:`ionmd.export.aoti.stage_programs`
    compiles: every node local, so ``halo_stage`` returns every row."""

    def __init__(self, staged):
        super().__init__()
        self.staged = staged

    def halo_embed(self, species):
        return self.staged.halo_embed(species)

    def halo_stage(self, k: int, h, edge_vec, edge_index, species, nlocal: int):
        return self.staged.halo_stage(k, h, edge_vec, edge_index, species, nlocal)

    def stage(self, k: int, h, edge_vec, edge_index, species):
        # one node count for h and species. The trace already gives their equal sizes one
        # symbol (duck sizing); the check says so explicitly, so that a trace without it
        # would not size halo_stage's h[:nlocal] as min(both), which e3nn's code specialises
        torch._check(h.shape[0] == species.shape[0])
        return self.staged.halo_stage(k, h, edge_vec, edge_index, species, species.shape[0])


class StageEmbed(torch.nn.Module):
    """Compiled ``halo_embed`` of a staged model: ``species [N] -> h_0 [N, D_0]``."""

    def __init__(self, stages):
        super().__init__()
        self.stages = stages

    def forward(self, species):
        return self.stages.halo_embed(species)


class StageForward(torch.nn.Module):
    """Compiled forward of stage ``k``: ``(h, edge_vec, edge_index, species)`` ->
    ``(h_k [N, D_k], node energies [N])`` on every row (the runtime keeps the local ones).
    ``stages.stage(k, ...)`` is the stage on all rows."""

    def __init__(self, stages, k: int):
        super().__init__()
        self.stages, self.k = stages, k

    def forward(self, h, edge_vec, edge_index, species):
        return self.stages.stage(self.k, h, edge_vec, edge_index, species)


class StageVJP(torch.nn.Module):
    """Compiled backward of stage ``k``: recompute the stage, then the gradients of
    ``sum(local node energies) + <g_h, h_k>`` with respect to ``h`` and ``edge_vec``,
    and the stage's node energies (which it computed anyway: the runtime then skips the
    last stage's forward program, whose only other output nobody reads).

    ``g_h`` is ``dE/dh_k`` with zero rows beyond ``nlocal`` (the runtime pads it), so
    only local rows of ``h_k`` count; ``nlocal`` is a tensor ``[1]`` so that the
    program has no data-dependent shape.
    """

    def __init__(self, stages, k: int):
        super().__init__()
        self.stages, self.k = stages, k

    def forward(self, h, edge_vec, edge_index, species, nlocal, g_h):
        with torch.enable_grad():
            x = h.detach().requires_grad_(True)
            vec = edge_vec.detach().requires_grad_(True)
            out, energy = self.stages.stage(self.k, x, vec, edge_index, species)
            local = torch.arange(species.shape[0], device=species.device) < nlocal
            total = (energy * local.to(energy.dtype)).sum() + (out * g_h).sum()
            g_x, g_vec = torch.autograd.grad(total, (x, vec), allow_unused=True)
        if g_x is None:
            g_x = torch.zeros_like(h)
        return g_x.detach(), g_vec.detach(), energy.detach()
