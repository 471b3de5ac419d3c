"""What identifies a model file for a series of runs and for a resume: the numbers it
computes, not the bytes of one export (:func:`model_identity`), and the plain digest of the
file (:func:`file_digest`) that run folders recorded before.

Two exports of one checkpoint are not the same bytes: the metadata holds the time of the
export (``created``), and TorchScript's freezing numbers its code and constants anew each
time (two ``ionmd export sevennet 7net-0`` of one environment: 3498093 and 3762980 bytes,
three more constants in one, other code). So an export is identified by what decides its
numbers, all of which its metadata records: the checkpoint (``source_sha256``), family,
dtype, cutoff, elements, the exporter's options (modal, head, kernels, stages...) and
versions (``exporter``, ``torch_version``: a new ionmd or torch may compute otherwise, so
they stay in; ``exporter`` is ``ionmd <version>``, not bumped with each change, so the
identity changes with ionmd's version only). Left out: ``created``, and the checkpoint's name as the command gave it
(``source``, ``checkpoint_file``: ``7net-0`` or its file's path; its sha256 stays), and
what the file's layout says (``file_format``, ``compiled_for``: TorchScript and AOTI
exports, CPU and CUDA builds of one checkpoint are one model, each checked against the
eager model when written). The metadata is trusted so only where ionmd's own exporters
wrote it (:func:`exported_by_ionmd`: family sevennet, mace or esen, ``exporter`` ionmd,
a checkpoint digest): any other file (a model saved by hand with
:func:`ionmd.export.contract.save_torchscript`, whatever its metadata names) is identified
by its contents: every archive entry, weights included, named without the archive's top
folder (the file's stem), but ``created`` and the save's serialization id. (Before, any
file naming a ``source_sha256`` was identified by its metadata: two hand-saved models of
weights 1.0 and 2.0 were one model, resumed and fitted as one.)"""

from __future__ import annotations

import functools
import hashlib
import zipfile
from pathlib import Path

DIGITS = 16
"""Hex digits of a recorded digest (``settings.json``/``run.json`` ``model_hash``)."""
LEFT_OUT = ("created",)
"""Metadata entries that say when a file was written, not what it computes."""
NAMES_OF_CHECKPOINT = ("source", "checkpoint_file")
"""Metadata entries that name the checkpoint as the export command was given it (``7net-0``
or the path of its file, ``./a.model`` or ``/abs/a.model``): its ``source_sha256`` is what
identifies it."""
DERIVED = ("file_format", "compiled_for")
"""Keys :func:`ionmd.export.contract.read_metadata` adds from the file's layout."""
IDENTITY_VERSION = "ionmd-model-identity/1"
EXPORTER_FAMILIES = ("sevennet", "mace", "esen")
"""Families whose files ionmd's exporters write, each from a checkpoint whose sha256 and
options the metadata records (:mod:`ionmd.export.sevennet`, ``mace``, ``esen``)."""


def file_digest(path: str | Path) -> str:
    """sha256 (first :data:`DIGITS` hex digits) of the file's bytes: ``model_hash`` as run
    folders recorded it before :func:`model_identity` (``model_file_hash`` since)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:DIGITS]


def model_identity(path: str | Path) -> str:
    """The model's identity (:data:`DIGITS` hex digits): one for every export of one
    checkpoint with one set of options, dtype and versions, whenever it was written and
    under whatever name (see the module's doc); a file that is no ionmd model file (or no
    zip archive) by its bytes (:func:`file_digest`)."""
    from ionmd.errors import ModelFileError
    from ionmd.export.contract import read_metadata

    try:
        meta = read_metadata(path)
    except ModelFileError:
        return file_digest(path)
    if exported_by_ionmd(meta):
        kept = {k: v for k, v in meta.items()
                if k not in LEFT_OUT + DERIVED + NAMES_OF_CHECKPOINT}
        text = "".join(f"{k}={kept[k]}\n" for k in sorted(kept))
        return hashlib.sha256(f"{IDENTITY_VERSION}\n{text}".encode()).hexdigest()[:DIGITS]
    return _contents_digest(Path(path))


def exported_by_ionmd(meta: dict) -> bool:
    """Whether a model file's metadata is that of ``ionmd export``: a family its exporters
    write, an ``exporter`` entry of ionmd and the checkpoint's sha256. Only then does the
    metadata say all that decides the model's numbers; a file saved otherwise may carry any
    metadata beside any weights."""
    return (meta.get("family") in EXPORTER_FAMILIES
            and str(meta.get("exporter", "")).startswith("ionmd ")
            and bool(meta.get("source_sha256")))


def _contents_digest(path: Path) -> str:
    """Digest of a model archive's entries (names without the top folder, sorted), its
    metadata without ``created`` and without the serialization id of the save."""
    from ionmd.export.contract import parse_metadata

    h = hashlib.sha256(f"{IDENTITY_VERSION} contents\n".encode())
    with zipfile.ZipFile(path) as zf:
        entries = {name.split("/", 1)[-1]: name for name in zf.namelist()}
        for short in sorted(entries):
            if short.endswith(".data/serialization_id") or short.endswith("/"):
                continue
            data = zf.read(entries[short])
            if short.endswith("extra/ionmd/metadata"):
                meta = parse_metadata(data.decode())
                data = "".join(f"{k}={v}\n" for k, v in sorted(meta.items())
                               if k not in LEFT_OUT).encode()
            h.update(f"{short}\0{len(data)}\0".encode())
            h.update(data)
    return h.hexdigest()[:DIGITS]


def identity_of_recorded_file(path: str | Path, recorded: str) -> str | None:
    """The identity of the model a run folder written before identities were recorded
    ran with: it recorded the file ``path`` and its bytes' digest ``recorded`` (as
    ``model_hash``); known while that file is still there with those bytes, else None.
    Resumes (:mod:`ionmd.protocols.run_settings`) and series (:mod:`ionmd.analysis.
    run_spec`) take an old folder's model from it, so that it is one model with every
    export of its checkpoint."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return None
    return _identity_if(str(path.resolve()), stat.st_size, stat.st_mtime_ns, recorded)


@functools.lru_cache(maxsize=64)
def _identity_if(path: str, size: int, mtime_ns: int, recorded: str) -> str | None:
    """:func:`identity_of_recorded_file`, once per file state (a model file of hundreds of
    MB is hashed once for all the runs of an analysis, not once per run)."""
    try:
        return model_identity(path) if file_digest(path) == recorded else None
    except OSError:
        return None
