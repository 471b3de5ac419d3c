"""Write a run directory's LAMMPS input, run ``lmp`` (or ``mpirun -np N lmp``) as a
subprocess, or the ``lammps`` Python module in this process (``runner="module"``, see
:mod:`ionmd.lammps.module_runner`), with a progress bar, and record the outcome in
``status.json``.

A run that was cut short (killed, walltime, a full disk, ionmd stopped by SIGINT or
SIGTERM, the template's own ``timer timeout``) is recorded as ``interrupted``, its
``reason`` saying what stopped it; it resumes from its newest complete restart file and
runs only the remaining steps (``run N upto``). A piece that reached its end wrote its final
state to ``restart.end`` where that end is a frame (the preset templates,
:data:`END_RESTART`), so a run extended later (:meth:`RunDir.set_length`) goes on from there
bit for bit, whether or not its end was a multiple of ``restart_every``. A run stopped by ``fix halt`` or by lost
atoms is a physical failure, one stopped by another LAMMPS error (an unknown command, a
missing file) a failure too: both are recorded as ``failed`` and not resumed. A model
that returns a non-finite energy or force (``pair_style ionmd`` stops at that step) is a
physical failure like lost atoms (``failed_step``, ``failure_mode`` ``nan_model``).

SIGINT and SIGTERM that reach ionmd (in the main thread) while LAMMPS runs are passed on to
LAMMPS's process group; ionmd waits for it to end, records the run as ``interrupted`` at
its last step and raises :class:`ionmd.errors.RunInterrupted`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from ionmd.analysis.run_files import SETTINGS, STATUS
from ionmd.errors import IonmdError, RunInterrupted
from ionmd.lammps.module_runner import ModuleRun, check_module_runner
from ionmd.lammps.process import find_lammps, process_alive, process_group_alive
from ionmd.lammps.thermo_log import thermo_steps
from ionmd.protocols.launch_inputs import RunInputChanged, changed_inputs
from ionmd.protocols.md_input import render_md
from ionmd.protocols.outcome import LAMMPS_LOCK, finish
from ionmd.protocols.restarts import END_RESTART, PART_END_RESTART, newest_restart
from ionmd.protocols.rundir import NO_SPACE, RunDir
from ionmd.protocols.run_json_edits import check_run_json_edits
from ionmd.protocols.run_lock import lock_holder
from ionmd.protocols.stopping import first_check_retarget


PROGRESS_FIRST_S, PROGRESS_SOON_S, PROGRESS_EVERY_S = 2.0, 20.0, 60.0
"""Time between two progress notes of a running run in ``status.json`` (its ``step``
where it changed, and its piece's last progress time): every ``PROGRESS_FIRST_S`` for
the first ``PROGRESS_SOON_S`` of a piece, to show soon that it started and runs (and
what ``ionmd run`` and tests that stop a short run wait for), then every
``PROGRESS_EVERY_S``: ten notes in the first 20 s, then one a minute.

Each note rewrites ``status.json`` whole (a temporary file, fsync, rename): a few
metadata operations, which on a parallel file system (Lustre, GPFS) go to its metadata
server. Every 2 s throughout (as before), a campaign of 500 running runs made 250 such
rewrites a second, all the time; now 8 a second once its pieces are past their first
20 s (250 a second for 20 s where 500 pieces start at once). What it costs: the
``step`` that ``ionmd sweep status`` shows for a running run lags LAMMPS by up to a
minute, and a runner killed with its LAMMPS leaves a note up to a minute old: the
piece's end is then read from the latest of the note and the mtimes of the files LAMMPS
writes (its trajectory every ``dump_every`` steps), not from the note alone
(:func:`ionmd.protocols.piece_times.piece_end_evidence`)."""
STOP_WAIT_S = 60.0
"""How long LAMMPS may take to end after a forwarded signal before it is killed."""
RUNNERS = ("subprocess", "module")


def launch(rd: RunDir, nprocs: int = 1, env: dict | None = None,
           launcher: list[str] | None = None,
           runner: str = "subprocess") -> subprocess.Popen | ModuleRun:
    """Write the next piece's input and start LAMMPS on it (fresh, or from the newer restart
    file when earlier pieces exist); status becomes ``running``.

    Parameters
    ----------
    rd : RunDir
        The run directory (its path is made absolute).
    nprocs : int
        MPI ranks (``mpirun -np N lmp``; subprocess runner only).
    env : dict, optional
        Extra environment variables for LAMMPS.
    launcher : list of str, optional
        Replaces the command that starts LAMMPS (default :func:`find_lammps`, i.e. ``lmp``
        or ``mpirun -np N lmp``; a batch system passes e.g. ``srun -n N lmp``; subprocess
        runner only).
    runner : {"subprocess", "module"}
        ``lmp`` as a subprocess (what clusters do), or the ``lammps`` Python module in
        this process (:mod:`ionmd.lammps.module_runner`).

    Raises
    ------
    IonmdError
        If the run is completed, the runner is unknown or unavailable (no ``lmp``, no
        ``lammps`` module), or ``nprocs > 1`` or a ``launcher`` with the module runner;
        :class:`~ionmd.protocols.launch_inputs.RunInputChanged` if its model file or input
        template is not the one it recorded (:func:`check_inputs_unchanged`).
    """
    status = rd.status
    if status.get("state") == "completed":
        raise IonmdError(f"{rd.path} is already completed")
    check_run_json_edits(rd)         # an edit the analysis would refuse: before anything
    check_inputs_unchanged(rd)       # its model and template the recorded ones: before anything
    if runner not in RUNNERS:
        raise IonmdError(f"unknown runner {runner!r}; choose one of {', '.join(RUNNERS)}")
    if runner == "module":
        if nprocs > 1 or launcher:
            raise IonmdError(f"the module runner runs LAMMPS in this Python process on one rank; "
                             f"for --np {nprocs} or a launcher use --runner subprocess "
                             f"(mpirun -np N lmp)")
        check_module_runner()
    else:
        cmd = list(launcher) if launcher else find_lammps(nprocs)
    rd.path = rd.path.resolve()        # an in-process run changes the working directory
    k = int(status.get("pieces", 0))
    restart = newest_restart(rd) if k > 0 else None
    if k > 0 and restart is None:    # killed before the first restart: start over
        # the compute its pieces used still counts toward a budget: recorded before
        # their logs go
        rd.write_json(STATUS, {**rd.status, **rd.discarded_usage(k)})
        for j in range(k):
            for f in rd.piece(j).values():
                f.unlink(missing_ok=True)
        k = 0
    if k == 0:
        # a fresh start: a restart.end here is a former life's (the failed state fix halt
        # left, kept by a retry's RunDir.reset): resumed from, it would carry on that run
        for name in (END_RESTART, PART_END_RESTART):
            (rd.path / name).unlink(missing_ok=True)
    retarget = first_check_retarget(rd)  # a rule run's first check past an edited discard
    if retarget:
        rd.write_json(STATUS, {**rd.status, **retarget})
    rd.reserve_space()               # OSError (ENOSPC) when the disk is full: nothing started
    proc = None
    try:
        piece = rd.piece(k)
        piece["input"].write_text(render_md(rd, k, restart))
        if runner == "module":
            piece["screen"].write_text("")
            proc = ModuleRun(rd.path, piece["input"].name, piece["log"].name, piece["screen"],
                             env=env)
        else:
            run_env = dict(os.environ)
            run_env.setdefault("OMP_NUM_THREADS", "1")
            run_env.update(env or {})
            # own process group: the pip wheel's `lmp` is a wrapper around the real binary,
            # and mpirun has children; kill_run and forwarded signals reach them all.
            # output goes to a file, not a pipe: a launched run must never block on a full pipe
            with open(piece["screen"], "w") as screen:
                proc = subprocess.Popen(cmd + ["-in", piece["input"].name, "-log",
                                               piece["log"].name],
                                        cwd=rd.path, env=run_env, stdout=screen,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        rd.set_status("running", pieces=k + 1, pid=proc.pid, runner=runner,
                      host=socket.gethostname(), **({} if restart else {"step": 0}),
                      resumed_from=restart.name if restart else None,
                      **rd.note_piece_started(k))
        rd.write_run_json(k + 1, held_charges=True)
    except BaseException:
        if proc is not None:         # started, but its state could not be recorded: stop it
            _stop(proc, signal.SIGKILL)
        rd.release_reserve()
        raise
    return proc


def check_inputs_unchanged(rd: RunDir) -> None:
    """Refuse to start a piece of ``rd`` with a model file or custom input template other
    than those its ``settings.json`` records (:mod:`ionmd.protocols.launch_inputs`): a file
    replaced while the run was queued, or before its SLURM task was requeued. The refusal
    is recorded in its status (``interrupted``, resumable: its pieces are kept, and it
    goes on once the file is restored), where ``sweep status`` and ``ionmd run status``
    show it.

    Raises
    ------
    RunInputChanged
        Saying which file changed, how, and how to go on.
    """
    template = Path(rd.protocol.template) if rd.protocol.template else None
    why = changed_inputs(rd.path, rd.read_json(SETTINGS), rd.model, template)
    if why:
        rd.set_status("interrupted", resumable=True, reason=why, pid=None)
        raise RunInputChanged(why)


class StopRequests:
    """SIGINT and SIGTERM caught while runs go on (a context manager; only in the main
    thread, where Python delivers signals: elsewhere it catches nothing). ``signum`` is
    the first signal caught, ``count`` how many arrived."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.signum: int | None = None
        self.count = 0
        self._old: dict = {}
        self._depth = 0             # entered again by each run of a shared instance

    def __enter__(self) -> "StopRequests":
        if self._depth == 0 and threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._old[sig] = signal.signal(sig, self._caught)
        self._depth += 1
        return self

    def __exit__(self, *exc) -> None:
        self._depth -= 1
        if self._depth == 0:
            for sig, handler in self._old.items():
                signal.signal(sig, handler)
            self._old = {}

    def _caught(self, signum, frame) -> None:
        self.count += 1
        if self.signum is None:
            self.signum = signum

    def raise_if_stopped(self, rd: RunDir, status: dict | None = None) -> None:
        """Raise :class:`ionmd.errors.RunInterrupted` if a signal was caught; ``status``:
        the outcome of the run it stopped (None: it came before ``rd`` started)."""
        if self.signum is None:
            return
        name = signal.Signals(self.signum).name
        if status is None:
            what = "not started; run the same command again to run it and the rest"
        else:
            what = (f"recorded as {status.get('state')} at step {status.get('step', 0)}"
                    if not status.get("stopped_by") else
                    f"recorded as {status.get('state')}: {status.get('reason')}")
            # a signal's reason says already how to go on (resume from which restart)
            if status.get("state") not in ("completed", "failed") \
                    and not status.get("stopped_by"):
                what += "; run the same command again to resume it"
        raise RunInterrupted(f"stopped by {name}: {rd.path}: {what}", self.signum)


