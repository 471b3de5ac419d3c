"""``ionmd`` command line: a thin layer over the Python API.

One module per verb, each with ``register(subparsers)``: :mod:`.export` (``export
sevennet|mace|esen``, ``inspect``, ``kernels``, ``plugin-path``), :mod:`.run` (``run``, ``status``),
:mod:`.analyze`, :mod:`.bench`, :mod:`.screen`, :mod:`.sweep`; :mod:`.options` holds the
range-checked argparse types and the structure options several verbs share. The work is
done in the library (``ionmd.export``, ``ionmd.protocols``, ``ionmd.screen``, ...); a
command parses its flags, calls it and prints.

Output folders: ``-o/--output`` of every verb that writes results has a default named in
its help as "(default: NAME)".
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import sys
import warnings

from ionmd.errors import IonmdError, IonmdNote


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ionmd", description="ML interatomic potentials in LAMMPS for solid-state electrolytes"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    from ionmd.cli import analyze, bench, export, run, screen, sweep

    export.register(sub)
    analyze.register(sub)
    bench.register(sub)
    screen.register(sub)
    run.register(sub)
    sweep.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (:mod:`ionmd.errors`): 0 done, 1 an error
    (message on stderr), 2 usage (argparse exits itself), 3 a run failed (``screen``: every
    input), 4 a run was interrupted (resumable), 128 + N stopped by signal N; 141 (128 +
    SIGPIPE, as ``yes | head`` leaves ``yes``) when the reader of its output went away,
    unless the command had ended with a status of its own (an error, a failed run) and only
    the output still buffered was lost: that status then."""
    from ionmd.errors import EXIT_OK, EXIT_SIGNAL_BASE

    code = None
    try:
        try:
            code = _run_command(argv)
        except SystemExit as exc:   # argparse's --help (0), a usage error (2): flushed too
            code = exc.code if isinstance(exc.code, int) else None
            sys.stdout.flush()
            raise
        sys.stdout.flush()          # here, not at exit, where a reader gone is a traceback
        return code
    except BrokenPipeError:         # `ionmd sweep status X | head`: quiet, as Unix tools
        if not _stdout_gone():
            raise                   # another pipe (a subprocess's): a real error
        if code not in (None, EXIT_OK):
            return code             # a failure (exit 1, 3, 4) is not hidden behind 141
        return EXIT_SIGNAL_BASE + signal.SIGPIPE


def _stdout_gone() -> bool:
    """Whether stdout is a pipe or socket nobody reads any more; it is then pointed at
    the null device, so that the interpreter's flush at exit finds a reader and says
    nothing (Python's documented recipe: docs.python.org, library/signal, "Note on
    SIGPIPE")."""
    try:
        fd = sys.stdout.fileno()
        poll = select.poll()
        poll.register(fd, select.POLLOUT)
        gone = any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poll.poll(0))
    except (AttributeError, OSError, ValueError):       # no real stdout (captured, closed)
        return False
    if gone:
        os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
    return gone


def _run_command(argv: list[str] | None) -> int:
    """The command ``argv`` names, run: :func:`main` without its care for a closed pipe."""
    from ionmd.errors import EXIT_ERROR, EXIT_OK, EXIT_SIGNAL_BASE, RunInterrupted

    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():     # showwarning restored on leaving
            warnings.showwarning = _notes_printed(warnings.showwarning)
            code = args.func(args)
    except RunInterrupted as exc:
        print(f"ionmd: {exc}", file=sys.stderr)
        return EXIT_SIGNAL_BASE + exc.signum
    except IonmdError as exc:
        print(f"ionmd: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:       # Ctrl-C outside a run (reading inputs, planning)
        print("ionmd: interrupted", file=sys.stderr)
        return EXIT_SIGNAL_BASE + 2
    return EXIT_OK if code is None else int(code)


def _notes_printed(show_warning):
    """A ``warnings.showwarning`` printing ionmd's notes (:class:`~ionmd.errors.IonmdNote`)
    as its other notes are printed, ``ionmd: note: ...``, without Python's file and line,
    each text once; other warnings through ``show_warning``, as before. Once by its own
    record: Python's once-per-place rule is reset by every change of the warning filters
    (each structure file read sets some), so a campaign read twice in one command
    (``sweep status``: its table, then its goal) noted each file twice."""
    printed: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if not issubclass(category, IonmdNote):
            show_warning(message, category, filename, lineno, file, line)
        elif str(message) not in printed:
            printed.add(str(message))
            _print_beside_bars(f"ionmd: note: {message}")
    return show


def _print_beside_bars(line: str) -> None:
    """``line`` on stderr on a line of its own, through tqdm where it is loaded (it may draw
    a bar there now: ``ionmd screen`` reads each file under its bar), which clears the bar
    first and draws it again after, as the commands' own notes are written."""
    tqdm = sys.modules.get("tqdm")
    if tqdm is not None:
        tqdm.tqdm.write(line, file=sys.stderr)
    else:
        print(line, file=sys.stderr)
