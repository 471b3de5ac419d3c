"""The ``ionmd export`` command for a model given by name where a model file is wanted
(``ionmd run --model 7net-0``, a campaign's ``models``): a name the exporters know, or a
checkpoint that is not yet an ionmd model file."""

from __future__ import annotations

from pathlib import Path

MACE_NAMES = ("mace-mp", "mace-omat", "mace-mpa", "mace-off", "mace-matpes")
"""Prefixes of MACE foundation-model names (mace-torch's ``mace_mp(model=...)``): the
exporter reads their ``.model`` files, it downloads nothing."""
FAIRCHEM_NAMES = ("esen", "uma")
"""Prefixes of fairchem model names (eSEN, UMA checkpoints on Hugging Face)."""


def export_hint(given: str | Path, then: str = "then give --model") -> str | None:
    """How to make an ionmd model file of ``given`` (a name or a file that is no ionmd
    model file): the ``ionmd export ...`` command, said as a sentence; None where ``given``
    names no model the exporters know. ``then``: what to do with the file written (a
    campaign file lists it)."""
    from ionmd.export.sevennet import _pretrained_attribute

    text = str(given)
    path = Path(text)
    out = f"{path.stem or 'model'}.pt"
    if not path.is_file() and _pretrained_attribute(text):
        return (f"{text!r} is a SevenNet pretrained model, not a model file: export it once "
                f"with `ionmd export sevennet {text} -o {out}`, {then} {out}")
    lower = path.name.lower()
    if path.suffix == ".model" or lower.startswith(MACE_NAMES):
        what = ("a MACE model file, not an ionmd model file:" if path.is_file() else
                "a MACE model name, not a model file: download its .model file, then")
        source = text if path.is_file() else "FILE.model"
        return (f"{text!r} is {what} export it with `ionmd export mace {source} -o "
                f"{out}`, {then} {out}")
    if path.suffix == ".pth" and path.is_file():
        return (f"{text!r} looks like a SevenNet checkpoint, not an ionmd model file: export "
                f"it with `ionmd export sevennet {text} -o {out}`, {then} {out}")
    if not path.is_file() and lower.startswith(FAIRCHEM_NAMES):
        return (f"{text!r} is a fairchem model name, not a model file: download its "
                f"checkpoint (.pt), then export it with `ionmd export esen CHECKPOINT.pt -o "
                f"{path.stem}.pt2`, {then} {path.stem}.pt2")
    return None
