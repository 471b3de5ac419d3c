"""The files of a run directory that analysis reads and what its folders' names say:
``run.json``'s, ``status.json``'s and ``settings.json``'s names, the trajectory where none is named (:func:`found_trajectory`: DCD
pieces, else one LAMMPS dump, else one file ASE reads), its one data file
(:func:`only_file`), its logs' texts (:func:`read_log_texts`, read once; logs of several
partitions of one run refused, :func:`refuse_partitions`), and the structure and temperature a folder
is named after (:func:`structure_name`, :func:`folder_temperature`)."""

from __future__ import annotations

import re
from pathlib import Path

from ionmd.errors import AnalysisError
from ionmd.lammps.log import log_partition, natural_order

RUN_JSON, STATUS, SETTINGS = "run.json", "status.json", "settings.json"
"""A run folder's JSON files (one home: ionmd.protocols.rundir writes them, analysis
and sweep read them): its run record, its state, the settings it was planned with."""


#: Folder names that say a run's temperature or replica, not its material.
TEMPERATURE_FOLDER = re.compile(r"T?\d+(\.\d+)?\s*K?", re.IGNORECASE)
REPLICA_FOLDER = re.compile(r"(r|rep|replica|run|seed)[_-]?\d+", re.IGNORECASE)
"""A replica's folder: ``r0``, ``rep1``, ``replica_2``, ``run1``, ``seed3`` (docs/analysis.md
lists these; ``run1``, ``run_2`` are as common a name of repeated runs as ``r0``)."""


def structure_name(path: str | Path) -> str:
    """Default structure name of a run directory: the nearest folder name on its path
    (itself first) that is not a temperature or replica folder (``A/600K/r0`` -> ``A``);
    the directory's own name when every folder is one of those."""
    path = Path(path).resolve()
    for folder in (path, *path.parents):
        name = folder.name
        if name and not (TEMPERATURE_FOLDER.fullmatch(name) or REPLICA_FOLDER.fullmatch(name)):
            return name
    return path.name


def folder_temperature(path: Path) -> float | None:
    """The temperature a run's folder is named after (``T1000``, ``1000K``, ``T1000K``; the
    run folder, else the folder above a replica folder ``r0``); None where neither says one
    plainly (a bare number may be a replica's)."""
    for folder in (path, path.parent):
        m = re.fullmatch(r"(?:T(\d+(?:\.\d+)?)\s*K?|(\d+(?:\.\d+)?)\s*K)", folder.name,
                         re.IGNORECASE)
        if m:
            return float(m.group(1) or m.group(2))
        if not REPLICA_FOLDER.fullmatch(folder.name):
            return None
    return None


def only_file(path: Path, pattern: str, what: str, flag: str) -> Path:
    """The one file of ``path`` matching ``pattern`` (its data file, where run.json names
    none); refused, naming ``flag``, where there are none or several."""
    hits = sorted(path.glob(pattern))
    if len(hits) != 1:
        raise AnalysisError(f"{path}: expected one {what} ({pattern}), found {len(hits)}; name it "
                            f"in {RUN_JSON} or on the command line ({flag})")
    return hits[0]


#: Names of the LAMMPS dump files of a run (``dump dcd``): every one is a piece.
DCD_PATTERNS = ("*.dcd",)

#: Names of LAMMPS ``dump`` files (``custom``/``atom``, plain or gzipped, and ``xtc``)
#: looked for where a run directory has no DCD.
DUMP_PATTERNS = ("*.dump", "*.lammpstrj", "dump.*", "*.dump.gz", "*.lammpstrj.gz", "*.dump.bz2",
                 "*.lammpstrj.bz2", "*.dump.xz", "*.lammpstrj.xz", "*.xtc")


def trajectory_searched() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The names :func:`found_trajectory` looks for, in its order: DCD pieces, else one
    LAMMPS dump, else one file ASE reads (:data:`ionmd.analysis.ase_frames.SEARCHED`)."""
    from ionmd.analysis.ase_frames import SEARCHED

    return DCD_PATTERNS, DUMP_PATTERNS, SEARCHED


def found_trajectory(path: Path) -> list[Path]:
    """The trajectory of a run directory that names none: its DCDs (pieces, numbers as
    numbers: ``md.2.dcd`` before ``md.10.dcd``), else its one LAMMPS dump, else its one
    file ASE reads (:func:`trajectory_searched`); empty if none.

    Raises
    ------
    AnalysisError
        If there are several dumps, or several ASE files: their order cannot be guessed.
    """
    dcd, dumps, foreign = trajectory_searched()
    pieces = sorted({p for pattern in dcd for p in path.glob(pattern)}, key=natural_order)
    return (pieces or _one_file(path, dumps, "dump files")
            or _one_file(path, foreign, "trajectory files"))


def searched_text() -> str:
    """What :func:`found_trajectory` looks for, in words (for the refusal of a folder
    without any)."""
    dcd, dumps, foreign = trajectory_searched()
    return (f"{' or '.join(dcd)}, all pieces; else one of {', '.join(dumps)}; else one "
            f"of {', '.join(foreign)}")


def _one_file(path: Path, patterns, what: str) -> list[Path]:
    """The one file of ``path`` matching ``patterns`` (a LAMMPS dump of a run written by
    hand, an ASE trajectory), as a list; empty if none.

    Raises
    ------
    AnalysisError
        If there are several: their order cannot be guessed.
    """
    hits = sorted({p for pattern in patterns for p in path.glob(pattern) if p.is_file()})
    if len(hits) > 1:
        raise AnalysisError(f"{path}: several {what} ({', '.join(p.name for p in hits)}); "
                            f"name the ones to analyse, in run order, with --trajectory "
                            f"(or 'trajectory' in {RUN_JSON})")
    return hits


def read_log_texts(logs: list[Path]) -> dict[Path, str]:
    """The text of each log that exists, by path: read once per analysis, every check of
    the logs and the analysis itself use these (:attr:`RunSpec.log_text`)."""
    return {p: p.read_text(errors="replace") for p in logs if p.is_file()}


def log_texts(texts: dict[Path, str]) -> dict[str, str]:
    """The logs' ``texts`` (:func:`read_log_texts`) by file name (by path where two share a
    name)."""
    by_name = len({p.name for p in texts}) == len(texts)
    return {(p.name if by_name else str(p)): text for p, text in texts.items()}


def refuse_partitions(path: Path, texts: dict[Path, str]) -> None:
    """Refuse logs of several partitions of one LAMMPS run (``-partition``: ``log.lammps.0``,
    ``log.lammps.1``, named as the pieces of a run resumed by hand): runs side by side, each
    from step 0, read in a row the last partition's rows superseded the others' (the thermo
    of one replica at another's temperature). ``texts``: the logs' (:func:`read_log_texts`).

    Raises
    ------
    AnalysisError
        If the logs are of more than one partition.
    """
    partitions: dict[int, list[str]] = {}
    for log, text in texts.items():
        k = log_partition(text)
        if k is not None:
            partitions.setdefault(k, []).append(log.name)
    if len(partitions) > 1:
        which = "; ".join(f"partition {k}: {', '.join(names)}" for k, names in sorted(partitions.items()))
        raise AnalysisError(f"{path}: the logs are of {len(partitions)} partitions of one LAMMPS "
                            f"run (-partition; {which}), runs side by side, not pieces of one; "
                            f"analyse one partition: list its logs under 'logs' and its "
                            f"trajectory under 'trajectory' in {RUN_JSON}")
