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
(its identity, :func:`ionmd.export.model_identity.model_identity`) runs.

Cost per piece: the model's identity, read from the metadata of an ``ionmd export`` file
(0.4 ms for the tests' largest model, a 14.5 MB eSEN package, where its file digest takes
33 ms), a digest of the archive's entries for any other model file; the file's digest
only where that differs (a folder recorded before identities were)."""

from __future__ import annotations

from pathlib import Path

from ionmd.errors import IonmdError
from ionmd.export.model_identity import file_digest, model_identity


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
        try:
            identity = model_identity(model)
            # a folder recorded before identities were holds the file's digest
            same = identity == recorded or file_digest(model) == recorded
        except OSError as exc:
            return (f"the model file {model} of the run {path} cannot be read "
                    f"({exc.strerror or exc}). " + how.format(what="model"))
        if not same:
            return (f"the model file {model} was replaced by another model since the run "
                    f"{path} was recorded: its runs were made with model hash {recorded}, "
                    f"the file now holds model hash {identity}: not an export of the same "
                    f"model (a retrained or another one). " + how.format(what="model"))
    expected = settings.get("template_hash")
    if expected and template is not None:
        try:
            now = file_digest(template)
        except OSError as exc:
            return (f"the input template {template} of the run {path} cannot be read "
                    f"({exc.strerror or exc}). " + how.format(what="template"))
        if now != expected:
            return (f"the input template {template} changed since the run {path} was "
                    f"recorded (template hash {expected}, now {now}). "
                    + how.format(what="template"))
    return None
