"""Model files written whole or not at all: an export (a TorchScript save, an AOTInductor
package and its checks) is written into a scratch folder beside its path and moved onto
that path (``os.replace``, one step on one file system) only once written and checked.
Replacing a model file is the ordinary way to re-export a model (the runs resume with it,
:mod:`ionmd.export.model_identity`), so an export that fails half-way, or whose check
fails, must not cost the runs the file they were made with: before, a package was written
over ``-o`` and removed when its check failed, the runs' model with it."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


@contextlib.contextmanager
def written_whole(path: str | Path):
    """Yield the path to write ``path``'s new contents to (in a scratch folder in
    ``path``'s folder, under ``path``'s own name: a TorchScript archive and a package name
    their top folder after it); on leaving without an error it replaces ``path``, else it
    is removed and ``path`` is as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".writing",
                                    dir=path.parent))
    try:
        yield scratch / path.name
        os.replace(scratch / path.name, path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def left_as_it_was(path: str | Path) -> str:
    """What a failed export says of its ``-o``."""
    path = Path(path)
    if path.exists():
        return f"{path} was not replaced: the file there is as it was"
    return f"nothing was written to {path}"
