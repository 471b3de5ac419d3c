"""Recording how a run piece ended (:func:`finish`): ``completed``, ``failed`` (lost
atoms, ``fix halt``, a non-finite model, another LAMMPS error, thermo output ionmd cannot
read) or ``interrupted`` and resumable (a full disk, a restart file not written, the
template's ``timer timeout``, a forwarded signal, a kill), with the reason in words."""

from __future__ import annotations

import re
import signal
import time

import numpy as np

from ionmd.analysis.failure import NAN_MODEL_RE
from ionmd.analysis.run_files import RUN_JSON, STATUS
from ionmd.file_locks import held_elsewhere
from ionmd.lammps.log import (HALT_RE, NO_SPACE_RE, error_lines, timer_in_minimization,
                              timer_timeout)
from ionmd.lammps.lost_atoms import find_lost_atoms
from ionmd.lammps.process import exit_status_words
from ionmd.lammps.restart import restart_step
from ionmd.lammps.thermo_log import ThermoTable, parse_thermo, parse_thermo_pieces, printed_column
from ionmd.protocols.md_input import RELAX_DIVERGED_RE, RELAX_RE, template_path
from ionmd.protocols.restarts import (RESTART_IO_ERROR_RE, RESTART_OPEN_ERROR_RE,
                                      last_frame_step, newest_restart, own_restart_file,
                                      repair_pieces, restart_open_reason, restart_write_reason,
                                      rowless_resume_step, settle_end_restart, trajectory_gap)
from ionmd.protocols.piece_times import PIECE_TIMES, piece_end_evidence
from ionmd.protocols.rundir import RunDir, read_run_record
from ionmd.protocols.stopping import after_segment

LAMMPS_LOCK = ".lmp.lock"
"""Held by a run's LAMMPS process for as long as it runs, where ``ionmd sweep`` started it
(:mod:`ionmd.sweep.lockrun`; inside the job step with ``srun``)."""
LAUNCHER_ERROR_RE = re.compile(r"^(?:srun|slurmstepd|mpirun|prterun|mpiexec)[^:\n]*: "
                               r"(?:error|Error|ERROR)\b.*$", re.M)
"""A launcher's own error line in a piece's screen output (``srun: error: Node failure
on vm``): the one account of an end that LAMMPS did not log."""
OTHER_RANK_ERROR_RE = re.compile(r"ERROR on proc [1-9]\d*: ")
"""LAMMPS's Error::one on an MPI rank other than 0, which writes to that rank's stdout (the
piece's screen output) only, not to the log: a LAMMPS that started and failed there (an
``ERROR:`` in the screen output alone is rank 0's, of a LAMMPS that did not start)."""


def finish(rd: RunDir, rc: int | None, stopped_by: int | None = None) -> dict:
    """Record the outcome of the last piece (``rc``: LAMMPS's exit status; None when it is
    unknown because the runner died: then the log alone says whether the run ended;
    ``stopped_by``: the signal ionmd passed on to LAMMPS, if it did).

    A full disk (``No space left on device`` / ``Disk quota exceeded`` from LAMMPS), the
    template's own ``timer timeout`` (``stopped_by`` ``"timer timeout"``), a forwarded
    signal and an end without a LAMMPS error are interruptions (``interrupted``,
    resumable); other LAMMPS errors, lost atoms and ``fix halt`` are failures.

    A launcher that ended while the run's LAMMPS still holds :data:`LAMMPS_LOCK` (``srun``
    after a lost ``slurmd``: "Node failure", exit status 0, its step's LAMMPS writing on
    under ``slurmstepd``: audit A17) leaves the run ``running``, nothing repaired or
    recorded (:func:`_still_running`): recorded then, the end of its trajectory would be
    cut while LAMMPS appends to it. Whoever finds its lock free records it (``ionmd sweep
    submit``; ``sweep status`` shows it ``running`` until then)."""
    try:
        if rc is not None and held_elsewhere(rd.path / LAMMPS_LOCK):
            return _still_running(rd, rc)
        return _finish(rd, rc, stopped_by)
    finally:
        rd.release_reserve()


def _still_running(rd: RunDir, rc: int) -> dict:
    """The status of a run whose launcher ended (exit status ``rc``) while its LAMMPS runs
    on (holding :data:`LAMMPS_LOCK`): ``running``, its last piece not ended (its wall time
    is read from what it leaves once it is recorded), and in ``reason`` what happened."""
    status = rd.status
    times = list(status.get(PIECE_TIMES) or [])
    if times and times[-1]:
        times[-1] = {k: v for k, v in times[-1].items() if k not in ("ended", "end_from")}
    said = _launcher_errors(rd, int(status.get("pieces", 0)))
    status.update({PIECE_TIMES: times} if times else {}, state="running", reason=(
        f"its launcher ended ({exit_status_words(rc)}"
        + (f"; it said \"{said[-1]}\"" if said else "")
        + f") while its LAMMPS runs on (it holds {rd.path / LAMMPS_LOCK}): how the run ends "
          f"is recorded once that LAMMPS has ended (`ionmd sweep submit` records it)"))
    rd.write_json(STATUS, status)
    return status


