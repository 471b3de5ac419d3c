"""Hand-written models in the ionmd model-file contract, saved through the same
``save_torchscript`` the exporters use. They test the pair style's assembly of forces
and virials against LAMMPS's own pair styles, and its error paths."""

from __future__ import annotations

from pathlib import Path
from typing import Tuple

import math

import torch

from ionmd.export.contract import ModelMetadata, save_torchscript


class MorseEdgeModel(torch.nn.Module):
    """E_i = 1/2 sum_j [phi(r_ij) - phi(rc)], phi = D (exp(-2a(r-r0)) - 2 exp(-a(r-r0))):
    LAMMPS's `pair_style morse rc` with `pair_modify shift yes`."""

    def __init__(self, d0: float, alpha: float, r0: float, rc: float):
        super().__init__()
        self.d0, self.alpha, self.r0, self.rc = d0, alpha, r0, rc

    def phi(self, r: torch.Tensor) -> torch.Tensor:
        x = torch.exp(-self.alpha * (r - self.r0))
        return self.d0 * (x * x - 2.0 * x)

    def forward(self, edge_vec: torch.Tensor, edge_index: torch.Tensor, species: torch.Tensor,
                nlocal: int) -> torch.Tensor:
        r = torch.linalg.norm(edge_vec, dim=1)
        shift = self.phi(torch.full_like(r[:1], self.rc))
        e_edge = 0.5 * (self.phi(r) - shift)
        out = torch.zeros(species.shape[0], dtype=edge_vec.dtype, device=edge_vec.device)
        out = out.index_add(0, edge_index[0], e_edge)
        return out[:nlocal]


class PairMorseEdgeModel(torch.nn.Module):
    """Morse pairs with parameters per pair of species (``d0[a][b]``, ``r0[a][b]``; species
    in the model's element order), shifted to zero at ``rc``: e.g. a stiff anion lattice
    with weakly bound, fast cations (a toy superionic conductor)."""

    def __init__(self, d0, r0, alpha: float, rc: float, wall_A: float = 0.0,
                 wall_rho: float = 0.25):
        super().__init__()
        self.d0 = torch.tensor(d0, dtype=torch.float64)
        self.r0 = torch.tensor(r0, dtype=torch.float64)
        self.alpha, self.rc = alpha, rc
        self.wall_A, self.wall_rho = wall_A, wall_rho   # + A exp(-r/rho): a hard core

    def forward(self, edge_vec: torch.Tensor, edge_index: torch.Tensor, species: torch.Tensor,
                nlocal: int) -> torch.Tensor:
        r = torch.linalg.norm(edge_vec, dim=1)
        a, b = species[edge_index[0]], species[edge_index[1]]
        d0 = self.d0.to(edge_vec.dtype)[a, b]
        r0 = self.r0.to(edge_vec.dtype)[a, b]
        x = torch.exp(-self.alpha * (r - r0))
        xc = torch.exp(-self.alpha * (self.rc - r0))
        e_edge = 0.5 * d0 * ((x * x - 2.0 * x) - (xc * xc - 2.0 * xc))
        e_edge = e_edge + 0.5 * self.wall_A * (torch.exp(-r / self.wall_rho)
                                               - math.exp(-self.rc / self.wall_rho))
        out = torch.zeros(species.shape[0], dtype=edge_vec.dtype, device=edge_vec.device)
        out = out.index_add(0, edge_index[0], e_edge)
        return out[:nlocal]


class NonFiniteModel(torch.nn.Module):
    """Finite until an edge gets shorter than `r_bad`, then NaN (a model that 'explodes')."""

    def __init__(self, r_bad: float):
        super().__init__()
        self.r_bad = r_bad

    def forward(self, edge_vec: torch.Tensor, edge_index: torch.Tensor, species: torch.Tensor,
                nlocal: int) -> torch.Tensor:
        r = torch.linalg.norm(edge_vec, dim=1)
        e_edge = torch.sqrt(r - self.r_bad)  # NaN below r_bad
        out = torch.zeros(species.shape[0], dtype=edge_vec.dtype)
        return out.index_add(0, edge_index[0], e_edge)[:nlocal]


