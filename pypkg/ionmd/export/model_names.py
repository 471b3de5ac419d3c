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
    names no model the exporters know, or is an ionmd model file already. ``then``: what
    to do with the file written (a campaign file lists it). A file is judged by what it
    holds (:mod:`ionmd.export.file_family`), not by its suffix: a MACE model saved as
    ``.pt`` is MACE's, a ``.pth`` may be anyone's."""
    from ionmd.export.sevennet import _pretrained_attribute

    text = str(given)
    path = Path(text)
    if path.is_file():
        return _file_hint(path, text, then)
    out = f"{path.stem or 'model'}.pt"
    if _pretrained_attribute(text):
        return (f"{text!r} is a SevenNet pretrained model, not a model file: export it once "
                f"with `ionmd export sevennet {text} -o {out}`, {then} {out}")
    lower = path.name.lower()
    if path.suffix == ".model" or lower.startswith(MACE_NAMES):
        return (f"{text!r} is a MACE model name, not a model file: download its .model "
                f"file, then export it with `ionmd export mace FILE.model -o {out}`, "
                f"{then} {out}")
    if lower.startswith(FAIRCHEM_NAMES):
        return (f"{text!r} is a fairchem model name, not a model file: download its "
                f"checkpoint (.pt), then export it with `ionmd export esen CHECKPOINT.pt -o "
                f"{path.stem}.pt2`, {then} {path.stem}.pt2")
    return None


OUT_SUFFIX = {"esen": ".pt2"}
"""The suffix of the file an exporter writes where it is not ``.pt`` (an AOTInductor
package)."""


def _file_hint(path: Path, text: str, then: str) -> str | None:
    """:func:`export_hint` of an existing file: what it is (its archive, else what its
    pickle loads as without running code: :func:`_loaded_family`) and the exporter that
    takes it, or what to do where none does; None for an ionmd model file. A file that
    says nothing is named with the exporters to choose from."""
    from ionmd.export.file_family import identify_file

    kind = identify_file(path) or _loaded_family(path)
    if kind is None:
        return (f"{text!r} is no ionmd model file, nor a file an exporter is known to take "
                f"(read without running its pickle): export the model's own file with `ionmd "
                f"export sevennet` (a SevenNet checkpoint), `ionmd export mace` (a MACE "
                f"`.model`) or `ionmd export esen` (a fairchem checkpoint), {then} the file "
                f"written")
    if kind.family == "ionmd":
        return None
    if kind.exporter is None:
        return f"{text!r} is {kind.what}, not an ionmd model file: {kind.fix}"
    out = f"{path.stem}{OUT_SUFFIX.get(kind.exporter, '.pt')}"
    if out == path.name:            # never the file itself: the export would replace it
        out = f"{path.stem}-ionmd{OUT_SUFFIX.get(kind.exporter, '.pt')}"
    return (f"{text!r} is {kind.what}, not an ionmd model file: export it with `ionmd export "
            f"{kind.exporter} {text} -o {out}`, {then} {out}")


def _loaded_family(path: Path):
    """:func:`ionmd.export.file_family.identify_object` of ``path`` loaded by ``torch.load``
    with ``weights_only`` (nothing of the file is run; numpy arrays allowed, which a
    SevenNet checkpoint's config holds); None where it cannot be loaded so."""
    import codecs

    import numpy as np
    import torch

    from ionmd.export.file_family import identify_object

    core = getattr(np, "_core", None) or np.core          # numpy 2 renamed it
    allowed = [np.ndarray, np.dtype, codecs.encode, core.multiarray._reconstruct,
               *{type(np.dtype(c)) for c in "?bhilqefdgBHILQFD"}]
    try:
        with torch.serialization.safe_globals(allowed):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:       # anything a foreign file makes torch raise: no hint from it
        return None
    return identify_object(obj)