def _launcher_errors(rd: RunDir, n: int) -> list[str]:
    """The launcher's error lines (:data:`LAUNCHER_ERROR_RE`) in the screen output of the
    last of the ``n`` pieces."""
    screen = rd.piece(n - 1)["screen"] if n else None
    if screen is None or not screen.is_file():
        return []
    return [m.group(0).strip() for m in LAUNCHER_ERROR_RE.finditer(
        screen.read_text(errors="replace"))]


def _piece_end(status: dict, rc: int | None, rd: RunDir) -> dict:
    """The last piece's :data:`~ionmd.protocols.piece_times.PIECE_TIMES` with its end: now
    where its runner saw LAMMPS end (``rc`` given), else (the runner died) the latest of
    what it left (:func:`~ionmd.protocols.piece_times.piece_end_evidence`), read before the
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


def _finish(rd: RunDir, rc: int | None, stopped_by: int | None) -> dict:

    status = rd.status
    n = int(status.get("pieces", 0))
    logs = [rd.piece(k)["log"] for k in range(n)]
    ended_at = _piece_end(status, rc, rd)        # before any file is written again
    cut_end = settle_end_restart(rd)
    resumed_at = rowless_resume_step(rd, status, logs)
    kept = repair_pieces(rd, n, resumed_at)
    gap = trajectory_gap(rd, kept)
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
    rd.write_json(RUN_JSON, {**read_run_record(rd.path / RUN_JSON),
                             "trajectory": [rd.piece(k)["trajectory"].name for k in kept],
                             "logs": [rd.piece(k)["log"].name for k in range(n)]})
    common = dict(step=step, temperature_now_K=temp, pid=None, returncode=rc, **ended_at,
                  restart_end_cut=cut_end)
    relaxed = RELAX_RE.search(logs[0].read_text(errors="replace")) if (
        n and logs[0].is_file()) else None
    if relaxed and relaxed.group(1) == "NOT converged":    # said in the log alone before
        common["relaxation"] = relaxation_verdict(relaxed.group(0))
    diverged = RELAX_DIVERGED_RE.search(last_text)
    if diverged:
        return rd.set_status("failed", resumable=False, reason=(
            f"the cell relaxation before the MD found no minimum: {diverged.group(1)}; the "
            f"model holds this cell at no volume near the input's (a model that does not "
            f"know the structure, or a pressure beyond its strength): no MD was run"),
            **common)
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
                           dump_every=p.dump_every, last_frame=last_frame_step(rd, kept))
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
    # the screen output also holds what ranks other than 0 said before they stopped the
    # run: Error::one there writes to that rank's stdout only (a plugin before 87979d8, or
    # an error that cannot stop every rank at once), and log.lammps ends without it
    nan = NAN_MODEL_RE.search(last_text) or NAN_MODEL_RE.search(screen_text)
    if nan:     # the model's answer at that step: a physical failure, as lost atoms
        nstep = int(nan.group(1))
        return rd.set_status("failed", resumable=False, failed_step=nstep,
                             failed_temperature_K=target_at(nstep), failure_mode="nan_model",
                             # the plugin's line says the likely cause (overlapping atoms, the
                             # dynamics, or the model at a given structure): quoted, not guessed
                             reason=f"the model returned a non-finite energy or force at step "
                                    f"{nstep}, target temperature {target_at(nstep):.1f} K: "
                                    f"{nan.group(0).strip()}",
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
        return rd.set_status("interrupted", resumable=True, reason=restart_write_reason(
            rd, step, io_error.group(0), last_text or screen_text), **common)
    cannot_open = (RESTART_OPEN_ERROR_RE.search(last_text)
                   or RESTART_OPEN_ERROR_RE.search(screen_text))
    if cannot_open and own_restart_file(cannot_open.group(1)):
        # the folder's fault, not the run's (was failed: a retry started it over)
        return rd.set_status("interrupted", resumable=True, reason=restart_open_reason(
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
                             reason=_stopped_reason(rd, name, step, last_frame_step(rd, kept)),
                             **common)
    errors = error_lines(last_text)
    if errors:
        return rd.set_status("failed", resumable=False, reason=errors[0], **common)
    errors = [e for e in error_lines(screen_text) if OTHER_RANK_ERROR_RE.match(e)]
    if errors:      # a rank other than 0 stopped the run (see nan above): a failure all the same
        return rd.set_status("failed", resumable=False, reason=(
            f"{errors[0]} (in {screen.name} only: an MPI rank other than 0 stopped LAMMPS "
            f"alone, and {logs[-1].name if logs else 'the log'}, rank 0's, ends without it)"),
            **common)
    size_limit = file_size_limit_note(rc)
    if rc not in (0, None) and not last_text.strip():
        # LAMMPS wrote no log: the launcher (srun, mpirun) or lmp itself did not start, and
        # the cause is in the screen output alone (the reason said only "exit status 1")
        said = [ln.strip() for ln in screen_text.splitlines() if ln.strip()][-3:]
        return rd.set_status("interrupted", resumable=True, reason=(
            ("LAMMPS ended before it logged a line" if size_limit else "LAMMPS did not start")
            + f" ({exit_status_words(rc)}; no "
            f"{logs[-1].name if logs else 'log'})"
            + (f": {' / '.join(said)}" if said else "")
            + (f"; {size_limit}, then run again" if size_limit else
               "; fix the launcher or environment it names, then run again")), **common)
    # the launcher's own words where it ended the piece (srun's "Node failure" with exit
    # status 0: LAMMPS logged nothing of it; the reason said only "exit status 0")
    said = _launcher_errors(rd, n)
    return rd.set_status("interrupted", resumable=True, reason=(
        f"interrupted at step {step} ({exit_status_words(rc)}"
        + (f"; its launcher said \"{said[-1]}\"; step {step} is the last its log reached "
           f"when this was recorded" if said else "") + "); "
        + (f"{size_limit}, then " if size_limit else "")
        + "run again to resume from the last restart"), **common)


def file_size_limit_note(rc: int | None) -> str | None:
    """What to do about a LAMMPS killed by SIGXFSZ (exit status ``rc``, as
    :func:`~ionmd.lammps.process.exit_status_words` reads it: -S, 128 + S, 256 - S): a file
    it wrote reached the file-size limit (``ulimit -f``) it inherited; None for any other
    end. Run again unchanged, it is killed again when its files grow."""
    import resource

    number = int(signal.SIGXFSZ)
    if rc not in (-number, 128 + number, 256 - number):
        return None
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    here = ("unlimited in this process" if soft == resource.RLIM_INFINITY
            else f"{soft} bytes in this process")
    return (f"a file LAMMPS wrote reached the file-size limit (SIGXFSZ; `ulimit -f`: {here}, "
            f"which LAMMPS inherits from ionmd, or the one its launcher sets); raise it "
            f"(`ulimit -f unlimited` in the shell or job script that starts ionmd) or free "
            f"the run of large files (a longer dump_every)")


def _stopped_reason(rd: RunDir, name: str, step: int, frame: int | None) -> str:
    """Why a run that a forwarded signal ``name`` stopped was interrupted, from what it
    recorded: ``step``, its last thermo row (LAMMPS got further, to the next row at
    most), the trajectory's last ``frame`` where that is later, and the restart file it
    resumes from (its step is all a resume keeps). Was "stopped by SIGTERM at step 0" for
    a piece near step 65 whose rows came every 100 steps."""
    said = f"stopped by {name} after step {step}, its last thermo row"
    if frame is not None and frame > step:
        said += f" (its trajectory reached step {frame})"
    restart = newest_restart(rd) if int(rd.status.get("pieces", 0)) else None
    if restart is None:
        return (f"{said}; no restart file was written yet (restart every "
                f"{rd.protocol.restart_every} steps): run again to start it over")
    return f"{said}; run again to resume from {restart.name} (step {restart_step(restart)})"


RELAX_CRITERIA = (
    ("the stress", re.compile(r"stress (\S+) bar from \S+ bar \([^;)]*; tolerance (\S+) bar\)"),
     " bar"),
    ("the volume change", re.compile(r"volume change in the last round (\S+) \(tolerance "
                                     r"(\S+)\)"), ""),
    ("the forces", re.compile(r"max force component (\S+) eV/A \(tolerance (\S+)\)"),
     " eV/A"),
)
"""What an ``IONMD_RELAX`` line measures against its tolerance (the forces since inputs
version 4 printed them; the volume change since version 4)."""


def relaxation_verdict(line: str) -> str:
    """A relaxation's ``IONMD_RELAX`` line as a run's status gives it (``relaxation``):
    without its prefix and, where it did not converge, with the criteria it missed, each
    with its value and tolerance."""
    text = line.removeprefix("IONMD_RELAX ")
    if not text.startswith("NOT converged"):
        return text
    missed = []
    for what, pattern, unit in RELAX_CRITERIA:
        found = pattern.search(text)
        if found:
            try:
                value, tol = float(found.group(1)), float(found.group(2))
            except ValueError:      # a number LAMMPS printed as nan or inf
                missed.append(f"{what} ({found.group(1)}{unit})")
                continue
            if not value <= tol:
                missed.append(f"{what} ({found.group(1)}{unit} > {found.group(2)})")
    return text + (f"; not met: {', '.join(missed)}" if missed else "")


def _timer_reason(rd: RunDir, step: int, limit: str, relaxing: bool = False,
                  piece_from: int | None = None) -> str:
    """Why a run that LAMMPS's own ``timer timeout`` (``limit``) stopped at ``step`` was
    interrupted, and where it resumes: the newer restart file, else from the start (a
    timer that always fires before the first restart file makes no progress; nor does
    one that fires before a resumed piece's first restart file).
    ``relaxing``: the timer ended the relaxation's minimisation, before any MD step;
    ``piece_from``: the step the stopped piece resumed from (None: it started afresh)."""
    restart = newest_restart(rd)
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