class RepulsiveEdgeModel(torch.nn.Module):
    """E_i = 1/2 sum_j A (s / r_ij)^12: finite everywhere but steep, so two atoms put too
    close fly apart by many box lengths in one step (a run that loses atoms)."""

    def __init__(self, a: float, s: float):
        super().__init__()
        self.a, self.s = a, s

    def forward(self, edge_vec: torch.Tensor, edge_index: torch.Tensor, species: torch.Tensor,
                nlocal: int) -> torch.Tensor:
        r = torch.linalg.norm(edge_vec, dim=1)
        e_edge = 0.5 * self.a * (self.s / r) ** 12
        out = torch.zeros(species.shape[0], dtype=edge_vec.dtype)
        return out.index_add(0, edge_index[0], e_edge)[:nlocal]


def save_contract_model(module: torch.nn.Module, path: Path, *, cutoff: float, elements,
                        num_layers: int = 1, dtype: str = "float64", **extra) -> Path:
    meta = ModelMetadata(family="test", cutoff=cutoff, num_layers=num_layers,
                         elements=list(elements), dtype=dtype)
    if "format_version" in extra:
        meta.format_version = extra.pop("format_version")
    meta.extra.update({k: str(v) for k, v in extra.items()})
    return save_torchscript(torch.jit.script(module), path, meta)


class MorseNodeEnergy(torch.nn.Module):
    """The Morse model above with the node-energy signature AOTInductor packages use."""

    def __init__(self, d0: float, alpha: float, r0: float, rc: float):
        super().__init__()
        self.edge_model = MorseEdgeModel(d0, alpha, r0, rc)

    def forward(self, edge_vec: torch.Tensor, edge_index: torch.Tensor,
                species: torch.Tensor) -> torch.Tensor:
        return self.edge_model(edge_vec, edge_index, species, species.shape[0])


def save_contract_package(module: torch.nn.Module, path: Path, *, cutoff: float, elements,
                          num_layers: int = 1, dtype: str = "float64",
                          format_version: int | None = None) -> Path:
    """AOTInductor (.pt2) counterpart of save_contract_model."""
    from ionmd.export.aoti import save_aoti

    meta = ModelMetadata(family="test", cutoff=cutoff, num_layers=num_layers,
                         elements=list(elements), dtype=dtype)
    if format_version is not None:
        meta.format_version = format_version
    return save_aoti(module, path, meta)


# Parameters shared by the Morse tests, and LAMMPS's own pair style with them (the
# analytic reference the contract models are checked against).
D0, ALPHA, R0, RC = 0.35, 1.4, 2.9, 5.5


def lammps_morse(atoms, workdir):
    """``atoms`` with LAMMPS's built-in ``pair_style morse`` (shifted to zero at RC)."""
    from lammps_runner import single_point

    return single_point(atoms, None, workdir, ["Cl", "Li"],
                        pair_lines=f"pair_style morse {RC}\npair_coeff * * {D0} {ALPHA} {R0}\n"
                                   "pair_modify shift yes")


class ToyLayer(torch.nn.Module):
    """One message-passing layer: radial-weighted messages tanh(h_j) * R(r_ij) into i,
    then h'_i = tanh(h_i W_self + m_i W_msg) and an energy readout e_i = h'_i . w."""

    def __init__(self, d_in: int, d_out: int, rc: float, gen: torch.Generator):
        super().__init__()
        nb = 4
        self.rc = rc
        self.register_buffer("mu", torch.linspace(0.8, rc, nb, dtype=torch.float64))
        self.register_buffer("w_rad", torch.randn(nb, d_in, generator=gen, dtype=torch.float64))
        self.register_buffer("w_self", torch.randn(d_in, d_out, generator=gen, dtype=torch.float64))
        self.register_buffer("w_msg", torch.randn(d_in, d_out, generator=gen, dtype=torch.float64))
        self.register_buffer("w_out", torch.randn(d_out, generator=gen, dtype=torch.float64))

    def forward(self, h: torch.Tensor, edge_vec: torch.Tensor, edge_index: torch.Tensor,
                n_out: int) -> Tuple[torch.Tensor, torch.Tensor]:
        r = torch.linalg.norm(edge_vec, dim=1)
        fc = 0.5 * (torch.cos(torch.pi * r / self.rc) + 1.0)
        radial = torch.exp(-2.0 * (r[:, None] - self.mu[None, :]) ** 2) @ self.w_rad
        msg = torch.tanh(h[edge_index[1]]) * radial * fc[:, None]
        m = torch.zeros((n_out, h.shape[1]), dtype=h.dtype, device=h.device)
        m = m.index_add(0, edge_index[0], msg)
        h_next = torch.tanh(h[:n_out] @ self.w_self + m @ self.w_msg)
        return h_next, h_next @ self.w_out


