"""A campaign's ``models``: files exported by ``ionmd export``, each knowing the elements
of every structure, named (in tables and run folders) after its file; where two files
share a stem, by their folders. A model whose runs the output folder holds keeps their
folder (found by the model file, then the model, its runs' settings.json record), and no
model is given a folder holding another model's runs."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

from ionmd.protocols.checks import unknown_elements
from ionmd.sweep.campaign_paths import campaign_path
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
    """Name each model's run folders from what the output folder holds (a campaign keeps no
    state of its own: its run tree is the state, names included):

    1. the folder whose runs' settings.json record its file (its path), then, for a model
       found so by none, the folder whose runs record its model (its identity or its
       file's digest: the campaign folder moved or copied, the file renamed), whatever
       that folder is called and whichever other models are listed;
    2. a model whose runs no folder holds gets a name that no folder on disk holds and no
       other listed model claims: the stem of its file (a link's target: so ionmd has
       always named them), or where that stem is another listed file's too (``a/model.pt``,
       ``b/model.pt``: one export per training run) the stem with as many parent folders as
       tell them apart (``a_model``, ``b_model``), as structures are named; where that is
       taken, with more parent folders (``q_y_model``), then numbered.

    A folder holding another model's runs is never given to a model: adding, dropping or
    renaming models leaves every model's runs where they are. Models named by their
    folders are named so in tables too."""
    from ionmd.structures import unique_names

    on_disk = _folders_on_disk(output)
    held: dict[int, str] = {}
    for by_path in (True, False):           # the runs that record its file first
        for i, m in enumerate(models):
            if i not in held:
                found = _folder_of_runs(m, on_disk, set(held.values()), by_path)
                if found is not None:
                    held[i] = found
    stems = [m.folder for m in models]
    clashing = [i for i, stem in enumerate(stems) if stems.count(stem) > 1]
    renamed = dict(zip(clashing, unique_names([models[i].path for i in clashing])))
    new = {i: renamed.get(i, m.folder) for i, m in enumerate(models) if i not in held}
    taken = set(on_disk) | set(held.values())
    for i, start in new.items():            # its first name, where nothing else has it
        if start not in taken and list(new.values()).count(start) == 1:
            held[i] = start
    taken |= set(held.values()) | set(new.values())
    for i, start in new.items():
        if i not in held:
            held[i] = next(n for n in _new_names(models[i].path, start) if n not in taken)
            taken.add(held[i])
    listed = [m.name for m in models]
    for i, m in enumerate(models):
        own_stem = m.path.stem
        m.folder = held[i]
        # a/model.pt, b/model.pt: a_model, b_model; one of them alone keeps its name; a
        # renamed file whose runs are in its old name's folder keeps that folder's name: its
        # goal series (goal.json is keyed by structure/name) and its rows in the tables
        # the user has go on under it
        named_for_it = i in new or m.folder in _folder_names(m.path)
        if not named_for_it or listed.count(m.name) > 1 or (m.folder != own_stem
                                                            and m.name == own_stem):
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
    return [stem] + ([f"{stem}_{suffix}"] if suffix else []) + _with_parents(path)


def _with_parents(path: Path) -> list[str]:
    folders = path.parent.parts[1:]             # never the root
    return ["_".join([*folders[-d:], path.stem]) for d in range(1, len(folders) + 1)]


def _new_names(path: Path, start: str):
    """Names for a model file whose runs no folder holds, first choice first: ``start``,
    then its stem with more parent folders, then ``start`` numbered."""
    yield start
    yield from (n for n in _with_parents(path) if n != start)
    yield from (f"{start}_{k}" for k in itertools.count(2))


@dataclass
class _RunFolder:
    """What the runs under ``<output>/*/<name>/`` recorded of their models."""
    paths: set[Path] = field(default_factory=set)
    hashes: set[str] = field(default_factory=set)


def _folders_on_disk(output: Path) -> dict[str, _RunFolder]:
    """Every model folder of ``output`` (under any structure) holding a run's settings.json,
    with the model files and hashes they record; half-written settings are skipped."""
    out: dict[str, _RunFolder] = {}
    for settings in sorted(output.glob("*/*/*/T*K/r*/settings.json")):
        try:
            recorded = json.loads(settings.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(recorded, dict):
            continue
        folder = out.setdefault(settings.relative_to(output).parts[1], _RunFolder())
        if isinstance(recorded.get("model"), str):
            folder.paths.add(Path(recorded["model"]).resolve())
        folder.hashes |= {recorded[k] for k in ("model_hash", "model_file_hash")
                          if isinstance(recorded.get(k), str)}
    return out


def _folder_of_runs(m: ModelEntry, on_disk: dict[str, _RunFolder], taken: set[str],
                    by_path: bool) -> str | None:
    """The folder of ``on_disk`` (not ``taken``) whose runs are ``m``'s: with ``by_path``
    whose settings.json record its file, else whose runs record its model (its identity,
    or its bytes: runs recorded before identities were); its own names first, then the
    others in name order; None where there is none."""
    from ionmd.export.model_identity import model_identity
    from ionmd.protocols.run_settings import file_hash

    own = [n for n in _folder_names(m.path) if n in on_disk]
    order = own + sorted(set(on_disk) - set(own))
    free = [n for n in order if n not in taken]
    if by_path:
        return next((n for n in free if m.path in on_disk[n].paths), None)
    if not free:
        return None
    for hash_of in (model_identity, file_hash):     # the file's digest only where needed
        mine = hash_of(m.path)
        found = next((n for n in free if mine in on_disk[n].hashes), None)
        if found is not None:
            return found
    return None


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
