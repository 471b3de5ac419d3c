"""Where LAMMPS stopped a run for lost atoms (:func:`find_lost_atoms`): the step of the
output that found them gone, read from the logs of a run's pieces with their echoed
``thermo``, ``run``, ``dump``, ``reset_timestep`` and ``read_restart`` commands."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ionmd.lammps.echoed_input import dump_command, read_restart_file, run_command
from ionmd.lammps.log import HALT_RE
from ionmd.lammps.thermo_log import ThermoBlocks


LOST_ATOMS_RE = re.compile(r"ERROR.*(?:Lost atoms|Dump (?:dcd|xtc) of non-matching # of atoms)")
"""LAMMPS's errors for atoms gone: ``Lost atoms`` (found at a thermo output), or, where a
DCD/XTC dump comes first (LAMMPS writes dumps before thermo output within a step), the
dump's count of atoms that no longer matches."""


def _dump_found_it(message: str) -> bool:
    return "non-matching" in message


RESTART_READ = "Reading restart file"
"""What LAMMPS logs as ``read_restart`` starts: a resumed piece begins (in a log that a
run resumed by hand appended to, too)."""


@dataclass(frozen=True)
class LostAtoms:
    """Where LAMMPS stopped a run for lost atoms (:func:`find_lost_atoms`)."""

    message: str
    """LAMMPS's ``ERROR: Lost atoms ...`` line (or its DCD/XTC dump's ``non-matching #
    of atoms``)."""
    step: int | None
    """The step of the output that found them lost; None at the setup of a piece
    whose log printed no row before (the step of its ``restart_file``, or of its data
    file)."""
    after_row: int | None
    """The last thermo row printed before, in the same run; None: at a run's setup."""
    restart_file: str | None
    """The ``read_restart`` file of the piece it happened in (None: not resumed)."""
    thermo_every: int | None
    """The spacing the step was reckoned with: the thermo output's, or the dump's where a
    DCD/XTC dump found the atoms gone (:attr:`by_dump`)."""
    halt_step: int | None = None
    """``fix halt``'s step, where it fired first (its forced output found the loss)."""
    piece: int = 0
    """Which of the texts it is in."""
    in_minimization: bool = False
    """Whether a minimisation lost them: ``step`` and ``after_row`` are then its last
    row's step, no MD step."""
    md_step: int | None = None
    """With :attr:`in_minimization` or :attr:`in_rerun`: the last MD row before it in the
    same piece (None: it came before the MD, as a relaxation does)."""
    in_rerun: bool = False
    """Whether a ``rerun`` of a dump lost them: ``step`` and ``after_row`` are then the
    MD's last row before it (:attr:`md_step`, where the MD got to), and
    :attr:`rerun_row` the step of the snapshot row the rerun printed last."""
    rerun_row: int | None = None

    @property
    def by_dump(self) -> bool:
        """Whether a DCD/XTC dump found the atoms gone (before a thermo output did)."""
        return _dump_found_it(self.message)

    @property
    def when(self) -> str:
        """The step as words: ``between step 600 and step 800``, ``at step 500, ...``."""
        if self.in_rerun:
            md = ("before any MD row" if self.md_step is None else
                  f"after the MD's row at step {self.md_step}")
            return (f"during a rerun of a dump {md} (after the rerun's row of the snapshot "
                    f"at step {self.rerun_row})")
        if self.in_minimization and self.md_step is not None:
            return (f"during a minimisation after the MD's row at step {self.md_step} "
                    f"(after the minimisation's row at step {self.after_row})")
        if self.in_minimization:
            return (f"during the minimisation before the MD (after its row at step "
                    f"{self.after_row})")
        if self.after_row is None:
            return f"at step {self.step}, at the setup of its run (before its first thermo row)"
        if self.step == self.after_row and self.halt_step is None:
            return (f"after step {self.after_row} (the output that found them is unknown: "
                    f"the log gives neither its thermo spacing nor its run's length)")
        return f"between step {self.after_row} and step {self.step}"


