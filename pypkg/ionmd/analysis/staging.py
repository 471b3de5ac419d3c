"""Writing an analysis beside the earlier one (:func:`staged_outputs`): its files go to a
staging folder inside the output folder and replace the earlier files only once complete.
Analyses of one output folder at once commit one after the other (an flock on
``OUT/.analysis.lock``), and staging folders of analyses that died (SIGKILL, a node lost)
are removed by the next one; a live analysis's are not (it holds an flock on its own).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from ionmd.file_locks import flock_if_supported, held_elsewhere

STAGING_PREFIX = ".analysis-new-"
"""Name prefix of the folder (inside the output folder) a new analysis is written to."""
LOCK_NAME = ".analysis.lock"
"""The output folder's lock file (there only while an analysis holds it)."""
HELD_NAME = ".held"
"""Inside a staging folder: locked by its analysis for as long as it lives."""

@contextmanager
def folder_lock(out: Path):
    """Hold ``out``'s lock (:data:`LOCK_NAME`) for the block; yields whether it is held (not
    where the file system has no locks). The file is removed on release, so that no lock
    file is left among the results; an analysis that waited on the removed file locks the
    new one instead (it checks that the file it holds is the one at the path)."""
    path = Path(out) / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            locked = flock_if_supported(fd, fcntl.LOCK_EX)
            if locked and not _is_file_at(fd, path):
                os.close(fd)            # removed by the analysis before: lock the new one
                continue
        except BaseException:
            os.close(fd)
            raise
        break
    try:
        yield locked
    finally:
        try:
            path.unlink()
        except OSError:
            pass
        os.close(fd)


def _is_file_at(fd: int, path: Path) -> bool:
    try:
        there = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (there.st_dev, there.st_ino)


def remove_stale_stages(out: Path) -> list[Path]:
    """Remove the staging folders in ``out`` that no live analysis holds (left by one that
    was killed, or by an ionmd that took no locks); returns those removed. Call it holding
    :func:`folder_lock`, so that no staging folder is between its creation and its hold."""
    removed = []
    for stage in sorted(Path(out).glob(STAGING_PREFIX + "*")):
        if stage.is_dir() and not _held(stage):
            shutil.rmtree(stage, ignore_errors=True)
            removed.append(stage)
    return removed


def _held(stage: Path) -> bool:
    """Whether a live analysis holds ``stage`` (its :data:`HELD_NAME` locked)."""
    return held_elsewhere(stage / HELD_NAME)


def _new_stage(out: Path) -> tuple[Path, int]:
    """A staging folder in ``out`` and the descriptor that holds it (locked, where the file
    system has locks), made after the stale ones are removed."""
    with folder_lock(out) as locked:
        if locked:              # without locks a live analysis's could not be told apart
            remove_stale_stages(out)
        stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
        fd = os.open(stage / HELD_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        if locked:
            flock_if_supported(fd, fcntl.LOCK_EX)
    return stage, fd


@contextmanager
def _signals_deferred():
    """SIGINT and SIGTERM arriving during the block are acted on after it (a commit of a
    few renames is never left half done); only in the main thread, where handlers run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    old = {s: h for s, h in old.items() if h is not None}   # set outside Python: left be
    for s in old:
        signal.signal(s, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        for s in caught:
            signal.raise_signal(s)


@contextmanager
def staged_outputs(out_dir: str | Path, earlier, *, plan=None):
    """A folder to write a new analysis in (inside ``out_dir``, so that its files move in
    place by rename). Once the block completes, its files replace the earlier analysis's in
    ``out_dir`` (results.json and summary.json last) and the earlier files that the new
    analysis did not write are removed (``earlier(out_dir)``: their names); if it raises,
    the folder is removed and ``out_dir`` is left as it was (folders created for it removed
    again), so a failed re-analysis loses none of the earlier results. The commit holds
    ``out_dir``'s lock (:func:`folder_lock`): two analyses of one folder at once leave all
    the files of one of them, never a mix.

    ``plan(out_dir, staged)``, where given, decides the commit instead, under its lock and
    so from the folder as it is then: ``(put, removed)``, the staged names put in place
    (the others are dropped) and the earlier names removed (an earlier analysis that
    stands beside a new failure.json: ``(["failure.json"], [])``)."""
    out = Path(out_dir)
    created = [p for p in (out, *out.parents) if not p.exists()]
    out.mkdir(parents=True, exist_ok=True)
    stage, held = _new_stage(out)
    try:
        yield stage
        with folder_lock(out), _signals_deferred():
            staged = [p.name for p in stage.iterdir() if p.is_file() and p.name != HELD_NAME]
            if plan is None:
                put, old = staged, earlier(out)
            else:
                put, old = plan(out, staged)
                put = [n for n in put if n in staged]
            for name in sorted(put, key=lambda n: n in ("failure.json", "results.json",
                                                          "summary.json")):
                os.replace(stage / name, out / name)
            for name in old:
                if name not in put and (out / name).is_file():
                    (out / name).unlink()
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        os.close(held)
        for folder in created:              # innermost first: only those left empty
            try:
                folder.rmdir()
            except OSError:
                break