class ToyMessagePassing(torch.nn.Module):
    """A pure-torch L-layer message-passing model (receptive field L x rc) with a plain
    contract ``forward`` and per-layer stages (ionmd.export.staged), in float64.

    Energies: e_i = e0[species_i] + sum_k readout_k(h_k,i), every layer contributing,
    as in MACE; the feature widths differ from layer to layer."""

    def __init__(self, rc: float, widths=(3, 5, 4, 2), num_species: int = 2, seed: int = 3):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.register_buffer("embedding", torch.randn(num_species, widths[0], generator=gen,
                                                      dtype=torch.float64))
        self.register_buffer("e0", torch.tensor([-1.5, -0.7][:num_species], dtype=torch.float64))
        self.layers = torch.nn.ModuleList(
            [ToyLayer(widths[k], widths[k + 1], rc, gen) for k in range(len(widths) - 1)])

    def forward(self, edge_vec: torch.Tensor, edge_index: torch.Tensor, species: torch.Tensor,
                nlocal: int) -> torch.Tensor:
        n = species.shape[0]
        h = self.halo_embed(species)
        energy = self.e0[species]
        for layer in self.layers:
            h, e = layer(h, edge_vec, edge_index, n)
            energy = energy + e
        return energy[:nlocal]

    @torch.jit.export
    def halo_embed(self, species: torch.Tensor) -> torch.Tensor:
        return self.embedding[species]

    @torch.jit.export
    def halo_stage(self, k: int, h: torch.Tensor, edge_vec: torch.Tensor,
                   edge_index: torch.Tensor, species: torch.Tensor,
                   nlocal: int) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.stage_output(k, h, edge_vec, edge_index, species, nlocal)

    def stage_output(self, k: int, h: torch.Tensor, edge_vec: torch.Tensor,
                     edge_index: torch.Tensor, species: torch.Tensor,
                     nlocal: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """Stage ``k``'s (features, energies) of the local atoms: halo_stage's body, which a
        subclass's scripted halo_stage calls (TorchScript has no ``super()``)."""
        h_next = h[:nlocal]
        energy = torch.zeros(nlocal, dtype=h.dtype, device=h.device)
        for i, layer in enumerate(self.layers):
            if i + 1 == k:
                h_next, energy = layer(h, edge_vec, edge_index, nlocal)
        if k == 1:
            energy = energy + self.e0[species[:nlocal]]
        return h_next, energy


def save_toy_models(directory: Path, rc: float = 3.6) -> tuple[Path, Path]:
    """The toy model as a plain contract file and as a staged one (same weights)."""
    from ionmd.export.staged import check_stages, random_graphs

    model = ToyMessagePassing(rc)
    scripted = torch.jit.script(model)
    check_stages(scripted, random_graphs(2, rc, torch.float64), len(model.layers), rtol=1e-13)
    plain = save_contract_model(scripted, directory / "toy_plain.pt", cutoff=rc,
                                elements=["Cl", "Li"], num_layers=len(model.layers))
    return plain, save_toy_staged(directory / "toy_staged.pt", rc, model=model)


def save_toy_staged(path: Path, rc: float = 3.6, *, model=None, **extra) -> Path:
    """The toy model as a staged file; ``extra`` metadata is written as given."""
    from ionmd.export.staged import stage_metadata

    model = model if model is not None else ToyMessagePassing(rc)
    widths = [layer.w_self.shape[0] for layer in model.layers]
    return save_contract_model(model, path, cutoff=rc, elements=["Cl", "Li"],
                               num_layers=len(widths), **stage_metadata(widths), **extra)
