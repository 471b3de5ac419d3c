"""eSEN's message-passing layers as per-layer stages (docs/model-contract.md), so that an
eSEN package runs with the halo exchange on many ranks and recomputes layer by layer.

An eSEN of ``L`` interaction layers has ``L + 1`` stages, one per graph hop
(:func:`ionmd.export.esen.receptive_field_hops`):

* ``halo_embed``: the l = 0 atom embedding plus the stored charge/spin/dataset
  embedding, ``[N, C]`` (it depends on the species only);
* stage 1: fairchem's edge-degree embedding, a sum over each receiver's edges, giving
  the full spherical features ``[N, (lmax+1)^2 * C]``;
* stage ``k = 2 .. L+1``: interaction block ``k - 1``; the last stage also applies the
  final norm and the energy head and returns the node energy (its ``h`` is that energy,
  width 1, never exchanged).

Each stage recomputes the edge geometry it needs (distances, Wigner matrices, envelope,
edge embedding) from ``edge_vec``: that is what lets a stage run alone, on a chunk of
receivers or after a halo exchange. The submodules are fairchem's own, called in the
order of ``eSCNMDBackbone.forward`` (fairchem-core 2.24); the export checks the chained
stages against that whole forward on random graphs (:func:`ionmd.export.staged.check_stages`),
so a fairchem release that changes the order is refused rather than exported wrong.

AOTInductor packages carry no autograd, so every stage is compiled twice, its forward
and its vector-Jacobian product (:func:`ionmd.export.aoti.stage_programs`). Imported only
when exporting (needs torch)."""

from __future__ import annotations

import torch


class ESENStages(torch.nn.Module):
    """The stages of an :class:`ionmd.export.esen_modules.ESENNodeEnergy`.

    ``halo_embed`` and ``halo_stage`` follow the staged contract (used by the export
    checks); :meth:`stage` is the same stage on all rows, the form that is compiled.
    """

    def __init__(self, node_energy):
        super().__init__()
        self.node_energy = node_energy
        backbone = node_energy.backbone
        self.num_stages = int(backbone.num_layers) + 1
        self.sph = int(backbone.sph_feature_size)
        self.channels = int(backbone.sphere_channels)

    def widths(self) -> list[int]:
        """Feature widths read by stages ``1 .. L+1``."""
        return [self.channels] + [self.sph * self.channels] * (self.num_stages - 1)

    def halo_embed(self, species):
        ne = self.node_energy
        z = ne.z_of_species[species]
        return ne.backbone.sphere_embedding(z) + ne.csd_embedding[0]

    def halo_stage(self, k: int, h, edge_vec, edge_index, species, nlocal: int):
        out, energy = self.stage(k, h, edge_vec, edge_index, species)
        return out[:nlocal], energy[:nlocal]

    def _geometry(self, edge_vec, edge_index, species):
        """What fairchem's forward derives from the graph before the first block."""
        bb = self.node_energy.backbone
        z = self.node_energy.z_of_species[species]
        # fairchem: source (sender) = row 0, target (receiver) = row 1; its
        # edge_distance_vec = pos[source] - pos[target] is the contract's edge_vec
        fc_index = edge_index.flip(0)
        distance = torch.linalg.norm(edge_vec, dim=-1)
        wigner, wigner_inv = bb._get_rotmat_and_wigner(edge_vec)
        coefficient_index = bb.coefficient_index if bb.mmax != bb.lmax else None
        wigner, wigner_inv = bb.backend.prepare_wigner(wigner, wigner_inv, bb.mappingReduced,
                                                       coefficient_index)
        envelope = bb.envelope(distance / bb.cutoff).reshape(-1, 1)
        x_edge = torch.cat((bb.distance_expansion(distance),
                            bb.source_embedding(z[fc_index[0]]),
                            bb.target_embedding(z[fc_index[1]])), dim=1)
        if wigner_inv.ndim == 3:
            envelope = envelope.unsqueeze(-1)
        return fc_index, x_edge, wigner, wigner_inv * envelope

    def stage(self, k: int, h, edge_vec, edge_index, species):
        """Stage ``k`` on every node: ``(h_k [N, D_k], node energy [N])``; rows of nodes
        that receive no edges (ghosts) are not meaningful."""
        ne = self.node_energy
        bb = ne.backbone
        n = species.shape[0]
        fc_index, x_edge, wigner, wigner_inv_env = self._geometry(edge_vec, edge_index, species)
        if k == 1:
            x = h.new_zeros((n, self.sph, self.channels))
            x[:, 0, :] = h
            x = bb.edge_degree_embedding(x, x_edge, fc_index[1], wigner_inv_env)
            return x.reshape(n, -1), h.new_zeros(n)
        x = h.reshape(n, self.sph, self.channels)
        x_edge = bb.backend.get_layer_radial_emb(x_edge, bb)[k - 2]
        x = bb.blocks[k - 2](x, x_edge, fc_index, wigner, wigner_inv_env,
                             total_atoms_across_gp_ranks=n,
                             sys_node_embedding=ne.csd_embedding[species.new_zeros(n)],
                             scatter_target=fc_index[1], gp_ctx=None)
        if k < self.num_stages:
            return x.reshape(n, -1), h.new_zeros(n)
        x = bb.norm(x)
        energy = ne.energy_block(x[:, 0, :]).reshape(-1) * ne.rmsd + ne.ref_of_species[species]
        return energy.unsqueeze(1), energy
