"""A small exception tree so callers can catch ionmd's own failures in one place."""


class IonmdError(Exception):
    """Base class of every error ionmd raises on purpose."""


class ModelFileError(IonmdError):
    """A model file is missing, unreadable, or breaks the ionmd model-file contract."""


class ExportError(IonmdError):
    """A model cannot be exported (unknown checkpoint, bad option, unsupported model)."""


class AnalysisError(IonmdError):
    """A trajectory, log or run directory cannot be analysed as asked (bad file, too short, unknown species)."""


class IonmdNote(UserWarning):
    """A note on input ionmd accepted as it read it (sites within rounding of whole read as
    whole, charges taken from a CIF's type symbols, an empty trajectory piece left out): no
    problem, but what a user should know. The command line prints it as its other notes,
    ``ionmd: note: ...``, once; a Python caller gets a warning it can record or filter."""


class RunInterrupted(IonmdError):
    """ionmd was asked to stop (SIGINT, SIGTERM) while it ran LAMMPS: the signal was
    passed on to LAMMPS, which was waited for, and the run was recorded as ``interrupted``
    (resumable). ``signum`` is the signal; the command line exits with ``128 + signum``."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum


# ---- exit status of the command line (README "Running protocols", `ionmd run --help`) --
EXIT_OK = 0
"""Everything asked for completed (runs already completed count as completed)."""
EXIT_ERROR = 1
"""An error before or around the runs (bad input, missing file, refused settings)."""
EXIT_USAGE = 2
"""Command-line usage error (argparse)."""
EXIT_FAILED = 3
"""At least one run failed for good (a LAMMPS error such as a non-finite energy, lost
atoms, ``fix halt``); rerunning does not rerun it. ``ionmd screen``: any structure failed
(its row says why; every other result is written)."""
EXIT_INTERRUPTED = 4
"""No run failed, but at least one was interrupted (LAMMPS killed, disk full): rerun the
same command to resume it from its restart files."""
EXIT_SIGNAL_BASE = 128
"""ionmd itself was stopped by a signal N (Ctrl-C: SIGINT 2, SIGTERM 15): ``128 + N``, as a
shell reports a process killed by it; the run was recorded as interrupted (resumable)."""
