"""Where ``ionmd analyze RUN... -o OUT`` writes each run's results: ``OUT/`` mirrors the
run directories below their common parent, so runs whose folders share a name (ionmd's
own layout: ``.../T600K/r0``, ``.../T900K/r0``) never write to one place; each output
folder records its run, and a folder holding another run's results is never reused."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ionmd import strict_json
from ionmd.errors import AnalysisError

SOURCE = "run_dir.json"


def output_dirs(run_dirs: list[str | Path], out: str | Path) -> list[Path]:
    """``OUT/<run dir relative to the runs' common parent>`` for each run (one run:
    ``OUT/<its name>``).

    Raises
    ------
    AnalysisError
        If a run is given twice.
    """
    runs = [Path(p).resolve() for p in run_dirs]
    seen: dict[Path, str] = {}
    for given, path in zip(run_dirs, runs):
        if path in seen:
            raise AnalysisError(f"run directory {given} is given twice (also as {seen[path]})")
        seen[path] = str(given)
    if len(runs) == 1:
        return [Path(out) / runs[0].name]
    common = Path(os.path.commonpath(runs))
    # a run that is the common parent itself (runs nested in it) keeps its name
    return [Path(out) / (p.relative_to(common) if p != common else Path(p.name)) for p in runs]


def check_output(out: Path, run_dir: Path) -> None:
    """Refuse ``out`` if it holds the results of another run than ``run_dir``; writes
    nothing (a run whose analysis then fails leaves no folder behind: :func:`claim_output`
    records the run once its results are written).

    Raises
    ------
    AnalysisError
        If ``out`` already holds the results of another run directory.
    """
    run_dir = Path(run_dir).resolve()
    marker = Path(out) / SOURCE
    if marker.is_file():
        owner = json.loads(marker.read_text()).get("run_dir")
        if owner and Path(owner) != run_dir:
            raise AnalysisError(
                f"{out} holds the analysis of {owner}, not of {run_dir}; write to another "
                "folder (-o), or delete it to replace those results")
    elif Path(out).is_dir() and any(Path(out).glob("*.json")):
        raise AnalysisError(
            f"{out} holds results that do not say which run they belong to (written by an "
            "older ionmd?); write to another folder (-o), or delete it")


def claim_output(out: Path, run_dir: Path) -> None:
    """Record that ``out`` holds the analysis of ``run_dir`` (after :func:`check_output`;
    where the analysis wrote there): ``run_dir.json``."""
    if not Path(out).is_dir():          # nothing written there: nothing to claim
        return
    marker = Path(out) / SOURCE
    text = strict_json.dumps({"run_dir": str(Path(run_dir).resolve())}, indent=1)
    if not marker.is_file() or marker.read_text() != text:
        marker.write_text(text)