def _stop(proc, sig: int) -> None:
    """Pass a signal to a launched run: its process group, or (module runner) ask the
    in-process LAMMPS to end its run at the next step."""
    if isinstance(proc, ModuleRun):
        proc.stop()
        return
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def wait_run(rd: RunDir, proc: subprocess.Popen, progress: bool = False,
             stop: StopRequests | None = None) -> dict:
    """Follow a launched run's output (with a tqdm bar when ``progress``; its ``step`` and
    the piece's progress time in ``status.json`` now and then, :data:`PROGRESS_EVERY_S`;
    the time again when it ended), then record how it ended;
    returns the status.

    A signal caught by ``stop`` is passed on to LAMMPS (SIGKILL after
    :data:`STOP_WAIT_S`, or at once on a second signal), which is waited for; the run is
    then recorded as ``interrupted`` and :class:`ionmd.errors.RunInterrupted` raised.
    """
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=rd.planned_steps, desc=str(rd.path), unit="step", leave=False)
    screen = rd.piece(int(rd.status["pieces"]) - 1)["screen"]
    blocks, partial, step, noted, last_note = None, "", None, None, time.monotonic()
    soon_until = last_note + PROGRESS_SOON_S
    forwarded_at, killed = None, False
    with open(screen) as fh:
        while True:
            rc = proc.poll()
            text = partial + fh.read()
            lines = text.split("\n")
            partial = lines.pop()            # a line LAMMPS has not finished writing
            _, blocks = thermo_steps(lines, blocks)
            if blocks.md_step is not None and blocks.md_step != step:
                step = blocks.md_step            # back, where a rerun's rows were taken back
                if bar is not None:
                    bar.n = step
                    bar.refresh()
            if rc is not None:
                break
            if stop is not None and stop.signum is not None:
                if forwarded_at is None:
                    _stop(proc, stop.signum)
                    forwarded_at = time.monotonic()
                elif not killed and (stop.count > 1
                                     or time.monotonic() - forwarded_at > STOP_WAIT_S):
                    if isinstance(proc, ModuleRun):   # cannot be killed: leave it to exit
                        break
                    _stop(proc, signal.SIGKILL)
                    killed = True
            elif time.monotonic() - last_note >= (PROGRESS_FIRST_S if last_note < soon_until
                                                  else PROGRESS_EVERY_S):
                # the step where it changed, and the piece's time in any case: a killed
                # runner leaves the piece's wall time known to this note at least
                rd.note_progress(**({} if step is None or step == noted else {"step": step}))
                noted, last_note = step, time.monotonic()
            time.sleep(0.05)
    rd.note_progress(ended=True)    # the piece's end (its wall time, kept by a copied folder)
    if bar is not None:
        bar.close()
    if not isinstance(proc, ModuleRun):
        _reap_group(proc.pid)
    status = finish(rd, rc, stopped_by=stop.signum if stop is not None and forwarded_at is not
                    None else None)
    if stop is not None:
        stop.raise_if_stopped(rd, status)
    return status


