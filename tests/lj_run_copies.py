"""A real LAMMPS run of 108 LJ atoms (:func:`lammps_runner.lj_dcd_run`) copied with its
run.json edited, and a folder's files with their times: the setup of the tests that an
analysis refuses a run.json value it cannot use and writes nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from lammps_runner import LJ_DCD_RUN_JSON, lj_dcd_run


def lj_run(tmp_path_factory) -> Path:
    """A real LAMMPS run of 108 LJ atoms: 21 frames over 0.8 ps, analysable as it is (for a
    module-scoped fixture: copy it with :func:`edited_copy` before editing)."""
    run = tmp_path_factory.mktemp("run")
    lj_dcd_run(run)
    return run


def write_run_json(folder: Path, edits: dict | None = None) -> Path:
    """``folder``'s run.json written as the analysable one (``LJ_DCD_RUN_JSON``) with
    ``edits`` over it."""
    (folder / "run.json").write_text(json.dumps({**LJ_DCD_RUN_JSON, **(edits or {})}))
    return folder


def edited_copy(run: Path, folder: Path, edits: dict | None = None) -> Path:
    """A copy of ``run`` at ``folder`` with its run.json :func:`write_run_json`'s."""
    shutil.copytree(run, folder)
    return write_run_json(folder, edits)


def folder_files(folder: Path) -> dict:
    """Each file below ``folder`` (by name) with its bytes and modification time: what a
    refused analysis must leave as it was."""
    return {f.name: (f.read_bytes(), f.stat().st_mtime_ns) for f in sorted(folder.rglob("*"))
            if f.is_file()}
