"""Hand-written models in the ionmd model-file contract, saved through the same
``save_torchscript`` the exporters use. They test the pair style's assembly of forces
and virials against LAMMPS's own pair styles, and its error paths."""

from __future__ import annotations

from pathlib import Path

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
