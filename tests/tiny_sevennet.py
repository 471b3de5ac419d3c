"""A small SevenNet checkpoint with random weights, written in sevenn's own format.

The redundant ghost shell makes multi-rank runs of SevenNet-0 (5 layers x 5 A) too
costly for a 2-core CI; this model keeps SevenNet's architecture and checkpoint
loading path but has 2 layers, a 4 A cutoff and 8 channels, so MPI and long MD
tests run in seconds. Weights are seeded, so results are reproducible.
"""

from __future__ import annotations

import copy
from pathlib import Path


def write_tiny_sevennet_checkpoint(path: str | Path, *, seed: int = 7, cutoff: float = 4.0,
                                   layers: int = 2) -> Path:
    import sevenn
    import sevenn._keys as KEY
    import torch
    from sevenn.model_build import build_E3_equivariant_model
    from sevenn.util import load_checkpoint

    base = load_checkpoint("7net-0")
    config = copy.deepcopy(base.config)
    config.update({
        KEY.CUTOFF: cutoff,
        "cutoff_function": {"cutoff_function_name": "XPLOR", "cutoff_on": cutoff - 0.5},
        "channel": 8,
        "lmax": 1,
        "irreps_manual": False,
        KEY.NUM_CONVOLUTION: layers,
        "weight_nn_hidden_neurons": [16, 16],
        "avg_num_neigh": [20.0] * layers,
        "conv_denominator": 20.0,
        "version": sevenn.__version__,
    })
    config.pop("avg_num_neigh_cp", None)
    torch.manual_seed(seed)
    model = build_E3_equivariant_model(config)
    # random weights give forces of ~1e-3 eV/A; scale the readout so forces are
    # O(1 eV/A) and force comparisons mean something
    state = model.state_dict()
    state["rescale_atomic_energy.scale"] = state["rescale_atomic_energy.scale"] * 500.0
    path = Path(path)
    torch.save({"config": config, "model_state_dict": state, "epoch": 0,
                "optimizer_state_dict": None, "scheduler_state_dict": None}, path)
    return path
