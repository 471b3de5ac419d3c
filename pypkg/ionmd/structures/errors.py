"""The error raised for structures ionmd cannot read, repeat or order."""

from ionmd.errors import IonmdError


class StructureError(IonmdError):
    """A structure cannot be read, has no atoms, or cannot be made into the cell asked for."""
