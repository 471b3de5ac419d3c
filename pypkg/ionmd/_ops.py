"""ionmd's custom torch ops (``torch.ops.ionmd.*``), compiled into ``lib/libionmd_ops.so``.

Model files exported with fused convolutions call them, so a process must load the
library before it reads such a file: the LAMMPS plugin links it; Python calls
:func:`load` (the exporters and every ``torch.jit.load`` of an ionmd model file do).
"""

from __future__ import annotations

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
