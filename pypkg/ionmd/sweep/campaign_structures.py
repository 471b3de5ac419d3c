"""A campaign's ``structures``: files, glob patterns or shipped examples, each read as
every command reads structures (ordered where an ``order`` method is given), named after
its file (by its folders where stems clash), with its run cell built and checked once.
The ``order*`` keys may stand at the top level (for every structure) or in an entry."""

from __future__ import annotations

import glob
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ionmd.errors import IonmdError, IonmdNote
from ionmd.protocols.checks import check_cell, folder_name_problem
from ionmd.protocols.presets import Protocol
from ionmd.protocols.setting_ranges import range_problem
from ionmd.sweep.campaign_paths import campaign_path, recorded_settings
from ionmd.sweep.campaign_problems import Problems, check_int, check_keys
from ionmd.sweep.source import Source

ORDER_KEYS = ("order", "order_seed", "order_tol", "order_min_distance", "order_model_rank")
"""The ``order*`` keys a campaign reads, as ``ionmd run``'s ``--order*`` options;
``order_model_rank`` (with ``order = "ewald"``) is ranked per model by
:mod:`ionmd.sweep.campaign_ranking`."""


@dataclass
class StructureEntry:
    """One structure of the campaign (ordered, as the runs will use it)."""

    name: str
    source: str
    line: int
    atoms: object = None          # ase.Atoms, filled by validation; its info carries the
    # notes of what reading did to the file (rounding, ordering) to the runs' run.json
    # (ionmd.protocols.plan.carried_notes: lay_out_runs takes them from there)
    in_run_cell: bool = False     # ordered in the protocol's supercell (not repeated again)
    cell: object = None           # the run cell (ase.Atoms), built once by validation
    charges: dict = field(default_factory=dict)    # as `ionmd run` records them: the file's
    charges_guessed: bool = False  # declared states, else the guess (prepare.run_charges)
    stem: str = ""                # its file's own name, where a clash named it by its folders
    # order_model_rank = N (> 1): the lowest-Ewald candidates (``loaded``, whose structure
    # ``atoms`` and ``cell`` are: composition and lattice are every candidate's) and the
    # order settings they came from; each model keeps its own (campaign_ranking.rank_series)
    model_rank: int = 1
    order: dict = field(default_factory=dict)
    loaded: object = None
    ranked: dict = field(default_factory=dict)   # model folder -> campaign_ranking.Ranked

    def atoms_for(self, model) -> object:
        """The structure the runs of ``model`` (a ModelEntry) start from: the one its
        model's ranking kept, else the campaign's."""
        kept = self.ranked.get(model.folder)
        return self.atoms if kept is None else kept.atoms

    def cell_for(self, model) -> object:
        """The run cell of ``model``'s runs (:meth:`atoms_for`'s)."""
        kept = self.ranked.get(model.folder)
        return self.cell if kept is None else kept.cell


class _Found(NamedTuple):
    """One structure file of an entry of the list, before names across entries are made
    unique."""

    key: tuple          # the entry's key in the file: ("structures", i)
    entry: dict         # the entry as a table (path, name, order*)
    path: str           # the file, or a shipped example's name
    name: str
    given: bool         # named by the entry's name = ...


