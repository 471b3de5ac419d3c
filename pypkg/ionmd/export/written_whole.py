"""Model files written whole or not at all: an export (a TorchScript save, an AOTInductor
package and its checks) is written into a scratch folder beside its path and moved onto
that path (``os.replace``, one step on one file system) only once written and checked.
Replacing a model file is the ordinary way to re-export a model (the runs resume with it,
:mod:`ionmd.export.model_identity`), so an export that fails half-way, or whose check
fails, must not cost the runs the file they were made with: before, a package was written
over ``-o`` and removed when its check failed, the runs' model with it.

A scratch folder names the host and process that write it, so that an export killed
outright (SIGKILL, a node's out-of-memory killer: no ``finally`` runs) leaves no litter for
long: the next export of the same path on that host removes the scratch folders whose
writer is gone. Those of another host (a shared file system) are never touched: their
writer cannot be checked from here."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from pathlib import Path

SUFFIX = ".writing"


@contextlib.contextmanager
def written_whole(path: str | Path):
    """Yield the path to write ``path``'s new contents to (in a scratch folder in
    ``path``'s folder, under ``path``'s own name: a TorchScript archive and a package name
    their top folder after it); on leaving without an error it replaces ``path``, else it
    is removed and ``path`` is as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_scratch(path)
    scratch = Path(tempfile.mkdtemp(prefix=f".{path.name}.{_host()}.{os.getpid()}.",
                                    suffix=SUFFIX, dir=path.parent))
    try:
        yield scratch / path.name
        os.replace(scratch / path.name, path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _host() -> str:
    return socket.gethostname() or "localhost"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:         # another user's process: alive
        return True
    return True


def remove_abandoned_scratch(path: str | Path) -> list[Path]:
    """Remove the scratch folders of exports of ``path`` whose writer, a process on this
    host, is gone; returns them. Scratch folders of live writers, of other hosts and of
    names not made by :func:`written_whole` stay."""
    path = Path(path)
    prefix, host, removed = f".{path.name}.", _host(), []
    for scratch in path.parent.glob(f".{path.name}.*{SUFFIX}"):
        writer = scratch.name[len(prefix):-len(SUFFIX)].rsplit(".", 2)
        if (len(writer) != 3 or writer[0] != host or not writer[1].isdigit()
                or not scratch.is_dir() or _alive(int(writer[1]))):
            continue
        shutil.rmtree(scratch, ignore_errors=True)
        removed.append(scratch)
    return removed


def left_as_it_was(path: str | Path) -> str:
    """What a failed export says of its ``-o``."""
    path = Path(path)
    if path.exists():
        return f"{path} was not replaced: the file there is as it was"
    return f"nothing was written to {path}"
