"""Equivariant-kernel backends of exported models (``ionmd export ... --kernels``).

``e3nn`` (the default) exports the family's e3nn tensor products as they are.
``cueq`` builds the convolutions from NVIDIA cuEquivariance (``cuequivariance-torch``):
for SevenNet through SevenNet's own patch (:mod:`sevenn.nn.cue_helper`: the gather,
channel-wise tensor product and scatter of one layer in one segmented polynomial, with
SevenNet's own conversion of the weights). Its ``method`` picks the implementation:

- ``uniform_1d`` / ``fused_tp``: cuEquivariance's compiled kernels
  (``cuequivariance-ops-torch-cu12``); a file exported with them calls
  ``torch.ops.cuequivariance.*``, so the process that runs it must load that library
  first (``pair_style ionmd`` loads the libraries :mod:`ionmd._plugin` finds).
- ``naive``: cuEquivariance's pure-torch reference of the same polynomial. It runs on
  any device and needs only ``cuequivariance-torch``; it is how the CPU tests check that
  a kernel export computes the same function as the e3nn export.

The kernel libraries are an optional extra (``pip install 'ionmd[cuda]'``); nothing
else in ionmd imports them.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os

from ionmd.errors import ExportError

KERNELS = ("e3nn", "cueq")
CUEQ_METHODS = ("naive", "uniform_1d", "fused_tp")
_INSTALL_HINT = ("install the GPU extra: pip install 'ionmd[cuda]' (cuequivariance-torch and "
                 "cuequivariance-ops-torch-cu12)")


def check_kernels(kernels: str) -> str:
    if kernels not in KERNELS:
        raise ExportError(f"unknown kernels {kernels!r}: use one of {', '.join(KERNELS)}")
    return kernels


def cueq_ops_available() -> bool:
    """Whether cuEquivariance's compiled operators can be imported here (needs a GPU driver)."""
    if importlib.util.find_spec("cuequivariance_ops_torch") is None:
        return False
    try:
        importlib.import_module("cuequivariance_ops_torch")    # registers the operators
    except (ImportError, OSError):      # e.g. libcuda.so.1 missing on a CPU-only machine
        return False
    return True


def default_cueq_method(device: str) -> str:
    """The compiled ``uniform_1d`` kernels where they load, else the reference ``naive``."""
    return "uniform_1d" if device == "cuda" or cueq_ops_available() else "naive"


def check_cueq_method(method: str) -> str:
    if method not in CUEQ_METHODS:
        raise ExportError(f"unknown cuEquivariance method {method!r}: use one of "
                          f"{', '.join(CUEQ_METHODS)}")
    if importlib.util.find_spec("cuequivariance_torch") is None:
        raise ExportError(f"--kernels cueq needs cuequivariance-torch: {_INSTALL_HINT}")
    if method != "naive" and not cueq_ops_available():
        raise ExportError(f"cuEquivariance method {method!r} needs its compiled operators "
                          f"(cuequivariance_ops_torch, which needs a CUDA driver): "
                          f"{_INSTALL_HINT}; or export with --kernel-method naive "
                          "(reference implementation, no speed-up)")
    return method


@contextlib.contextmanager
def sevennet_kernel_build(config: dict, kernels: str, method: str = "naive"):
    """Let ``Checkpoint.build_model`` and ``build_E3_equivariant_model`` build ``kernels``.

    Yields the model config to rebuild the same network with. SevenNet gates its
    cuEquivariance patch on ``torch.cuda.is_available()`` and reads the method from
    ``CUEQ_TP_METHOD``; the ``naive`` method runs anywhere, so the gate is lifted (and
    the method set) only while the network is built.
    """
    import copy

    import sevenn._keys as KEY

    config = copy.deepcopy(config)
    if check_kernels(kernels) == "e3nn":
        yield config
        return
    check_cueq_method(method)
    import sevenn.nn.cue_helper as cue_helper

    if not cue_helper.is_cue_cuda_available_model(config):
        raise ExportError("this SevenNet model uses biases in its linear layers, which "
                          "SevenNet's cuEquivariance patch does not support: export with "
                          "--kernels e3nn")
    config[KEY.CUEQUIVARIANCE_CONFIG] = {"use": True, "cueq_tp_method": method,
                                         "use_scatter_fusion": True}
    gate, env = cue_helper.is_cue_available, os.environ.get("CUEQ_TP_METHOD")
    cue_helper.is_cue_available = lambda: True
    os.environ["CUEQ_TP_METHOD"] = method
    try:
        yield config
    finally:
        cue_helper.is_cue_available = gate
        if env is None:
            os.environ.pop("CUEQ_TP_METHOD", None)
        else:
            os.environ["CUEQ_TP_METHOD"] = env