def _reap_group(pgid: int, grace_s: float = 1.0) -> None:
    """After the launched process ended, make sure nothing of its process group still
    runs (the real ``lmp`` binary when only the pip wheel's wrapper was killed, MPI ranks
    of a killed ``mpirun``): the run must not go on writing while it is recorded, or be
    resumed twice."""
    deadline = time.monotonic() + grace_s
    while process_group_alive(pgid) and time.monotonic() < deadline:     # they may be ending by themselves
        time.sleep(0.05)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not process_group_alive(pgid):
            return
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + grace_s
        while process_group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)


def _no_space(rd: RunDir, exc: OSError) -> dict:
    """Status of a run that could not be started or recorded for a full disk: recorded
    as ``interrupted`` when the disk allows, else the status file is left as it was (a
    pending, interrupted or, with a dead pid, running run: each resumes)."""
    reason = (f"disk full ({exc.strerror or exc}): {rd.path}; free some space, then run "
              f"again to resume")
    try:
        return rd.set_status("interrupted", resumable=True, reason=reason, pid=None)
    except OSError:
        return {**rd.status, "state": "interrupted", "resumable": True, "reason": reason,
                "recorded": False}


def execute(rd: RunDir, nprocs: int = 1, progress: bool = False, env: dict | None = None,
            launcher: list[str] | None = None, runner: str = "subprocess",
            stop: StopRequests | None = None) -> dict:
    """Run (or resume) a run directory to its end; returns the final status. Completed
    runs and failures are left as they are; ``interrupted`` ones (and ``running`` ones
    whose LAMMPS is gone) resume. ``launcher``, ``runner``: see :func:`launch`.

    SIGINT/SIGTERM (main thread) stop LAMMPS and raise :class:`ionmd.errors.RunInterrupted`
    after the run was recorded as ``interrupted``; ``stop`` shares one
    :class:`StopRequests` across several runs (default: one for this run). A full disk
    gives an ``interrupted`` status, not an exception.

    A run with a stopping rule goes on piece after piece, checked after each
    (:mod:`ionmd.protocols.stopping`), until it converged, reached its maximum or failed."""
    with (stop or StopRequests()) as stop:
        while True:
            status = _execute_piece(rd, nprocs, progress, env, launcher, runner, stop)
            if not (rd.protocol.until and status.get("state") == "pending"):
                return status


