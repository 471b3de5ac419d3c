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
    """Name each model's run folders: the folder that holds its runs already (:func:`
    _folder_of_runs`: what they recorded, whichever other models are listed), else the
    stem of its file (a link's target: so ionmd has always named them), or where that
    stem is another listed file's too (``a/model.pt``, ``b/model.pt``: one export per
    training run), or its folder holds another model's runs, the stem with as many
    parent folders as tell them apart (``a_model``, ``b_model``), as structures are
    named; those are named so in tables too. Every command (and a rerun) finds the same
    folders: a second ``model.pt`` added to a running campaign leaves the first one's runs
    where they are, and dropping one of the two leaves the other's (before, ``b/model.pt``
    listed alone again was looked for in ``model/``, among ``a/model.pt``'s runs)."""
    from ionmd.structures import unique_names

    stems = [m.folder for m in models]
    clashing = [i for i, stem in enumerate(stems) if stems.count(stem) > 1]
    renamed = dict(zip(clashing, unique_names([models[i].path for i in clashing])))
    held: dict[int, str] = {}
    for by_contents in (False, True):       # the runs that record its file first
        for i, m in enumerate(models):
            if i not in held:
                found = _folder_of_runs(output, m, set(held.values()), by_contents)
                if found is not None:
                    held[i] = found
    for i, m in enumerate(models):
        if i not in held and i not in clashing:
            others = _other_models_in(output, m)
            if others:                      # its stem's folder holds another model's runs
                held[i] = unique_names([m.path, *others])[0]
    listed = [m.name for m in models]
    for i, m in enumerate(models):
        own_stem = m.path.stem
        m.folder = held.get(i, renamed.get(i, m.folder))
        # a/model.pt, b/model.pt: a_model, b_model; one of them alone keeps its name
        if listed.count(m.name) > 1 or (m.folder != own_stem and m.name == own_stem):
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


def _folder_names(path: Path) -> list[str]:
    """The run-folder names :func:`ionmd.structures.unique_names` may give the model file
    ``path``, shortest first: its stem, the stem and suffix, then with its parent folders."""
    stem, suffix = path.stem, path.suffix.lstrip(".")
    folders = path.parent.parts[1:]
    return ([stem] + ([f"{stem}_{suffix}"] if suffix else [])
            + ["_".join([*folders[-d:], stem]) for d in range(1, len(folders) + 1)])


def _runs_under(output: Path, name: str) -> list[dict]:
    return [r for r in recorded_settings(output, "*", glob.escape(name)) if isinstance(r, dict)]


def _recorded_paths(recorded: list[dict]) -> set[Path]:
    return {Path(r["model"]).resolve() for r in recorded if isinstance(r.get("model"), str)}


def _is_this_model(model: Path, recorded: list[dict]) -> bool:
    """Whether runs recorded with the model hashes of ``recorded`` are runs of the file
    ``model``'s model: its identity (any export of it), or its bytes (runs recorded
    before identities were)."""
    from ionmd.export.model_identity import model_identity
    from ionmd.protocols.run_settings import file_hash

    hashes = {r.get("model_hash") for r in recorded} - {None}
    return bool(hashes) and (model_identity(model) in hashes or file_hash(model) in hashes)


def _folder_of_runs(output: Path, m: ModelEntry, taken: set[str],
                    by_contents: bool) -> str | None:
    """The folder (one of :func:`_folder_names`, not ``taken``) whose runs are ``m``'s: the
    first whose settings.json record its file, or with ``by_contents`` (the campaign folder
    moved or copied: they record the file where it was) the first whose runs record its
    model; None where there is none."""
    for name in _folder_names(m.path):
        if name in taken:
            continue
        recorded = _runs_under(output, name)
        if (m.path in _recorded_paths(recorded) if not by_contents
                else _is_this_model(m.path, recorded)):
            return name
    return None


def _other_models_in(output: Path, m: ModelEntry) -> list[Path]:
    """The model files (still there) whose runs its stem's folder holds, where those are
    another model's (not a copy of ``m``'s: a campaign folder copied elsewhere resumes
    its runs); [] otherwise."""
    recorded = _runs_under(output, m.folder)
    others = sorted(p for p in _recorded_paths(recorded) if p != m.path and p.is_file())
    if not others or _is_this_model(m.path, recorded):
        return []
    return others


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
