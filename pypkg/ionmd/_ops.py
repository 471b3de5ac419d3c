"""ionmd's custom torch ops (``torch.ops.ionmd.*``), compiled into ``lib/libionmd_ops.so``,
and how Python runs TorchScript model files like the plugin (:func:`torchscript_as_the_plugin`).

Model files exported with fused convolutions call them, so a process must load the
library before it reads such a file: the LAMMPS plugin links it; Python calls
:func:`load` (the exporters and every ``torch.jit.load`` of an ionmd model file do).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

OPS_LIBRARY = "libionmd_ops.so"
_loaded = False


def library_path() -> Path:
    return Path(__file__).resolve().parent / "lib" / OPS_LIBRARY


def load() -> None:
    """Register ``torch.ops.ionmd.*`` in this process (once); raises if the library is missing."""
    global _loaded
    if _loaded:
        return
    import torch

    path = library_path()
    if not path.is_file():
        from ionmd.errors import IonmdError

        raise IonmdError(f"{path} is missing: ionmd was installed without its compiled ops. "
                         "Reinstall with `make install` (or `pip install --no-build-isolation .`).")
    torch.ops.load_library(str(path))
    _loaded = True


@contextlib.contextmanager
def torchscript_as_the_plugin():
    """Within this block, TorchScript graphs run as pair_style ionmd runs them
    (ionmd_model_torchscript.cpp): as written, without the graph executor's optimisation
    passes. The legacy executor gave a slightly wrong answer now and then (5 runs in 295),
    and the profiling executor re-specialises the graph for every new edge count. A block,
    not a process-wide switch: with optimisation off for a thread, a later
    torch.jit.script + save in that thread fails ("Couldn't find method")."""
    import torch

    with torch.jit.optimized_execution(False):
        yield