def read_structures(src: Source, errors: Problems, base: Path,
                    supercell: str | None = None) -> list[StructureEntry]:
    """Every structure of the campaign, loaded where its entry and order settings allow
    (``supercell``: the protocol's, to order a disordered file in); problems go to
    ``errors``."""
    from ionmd.structures import example_names

    items = src.data.get("structures")
    if isinstance(items, (str, dict)):
        items = [items]
    if not isinstance(items, list) or not items:
        errors.add(("structures",), "structures: give a list of structure files (CIF, POSCAR, "
                                    f"...), glob patterns or shipped examples "
                                    f"({', '.join(example_names())})")
        return []
    campaign_order = {k: src.data[k] for k in ORDER_KEYS if k in src.data}
    order_ok = _order_in_range(errors, (), campaign_order)
    found: list[_Found] = []
    for i, item in enumerate(items):
        found += _entry_files(errors, base, i, item)
    out = _named_across_entries(src, found)
    entry_order_ok: dict[tuple, bool] = {}
    for f, s in zip(found, out):
        if f.key not in entry_order_ok:     # once per entry, not per file of its glob
            entry_order_ok[f.key] = _order_in_range(errors, f.key, f.entry)
        if not (order_ok and entry_order_ok[f.key]):
            continue                # not loaded: its order settings are said
        order = {**campaign_order, **{k: f.entry[k] for k in ORDER_KEYS if k in f.entry}}
        s.atoms, s.in_run_cell, (s.charges, s.charges_guessed), s.loaded = _load_structure(
            errors, f.key, f.path, order, supercell)
        s.order, s.model_rank = order, order.get("order_model_rank", 1)
    _check_listed_once(errors, out)
    return out


def _entry_files(errors: Problems, base: Path, i: int, item) -> list[_Found]:
    """The files entry ``i`` of the list names (a path, a glob pattern or a shipped
    example), each with its name; none where the entry is wrong (said in ``errors``)."""
    from ionmd.structures import unique_names
    from ionmd.structures.io import is_example_name, missing_structure

    key = ("structures", i)
    entry = {"path": item} if isinstance(item, str) else item
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        errors.add(key, f"structure {i + 1}: give a path (or a table with path = ..., and "
                        f"optional name, {', '.join(ORDER_KEYS)})")
        return []
    if isinstance(item, dict):
        check_keys(errors, entry, key, ("path", "name") + ORDER_KEYS)
    given = entry.get("name")
    if isinstance(given, int) and not isinstance(given, bool):
        given = str(given)                  # name = 2023
    problem = folder_name_problem(given) if given is not None else None
    if problem:
        errors.add(key + ("name",), f"structure name {given!r} {problem}")
        given = None
    text = entry["path"]
    pattern = str(campaign_path(base, text))
    if any(c in text for c in "*?["):
        paths = sorted(glob.glob(pattern))
        if not paths:
            errors.add(key, f"structure pattern {text!r} matches no file (relative to {base})")
            return []
    elif Path(pattern).is_file():
        paths = [pattern]
    elif is_example_name(text):
        return [_Found(key, entry, text, given or text, given is not None)]     # shipped
    else:       # the words of ionmd run and ionmd screen, with the path looked for here
        errors.add(key, str(missing_structure(text, looked_for=Path(pattern).absolute())))
        return []
    if given is not None and len(paths) > 1:
        errors.add(key + ("name",), f"name = {given!r} names one structure but {text!r} "
                                    f"matches {len(paths)} files; leave name out (they are "
                                    f"named by their files) or list them one by one")
    names = unique_names(paths)     # mp-*/POSCAR: the folders tell them apart
    one = len(paths) == 1 and given is not None
    return [_Found(key, entry, path, given if one else name, one)
            for path, name in zip(paths, names)]


def _named_across_entries(src: Source, found: list[_Found]) -> list[StructureEntry]:
    """A StructureEntry per file found, not loaded yet. Names that clash across entries
    (a/LiCl.cif, b/LiCl.cif listed one by one) are made unique as a glob's are (a_LiCl,
    b_LiCl); names without a clash stay as they were, so that the runs of an existing
    campaign keep their folders."""
    from ionmd.structures import unique_names

    count: dict[str, int] = {}
    for f in found:
        count[f.name] = count.get(f.name, 0) + 1
    clashing = [i for i, f in enumerate(found) if count[f.name] > 1 and not f.given]
    renamed = dict(zip(clashing, unique_names([found[i].path for i in clashing])))
    out = []
    for i, f in enumerate(found):
        s = StructureEntry(name=renamed.get(i, f.name), source=f.path, line=src.line(*f.key))
        if not f.given and s.name != Path(f.path).stem:
            s.stem = Path(f.path).stem
        out.append(s)
    return out


