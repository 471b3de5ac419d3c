"""A screen of many structure files into one output folder, resumable.

:class:`ScreenBatch` reads each file (every structure in it, named uniquely also where
files share a name), skips structures the folder already holds as finished rows, retries
failed ones, records a file that cannot be read or ordered or a structure that cannot be
screened as an error row (naming the stage that failed) and goes on, and writes the rows
(``screen.json``, ``screen.csv``), CUBE files and level-map PNGs as it goes;
:meth:`ScreenBatch.write_campaign` writes the top N as a campaign for MD. The folder's
settings are checked first (:func:`settings_record`): rows computed with other settings are
never ranked beside new ones. The files are read, keyed and named by
:mod:`ionmd.screen.batch_inputs`.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from ionmd.screen.batch_inputs import (INPUT_COUNT, INPUT_HASH, INPUT_KEY, INPUT_NAME, InputError,
                                       batch_names, distinct_inputs, failure_message,
                                       input_key, input_names, input_sha256,
                                       load_screen_inputs, row_key, screenable_atoms)

def settings_record(runner, settings, order=None) -> dict:
    """The settings that change the descriptors, as the output folder records them
    (:func:`ionmd.screen.output.check_settings`)."""
    method = order.method if order is not None else None
    return {
        "model_sha256": runner.sha256, "species": settings.species, "spacing": settings.spacing,
        "rmin": settings.rmin, "thresholds": list(settings.thresholds), "cell": settings.cell,
        "min_image_distance": settings.min_image_distance,
        "connectivity": settings.connectivity, "order": method,
        "order_seed": order.seed if method == "random" else None,
        "order_tol": order.occ_tol if method else None,
        "order_min_distance": order.min_distance if method else None,
        # None where not given: as a folder screened before the option reads back
        "order_model_rank": order.candidates if method and order.candidates > 1 else None}


TRACE_FRAMES = 6
"""Calls an error row's ``traceback`` keeps (innermost last): where the error came from."""


def unexpected_where(exc: BaseException) -> str | None:
    """Where an error that is none of ionmd's own (:class:`IonmdError`, whose message says
    what to do) was raised: the last :data:`TRACE_FRAMES` calls of its traceback, as
    ``package/module.py:line in function`` (innermost last); None for ionmd's own. A
    TypeError of a bug read as 'TypeError: unsupported operand ...' beside a structure's
    name, an input's fault by the look of it, with nothing to find the bug by."""
    import traceback

    from ionmd.errors import IonmdError

    if isinstance(exc, IonmdError) or exc.__traceback__ is None:
        return None
    frames = traceback.extract_tb(exc.__traceback__)[-TRACE_FRAMES:]
    return " <- ".join(f"{'/'.join(Path(f.filename).parts[-2:])}:{f.lineno} in {f.name}"
                       for f in reversed(frames))


def unexpected_words(exc: BaseException) -> str:
    """The words a warning adds for an error of :func:`unexpected_where` ("" for ionmd's own)."""
    where = unexpected_where(exc)
    return (f" [not an error ionmd checks for, raised at {where}: a bug in ionmd or a library, "
            "or an input neither foresees; the row's traceback column has the calls, for a "
            "report]" if where else "")


def screened_cell_words(atoms, settings) -> str:
    """The size of the cell a screen evaluates for ``atoms``: the chosen cell (``--cell``,
    the primitive one by default) repeated for ``--min-image-distance``, as
    :func:`ionmd.screen.screen.plan_screen` makes it, and the input's where they differ
    ('screening (N atoms)' gave the input's count: 32 for a screen of the 8-atom cell)."""
    from ionmd.screen.screen import choose_cell, dilute_repeat

    base = choose_cell(atoms, settings.cell, settings.symprec)
    repeat = (dilute_repeat(base, settings.min_image_distance)
              if settings.min_image_distance > 0 else (1, 1, 1))
    n = len(base) * repeat[0] * repeat[1] * repeat[2]
    if n == len(atoms):
        return f"{n} atoms"
    how = (f"the {len(base)}-atom {settings.cell} cell"
           + (f" x {'x'.join(map(str, repeat))}" if repeat != (1, 1, 1) else ""))
    return f"{n} atoms: {how}; the input has {len(atoms)}"