class _PieceReader:
    """State of one piece of a LAMMPS log while :func:`find_lost_atoms` reads it: the rows
    of its current MD ``run`` block and the settings echoed before them."""

    def __init__(self):
        self.blocks = ThermoBlocks()
        self.rows: list[int] = []            # the current block's row steps
        self.setup_step: int | None = None   # where a next run starts: the last row's
        # step (of any block: a rerun leaves the timestep at its last snapshot's), or an
        # echoed `reset_timestep N`'s N after it
        self.block_gaps: dict[int, list[int]] = {}   # between rows of one block, by block
        self.thermo_every: int | None = None
        self.thermo: str | None = None       # the argument of the last echoed `thermo`
        self.thermo_for_next = False         # that `thermo` came after the last `run`
        self.run: tuple[int, bool] | None = None   # echoed `run N [upto]`
        self.restart_file: str | None = None
        self.dump_every: int | None = None   # the last echoed `dump ID group dcd|xtc N`
        self.halt: int | None = None
        self.after_row = False               # a row came after the last header, and the
        # run did not end (mid-run; a warning or fix halt's message after it changes nothing)

    @property
    def gaps(self) -> list[int]:
        """Steps between the rows of each MD block (a minimisation's or a rerun's are no
        thermo spacing of the run)."""
        return [g for k, gaps in self.block_gaps.items() if k not in self.blocks.not_md
                for g in gaps]

    def line(self, line: str) -> None:
        """Reads one line of LAMMPS's output (its thermo output in any style)."""
        for one in self.blocks.one_line(line):
            self._one_line(one)

    def _one_line(self, line: str) -> None:
        words = line.split()
        header, step_before = self.blocks.blocks, self.blocks.step
        parts = self.blocks.one_line_row(line)
        if self.blocks.blocks != header:      # a new block's header: its setup
            self.rows, self.halt, self.after_row = [], None, False
        elif line.startswith("Loop time"):   # the run ended: what follows is no row's
            self.after_row = False
        if self.blocks.step != step_before or parts is not None:
            self.setup_step = self.blocks.step
        if parts is not None:
            self.after_row = True
            step = self.blocks.step
            if self.rows and step > self.rows[-1]:
                self.block_gaps.setdefault(self.blocks.blocks, []).append(step - self.rows[-1])
            self.rows.append(step)
        elif words[:1] == ["thermo"] and len(words) == 2:
            self.thermo, self.thermo_for_next = words[1], True
            self.thermo_every = int(words[1]) or None if words[1].isdigit() else None
        elif (run := run_command(words)) is not None:
            self.run = run
            self.thermo_for_next = False
        elif (every := _trajectory_every(words)) is not None:
            self.dump_every = every or None
        elif words[:1] == ["reset_timestep"] and len(words) > 1 and words[1].isdigit():
            self.setup_step = int(words[1])
        elif (restart := read_restart_file(words)) is not None:
            self.restart_file = restart
        halt = HALT_RE.search(line)
        if halt:
            self.halt = int(halt.group(2))

    def next_piece(self) -> "_PieceReader":
        """The reader of a piece that this one's text goes on with (at its ``read_restart``):
        the restart file and a ``thermo`` echoed for it (after this piece's last ``run``)
        are the next piece's; LAMMPS keeps the thermo setting across ``read_restart``."""
        piece = _PieceReader()
        piece.restart_file = self.restart_file       # echoed just before
        piece.dump_every = self.dump_every           # a dump defined before read_restart
        if self.thermo_for_next:
            piece.thermo, piece.thermo_every = self.thermo, self.thermo_every
        return piece

    def thermo_off(self) -> bool:
        """Whether the current run prints no thermo output between its first and last step
        (``thermo 0``, LAMMPS's setting where no ``thermo`` command is given): told where
        the input is echoed (its ``run`` command is) and no ``thermo N`` came before."""
        return self.run is not None and self.thermo in (None, "0")

    def spacing(self, others: list[int], default: int | None) -> int | None:
        """The thermo spacing: the piece's echoed ``thermo N``, else the rows LAMMPS
        printed (between two rows of a block, the spacing at most: the largest such gap),
        the current block's, the piece's, the other pieces' (``others``), else
        ``default``."""
        if self.thermo_every:
            return self.thermo_every
        block_gaps = [b - a for a, b in zip(self.rows, self.rows[1:])]
        for gaps in (block_gaps, self.gaps, others):
            if gaps:
                return max(gaps)
        return default

    def run_end(self) -> int | None:
        """The last step of the current ``run`` (echoed ``run N upto``, or N after its
        first row); None where not echoed."""
        if self.run is None or not self.rows:
            return None
        n, upto = self.run
        return n if upto else self.rows[0] + n


def _trajectory_every(words: list[str]) -> int | None:
    """N of a ``dump ID group dcd|xtc N ...`` command (the dumps that count atoms: a
    non-matching count is their error), else None."""
    dump = dump_command(words)
    if dump is None or dump.style not in ("dcd", "xtc") or not dump.every.isdigit():
        return None
    return int(dump.every)


