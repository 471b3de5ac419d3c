"""The thermo output of a LAMMPS log: its blocks of rows (:class:`ThermoBlocks`: MD runs
apart from minimisations and reruns, ``thermo_style`` one-line, multi and yaml), the table of
columns analysis and the protocols read (:func:`parse_thermo`), and the steps each row is
of; apart from the rest of a log (errors, loops, timers, which logs a run folder holds:
:mod:`ionmd.lammps.log`) as the one reader of its rows.
"""

from __future__ import annotations

import numpy as np

from ionmd.lammps.echoed_input import is_run_command, number_or_variable
from ionmd.lammps.log import LOOP_RE
from ionmd.lammps.thermo_styles import COLUMN_NAME, OneLineThermo


class ThermoTable(dict):
    """Thermo columns by header name (a dict of arrays, one row per step) and, per column,
    which rows LAMMPS printed it in (``printed``, boolean arrays): ``run`` blocks may print
    different columns, and a column's rows from a block without it are NaN fill-ins, not
    values LAMMPS wrote."""

    def __init__(self, columns: dict[str, np.ndarray], printed: dict[str, np.ndarray],
                 stepless: list[str] | None = None, unreadable: list[str] | None = None):
        super().__init__(columns)
        self.printed = printed
        self.stepless = stepless or []
        """Thermo headers without a Step column (``thermo_style custom temp pe``): their
        rows cannot be placed in the run and are left out (:func:`require_step`)."""
        self.unreadable = unreadable or []
        """yaml or multi thermo output that makes no table (a column name with a space):
        its rows are left out (:func:`require_step`)."""


def require_step(thermo: ThermoTable) -> ThermoTable:
    """``thermo``, unless its log printed thermo output and none with a Step column, or
    yaml or multi output that cannot be read.

    Raises
    ------
    AnalysisError
        If every thermo header of the log lacks ``Step``: saying to add ``step`` to
        ``thermo_style``; if yaml or multi output cannot be read (naming it), whatever
        the other blocks: its rows would be missing from the run."""
    from ionmd.errors import AnalysisError

    if getattr(thermo, "unreadable", None):
        raise AnalysisError(f"the LAMMPS log's {thermo.unreadable[0]} cannot be read as "
                            f"thermo columns (a column name with a space, from "
                            f"thermo_modify colname, or no 'Key = value' pairs): its rows "
                            f"would be missing from the run; use thermo_style custom step "
                            f"temp ... with column names without spaces and rerun")
    if thermo.stepless and "Step" not in thermo:
        raise AnalysisError(f"the LAMMPS log's thermo output has no Step column (header "
                            f"{thermo.stepless[0]!r}): its rows cannot be placed in the run; "
                            f"add 'step' to thermo_style (thermo_style custom step temp ...) "
                            f"and rerun")
    return thermo


def printed_rows(thermo: dict[str, np.ndarray], name: str) -> np.ndarray:
    """Which thermo rows hold a value LAMMPS printed for column ``name``: a ``run`` block
    without that column leaves NaN fill-ins (:class:`ThermoTable`); a plain dict of
    columns counts as printed throughout."""
    printed = getattr(thermo, "printed", {})
    return printed[name] if name in printed else np.ones(len(thermo[name]), bool)