def plan_inputs(paths: Sequence, runner, settings, order=None,
                names: dict[str, str] | None = None, skip=frozenset()) -> Iterator[tuple]:
    """``(name, plan, None)`` for each structure a screen of ``paths`` would evaluate, or
    ``(name, None, why)`` for a file it cannot read or order or a structure it refuses;
    nothing is evaluated (``ionmd screen --dry-run``). ``names``: input key -> name
    (default: :func:`input_names` of ``paths``; a batch's own, :attr:`ScreenBatch.names`);
    ``skip``: ``(input key, name)`` of structures already finished
    (:attr:`ScreenBatch.finished`)."""
    from ionmd.screen.screen import plan_screen

    paths = distinct_inputs(paths)
    names = names or input_names(paths)
    for path in paths:
        try:
            items = load_screen_inputs(path, order, names[input_key(path)])
        except InputError as exc:       # as in a real screen: report, go on
            yield names[input_key(path)], None, str(exc)
            continue
        for name, loaded in items:
            if (input_key(path), name) in skip:
                continue
            if isinstance(loaded, InputError):  # one data block of the file: go on
                yield name, None, str(loaded)
                continue
            try:
                plan, why = plan_screen(screenable_atoms(loaded), settings, runner), None
            except Exception as exc:  # noqa: BLE001 - as in a real screen: report, go on
                plan, why = None, f"refused: {failure_message(exc)}{unexpected_words(exc)}"
            yield name, plan, why


