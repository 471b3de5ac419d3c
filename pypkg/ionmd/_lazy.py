"""Packages whose public names are imported from their modules on first use, so that
``ionmd``'s command line (and LAMMPS's plugin discovery) stays quick to start."""

from __future__ import annotations

import importlib
import sys


def lazy_exports(package: str, exports: dict[str, str]):
    """``(__getattr__, __all__)`` for ``package``: name -> the module (relative to the
    package) it is imported from on first use. Called in the package's ``__init__``, it
    also gives the package a ``__dir__`` listing those names beside what the package
    holds (``dir(ionmd.structures)``, a notebook's tab completion: not only
    ``lazy_exports``), so that no package using it can leave that out."""

    def __getattr__(name: str):
        if name in exports:
            return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    module = sys.modules.get(package)

    def __dir__() -> list[str]:
        held = set(vars(module)) if module is not None else set()
        return sorted((held - {"lazy_exports"}) | set(exports))

    if module is not None:
        module.__dir__ = __dir__
    return __getattr__, list(exports)
