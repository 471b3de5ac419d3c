"""LAMMPS thermo output of ``thermo_style yaml`` and ``thermo_style multi`` (or any style
under ``thermo_modify line yaml|multi``) turned into the one-line layout of ``custom`` and
``one``: a header line of column names, then one line of values per step, which
:class:`ionmd.lammps.thermo_log.ThermoBlocks` reads. Every other line passes through unchanged.

``yaml`` (LAMMPS's Howto_structured_data) prints, per run::

    ---
    keywords: ['Step', 'Temp', ...]
    data:
      - [0, 1300, ...]
    ...

``multi`` prints, per output, a separator line with the step and the CPU seconds, then
``Key = value`` pairs, three to a line, with no header::

    ------------ Step            100 ----- CPU =    0.4661358 (sec) -------------
    TotEng   =      -535.4513 KinEng   =        37.7469 Temp     =      1553.3117
    ...

A multi record's end is a line of fewer than three pairs, or, once a record of the block
was complete, its number of pairs, else the next line that holds no pairs (the next
record's separator, a loop line, a warning): the first record of a run whose columns fill
their lines (the 12 of ``multi`` at constant volume) is handed on one line late
(:meth:`OneLineThermo.close` at the end of the output)."""

from __future__ import annotations

import re

COLUMN_NAME = re.compile(r"[A-Za-z_][\w\[\]/:.-]*")
"""A thermo column name as a one-line header is read (``c_msd[4]``, ``v_T``)."""
_YAML_KEYWORDS = re.compile(r"^keywords:\s*\[(.*)\]\s*$")
_YAML_NAME = re.compile(r"'([^']*)'")
_YAML_ROW = re.compile(r"^\s+- \[(.*)\]\s*$")
MULTI_SEPARATOR = re.compile(r"^-+ Step\s+(-?\d+) -+ CPU =\s*(\S+) \(sec\) -+\s*$")
MULTI_PER_LINE = 3
"""Pairs on each line of a multi record but its last, which may hold fewer."""
_PAIR = r"(\S[^=]*?)( +)= *(\S+)"
"""A multi pair: a key (``thermo_modify colname`` may give it spaces), `` = ``, a value."""
_MULTI_LINE = re.compile(rf"^(?:{_PAIR} )*{_PAIR}\s*$")
_MULTI_PAIR = re.compile(_PAIR)
MULTI_KEY_WIDTH = 8
"""LAMMPS writes each multi pair as ``%-8s = value`` (every version): the key padded to
8 characters, then `` = ``."""


def multi_pairs(line: str) -> list[tuple[str, str]] | None:
    """The ``(key, value)`` pairs of a multi record's line, None where ``line`` is not one:
    a user's ``print``/``fix print`` line such as ``msd = 0.52`` is not padded as LAMMPS
    pads a multi key, and must not become a column of the record it follows. A key with
    a space (``thermo_modify colname press "My Press"``) is read as one, to be refused by
    name (:data:`COLUMN_NAME`), not cut off with the columns after it; where it opens a
    line of one pair, only padded to 8 exactly (``Li msd = 0.5`` is a print line)."""
    if not _MULTI_LINE.match(line):
        return None
    pairs = _MULTI_PAIR.findall(line)
    if any(len(key) + len(gap) != max(MULTI_KEY_WIDTH, len(key)) + 1
           for key, gap, _ in pairs):
        return None
    first = pairs[0][0]
    if len(pairs) == 1 and " " in first and len(first) > MULTI_KEY_WIDTH:
        return None
    return [(key, value) for key, _, value in pairs]


def _ends_block(line: str) -> bool:
    """A loop line or an error: no thermo row of the block follows."""
    return line.startswith(("Loop time", "ERROR"))


class OneLineThermo:
    """Turns a LAMMPS output's yaml and multi thermo lines, fed one by one
    (:meth:`lines`), into header and row lines of the one-line layout.

    ``unreadable``: a description of each yaml or multi header whose column names cannot
    make a one-line header (a name with a space or a parenthesis, from ``thermo_modify
    colname``; :data:`COLUMN_NAME`): the rows under it are left out."""

    def __init__(self):
        self.unreadable: list[str] = []
        self._after_dashes = False                 # the line before was yaml's '---'
        self._yaml_rows = False                    # inside a yaml block's data
        self._separator: tuple[str, str] | None = None   # (step, CPU) of the open record
        self._pairs: list[tuple[str, str]] = []    # ... and its pairs read so far
        self._record_size: int | None = None       # pairs in a multi record of this block
        self._multi_header: list[str] | None = None   # the header handed on for this block

    def lines(self, line: str) -> list[str]:
        """The one-line-layout lines that ``line`` makes: none (a yaml marker, a multi
        line whose record is not complete yet), ``[line]`` (no thermo line of these
        styles), or a multi record's header and row before ``line``."""
        after_dashes, self._after_dashes = self._after_dashes, line.rstrip() == "---"
        if self._separator is not None:
            pairs = multi_pairs(line)
            if pairs is not None:
                self._pairs += pairs
                last = len(pairs) < MULTI_PER_LINE or len(self._pairs) == self._record_size
                return self._record_done() if last else []
            return self._record_done(line) + self.lines(line)
        separator = MULTI_SEPARATOR.match(line)
        if separator:
            self._separator, self._pairs = (separator[1], separator[2]), []
            return []
        if self._after_dashes:
            return []
        if after_dashes and _YAML_KEYWORDS.match(line):
            return self._yaml_header(line)
        if self._yaml_rows:
            row = _YAML_ROW.match(line)
            if row:
                return [" ".join(v.strip() for v in row[1].split(",") if v.strip())]
            if line.strip() == "data:":
                return []
            if line.rstrip() == "...":
                self._yaml_rows = False
                return []
        if _ends_block(line):
            self._yaml_rows, self._record_size, self._multi_header = False, None, None
        return [line]

    def close(self) -> list[str]:
        """The end of the output: the header and row of a multi record still open (one
        cut off before its pairs, by a killed LAMMPS, is left out)."""
        if self._separator is None or not self._pairs:
            return []
        return self._record_done()

    def _note(self, what: str) -> None:
        if what not in self.unreadable:
            self.unreadable.append(what)

    def _yaml_header(self, line: str) -> list[str]:
        names = _YAML_NAME.findall(line)
        if not names or not all(COLUMN_NAME.fullmatch(name) for name in names):
            self._note(f"thermo_style yaml header {line.strip()!r}")
            return []
        self._yaml_rows = True
        return [" ".join(names)]

    def _record_done(self, next_line: str = "") -> list[str]:
        """The header (at the block's first record) and the row of the multi record just
        read. LAMMPS puts the step and the CPU seconds in the separator; a custom style
        under ``thermo_modify line multi`` that has ``step`` or ``cpu`` prints them among
        the pairs too: one column each."""
        (step, cpu), pairs = self._separator, self._pairs
        self._separator, self._pairs = None, []
        if not pairs:
            self._note(f"thermo_style multi record at step {step}, followed by "
                       f"{next_line.strip()!r} instead of 'Key = value' pairs")
            return []
        self._record_size = len(pairs)
        record = {"Step": step, "CPU": cpu}
        record.update(pairs)
        names = list(record)
        if not all(COLUMN_NAME.fullmatch(name) for name in names):
            self._note(f"thermo_style multi record with columns {names}")
            return []
        out = []
        if names != self._multi_header:
            self._multi_header = names
            out.append(" ".join(names))
        return out + [" ".join(record.values())]