def find_lost_atoms(texts, thermo_every: int | None = None, run_end: int | None = None,
                    dump_every: int | None = None,
                    last_frame: int | None = None) -> LostAtoms | None:
    """Where LAMMPS stopped for lost atoms in the logs ``texts`` (a run's pieces in run
    order; a piece resumed by hand may also follow in the same text, from its
    ``read_restart``): the first such error, or None.

    LAMMPS counts atoms when it computes a thermo output, before printing it: mid-run,
    the atoms went missing after the last row printed, and the output that found them is
    the next one LAMMPS was to print, at the next multiple of the thermo spacing
    (``thermo N``: at steps divisible by N; a resumed run's first row is at its restart's
    step), or the run's last step if sooner, or ``fix halt``'s step when it fired first;
    under ``thermo 0`` (a piece whose echoed input sets no ``thermo``: a resumed piece
    without its own, as LAMMPS keeps none across runs) at the run's last step only.
    The spacing is the one the rows printed (the echoed ``thermo N`` of the piece, else
    the steps between its rows, else between the other pieces' rows); ``thermo_every``
    where they say none (one row, no echo). ``run_end``: the run's last step where the
    logs do not echo it. At a run's setup (its header and no row printed), the step is
    the piece's last row before (a run following another; an echoed ``reset_timestep N``
    after it: N), else unknown here (None: the step of the piece's ``restart_file``, or
    its data file's). Where a DCD or XTC dump found them gone first (its error, not
    ``Lost atoms``), the step is the dump's after the last frame written (``last_frame``,
    the trajectory's: the log prints no line per frame; else after the last row), at the
    echoed ``dump ... dcd N``'s spacing, else ``dump_every``'s."""
    if isinstance(texts, str):
        texts = [texts]
    if not any(LOST_ATOMS_RE.search(text) for text in texts):
        return None                      # no need to read them line by line
    gaps: list[int] = []
    for k, text in enumerate(texts):
        piece = _PieceReader()
        for line in text.splitlines():
            if line.startswith(RESTART_READ):
                gaps += piece.gaps
                piece = piece.next_piece()
            if line.startswith("ERROR") and LOST_ATOMS_RE.match(line):
                piece.line(line)         # ends its block: a minimisation's, or MD's
                found = _lost_at(piece, line.strip(), gaps, thermo_every, run_end,
                                 dump_every, last_frame)
                return replace(found, piece=k)
            piece.line(line)
        gaps += piece.gaps
    return None


def _lost_at(piece: _PieceReader, message: str, gaps: list[int], thermo_every: int | None,
             run_end: int | None, dump_every: int | None = None,
             last_frame: int | None = None) -> LostAtoms:
    blocks = piece.blocks
    if blocks.error_block is not None and blocks.error_block in blocks.minimizations:
        return LostAtoms(message, blocks.step, blocks.step, piece.restart_file, None,
                         in_minimization=True, md_step=blocks.md_step)
    if blocks.error_block is not None and blocks.error_block in blocks.reruns:
        # a rerun's rows are the dump's snapshots, no MD step: the MD got to its last row
        return LostAtoms(message, blocks.md_step, blocks.md_step, piece.restart_file, None,
                         md_step=blocks.md_step, in_rerun=True, rerun_row=blocks.step)
    every = piece.spacing(gaps, thermo_every)
    by_dump = _dump_found_it(message) and bool(piece.dump_every or dump_every)
    if by_dump:                          # the next dump (at multiples of its N) found them
        every = piece.dump_every or dump_every
    if not piece.after_row:      # at a run's setup: at the step it started from
        # where the run before it in this piece ended (or reset_timestep put it); else
        # the restart's step, or read_data's (unknown here)
        step = piece.setup_step
        return LostAtoms(message, step, None, piece.restart_file, every)
    last = piece.rows[-1]
    if piece.halt is not None:
        return LostAtoms(message, piece.halt, last, piece.restart_file, every, piece.halt)
    if piece.thermo_off() and not by_dump:   # atoms counted at thermo output: the run's end
        return LostAtoms(message, piece.run_end(), last, piece.restart_file, None)
    ends = [e for e in (piece.run_end(), run_end) if e is not None and e > last]
    checked = last      # the last step the atoms were counted at: a row, or a dump's frame
    if by_dump and last_frame is not None:
        checked = max(last, last_frame)
    step = (checked // every + 1) * every if every else None
    if ends:
        step = min(ends) if step is None else min([step] + ends)
    return LostAtoms(message, last if step is None else step, last, piece.restart_file, every)