class ScreenBatch:
    """Structure files screened with one model and settings into ``outdir``.

    Opening checks the folder's settings (refusing other ones where it holds finished
    rows) and loads its finished rows; :meth:`run` screens the rest.

    Attributes
    ----------
    rows
        The folder's rows: finished ones kept, new ones (results and errors) appended.
    todo
        Input files not yet finished in the folder, in the order given.
    resumed
        How many structures the folder already held as finished (those of changed files
        not counted).
    changed
        Input files whose bytes differ from those their rows recorded (:data:`INPUT_HASH`):
        screened again, their rows and output files replaced.
    failures
        Failures recorded by :meth:`run` (unreadable files, refused structures, any
        other error of a structure; CUBE/PNG files not written).
    """

    def __init__(self, paths: Sequence, outdir: Path, runner, settings, *, model: str,
                 order=None, record_settings: bool = True):
        from ionmd.screen.output import check_settings, load_rows

        self.outdir = Path(outdir)
        self.paths = distinct_inputs(paths)
        self.runner, self.settings, self.order, self.model = runner, settings, order, str(model)
        # record_settings=False: a dry run, which refuses as a screen would, writing nothing
        check_settings(self.outdir, settings_record(runner, settings, order), record_settings)
        # every row is kept: finished ones are skipped, failed ones of given inputs are
        # retried (their new row replaces them), those of other inputs stay as they are
        self.rows = load_rows(self.outdir)
        given = {input_key(p) for p in self.paths}
        self._index_rows()
        # hashed once, here: the bytes a row records are those this batch judged by
        self.hashes = {input_key(p): input_sha256(p) for p in self.paths}
        self.changed = self._changed_inputs()
        changed = {input_key(p) for p in self.changed}
        self.replaced: set[str] = set()            # names of the rows of changed files, dropped
        self.finished: set[tuple[str, str]] = set()
        declared: dict[str, set] = {}              # input -> its rows' counts of structures
        for r in self.rows:
            key = (row_key(r), r["name"])
            if r.get("status") == "ok" and key[0] in given and key[0] not in changed:
                self.finished.add(key)
                declared.setdefault(key[0], set()).add(r.get(INPUT_COUNT))
        self.resumed = len(self.finished)          # structures, not files
        self._plain_progress = False               # a line per structure (run())
        # a file is read again unless its rows say every structure of it is finished (a
        # file may be half done; rows written before they said so: read)
        done = Counter(k for k, _ in self.finished)
        self.todo = [p for p in self.paths
                     if declared.get(input_key(p)) != {done[input_key(p)]}]
        self.names = batch_names(self.paths, self.rows)
        self.failures = 0

    def _changed_inputs(self) -> list:
        """The inputs whose rows recorded other bytes than the file holds now. Rows without
        a hash (earlier versions), and files that cannot be hashed now (missing: as before,
        their finished rows stand), are trusted by their path."""
        recorded: dict[str, set[str]] = {}
        for r in self.rows:
            if r.get(INPUT_HASH):
                recorded.setdefault(row_key(r), set()).add(r[INPUT_HASH])
        return [p for p in self.paths if self.hashes[input_key(p)] is not None
                and recorded.get(input_key(p), set()) - {self.hashes[input_key(p)]}]

    def _replace_changed(self, path, warn) -> None:
        """Drop every row of the changed file ``path`` (its structures may now be others, or
        more or fewer) and the CUBE, PNG and structure files written for them, so that
        nothing of the old file's screen is left beside the new one's."""
        from ionmd.screen.output import write_rows

        key = input_key(path)
        warn(f"{path} changed since its rows were written: screened again")
        old = {r["name"] for r in self.rows if row_key(r) == key}
        self.rows[:] = [r for r in self.rows if row_key(r) != key]
        # the files first: a screen interrupted here finds the old rows, and their file
        # changed, again
        for name in old - {r["name"] for r in self.rows}:
            self._remove_files(name)
        self.replaced |= old
        self._index_rows()
        write_rows(self.outdir, self.rows)

    def _remove_files(self, name: str) -> None:
        """The CUBE, PNG and structure files written for the row ``name``."""
        for path in (self.outdir / "cubes" / f"{name}_pes.cube",
                     self.outdir / "cubes" / f"{name}_lm.cube",
                     self.outdir / "plots" / f"{name}_lm.png",
                     self.outdir / "structures" / f"{name}.cif"):
            path.unlink(missing_ok=True)

    def _index_rows(self) -> None:
        """Each row's (input key, name) resolved once (a retry replaces the first such row)."""
        self._row_at: dict[tuple[str, str], int] = {}
        for i, r in enumerate(self.rows):
            self._row_at.setdefault((row_key(r), r["name"]), i)

    def _drop_stale_errors(self, key: str, names: set[str]) -> None:
        """Remove the error rows of input ``key`` that name none of its structures now (a
        file that could not be read and now can: its 'cannot read' row under the file's
        name would stay beside the new rows of its structures)."""
        stale = {i for i, r in enumerate(self.rows) if r.get("status") != "ok"
                 and r["name"] not in names and row_key(r) == key}
        if not stale:
            return
        self.rows[:] = [r for i, r in enumerate(self.rows) if i not in stale]
        self._index_rows()

    def _put(self, row: dict) -> None:
        """Add ``row``, replacing the folder's row of the same input structure (a retry)."""
        key = (row_key(row), row["name"])
        if key in self._row_at:
            self.rows[self._row_at[key]] = row
        else:
            self._row_at[key] = len(self.rows)
            self.rows.append(row)

    def run(self, *, cube: bool = False, png: bool = False,
            warn: Callable[[str], None] | None = None, progress: bool | None = None) -> None:
        """Screen every input in :attr:`todo`, writing the rows after each structure.
        ``warn`` gets one line per error or note (default: none); ``progress``: tqdm bars
        (None: where the output is a terminal). No failure of one file or structure ends
        the batch: it becomes that one's error row, naming the stage and the error's type."""
        from tqdm import tqdm

        from ionmd.screen.output import write_rows

        warn = warn or (lambda message: None)
        disable = None if progress is None else not progress
        # no bars where stderr is no terminal (a batch job's log): a line per structure
        # instead, so that hours of screening do not pass without a word
        self._plain_progress = progress is None and not sys.stderr.isatty()
        for path in tqdm(self.todo, desc="structures", unit="file", disable=disable):
            self._screen_file(path, cube=cube, png=png, warn=warn, disable=disable)
        write_rows(self.outdir, self.rows)

    def _screen_file(self, path, *, cube: bool, png: bool, warn, disable) -> None:
        """Every structure of one input file not yet finished, each row written at once."""
        from ionmd.screen.output import write_rows

        file_name = self.names[input_key(path)]
        if path in self.changed:
            self._replace_changed(path, warn)
        try:
            items = load_screen_inputs(path, self.order, file_name, runner=self.runner)
        except InputError as exc:   # unreadable, or read but not screenable: go on
            self._record_error(file_name, path, file_name, exc.stage, exc.cause, str(exc))
            warn(f"{path}: {exc.stage} ({failure_message(exc.cause)}); skipped"
                 f"{unexpected_words(exc.cause)}")
            write_rows(self.outdir, self.rows)
            return
        self._drop_stale_errors(input_key(path), {n for n, _ in items})
        for name, loaded in items:
            if isinstance(loaded, InputError):  # one data block of the file: its row, go on
                self._record_error(name, path, file_name, loaded.stage, loaded.cause,
                                   str(loaded))
                warn(f"{path}: {name}: {loaded.stage} ({failure_message(loaded.cause)}); "
                     f"skipped{unexpected_words(loaded.cause)}")
                write_rows(self.outdir, self.rows)
            elif (input_key(path), name) not in self.finished:
                self._screen_one(path, file_name, name, loaded, len(items), cube=cube,
                                 png=png, warn=warn, disable=disable)
                write_rows(self.outdir, self.rows)

    def _screen_one(self, path, file_name: str, name: str, loaded, n_structures: int, *,
                    cube: bool, png: bool, warn, disable) -> None:
        """One structure's row: its descriptors, or its error (stage ``convert``: to ASE
        Atoms; ``screen``: cell, grid, model, level maps, descriptors). Where the input is
        no file an MD campaign can run as it is (an ordering, one structure of several, an
        example name), the structure screened is written to OUT/structures (the row's
        ``structure_file``). Output files that cannot be written leave the descriptors'
        row, saying so (``output_error``)."""
        from tqdm import tqdm

        from ionmd.screen.output import STRUCTURE_FILE, result_row, write_structure
        from ionmd.screen.screen import screen_structure

        runner, stage = self.runner, "convert"
        if self.order is not None and self.order.candidates > 1 and not loaded.candidates:
            # asked for, and nothing to rank: said, as ionmd run says it (was silent)
            from ionmd.structures.ordering_rank_note import nothing_to_rank

            warn(f"{name}: note: " + nothing_to_rank(
                f"--order-model-rank {self.order.candidates}",
                "the file's structure is screened as it is"))
        try:
            atoms = screenable_atoms(loaded)
            stage = "screen"
            model_s, started = runner.model_seconds, time.monotonic()
            if self._plain_progress:
                warn(f"{name}: screening ({screened_cell_words(atoms, self.settings)})")
            with tqdm(desc=name, unit="pt", leave=False, disable=disable) as bar:
                result = screen_structure(atoms, runner, self.settings, progress=bar.update)
            row = result_row(name, str(path), result, self.model, runner.sha256)
            row["model_s"] = round(runner.model_seconds - model_s, 3)
            if self._plain_progress:
                warn(f"{name}: screened in {time.monotonic() - started:.0f} s")
        except Exception as exc:  # noqa: BLE001 - one structure's failure: its row, go on
            why = failure_message(exc)
            self._record_error(name, path, file_name, stage, exc, why)
            warn((f"{path}: {why}" if stage == "screen" else f"{path}: {stage}: {why}")
                 + unexpected_words(exc))
            return
        for key in ("note", "charge_note"):
            if key in row:
                warn(f"{name}: note: {row[key]}")
        if "ordered" in atoms.info:     # how a disordered file was made screenable
            row["ordering"] = atoms.info["ordered"]
        if loaded.rounding:             # sites within rounding of whole screened as whole
            row["rounding"] = loaded.rounding
        if "elements_from" in atoms.info:   # a VASP 4 POSCAR named by its first line
            row["elements_from"] = atoms.info["elements_from"]
            warn(f"{name}: note: {row['elements_from']}")
        try:
            if loaded.ordering or name != file_name or not Path(str(path)).is_file():
                # absolute: a campaign written by a rerun from another folder finds it
                row[STRUCTURE_FILE] = str(write_structure(self.outdir / "structures", name,
                                                          loaded.structure).resolve())
            self._write_files(name, result, cube=cube, png=png)
        except Exception as exc:  # noqa: BLE001 - the descriptors stand; the files failed
            self.failures += 1
            row["output_error"] = failure_message(exc)
            if unexpected_where(exc):
                row["output_traceback"] = unexpected_where(exc)
            warn(f"{name}: output: {row['output_error']}{unexpected_words(exc)}")
        self._put({**row, **self._input_columns(path, file_name), INPUT_COUNT: n_structures})

    def _input_columns(self, path, file_name: str) -> dict:
        """The columns that tie a row to its input file (key, name, bytes' hash)."""
        return {INPUT_KEY: input_key(path), INPUT_NAME: file_name,
                INPUT_HASH: self.hashes.get(input_key(path))}

    def _write_files(self, name: str, result, *, cube: bool, png: bool) -> None:
        from ionmd.screen.output import write_cubes, write_lm_png

        if cube:
            write_cubes(self.outdir / "cubes", name, result)
        if png:
            write_lm_png(self.outdir / "plots", name, result)

    def _record_error(self, name: str, path, file_name: str, stage: str, exc: Exception,
                      message: str) -> None:
        """An error row: the message, the stage that failed, the error's type and, for an
        error none of ionmd's own, where it was raised (``traceback``)."""
        from ionmd.screen.output import error_row

        self.failures += 1
        row = error_row(name, str(path), message, stage=stage, error_type=type(exc).__name__)
        where = unexpected_where(exc)
        if where:                       # no IonmdError: where it came from, for a report
            row["traceback"] = where
        self._put({**row, **self._input_columns(path, file_name)})

    def write_campaign(self, top: int, rank_by: str = "xi",
                       warn: Callable[[str], None] | None = None) -> Path | None:
        """The ``top`` structures (by ``rank_by``: xi or mpe) as OUT/campaign.yaml, a
        campaign file ``ionmd sweep`` runs as it is; rows left out of it (a narrow cell, a
        crystal already chosen under another name) and rows to check are named to ``warn``
        and in the file (:func:`ionmd.screen.output.write_campaign`)."""
        from ionmd.screen.output import CAMPAIGN, write_campaign

        return write_campaign(self.outdir / CAMPAIGN, self.rows, top, self.model, rank_by,
                              warn=warn)

    def refresh_campaign(self, warn: Callable[[str], None]) -> None:
        """Rewrite OUT/campaign.yaml (an earlier ``--top``) where it names a structure of a
        file screened again, which the old file's numbers ranked there: the ``--top`` it
        was asked for, ranked by what it was, from the rows now (``warn`` says so); removed where no row is
        finished. For a rerun without ``--top``, which rewrites it anyway."""
        import re

        import yaml

        from ionmd.screen.output import CAMPAIGN, RANK_KEYS

        path = self.outdir / CAMPAIGN
        if not self.replaced or not path.is_file():
            return
        text = path.read_text()
        try:
            entries = yaml.safe_load(text)["structures"]
            names = {entry["name"] for entry in entries}
        except (yaml.YAMLError, TypeError, KeyError):   # no campaign of ours: leave it
            return
        if not names & self.replaced:
            return
        if not self.screened:
            path.unlink()
            warn(f"{path} named structures screened again, none finished now: removed")
            return
        by = re.search(r"best first by (\w+):", text)
        rank_by = by.group(1) if by and by.group(1) in RANK_KEYS else "xi"
        # the --top asked, which more finished rows now may fill (files before it recorded
        # only the structures chosen)
        asked = re.search(r"\(--top (\d+)\)", text)
        top = int(asked.group(1)) if asked else len(names)
        warn(f"{path} named structures screened again: rewritten from the rows now "
             f"(top {top} by {rank_by}, as it was)")
        self.write_campaign(top, rank_by, warn)

    @property
    def screened(self) -> int:
        """Finished rows in the folder."""
        return sum(r.get("status") == "ok" for r in self.rows)

    @property
    def any_input_screened(self) -> bool:
        """Whether at least one of this batch's inputs has a finished row."""
        given = {input_key(p) for p in self.paths}
        return any(r.get("status") == "ok" and row_key(r) in given
                   for r in self.rows)
