"""A campaign's ``[resources]``: what each run needs (MPI ranks, threads per rank, GPUs,
walltime), checked against the executor's machines by :mod:`campaign_executor`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ionmd.sweep.campaign_problems import Problems, check_int, check_keys, check_range
from ionmd.sweep.source import Source

RESOURCE_KEYS = ("ranks", "threads", "gpus", "walltime")


@dataclass
class Resources:
    """Per run: MPI ranks, OpenMP/torch threads per rank, GPUs, walltime in minutes."""

    ranks: int = 1
    threads: int = 1
    gpus: int = 0
    walltime_min: float = 60.0

    @property
    def cores(self) -> int:
        return self.ranks * self.threads


def parse_walltime(value) -> float:
    """Minutes from a number (minutes), ``"90min"``, ``"2h"``, ``"30s"``, ``"1d"`` or SLURM's
    ``MM``, ``MM:SS``, ``HH:MM:SS``, ``D-HH``, ``D-HH:MM``, ``D-HH:MM:SS``.

    Raises
    ------
    ValueError
        If the text is none of these.
    """
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().lower()
    m = re.fullmatch(r"([0-9.]+)\s*(s|sec|min|m|h|d)", text)
    if m:
        return float(m.group(1)) * {"s": 1 / 60, "sec": 1 / 60, "min": 1, "m": 1, "h": 60,
                                    "d": 1440}[m.group(2)]
    days = 0
    if "-" in text:
        d, text = text.split("-", 1)
        days = int(d)
        parts = [int(p) for p in text.split(":")]
        parts += [0] * (3 - len(parts))            # D-HH[:MM[:SS]]
        h, mi, s = parts
    else:
        parts = [int(p) for p in text.split(":")]
        if len(parts) == 1:
            h, mi, s = 0, parts[0], 0
        elif len(parts) == 2:
            h, mi, s = 0, parts[0], parts[1]
        elif len(parts) == 3:
            h, mi, s = parts
        else:
            raise ValueError(value)
    return days * 1440 + h * 60 + mi + s / 60


def read_resources(src: Source, errors: Problems) -> Resources:
    """The ``[resources]`` table (defaults where it or a key is missing or wrong, said in
    ``errors``, so that later checks see sane numbers)."""
    table = src.data.get("resources", {})
    r = Resources()
    if not isinstance(table, dict):
        errors.add(("resources",), "resources must be a table (ranks, threads, gpus, walltime)")
        return r
    check_keys(errors, table, ("resources",), RESOURCE_KEYS)
    r.ranks = check_int(errors, ("resources", "ranks"), table.get("ranks", 1), 1) or 1
    r.threads = check_int(errors, ("resources", "threads"), table.get("threads", 1), 1) or 1
    r.gpus = check_int(errors, ("resources", "gpus"), table.get("gpus", 0), 0) or 0
    if not check_range(errors, ("resources", "gpus"), r.gpus):
        r.gpus = 0
    if "walltime" in table:
        try:
            r.walltime_min = parse_walltime(table["walltime"])
        except (ValueError, TypeError):
            errors.add(("resources", "walltime"), f"cannot read walltime {table['walltime']!r}; "
                                                  f"use minutes (90), \"2h\" or \"HH:MM:SS\"")
            return r
        if r.walltime_min <= 0:
            errors.add(("resources", "walltime"), f"walltime must be > 0 (got {table['walltime']!r}); "
                                                  f"no run can finish in zero time")
        elif not check_range(errors, ("resources", "walltime"), r.walltime_min):
            r.walltime_min = Resources.walltime_min     # said; later checks see a sane one
    return r
