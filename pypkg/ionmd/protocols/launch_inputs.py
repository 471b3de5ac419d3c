"""Before each piece of a run starts (the first, and every resume: ``ionmd run``, a sweep
worker, a SLURM requeue), its model file and custom input template are checked against
what the run folder recorded (``settings.json``: ``model_hash``, ``model_file_hash``,
``template_hash``): a run never goes on with a model or input that is not the one it is
recorded under.

The settings are checked when a folder is created or reopened (``ionmd run``, ``sweep
submit``), but a run queued since, or requeued by SLURM, only renders its input pointing
at the model's path: a file replaced meanwhile by a retrained model ran (step-0 energy
-94.02 against -80.59 eV of the same cell), the run still recorded under the old model,
a requeued trajectory half one model, half the other. Another export of the same model
(its identity, :func:`ionmd.export.model_identity.model_identity`) runs. A refusal says
what is known: the file is not there (moved, deleted, a file system not mounted), cannot be
read whole (a copy under way), holds another model (another identity), or, for a folder
that recorded only its file's bytes (written before identities were), holds other bytes,
which may be another export of the same model: that record cannot tell.

Cost per piece: the model's identity, read from the metadata of an ``ionmd export`` file
(0.4 ms for the tests' largest model, a 14.5 MB eSEN package, where its file digest takes
33 ms), a digest of the archive's entries for any other model file; the file's digest
only where that differs (a folder recorded before identities were)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ionmd.errors import IonmdError
from ionmd.protocols.run_settings import file_hash, model_hash


class RunInputChanged(IonmdError):
    """A run's model file or input template is not the one its folder recorded."""


def changed_inputs(path: Path, settings: dict, model: Path,
                   template: Path | None) -> str | None:
    """Why the run folder ``path`` (its ``settings``) must not go on with the model file
    ``model`` and the custom input template ``template`` (None: a preset's), or None where
    both are the recorded ones. Another export of the recorded model is its model."""
    how = ("Nothing was run and the run's pieces are kept. To go on, restore the file its "
           "runs were made with, or give the new {what} a run folder of its own (another "
           "output folder), where it starts afresh")
    recorded = settings.get("model_hash")
    if recorded:
        why = _model_changed(path, settings, recorded, model)
        if why:
            return why
    expected = settings.get("template_hash")
    if expected and template is not None:
        try:
            now = file_hash(template)
        except OSError as exc:
            return (f"the input template {template} of the run {path} cannot be read "
                    f"({exc.strerror or exc}). " + how.format(what="template"))
        if now != expected:
            return (f"the input template {template} changed since the run {path} was "
                    f"recorded (template hash {expected}, now {now}). "
                    + how.format(what="template"))
    return None


def _model_changed(path: Path, settings: dict, recorded: str, model: Path) -> str | None:
    """Why the run ``path`` must not go on with the model file ``model`` (its settings
    recorded the model hash ``recorded``), saying what is known: the file is not there,
    cannot be read whole, holds another model, or (a folder that recorded only the bytes
    of its file) holds other bytes, which may be the same model; None: it is its model."""
    kept = "Nothing was run and the run's pieces are kept."
    own_folder = ("or give this model a run folder of its own (another output folder), where "
                  "it starts afresh")
    try:
        identity = model_hash(model)
        if identity == recorded:
            return None
        digest = file_hash(model)       # what a folder recorded before identities were
        if digest == recorded:
            return None
    except FileNotFoundError:
        return (f"the model file {model} of the run {path} is not there: deleted, moved (a "
                f"campaign folder moved elsewhere), or on a file system this host does not "
                f"see now (NFS not mounted). {kept} To go on, restore the file at that path "
                f"(or a link to where it is) and resubmit the run; for a campaign moved "
                f"elsewhere, `ionmd sweep submit` from its new place records the model's "
                f"path anew")
    except OSError as exc:
        return (f"the model file {model} of the run {path} cannot be read "
                f"({exc.strerror or exc}). {kept} To go on, make it readable on this host and "
                f"resubmit the run")
    if not zipfile.is_zipfile(model):       # every ionmd model file is a zip archive
        return (f"the model file {model} of the run {path} cannot be read whole: it is no "
                f"complete model archive ({model.stat().st_size} bytes). It may be being "
                f"copied or written now: wait until that ends and resubmit the run; "
                f"otherwise it is damaged: restore the file its runs were made with. {kept}")
    if "model_file_hash" not in settings:   # recorded before model identities were
        return (f"the model file {model} is not the file the run {path} was made with: that "
                f"run's folder was recorded before model identities were and holds only the "
                f"digest of its model file's bytes ({recorded}); the file now holds other "
                f"bytes ({digest}). It may be another export of the same model or another "
                f"model: from that record it cannot be told. {kept} To go on, restore the "
                f"file its runs were made with, {own_folder}")
    return (f"the model file {model} was replaced by another model since the run {path} "
            f"was recorded: its runs were made with model identity {recorded}, the file "
            f"now holds model identity {identity} (a retrained or other checkpoint, or this "
            f"model exported with other options, dtype, or another ionmd or torch version: "
            f"an export with the same options and versions keeps its identity). {kept} To go "
            f"on, restore the file its runs "
            f"were made with, {own_folder}")
