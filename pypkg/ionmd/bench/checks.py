"""The options of ``ionmd bench``, checked before any run: the device, the model file
against the structure, and the ghost and memory modes (the values ``pair_style ionmd``
takes)."""

from __future__ import annotations

import re
from pathlib import Path

from ase import Atoms

from ionmd.errors import IonmdError


GHOST_MODES = ("auto", "redundant", "halo")
MEMORY_MODES = ("auto", "fast", "low")
"""The values of ``pair_style ionmd``'s ``memory`` keyword (``lmp_plugins/pair_ionmd_settings.cpp``,
``settings()``), the one list ``--memory`` takes; ``auto``, the pair style's default, is
left off the pair_style line, so that the plugin runs as a user's input without it does."""


def check_device(device: str) -> str:
    """``--device`` as the plugin takes it (auto, cpu, cuda, cuda:N), checked before any run."""
    if not re.fullmatch(r"auto|cpu|cuda(:[0-9]+)?", device):
        raise IonmdError(f"--device {device!r} unknown: use auto, cpu, cuda or cuda:N")
    return device


def check_model(model: Path, cell: Atoms, ghost: list[str] = ("auto",)) -> dict:
    """The model's metadata, after checking that it knows the structure's elements and,
    for ``ghost halo``, has per-layer stages (before any LAMMPS run).

    Raises
    ------
    IonmdError
        For a file that is not an ionmd export, an unknown element or a halo mode the file
        cannot run.
    """
    from ionmd.export import read_metadata

    meta = read_metadata(model)
    missing = sorted(set(cell.get_chemical_symbols()) - set(meta["elements"].split()))
    if missing:
        raise IonmdError(f"{model} does not know {', '.join(missing)} (it knows "
                         f"{meta['elements']}); pick a structure of its elements")
    if "halo" in ghost and not int(meta.get("halo_stages") or 0):
        raise IonmdError(f"--ghost halo needs a model file with per-layer stages, but {model} "
                         "has none; re-export it with `ionmd export ... --stages` (TorchScript "
                         "SevenNet/MACE, eSEN packages) or use --ghost redundant")
    return meta


def memory_modes(memory: str | list[str]) -> list[str]:
    """The memory modes of ``--memory``, checked against :data:`MEMORY_MODES` (what
    ``pair_style ionmd ... memory`` accepts).

    Raises
    ------
    IonmdError
        For a mode the pair style does not know (``default``, the bench's name for
        ``auto`` before 2026-12-06, says so), or one given twice.
    """
    modes = [m.strip() for m in memory.split(",")] if isinstance(memory, str) else list(memory)
    modes = [m for m in modes if m]
    bad = [m for m in modes if m not in MEMORY_MODES]
    if bad or not modes or len(set(modes)) != len(modes):
        hint = ("; 'default' is called auto, as pair_style ionmd ... memory auto names it"
                if "default" in bad else "")
        raise IonmdError(f"--memory {memory!r}: give each of {', '.join(MEMORY_MODES)} (the "
                         f"values of pair_style ionmd's memory keyword) at most once, "
                         f"comma-separated (e.g. fast,low){hint}")
    return modes


def ghost_modes(ghost: str | list[str]) -> list[str]:
    """The ghost modes of ``--ghost`` (one, or several comma-separated), checked."""
    modes = [m.strip() for m in ghost.split(",")] if isinstance(ghost, str) else list(ghost)
    modes = [m for m in modes if m]
    for m in modes:
        if m not in GHOST_MODES:
            raise IonmdError(f"--ghost {m!r} unknown; use one of {', '.join(GHOST_MODES)} "
                             f"(several, comma-separated, to compare them)")
    if not modes or len(set(modes)) != len(modes):
        raise IonmdError(f"--ghost {ghost!r}: give each mode once, e.g. halo,redundant")
    return modes
