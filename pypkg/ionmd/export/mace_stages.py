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


def make_staged_class(torch):
    from typing import Optional, Tuple

    from e3nn.util.jit import compile_mode

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
        """Contract ``forward`` (the unsplit wrapper) plus ``halo_embed``/``halo_stage``."""

        def __init__(self, wrapper: torch.nn.Module):
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
                NoReadout(num_heads) if r is None else r for r in layer_readouts(model)])
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

    return MACEStaged


def build_staged(wrapper, torch):
    """The staged module around a ``MACEEdgeModel`` wrapper (same parameters)."""
    check_splittable(wrapper.model)
    return make_staged_class(torch)(wrapper).eval()
