"""MACE's own ASE calculator, the independent reference for exported MACE models."""

import os


def mace_calculator(model_file, dtype: str = "float64", head: str | None = None):
    os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    from mace.calculators import MACECalculator

    kwargs = {"head": head} if head else {}
    return MACECalculator(model_paths=str(model_file), device="cpu", default_dtype=dtype,
                          **kwargs)
