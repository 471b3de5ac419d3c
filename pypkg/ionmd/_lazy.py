"""Packages whose public names are imported from their modules on first use, so that
``ionmd``'s command line (and LAMMPS's plugin discovery) stays quick to start."""

from __future__ import annotations

import importlib


def lazy_exports(package: str, exports: dict[str, str]):
    """``(__getattr__, __all__)`` for ``package``: name -> the module (relative to the
    package) it is imported from on first use."""

    def __getattr__(name: str):
        if name in exports:
            return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__, list(exports)