def _check_listed_once(errors: Problems, structures: list[StructureEntry]) -> None:
    """One file listed twice, or two structures of one name, would share run folders."""
    seen: dict[str, StructureEntry] = {}
    for s in structures:
        first = seen.get(s.name)
        if first is None:
            seen[s.name] = s
        elif Path(first.source).resolve() == Path(s.source).resolve():
            errors.items.append((s.line, f"structure {s.source} is listed twice (lines "
                                         f"{first.line} and {s.line}): its runs would be one "
                                         f"set of run folders; list it once (to run it with two "
                                         f"order settings, give each entry its own name = ...)"))
        else:
            errors.items.append((s.line, _same_name_message(errors.src.path.parent, first, s)))


def _same_name_message(base: Path, first: StructureEntry, second: StructureEntry) -> str:
    """Two files one name (``a/LiCl.cif``, named ``a_LiCl`` by its folder, beside
    ``a_LiCl.cif``): each file, its line and where its name came from, and the fix."""
    lines = (f"line {first.line}" if first.line == second.line
             else f"lines {first.line} and {second.line}")
    return (f"two structures are named {first.name!r} ({lines}): "
            f"{_name_origin(base, first)} and {_name_origin(base, second)}; their runs would "
            f"share run folders: give one a name of its own (an entry "
            f"{{path = \"...\", name = \"...\"}})")


def _name_origin(base: Path, s: StructureEntry) -> str:
    """A structure's file (relative to the campaign file's folder where inside it) and
    where its name came from."""
    path = Path(s.source)
    try:
        shown = path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        shown = s.source
    if s.stem:
        return (f"{shown} (named {s.name!r} by its folder, since more than one listed "
                f"file has the name {s.stem!r})")
    if s.name == path.stem:
        return f"{shown} (named by its file)"
    return f"{shown} (name = {s.name!r})"


