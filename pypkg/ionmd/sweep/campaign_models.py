"""A campaign's ``models``: files exported by ``ionmd export``, each knowing the elements
of every structure, named (in tables and run folders) after its file; where two files
share a stem, by their folders, except the one whose runs the output folder holds."""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path

from ionmd.protocols.checks import unknown_elements
from ionmd.sweep.campaign_paths import campaign_path, recorded_settings
from ionmd.sweep.campaign_problems import Problems
from ionmd.sweep.campaign_structures import StructureEntry
from ionmd.sweep.source import Source


@dataclass
class ModelEntry:
    name: str                     # in tables and goal series: the stem of the file as listed
    path: Path
    line: int
    elements: list[str] = field(default_factory=list)
    folder: str = ""              # of its runs: the stem of the file itself (a link's target)


def read_models(src: Source, errors: Problems, base: Path) -> list[ModelEntry]:
    """Every model file of the campaign with the elements it knows (its metadata);
    problems go to ``errors``."""
    from ionmd.export.model_names import export_hint
    from ionmd.protocols.prepare import model_elements

    items = src.data.get("models")
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list) or not items:
        errors.add(("models",), "models: give a list of model files exported by `ionmd export`")
        return []
    out = []
    for i, item in enumerate(items):
        key = ("models", i)
        if not isinstance(item, str):
            errors.add(key, f"model {i + 1}: give the path of a model file (got {item!r})")
            continue
        path = campaign_path(base, item)
        m = ModelEntry(name=path.stem, path=path.resolve(), line=src.line(*key),
                       folder=path.resolve().stem)
        if not path.is_file():
            hint = export_hint(item, then="then list") or "export one with `ionmd export ...`"
            errors.add(key, f"model file {item!r} not found (looked for {path}); {hint}")
            continue
        try:
            m.elements = model_elements(path)
        except Exception as exc:     # ModelFileError, or torch failing on a foreign file
            errors.add(key, f"model {item!r}: {exc}")
            continue
        first = next((o for o in out if o.path == m.path), None)
        if first is not None:
            errors.add(key, f"model file {item!r} is listed twice (lines {first.line} and "
                            f"{m.line}); list it once")
            continue
        out.append(m)
    return out


def name_models(errors: Problems, models: list[ModelEntry], output: Path) -> None:
    """Name each model's run folders: the stem of its file (a link's target: so ionmd has
    always named them, and a campaign's runs stay where they are), or where two files
    share a stem (``a/model.pt``, ``b/model.pt``: one export per training run) the stem
    with as many parent folders as tell them apart (``a_model``, ``b_model``), as
    structures are named; those two are named so in tables too. Every command (and a
    rerun) finds the same folders; a stem no other model has keeps its name, and so does
    the file whose runs ``output`` already holds under the stem (a second ``model.pt``
    added to a running campaign: the first one's runs keep going)."""
    from ionmd.structures import unique_names

    stems = [m.folder for m in models]
    clashing = [i for i, stem in enumerate(stems) if stems.count(stem) > 1]
    renamed = dict(zip(clashing, unique_names([models[i].path for i in clashing])))
    for stem in {stems[i] for i in clashing}:
        owner = _model_with_runs(output, stem, [models[i].path for i in clashing
                                                if stems[i] == stem])
        for i in clashing:
            if stems[i] == stem and models[i].path == owner:
                renamed[i] = stem
    listed = [m.name for m in models]
    for i, m in enumerate(models):
        m.folder = renamed.get(i, m.folder)
        if listed.count(m.name) > 1:        # a/model.pt, b/model.pt: a_model, b_model
            m.name = m.folder
    for what in ("folder", "name"):
        seen: dict[str, ModelEntry] = {}
        for m in models:
            first = seen.setdefault(getattr(m, what), m)
            if first is not m:          # a folder-named model meets another file's stem
                errors.items.append((m.line, f"two models would share the run-folder name "
                                             f"{getattr(m, what)!r} ({first.path} on line "
                                             f"{first.line} and {m.path}); rename one of the "
                                             f"files"))
                return


def _model_with_runs(output: Path, name: str, candidates: list[Path]) -> Path | None:
    """The one of ``candidates`` whose runs ``output/*/<name>/`` holds: the file their
    settings.json records, else (the campaign folder moved or copied) the file with the
    contents they record; None where there are no runs or none is theirs."""
    from ionmd.export.model_identity import model_identity
    from ionmd.protocols.run_settings import file_hash

    recorded = [r for r in recorded_settings(output, "*", glob.escape(name))
                if isinstance(r, dict)]
    paths = {Path(r["model"]).resolve() for r in recorded if isinstance(r.get("model"), str)}
    hashes = {r.get("model_hash") for r in recorded} - {None}
    by_path = [c for c in candidates if c in paths]
    if by_path or not hashes:
        return by_path[0] if by_path else None
    # the model's identity (any export of it), or the file's bytes (runs recorded before)
    return next((c for c in candidates if model_identity(c) in hashes
                 or file_hash(c) in hashes), None)


def check_model_elements(errors: Problems, structures: list[StructureEntry],
                         models: list[ModelEntry]) -> None:
    """Every model knows every element of every (loaded) structure; said on the
    structure's line, naming the model and its line."""
    for s in structures:
        if s.atoms is None:
            continue
        present = set(s.atoms.get_chemical_symbols())
        for m in models:
            why = m.elements and unknown_elements(present, m.elements, repr(s.name),
                                                  f"{m.name!r} (line {m.line})")
            if why:
                errors.items.append((s.line, why))
