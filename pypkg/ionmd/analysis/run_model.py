"""Which model and which starting cell a run folder records: what tells its series apart
(:func:`ionmd.analysis.series_identity.series_key`), apart from the spec's settings
(:mod:`ionmd.analysis.run_spec`) as its own question (the folder's ``settings.json``, a model
file's identity, the logs' potential where nothing is recorded).

Runs are replicas of one series only where they are of one structure and one model:
``model_hash`` (else ``model``) tells the models apart. It is the model's identity
(:func:`ionmd.export.model_identity.model_identity`): the checkpoint, options, dtype and
versions its metadata records, not when it was exported, so that runs of two exports of one
checkpoint are one series; a folder written before it was recorded holds the sha256 of the
model file, read as that file's identity while the file is still there with those bytes. A
run folder written by ``ionmd run`` before ``run.json`` recorded the model says it in its
``settings.json`` (the model's path and hash; :func:`model_of_folder`); a run by hand says
neither, and its model is unknown (None): its logs' ``pair_style`` and ``pair_coeff`` lines
stand for it (:attr:`~ionmd.analysis.run_spec.RunSpec.potential`), so that analysis can say
where a series mixes them. A folder's ``settings.json`` also records the run's starting cell
(``structure_hash``, :attr:`~ionmd.analysis.run_spec.RunSpec.structure_hash`): a series
whose runs record several mixes structures, which analysis says (``mixed_structures``).
"""

from __future__ import annotations

import json
from pathlib import Path

from ionmd.analysis.run_files import RUN_JSON, SETTINGS
from ionmd.errors import AnalysisError
from ionmd.lammps.echoed_input import pair_lines

def folder_settings(path: str | Path) -> dict:
    """A run folder's ``settings.json`` (written by ``ionmd run`` or a campaign:
    :mod:`ionmd.protocols.rundir`); {} without a readable one (a run by hand)."""
    try:
        settings = json.loads((Path(path) / SETTINGS).read_text())
    except (OSError, ValueError):
        return {}
    return settings if isinstance(settings, dict) else {}


def structure_hash_of_folder(path: str | Path) -> str | None:
    """The ``structure_hash`` a run folder's ``settings.json`` records: its starting cell's
    (cell, atoms, positions). One ``ionmd run`` or campaign orders a disordered file once,
    for all its temperatures and replicas, and never reuses a run folder for another cell,
    so the runs of one structure it wrote have one; None where not recorded (a run by
    hand)."""
    found = folder_settings(path).get("structure_hash")
    return found if isinstance(found, str) and found else None


def model_of_folder(path: str | Path) -> dict:
    """``model`` and ``model_hash`` of a run folder written by ``ionmd run`` or a campaign
    before ``run.json`` recorded them, from its ``settings.json`` (the model file's path
    and hash; :mod:`ionmd.protocols.rundir`): named as its run path names it
    (``<structure>/<model>/<protocol>/T<T>K/r<replica>``), else after the file's stem.
    {} without a readable ``settings.json`` (a run by hand)."""
    path = Path(path)
    settings = folder_settings(path)
    if not settings.get("model"):
        return {}
    folders = path.resolve().parts
    laid_out = (len(folders) >= 5 and folders[-4] and folders[-5] == settings.get("structure")
                and folders[-3] == (settings.get("protocol") or {}).get("name"))
    name = folders[-4] if laid_out else Path(settings["model"]).stem
    return {"model": name, **({"model_hash": settings["model_hash"]}
                              if settings.get("model_hash") else {})}


def _potential_from_logs(logs: list[Path], texts: dict[Path, str]) -> str | None:
    """The potential the logs echo (``texts``, their texts by path): the last log's
    ``pair_style`` line and every ``pair_coeff`` line after it (a hybrid's sub-styles each
    have theirs; a line echoed again, as after a restart, once), comments and extra spaces
    dropped, joined by ``"; "``; None where they echo neither."""
    found: list[str] = []
    for log in logs:
        lines = pair_lines(_pair_candidates(texts.get(log, "")))
        if lines:                       # each log is a LAMMPS process: its own potential
            found = lines
    return "; ".join(found) or None


def _pair_candidates(text: str):
    """The lines of a log's ``text`` that start with ``pair_`` (echoed as written: maybe
    indented), one by one; :func:`pair_lines` judges them. Found by ``str.find`` (a log may
    be large: not split into all its lines, nor scanned by a regex at every position)."""
    at = text.find("pair_")
    while at >= 0:
        start, end = text.rfind("\n", 0, at) + 1, text.find("\n", at)
        end = len(text) if end < 0 else end
        if not text[start:at].strip():
            yield text[start:end]
        at = text.find("pair_", end)


def model_fields(path: Path, meta: dict, known: dict) -> dict:
    """``model``, ``model_hash`` and ``potential`` of a run: ``run.json``'s, else its
    folder's ``settings.json`` (:func:`model_of_folder`), else the logs' pair lines."""
    recorded = ({k: meta[k] for k in ("model", "model_hash") if meta.get(k)}
                or model_of_folder(path))
    for key, value in recorded.items():
        if not isinstance(value, str):
            raise AnalysisError(f"{path / RUN_JSON}: {key!r} must be a string (the model's "
                                f"name, the file's sha256), got {json.dumps(value)}")
    potential = None if recorded else _potential_from_logs(known["logs"], known["log_text"])
    return {"model": recorded.get("model"), "model_hash": _model_hash(path, recorded),
            "potential": potential}


def _model_hash(path: Path, recorded: dict) -> str | None:
    """The recorded ``model_hash``; where the folder's ``settings.json`` holds it as its
    model file's digest (written before model identities were: no ``model_file_hash``),
    the identity of that file while it is still there with those bytes
    (:func:`~ionmd.export.model_identity.identity_of_recorded_file`), so that the run is
    in one series with the runs of every export of its model."""
    from ionmd.export.model_identity import identity_of_recorded_file

    digest = recorded.get("model_hash")
    settings = folder_settings(path)
    if (not digest or "model_file_hash" in settings or settings.get("model_hash") != digest
            or not isinstance(settings.get("model"), str)):
        return digest
    return identity_of_recorded_file(settings["model"], digest) or digest


def identities_of_file_digests(results) -> dict[str, str]:
    """{model file digest: model identity} from the runs of one analysis (their results,
    each with ``run``, its folder, and ``model_hash``): a run written since identities were
    recorded keeps the digest of the file it ran with as ``model_file_hash`` in its
    ``settings.json``. A folder written before recorded that digest as its ``model_hash``;
    where the file is no longer at its recorded path (moved, renamed, the campaign copied
    elsewhere) :func:`_model_hash` cannot read its identity, and this map joins it with
    the later runs of the same bytes (:func:`ionmd.analysis.series_identity.series_keys`). A digest
    recorded with two identities (an identity rule changed between the runs) maps to none."""
    found: dict[str, set] = {}
    for r in results:
        if not r.get("run") or not isinstance(r.get("model_hash"), str):
            continue
        digest = folder_settings(r["run"]).get("model_file_hash")
        if isinstance(digest, str) and digest and digest != r["model_hash"]:
            found.setdefault(digest, set()).add(r["model_hash"])
    return {digest: next(iter(ids)) for digest, ids in found.items() if len(ids) == 1}