def _order_in_range(errors: Problems, key: tuple, table: dict) -> bool:
    """Whether the order settings of ``table`` (the campaign's, or a structure entry's)
    are inside their ranges, as ``--order-seed``, ``--order-tol`` and
    ``--order-min-distance`` take them; each problem on its line."""
    ok, names = True, ["order_tol", "order_min_distance"]
    if "order_model_rank" in table and check_int(
            errors, key + ("order_model_rank",), table["order_model_rank"], 1) is None:
        ok = False                  # as --order-model-rank takes it: a whole number >= 1
    seed = table.get("order_seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):     # 1.7, true: int() made them 1
        check_int(errors, key + ("order_seed",), seed, 0)
        ok = False
    else:
        names.insert(0, "order_seed")       # a whole number: its range
    for name in names:
        try:        # text that is no number is said when the structure is ordered
            why = range_problem(name, float(table[name])) if name in table else None
        except (TypeError, ValueError):
            why = None
        if why:
            errors.add(key + (name,), why)
            ok = False
    return ok


def _load_structure(errors: Problems, key: tuple, path: str, order: dict,
                    supercell: str | None = None) -> tuple[object, bool, tuple[dict, bool],
                                                           object]:
    """The ordered, checked cell of ``path`` (``ionmd.structures.load_structure``, as every
    command reads structures; a disordered one ordered in the protocol's ``supercell``) as
    ASE Atoms (``info`` :data:`~ionmd.protocols.rundir.STRUCTURE_NOTES`: what reading did
    to the file, :func:`~ionmd.protocols.plan.loading_notes`, for the runs' ``run.json``),
    whether it is that supercell already, and its charges as ``ionmd run`` records them
    (:func:`ionmd.protocols.prepare.run_charges` of the pymatgen structure: the file's
    declared oxidation states, else the guess, and whether guessed), and the
    :class:`~ionmd.structures.LoadedStructure` (with ``order_model_rank``: its candidates);
    problems go to ``errors``."""
    from ionmd.protocols.plan import loading_notes
    from ionmd.protocols.prepare import as_atoms, run_charges
    from ionmd.protocols.rundir import STRUCTURE_NOTES
    from ionmd.structures import OrderOptions, load_structure
    from ionmd.structures.occupancy_tolerance import OCCUPANCY_TOLERANCE

    try:
        options = OrderOptions(method=order.get("order"), seed=order.get("order_seed", 0),
                               occ_tol=float(order.get("order_tol", OCCUPANCY_TOLERANCE)),
                               min_distance=(None if order.get("order_min_distance") is None
                                             else float(order["order_min_distance"])),
                               supercell=supercell,
                               # refused with another method as --order-model-rank is
                               candidates=order.get("order_model_rank", 1))
        loaded = load_structure(path, options)
        atoms = as_atoms(loaded.structure)      # an isotope's own mass
        atoms.info[STRUCTURE_NOTES] = loading_notes(loaded, path)
        return atoms, loaded.in_run_cell, run_charges(loaded.structure), loaded
    except (TypeError, ValueError) as exc:
        errors.add(key, f"order settings {order}: {exc}")
    except IonmdError as exc:
        errors.add(key, str(exc))
    return None, False, ({}, False), None


def check_cells(errors: Problems, structures: list[StructureEntry],
                protocol: Protocol | None) -> None:
    """The cell rules ``ionmd run`` applies (:func:`ionmd.protocols.checks.check_cell`: a
    time step too long for hydrogen, a Berendsen barostat on a triclinic cell), on each
    structure's line; before, they came up only when ``plan``/``submit`` laid the runs
    out, without a line and one structure at a time."""
    from ionmd.protocols.prepare import run_cell

    if protocol is None:
        return
    for s in structures:
        if s.atoms is None:
            continue
        try:
            s.cell = run_cell(protocol, s.atoms, s.in_run_cell)     # the runs start from it
            with warnings.catch_warnings(record=True) as notes:
                warnings.simplefilter("always", IonmdNote)
                check_cell(protocol, s.cell)
        except IonmdError as exc:
            errors.items.append((s.line, f"structure {s.name!r}: {exc}"))
            continue
        # its notes (one mobile ion) on its line, with its name: else the same words for
        # two structures were said once, naming neither
        for note in notes:
            if issubclass(note.category, IonmdNote):
                warnings.warn(f"{errors.src.path}, line {s.line}: structure {s.name!r}: "
                              f"{note.message}", IonmdNote, stacklevel=2)
            else:
                warnings.warn_explicit(note.message, note.category, note.filename, note.lineno)


def keep_structure_folders(structures: list[StructureEntry], output: Path, protocol) -> None:
    """A structure named by its folders because another file shares its stem keeps the
    stem where ``output`` already holds runs of its cell under it (a second ``LiCl.cif``
    added to a running campaign: the first one's runs go on where they are), as models do.
    The runs record their starting cell's hash, not the file, so the cell decides: with
    ``order_model_rank``, any of the candidates' (:func:`_run_cell_hashes`)."""
    taken = {s.name for s in structures}
    for s in structures:
        if not s.stem or s.stem in taken or s.cell is None or protocol is None:
            continue
        recorded = {r.get("structure_hash")
                    for r in recorded_settings(output, glob.escape(s.stem), "*")
                    if isinstance(r, dict)} - {None}
        if recorded & _run_cell_hashes(s, protocol):
            taken.discard(s.name)
            s.name = s.stem
            taken.add(s.name)


def _run_cell_hashes(s: StructureEntry, protocol) -> set[str]:
    """The hashes of the cells ``s``'s runs may start from: its cell and, with
    ``order_model_rank`` N, each of its N candidates' run cell (a model keeps one, ranked
    after the folders are named: :mod:`ionmd.sweep.campaign_ranking`; the runs of a kept
    rank 2 did not hold ``s.cell``, and a second file of the stem renamed the first
    away from them)."""
    from ionmd.protocols.prepare import as_atoms, run_cell
    from ionmd.protocols.rundir import structure_hash

    cells = [s.cell]
    if s.model_rank > 1 and s.loaded is not None:
        cells += [run_cell(protocol, as_atoms(c.structure), s.in_run_cell)
                  for c in s.loaded.candidates]
    return {structure_hash(c) for c in cells}