def printed_column(thermo: dict[str, np.ndarray], name: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of the rows where LAMMPS printed thermo column ``name``."""
    rows = printed_rows(thermo, name)
    return thermo["Step"][rows], thermo[name][rows]


class ThermoBlocks:
    """Reads LAMMPS output line by line and tells the thermo rows of MD ``run`` blocks from
    the rest: the thermo header in force (column names, ``Step`` among them wherever
    ``thermo_style`` puts it; ``blocks`` counts them), error and loop lines that end a
    block, and the blocks of a ``minimize`` or a ``rerun``, whose rows are
    no MD run's (``not_md``). A minimisation's steps are not MD steps (a template that
    minimises and then runs ``reset_timestep 0`` repeats them with the MD's) and its 0 K
    rows are no temperature of the run; a ``rerun`` goes back over a dump's steps with the
    last step's velocities (its Temp is one number) and would supersede the run's rows
    (:func:`run_rows`).

    Both are told by what LAMMPS prints whatever ``echo`` says (``echo none`` in the input,
    ``-echo none`` on the command line), once the block ended: a minimisation by the
    ``Minimization stats:`` after its loop line, a rerun by its loop line, which counts the
    snapshots read (``for 5 steps``) where a run counts its steps: a run prints rows at
    its first and its last step, as far apart as the steps it counts, while the rows of a
    rerun are the dump's steps (snapshots 0, 10, ..., 40: 40 steps apart, 5 counted;
    snapshots 0, 1, ..., 5 of a dump written at every step: 5 steps apart, 6 counted;
    a rerun prints rows at its first and last snapshot). A run that ``fix halt`` stopped
    prints a row at the step it stopped (its rows span what it counts, with its message or
    without); one stopped by a time-out prints none there: its rows span fewer steps than
    it counts, one fewer at most by chance (its last row one step before it stopped; the
    timer's ``timer timeout`` says ``Wall time limit reached`` first, the ``lammps``
    module's ``force_timeout``, how ionmd stops an in-process run, says nothing).
    Earlier, where they are printed: the echoed ``minimize`` or ``rerun`` command (a log's
    default ``echo log``), the screen's ``Setting up cg style minimization``; an echoed
    ``run N`` before a block says it is an MD run's, whatever its rows span, and so does
    one with ``every C`` for each of the blocks it prints, one per chunk of C steps (a
    Nose-Hoover ramp of inputs version 5: a header, the row of the step the previous
    chunk ended at again, and a loop line per chunk). A
    minimisation or a rerun that LAMMPS stopped with an error (lost atoms, a truncated
    dump) prints no loop line nor statistics: under ``echo none`` it is told by its rows'
    kinetic energy (``Temp`` or ``KinEng``), the same at every row of two steps or more:
    neither moves velocities (before ``velocity create``, as a relaxation is, there are
    none: 0; after an MD run, its last ones), while an MD run's kinetic energy changes
    from step to step (one whose atoms do not move is no MD either); and a rerun from a
    minimisation by its first row's step, before the step LAMMPS was at (a minimisation
    goes on from there, a rerun reads its dump from the first snapshot: :meth:`end`).

    Thermo output in any ``thermo_style``: ``yaml`` and ``multi`` are read as the header
    and rows of the one-line layout they make (:meth:`one_line`).

    Rows are handed out as they are read (:meth:`row`), so that a running LAMMPS can be
    followed; those of a block found later to be no MD are taken back: ``not_md`` gets its
    number and ``md_step`` goes back to the last MD row before it."""

    def __init__(self):
        self.header: list[str] | None = None
        self.blocks = 0
        self.not_md: set[int] = set()
        """Numbers of the blocks (as ``blocks`` counted them) that are no MD run's."""
        self.minimizations: set[int] = set()
        """Those of them known to be a minimisation's."""
        self.reruns: set[int] = set()
        """Those of them known to be a rerun's."""
        self.error_block: int | None = None
        """The block an ``ERROR`` line ended (None: none, or none was open)."""
        self.md_step: int | None = None
        """The step of the last MD row read (None: none yet)."""
        self.step: int | None = None
        """The step of the last row of any block (where LAMMPS's timestep is)."""
        self._step_before: int | None = None   # ``step`` as the current block began
        self._block_steps: list[int] = []     # steps of the current block's rows
        self._md_step_before: int | None = None
        self._not_md_next: str | None = None   # "minimize" or "rerun": the next block's
        self._step_column = 0
        self._kinetic_column: int | None = None
        self._kinetic: list[float] = []      # the current block's Temp (or KinEng) values
        self._stopped_early = False          # fix halt or a time-out ended the current block
        self._run_next = False               # an echoed `run` command came before the next block
        self._announced = False              # ... before the current one: an MD run's
        self._chunks = False                 # that `run` has `every N`: its blocks all are
        self._after_memory = False           # the line before was LAMMPS's memory line
        self.stepless: list[str] = []
        """Headers of blocks that print no ``Step`` column (``thermo_style custom temp
        pe``): their rows cannot be placed in the run and are left out."""
        self._styles = OneLineThermo()       # yaml and multi output as header and rows

    @property
    def unreadable(self) -> list[str]:
        """yaml or multi thermo output read so far that makes no rows (see
        :class:`~ionmd.lammps.thermo_styles.OneLineThermo`)."""
        return self._styles.unreadable

    def one_line(self, line: str) -> list[str]:
        """The lines of the one-line layout (a header of column names, a row per step)
        that ``line`` of LAMMPS's output makes: itself, or, for ``thermo_style yaml`` and
        ``multi``, the header and rows they print in their own layouts (none while a
        multi record is still open; :class:`~ionmd.lammps.thermo_styles.OneLineThermo`).
        Feed them to :meth:`one_line_row`."""
        return self._styles.lines(line)

    def row(self, line: str) -> list[str] | None:
        """The fields of the thermo row that ``line`` of LAMMPS's output completes, if in
        a block not known to be a minimisation's or a rerun's (``header`` names them),
        else None; thermo output in any ``thermo_style`` (custom, one, multi, yaml)."""
        return self._rows(self.one_line(line))

    def flush(self) -> list[str] | None:
        """At the end of the output: the fields of a row still open (a ``multi`` record
        is complete at the line after it), as :meth:`row` gives them."""
        return self._rows(self._styles.close())

    def _rows(self, lines: list[str]) -> list[str] | None:
        found = None
        for line in lines:          # one row at most: a multi record's, after its header
            parts = self.one_line_row(line)
            found = parts if parts is not None else found
        return found

    def one_line_row(self, line: str) -> list[str] | None:
        """The fields of ``line``, a line of the one-line layout (:meth:`one_line`), if it
        is a thermo row of a block not known to be a minimisation's or a rerun's, else
        None."""
        parts = line.split()
        if not parts:
            return None
        after_memory = self._after_memory
        self._after_memory = parts[:3] == ["Per", "MPI", "rank"]
        command = _not_md_command(parts)
        if command or (parts[0] == "Setting" and "minimization" in parts):
            self._not_md_next, self._run_next = command or "minimize", False
            self._chunks = False
        elif is_run_command(parts):
            self._run_next, self._not_md_next = True, None     # an echoed `run N ...`
            self._chunks = "every" in parts[2:]
        elif _is_header(parts):
            self._start_block(parts)
        elif after_memory and _is_header(parts + ["Step"]):
            self.stepless.append(" ".join(parts))   # a header with no Step: rows unplaceable
            self.header, self._not_md_next = None, None
        elif line.strip() == "Minimization stats:":
            self._take_back(minimization=True)   # the block that just ended
        elif parts[0] == "Loop":
            self._end_block(line)
        elif parts[0].startswith("ERROR"):
            self.end()
        elif "Fix halt condition" in line or "Wall time limit reached" in line:
            self._stopped_early = True
        elif (self.header is not None and len(parts) == len(self.header)
              and parts[self._step_column].lstrip("-").isdigit()):
            self.step = int(parts[self._step_column])
            self._block_steps.append(self.step)
            if self._kinetic_column is not None:
                self._kinetic.append(_float(parts[self._kinetic_column]))
            if self.blocks not in self.not_md:
                self.md_step = self.step
                return parts
        return None

    def _start_block(self, header: list[str]) -> None:
        self.header = header
        self._step_column = header.index("Step")
        self._kinetic_column = next((header.index(k) for k in ("Temp", "KinEng")
                                     if k in header), None)
        self.blocks += 1
        self._block_steps, self._md_step_before = [], self.md_step
        self._step_before = self.step        # where LAMMPS's timestep was as it began
        self._kinetic, self._stopped_early = [], False
        # a `run N ... every C` prints a header per chunk after its one echo (inputs
        # version 5's ramps): each chunk is that MD run's
        self._announced, self._run_next = self._run_next or self._chunks, False
        if self._not_md_next:
            self.not_md.add(self.blocks)
            known = self.minimizations if self._not_md_next == "minimize" else self.reruns
            known.add(self.blocks)
        self._not_md_next = None

    def _end_block(self, line: str) -> None:
        """A loop line: a block no echoed ``run`` announced whose rows span more steps than
        it counts, or one fewer (without a time-out's warning), is a rerun's (see the
        class)."""
        loop = LOOP_RE.match(line)
        steps = self._block_steps
        if loop and steps and not self._announced:
            span, counted = steps[-1] - steps[0], int(loop.group(3))
            if span > counted or (span == counted - 1 and not self._stopped_early):
                self._take_back(rerun=True)
        self.header, self._block_steps = None, []   # the next loop line is another block's

    def end(self) -> None:
        """The current block ended without a loop line (an ``ERROR``, or the end of the
        output). A block not known yet to be no MD whose rows have one kinetic energy at
        two steps or more (see the class) is a rerun's where its first row is before the
        step LAMMPS's timestep was at as it began (a rerun reads the dump's snapshots from
        the first: steps 0, 10, ... after an MD that ended at step 20), else a
        minimisation's (which goes on from that step). A rerun whose dump starts at that
        very step, and a minimisation after a ``reset_timestep`` back (which ``echo none``
        leaves unsaid: it is taken for a rerun), are told apart by their echoed ``rerun``
        or ``minimize`` command alone."""
        if self.header is None:
            self.error_block = None
            return
        known = self.blocks in self.minimizations | self.reruns
        if (not known and not self._announced and len(set(self._block_steps)) > 1
                and len(set(self._kinetic)) == 1):
            went_back = (self._step_before is not None
                         and self._block_steps[0] < self._step_before)
            self._take_back(minimization=not went_back, rerun=went_back)
        self.error_block, self.header = self.blocks, None

    def _take_back(self, minimization: bool = False, rerun: bool = False) -> None:
        if minimization and self.blocks:
            self.minimizations.add(self.blocks)
        if rerun and self.blocks:
            self.reruns.add(self.blocks)
        if self.blocks and self.blocks not in self.not_md:
            self.not_md.add(self.blocks)
            self.md_step = self._md_step_before


def _is_header(parts: list[str]) -> bool:
    """Whether ``parts`` is a thermo header: column names, one of them ``Step`` wherever
    ``thermo_style custom`` puts it (``elapsed step temp`` prints ``Elapsed Step Temp``)."""
    return ("Step" in parts and not parts[0].startswith(("WARNING", "ERROR"))
            and all(COLUMN_NAME.fullmatch(p) for p in parts))


def row_step(header: list[str], row) -> int:
    """The step of a thermo ``row``: its value in the column ``header`` names Step."""
    return int(row[header.index("Step")])


_RERUN_FIELDS = {"x", "y", "z", "xs", "ys", "zs", "xu", "yu", "zu", "xsu", "ysu", "zsu"}


def _not_md_command(parts: list[str]) -> str | None:
    """``"minimize"`` or ``"rerun"`` where ``parts`` is an echoed ``minimize etol ftol
    maxiter maxeval`` or ``rerun file ... dump x y z ...``, by its words (a ``print``
    message that starts with the word, ``rerun the dump later``, would otherwise drop the
    next MD block's rows); else None."""
    if parts[0] in ("minimize", "minimize/kk"):
        if len(parts) == 5 and all(number_or_variable(w) for w in parts[1:]):
            return "minimize"
    elif parts[0] == "rerun" and "dump" in parts[2:]:
        if _RERUN_FIELDS & set(parts[parts.index("dump", 2) + 1:]):
            return "rerun"
    return None


def _float(word: str) -> float:
    try:
        return float(word)
    except ValueError:
        return float("nan")


def _blocks(text: str) -> tuple[list[tuple[list[str], list[list[float]]]], ThermoBlocks]:
    """(header, rows) of each MD ``run`` block of one log text, in the order printed, the
    blocks of ``minimize`` and ``rerun`` left out (see :class:`ThermoBlocks`); and the
    reader (its ``stepless`` headers, its ``unreadable`` output)."""
    reader = ThermoBlocks()
    blocks: dict[int, tuple[list[str], list[list[float]]]] = {}

    def add(parts: list[str] | None) -> None:
        if parts is None:
            return
        try:
            row = [float(p) for p in parts]
        except ValueError:
            return
        blocks.setdefault(reader.blocks, (reader.header, []))[1].append(row)

    for line in text.splitlines():
        add(reader.row(line))
    add(reader.flush())
    reader.end()                         # a log that ends inside a block (killed)
    return [block for k, block in blocks.items() if k not in reader.not_md], reader


def _run_table(texts) -> ThermoTable:
    """The table of the MD blocks of ``texts`` (pieces in run order), the headers without
    a Step column (``stepless``) and the output that cannot be read (``unreadable``)
    noted."""
    blocks, stepless, unreadable = [], [], []
    for text in texts:
        found, reader = _blocks(text)
        blocks += found
        stepless, unreadable = stepless + reader.stepless, unreadable + reader.unreadable
    table = _table(run_rows(blocks))
    table.stepless, table.unreadable = stepless, unreadable
    return table


def run_rows(blocks) -> list[tuple[list[str], list[float]]]:
    """(header, row) of the rows of the run the blocks (in the order printed) make up,
    one per step. A block that starts at step s, before the last row printed, goes back
    to step s: rows printed before it from step s on belong to a run abandoned there and
    are dropped (a piece killed after its last restart file went on, and the piece resumed
    from that file, with ``read_restart``, ran those steps again on another trajectory;
    ``reset_timestep 0`` after an equilibration starts the production at step 0 again,
    from the equilibration's last state, not its first). A block that starts at the last
    step printed (a following ``run``) keeps that step's first row: one state, printed
    twice, as the dump of a following ``run`` writes it once."""
    kept: list[tuple[list[str], list[float]]] = []
    for header, rows in blocks:
        first = row_step(header, rows[0])
        if kept and row_step(*kept[-1]) > first:
            while kept and row_step(*kept[-1]) >= first:
                kept.pop()
        last = row_step(*kept[-1]) if kept else None
        kept += [(header, row) for row in rows if last is None or row_step(header, row) > last]
    return kept


def _table(rows: list[tuple[list[str], list[float]]]) -> ThermoTable:
    columns: dict[str, np.ndarray] = {}
    printed: dict[str, np.ndarray] = {}
    for k, (header, row) in enumerate(rows):
        for name, v in zip(header, row):
            if name not in columns:
                columns[name] = np.full(len(rows), np.nan)
                printed[name] = np.zeros(len(rows), bool)
            columns[name][k] = v
            printed[name][k] = True
    return ThermoTable(columns, printed)


def parse_thermo(text: str) -> ThermoTable:
    """Thermo columns of a ``log.lammps`` text (all ``run`` blocks, by header name; the
    blocks of ``minimize`` and ``rerun`` left out, see :class:`ThermoBlocks`), one row
    per step, in any ``thermo_style``: ``custom`` and ``one``, ``yaml`` and ``multi``
    (whose separator lines give ``Step`` and ``CPU``; :mod:`ionmd.lammps.thermo_styles`).

    A log that a run resumed by hand appended to (``log log.lammps append`` before its
    ``read_restart``) holds the rows of the killed run past the restart, then the
    resumed run's from the restart's step: the later rows are the run's
    (:func:`run_rows`). A step printed twice (the first row of a following run) keeps
    its first row. ``nan``/``inf`` values are kept as such; a column that a block does
    not print is NaN in that block's rows and False in ``printed`` there. A block whose
    header has no Step column is left out (``stepless``; :func:`require_step`)."""
    return _run_table([text])


def parse_thermo_pieces(texts) -> ThermoTable:
    """Thermo columns of a run resumed in pieces (one log text each, in run order), as
    :func:`parse_thermo` reads one log holding them all: each piece's rows before the
    step a later piece resumed from (a piece killed after its last restart file went on
    printing rows that the next piece, started from that restart, computes again on
    another trajectory; the later rows are the run's)."""
    return _run_table(texts)


def thermo_steps(lines: list[str], blocks: ThermoBlocks | None) -> tuple[list[int], ThermoBlocks]:
    """Steps of the thermo rows among ``lines`` read so far from a running LAMMPS that are
    MD rows as far as known yet, and the reader's state after them (None at the start;
    pass it back with the next lines). A block found to be a minimisation's or a rerun's
    after its rows were handed out is taken back: the reader's ``md_step`` is then the
    step the MD is at. A ``thermo_style multi`` run's first record is told complete by
    the line after it (:meth:`ThermoBlocks.flush` at the end of a finished output)."""
    blocks = blocks if blocks is not None else ThermoBlocks()
    steps = []
    for line in lines:
        parts = blocks.row(line)
        if parts is not None:
            steps.append(blocks.step)
    return steps, blocks


def unfinished_md_steps(text: str) -> int:
    """MD steps of a log's rows after its last loop line: those of a run that ended
    without one (killed, failed, still running); 0 where the log ended after a loop."""
    ends = [m.end() for m in LOOP_RE.finditer(text)]
    tail, reader = thermo_steps(text[ends[-1] if ends else 0:].splitlines(), None)
    if reader.flush() is not None:       # a multi record the log ended in
        tail.append(reader.step)
    return max(tail) - min(tail) if tail else 0
