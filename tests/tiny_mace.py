"""Random-weight MACE models with MACE-MP-0a's architecture (seed 002: 2 interactions,
correlation order 3, max_L 1, r_max 5 A), narrower for speed, saved as ``.model``
files the way ``mace_run_train`` writes them (a pickled module)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

ELEMENTS = {"Li": 3, "S": 16, "Cl": 17, "P": 15}


def build_tiny_mace(*, channels: int = 16, num_interactions: int = 2, correlation=3,
                    max_L: int = 1, r_max: float = 5.0, heads: list[str] | None = None,
                    pair_repulsion: bool = False, seed: int = 0,
                    interaction_first: str = "RealAgnosticResidualInteractionBlock",
                    interaction: str = "RealAgnosticResidualInteractionBlock",
                    readout: str = "NonLinearReadoutBlock", model: str = "ScaleShiftMACE",
                    elements: list[str] | None = None, radial_MLP: list[int] | None = None,
                    max_ell: int = 3, **extra):
    """``interaction_first``/``interaction``/``readout`` name classes of
    ``mace.modules.interaction_classes``/``readout_classes``; ``model`` is
    ``ScaleShiftMACE`` or ``MACE``; ``extra`` goes to the constructor as it is
    (e.g. ``use_last_readout_only``, ``keep_last_layer_irreps``)."""
    import torch
    from e3nn import o3
    from mace import modules

    torch.manual_seed(seed)
    z = sorted(ELEMENTS[e] for e in elements) if elements else sorted(ELEMENTS.values())
    hidden = o3.Irreps(" + ".join(f"{channels}x{l}{'e' if l % 2 == 0 else 'o'}"
                                  for l in range(max_L + 1)))
    nheads = len(heads or ["Default"])
    scale_shift = {}
    if model == "ScaleShiftMACE":
        scale_shift = dict(atomic_inter_scale=[8.0] * nheads if heads else 8.0,
                           atomic_inter_shift=[0.05] * nheads if heads else 0.05)
    model = getattr(modules, model)(
        r_max=r_max, num_bessel=8, num_polynomial_cutoff=5, max_ell=max_ell,
        interaction_cls=modules.interaction_classes[interaction],
        interaction_cls_first=modules.interaction_classes[interaction_first],
        num_interactions=num_interactions, num_elements=len(z), hidden_irreps=hidden,
        MLP_irreps=o3.Irreps("16x0e"),
        atomic_energies=np.tile(-np.arange(1.0, len(z) + 1), (nheads, 1)).squeeze(),
        avg_num_neighbors=20.0, atomic_numbers=z, correlation=correlation,
        gate=torch.nn.functional.silu, pair_repulsion=pair_repulsion,
        heads=heads, readout_cls=modules.readout_classes[readout],
        **({"radial_MLP": radial_MLP} if radial_MLP else {}), **scale_shift, **extra,
    )
    # random weights are small; make the interaction energies large enough that a
    # wrong force or stress shows up well above round-off
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return model


def write_tiny_mace(path: str | Path, **kwargs) -> Path:
    import torch

    path = Path(path)
    torch.save(build_tiny_mace(**kwargs), path)
    return path


def write_tiny_cueq_mace(path: str | Path, **kwargs) -> Path:
    """A tiny ScaleShiftMACE (``build_tiny_mace(**kwargs)``, float64) converted to the
    cuEquivariance layout by mace-torch's own mace_convert_e3nn_cueq and saved as it saves
    it."""
    import os

    os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    import torch
    from mace.cli.convert_e3nn_cueq import run

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        cueq = run(input_model=build_tiny_mace(**kwargs), device="cpu", return_model=True)
    finally:
        torch.set_default_dtype(previous)
    assert any(type(m).__module__.startswith("cuequivariance") for m in cueq.modules())
    path = Path(path)
    torch.save(cueq, path)
    return path
