"""A screen batch's inputs: structure files (and shipped examples) read into screenable
structures, each failure named by its stage (:class:`InputError`); what identifies an input
across reruns (:func:`input_key`, :func:`input_sha256`, the row columns that record them);
and the unique names its structures get in the output folder (:func:`batch_names`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ionmd.errors import IonmdError

if TYPE_CHECKING:
    from ase import Atoms

# A row's column naming the file its structure came from, as named in the folder ("two"
# for the rows two_0, two_1 of a file of two structures): a resumed screen names the
# file's structures the same way even when only some of them have rows.
INPUT_NAME = "input_name"
# A finished row's column: how many structures its file holds. A file whose structures all
# have finished rows is not read (nor ordered) again on a rerun.
INPUT_COUNT = "input_structures"
# A row's column: its input's key (:func:`input_key`: the file's resolved path, or an
# example's name) as it was when the row was written. ``source`` is the path as given, which
# names another file (or none) for a rerun started from another folder: keyed by it, such a
# rerun screened every file again, and took a different file at the same relative path for
# the one already screened.
INPUT_KEY = "input_key"
# A row's column: the SHA-256 of its input file's bytes (a shipped example's file) when the
# row was written. A file edited since (a corrected CIF) is screened again and its rows
# replaced: keyed by path alone, its old descriptors stayed under its name. The bytes, not
# the structure's hash (ionmd.protocols.run_settings.structure_hash, of a parsed and ordered
# cell), since telling a file changed must not read or order it, and any edit may change
# what reading and ordering give. Rows without it (earlier versions) trust the path.
INPUT_HASH = "input_sha256"


class InputError(Exception):
    """A file the screen could not turn into screenable structures, with the stage that
    failed (``stage``: "cannot read", "disordered", "cannot order" or "refused") and the
    error of that stage (``cause``, whose message says what to do)."""

    def __init__(self, stage: str, cause: Exception):
        self.stage, self.cause = stage, cause
        super().__init__(f"{stage}: {failure_message(cause)}")


def load_screen_inputs(path: Path, order=None, name: str | None = None,
                       runner=None) -> list[tuple]:
    """All structures in a file, read once, ordered and checked by
    ``ionmd.structures.load_structures`` (``keep_failures``) as every command reads
    structures: ``(name,
    LoadedStructure)``, named ``name`` (default: the file's stem; or ``name_k`` for several),
    or ``(name, InputError)`` for a structure that failed (a CIF data block that cannot be
    read or ordered, named in the error) while the file's others loaded. With ``runner``
    (the screen's model) and ``order.candidates`` > 1 (``--order-model-rank``) each is the
    lowest-Ewald candidate of lowest model energy (``ordering_rank.rank_by_model``; a dry
    run gives no runner: it evaluates nothing, and the cell is the same size).

    Raises
    ------
    InputError
        For a file that cannot be read at all ("cannot read"), or whose only structure
        failed, naming the stage that failed: one read but not ordered is not "cannot
        read" (a disordered CIF the orderer refused was reported so, hiding the ordering's
        advice).
    """
    from ionmd.structures import LoadFailure, load_structures

    try:
        # a missing file or example name: ionmd.structures.missing_structure's words, as
        # ionmd run and campaigns say it
        found = load_structures(path, order, keep_failures=True)
    except Exception as exc:  # noqa: BLE001 - any failure is this file's, named by its stage
        # structures that were read but not ordered or checked are LoadFailures in found
        raise InputError("cannot read", exc) from exc
    if len(found) == 1 and isinstance(found[0], LoadFailure):    # the file's only one
        raise InputError(_stage_of(found[0], order), found[0].error) from found[0].error
    name = name or Path(str(path)).stem
    out = [(name if len(found) == 1 else f"{name}_{k}",
            InputError(_stage_of(loaded, order), loaded.error)
            if isinstance(loaded, LoadFailure) else _model_ranked(loaded, order, runner))
           for k, loaded in enumerate(found)]
    if len(out) == 1 and isinstance(out[0][1], InputError):    # the ranking failed
        raise out[0][1]
    return out


def _model_ranked(loaded, order, runner):
    """``loaded`` as ``--order-model-rank`` keeps it (its candidates ranked by the
    ``runner``'s energy), or the ranking's failure as this structure's ``InputError``."""
    if runner is None or order is None or order.candidates <= 1 or not loaded.candidates:
        return loaded
    from ionmd.screen.ordering_rank import rank_by_model

    try:
        return rank_by_model(loaded, runner.path, order.candidates, runner=runner)[0]
    except Exception as exc:  # noqa: BLE001 - this structure's failure, the rest go on
        return InputError("cannot order", exc)


def _stage_of(failure, order) -> str:
    """The stage a structure failed at (``LoadFailure``): reading it, or, for one that was
    read, ordering, the refusal of partial occupancies without ``--order``, or the checks
    of an ordered cell."""
    if failure.structure is None:
        return "cannot read"
    if failure.structure.is_ordered:
        return "refused"
    return "cannot order" if order is not None and order.method else "disordered"


def screenable_atoms(loaded) -> Atoms:
    """A loaded structure as the ASE Atoms the screen takes; ``info["ordered"]`` says how a
    disordered file was ordered."""
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms = AseAtomsAdaptor.get_atoms(loaded.structure)
    if loaded.ordering:
        atoms.info["ordered"] = loaded.ordering
        # rounding occupancies within --order-tol can drop an element (Li 0.04 in a
        # perovskite), and the screen must say so
        atoms.info["rounded_away"] = loaded.rounded_away
    return atoms


def read_screen_inputs(path: Path, order=None, name: str | None = None) -> list[tuple]:
    """``(name, Atoms)`` of every structure in a file (:func:`load_screen_inputs`,
    :func:`screenable_atoms`).

    Raises
    ------
    InputError
        Naming the stage that failed.
    """
    found = load_screen_inputs(path, order, name)
    for _, loaded in found:
        if isinstance(loaded, InputError):
            raise loaded
    return [(n, screenable_atoms(loaded)) for n, loaded in found]


def failure_message(exc: Exception) -> str:
    """An error row's message: ionmd's own errors as they are (they say what to do), any
    other exception with its type, since it is a bug or an unforeseen input."""
    if isinstance(exc, IonmdError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


def as_input(source) -> Path | str:
    """An argument as the screen reads it: a path, or a shipped example's name (Li3YCl6)
    kept as text, since the readers take example names only as text."""
    if isinstance(source, str) and not Path(source).exists():
        return source
    return Path(source)


def input_key(source) -> str:
    """What identifies an input: its resolved path (s/LiCl.cif, ./s/LiCl.cif and
    $PWD/s/LiCl.cif are one file), or an example's name."""
    source = as_input(str(source))
    return source if isinstance(source, str) else str(source.resolve())


def input_sha256(source) -> str | None:
    """SHA-256 of an input's bytes (:data:`INPUT_HASH`): a file's, or a shipped example's
    file's; None where there are none to read (a missing file, whose load fails and says so)."""
    from importlib.resources import as_file

    from ionmd.export.contract import sha256_of
    from ionmd.structures import example_path

    try:
        if isinstance(source, str):
            with as_file(example_path(source)) as path:
                return sha256_of(path)
        return sha256_of(source)
    except (OSError, IonmdError):
        return None


def row_key(row: dict) -> str:
    """The input key of an output folder's row: the one it recorded (:data:`INPUT_KEY`), or,
    for rows written before they did, its ``source`` seen from the current folder (as those
    versions did: the screen is rerun from the folder it was started in). A recorded path
    that is no file here (the project folder moved, or copied to another machine) is also
    its ``source`` seen from here: the same command from the moved folder finds its rows,
    and the content hash the row records (:data:`INPUT_HASH`) still tells a changed file."""
    recorded = row.get(INPUT_KEY)
    if recorded and Path(recorded).is_absolute() and not Path(recorded).exists():
        return input_key(row["source"])
    return recorded or input_key(row["source"])


def distinct_inputs(paths: Sequence) -> list:
    """The inputs in the order given, each file once however it was spelt."""
    seen: dict[str, Path | str] = {}
    for p in paths:
        seen.setdefault(input_key(p), as_input(str(p)))
    return list(seen.values())


def input_names(paths: Sequence) -> dict[str, str]:
    """Input key (:func:`input_key`) -> structure name, unique also where files share a
    name (mp-1/POSCAR)."""
    from ionmd.structures import unique_names

    return dict(zip((input_key(p) for p in paths), unique_names(paths)))


def batch_names(paths: Sequence, rows: Sequence[dict]) -> dict[str, str]:
    """Input key -> name, unique also against the rows already in the output folder (an
    earlier mp-1/POSCAR there makes this mp-2/POSCAR mp-2_POSCAR, not a second POSCAR):
    an input the folder holds keeps its name there, a new one that clashes with a name
    there gets its parent folders (and a number if that clashes too)."""
    from ionmd.structures import unique_names

    given = {input_key(p) for p in paths}
    rows_per_input = Counter(row_key(r) for r in rows)
    old = {}                                      # input key -> its name in the folder
    for r in rows:
        key = row_key(r)
        # rows record their file's name (INPUT_NAME): a file of several structures
        # interrupted after its first has one row, two_0, whose file is still "two"
        old.setdefault(key, r.get(INPUT_NAME) or
                       _base_name(r["name"], several=rows_per_input[key] > 1))
    taken = {r["name"] for r in rows if row_key(r) not in given}
    names = input_names(paths)
    others = [row_key(r) for r in rows if row_key(r) not in given]
    wider = dict(zip((input_key(p) for p in [*paths, *others]),
                     unique_names([*paths, *others])))
    for key in names:
        if key in old:
            names[key] = old[key]
        elif _clashes(names[key], taken):
            name, k = wider[key], 2
            while _clashes(name, taken):
                name, k = f"{wider[key]}_{k}", k + 1
            names[key] = name
        taken.add(names[key])
    return names


def _base_name(name: str, several: bool) -> str:
    """The name a file's rows were made from, for rows written before they recorded it
    (INPUT_NAME): ``name`` or, for a file of ``several`` structures (``name_0``,
    ``name_1``...), that name without the number."""
    return name.rsplit("_", 1)[0] if several and "_" in name else name


def _clashes(name: str, taken: set[str]) -> bool:
    return any(t == name or (t.startswith(f"{name}_") and t[len(name) + 1:].isdigit())
               for t in taken)
