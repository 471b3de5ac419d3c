"""A small exception tree so callers can catch ionmd's own failures in one place."""


class IonmdError(Exception):
    """Base class of every error ionmd raises on purpose."""


class ModelFileError(IonmdError):
    """A model file is missing, unreadable, or breaks the ionmd model-file contract."""


class ExportError(IonmdError):
    """A model cannot be exported (unknown checkpoint, bad option, unsupported model)."""


class AnalysisError(IonmdError):
    """A trajectory, log or run directory cannot be analysed as asked (bad file, too short, unknown species)."""