def _execute_piece(rd: RunDir, nprocs: int, progress: bool, env: dict | None,
                   launcher: list[str] | None, runner: str, stop: StopRequests) -> dict:
    """One piece of :func:`execute`: resume or start LAMMPS up to the current target."""
    status = rd.status
    if finished(status):
        return status
    if status.get("state") == "running" and running_here(status):
        raise IonmdError(f"{rd.path} is running (pid {status['pid']}); wait for it to end")
    holder = lock_holder(rd.path / LAMMPS_LOCK)
    if holder is not None:
        # a LAMMPS of `ionmd sweep` (any host) runs it: recorded now, its trajectory would
        # be cut while it appends, and a second LAMMPS would start on the same files
        who = f"by {holder}" if holder else "by a LAMMPS that did not name itself"
        raise IonmdError(f"{rd.path} is running: {rd.path / LAMMPS_LOCK} is held {who} "
                         f"(status.json last recorded pid {status.get('pid')} on "
                         f"{status.get('host')}); wait for it to end (`ionmd sweep status` "
                         f"shows it), then run again")
    try:
        if status.get("state") == "running":   # its runner was killed: record what is there
            status = finish(rd, rc=None)
            if status["state"] == "completed" or not status.get("resumable", True):
                return status
        stop.raise_if_stopped(rd, status if status.get("pieces") else None)
        proc = launch(rd, nprocs, env, launcher, runner)
    except OSError as exc:
        if exc.errno not in NO_SPACE:
            raise
        return _no_space(rd, exc)
    try:
        return wait_run(rd, proc, progress, stop)
    except OSError as exc:      # the outcome could not be written, even with the reserve
        if exc.errno not in NO_SPACE:
            raise
        return _no_space(rd, exc)


def finished(status: dict) -> bool:
    """Whether a run is over for :func:`execute`: completed, or failed for good."""
    return status.get("state") == "completed" or (status.get("state") == "failed"
                                                  and not status.get("resumable", True))


def running_here(status: dict) -> bool:
    """Whether the process that runs a ``running`` directory is alive on this host: the
    subprocess runner's process group, or the Python process of an in-process (module)
    run (a status written on another host cannot be checked here: False)."""
    host = status.get("host")
    if host is not None and host != socket.gethostname():
        return False
    pid = status.get("pid")
    if status.get("runner") != "module":
        return process_group_alive(pid)
    if not pid or int(pid) == os.getpid():   # this process: its run is no longer going on
        return False
    return process_alive(pid)
