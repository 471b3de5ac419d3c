"""Run one claimed run directory to its end: the same code on every executor (a thread of
the local pool, a SLURM array task).

Nothing runs a run directory twice at once: the worker holds :data:`WORKER_LOCK` while
it runs the run, and its LAMMPS holds :data:`LMP_LOCK` for as long as it runs
(:mod:`ionmd.sweep.lockrun`, also after the worker or its job died). A worker that finds
either held leaves the run alone, whichever campaign file, submission or host started it.

A SLURM task that nears its walltime gets ``USR2`` (``--signal=B:USR2@...``): the worker
stops LAMMPS (SIGTERM), records the run as interrupted by the time limit, then lets
submitit requeue the task, which resumes the run from its restart file (up to
``max_num_timeout`` times; the reason says whether it did).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import sys
import traceback
from pathlib import Path

from ionmd.analysis.run_files import STATUS
from ionmd.errors import IonmdError, RunInterrupted
from ionmd.file_locks import flock_if_supported
from ionmd.protocols.execute import StopRequests, execute
from ionmd.lammps.process import find_lammps
from ionmd.protocols.rundir import RunDir
from ionmd.protocols.run_lock import held_by
from ionmd.sweep.lockrun import write_holder
from ionmd.sweep.state import (CLAIM, LMP_LOCK, WORKER_LOCK, lock_held, read_claim,
                               update_claim, wait_for_local_process)

LOCKRUN = Path(__file__).with_name("lockrun.py")


def lammps_command(launcher: str, ranks: int, threads: int,
                   srun_args: list[str] | None = None) -> list[str] | None:
    """The command that starts LAMMPS for one run: ``srun [srun_args]`` inside a SLURM
    allocation, else ``lmp`` / ``mpirun -np N lmp`` (None: :func:`ionmd.protocols.launch`
    decides)."""
    if launcher != "srun":
        return None
    lmp = find_lammps(1)[0]
    return ["srun", "--ntasks", str(ranks), "--cpus-per-task", str(threads), "--exact",
            *(srun_args or []), lmp]


def locked_command(rd: RunDir, command: list[str]) -> list[str]:
    """``command`` started through :mod:`ionmd.sweep.lockrun`, which holds the run's
    :data:`LMP_LOCK` for as long as the command runs. With ``srun`` (:func:`lammps_command`)
    inside the job step, around ``lmp`` (its rank 0): ``srun`` can end before its step
    (slurmd lost: "Node failure", exit status 0, while LAMMPS ran on for 40 s, audit A17),
    and a lock held by ``srun`` went with it: the run read as not running, open to a
    requeued task's second LAMMPS."""
    lock = str(rd.path / LMP_LOCK)
    if command and command[0] == "srun":
        return [*command[:-1], sys.executable, str(LOCKRUN), "--step", lock, command[-1]]
    return [sys.executable, str(LOCKRUN), lock, *command]


def slurm_job_id() -> str | None:
    """This process's SLURM job as squeue names it: ``123_4`` for an array task."""
    env = os.environ
    if "SLURM_ARRAY_JOB_ID" in env and "SLURM_ARRAY_TASK_ID" in env:
        return f"{env['SLURM_ARRAY_JOB_ID']}_{env['SLURM_ARRAY_TASK_ID']}"
    return env.get("SLURM_JOB_ID")


class JobStop(StopRequests):
    """What stops a SLURM task's runs: SIGINT, SIGTERM (scancel, SLURM's hard time limit,
    preemption) and the walltime warning ``USR2``, which is passed on to LAMMPS as SIGTERM
    (``srun`` and ``mpirun`` pass SIGTERM to every rank) and remembered (``time_limit``)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGUSR2)

    def __init__(self):
        super().__init__()
        self.time_limit = False

    def _caught(self, signum, frame) -> None:
        if signum == signal.SIGUSR2:
            self.time_limit = True
            signum = signal.SIGTERM
        super()._caught(signum, frame)


def _why_stopped(stop: StopRequests | None, status: dict) -> str:
    """The reason a signal-stopped run is recorded with: the SLURM job that stopped it,
    then the run's own account from its ``status`` (the step of its last thermo row, how
    far its trajectory got, the restart it resumes from) where this stop's LAMMPS wrote
    one ("stopped by SIG..."). A stop before LAMMPS started leaves an earlier reason
    there (an earlier job's own "timed out: SLURM job ..."): not repeated inside the new
    one."""
    job = slurm_job_id()
    reason = str(status.get("reason") or "")
    own = f"; {reason}" if status.get("stopped_by") and reason.startswith("stopped by SIG") \
        else ""
    if stop is not None and getattr(stop, "time_limit", False):
        return (f"timed out: SLURM job {job} reached its time limit (walltime); ionmd stopped "
                f"LAMMPS{own}; a run that times out every time needs a longer "
                f"resources.walltime")
    if job:
        # the stop does not say whether SLURM requeues the job (then it resumes the run
        # itself): both ways are said
        return (f"stopped by SLURM job {job} (scancel, its hard time limit, preemption or a "
                f"requeue; a requeued job resumes the run by itself when SLURM starts it "
                f"again: nothing to do){own}; `ionmd sweep submit` resumes it")
    return ""


def _try_lock(rd: RunDir) -> int | None:
    """The worker's lock of ``rd`` (an open fd, held until closed, naming this worker:
    :func:`ionmd.sweep.lockrun.write_holder`); None when another process holds it. A
    filesystem without locks gives an unlocked fd.

    Raises
    ------
    OSError
        If the lock file cannot be opened or locked (other than for want of locks).
    """
    fd = os.open(rd.path / WORKER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        flock_if_supported(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    write_holder(fd)
    return fd


def _recorded_only(before: dict, after: dict) -> dict:
    """``{"recorded_only": why}`` where this worker started no LAMMPS: the run's earlier
    LAMMPS (of a dead submitter or job) had already ended, and was only recorded."""
    if before.get("state") == "running" and after.get("pieces") == before.get("pieces"):
        return {"recorded_only": f"its LAMMPS (pid {before.get('pid')} on "
                                 f"{before.get('host')}) had already ended; recorded, not run"}
    return {}


SETUP_ERRORS = (IonmdError, OSError, ValueError)
"""What a hand-out meets before its LAMMPS starts and a second try meets again: ``lmp`` not
found, a run.json edit gone wrong, a folder or claim it cannot write (a full disk, no
permission), a settings.json that is no JSON."""


def run_one(path: str | Path, token: str, ranks: int = 1, threads: int = 1,
            launcher: str = "mpirun", env: dict | None = None,
            srun_args: list[str] | None = None, stop: StopRequests | None = None) -> dict:
    """Run (or resume) the run directory ``path`` if the claim in it still carries
    ``token``; returns its final status (with ``path``, and ``skipped`` when it was not
    this worker's to run).

    A run whose LAMMPS process is still alive on this host (its submitter died, the
    process did not) is waited for, then recorded; a run that another worker runs, or
    whose LAMMPS still runs elsewhere (its lock is held), is left alone: nothing is started
    twice. A hand-out that fails before its LAMMPS starts (:data:`SETUP_ERRORS`, or an
    error no one expected: a bug) is recorded in the claim (:func:`setup_failed`) and
    returned with ``error``; one that fails after its LAMMPS started, with
    ``stopped_on_error``: the pool or the array task goes on with its other runs either
    way. Only a stop (:class:`ionmd.errors.RunInterrupted`) and what is no ``Exception``
    (KeyboardInterrupt, SystemExit) are raised.
    """
    try:
        return _run_one(path, token, ranks, threads, launcher, env, srun_args, stop)
    except RunInterrupted:
        raise
    except Exception as exc:        # a bug, or what no one foresaw: this run only
        return unexpected_failure(path, token, exc)


def _run_one(path: str | Path, token: str, ranks: int, threads: int, launcher: str,
             env: dict | None, srun_args: list[str] | None, stop: StopRequests | None) -> dict:
    """:func:`run_one`, with the errors it expects handled."""
    try:
        rd = RunDir.open(path)
        claim = read_claim(rd)
    except (*SETUP_ERRORS, KeyError) as exc:    # a run.json edit gone wrong, settings.json
        return _not_started(path, token, exc)
    if claim.get("token") != token:
        return {"path": str(path), "skipped": "claimed by a later submission",
                **rd.status}
    wait_for_local_process(rd, stop=stop)      # a walltime warning ends the wait
    before = rd.status
    try:
        fd = _try_lock(rd)
    except OSError as exc:                      # a folder it cannot write
        return _not_started(path, token, exc, rd.status)
    if fd is None or lock_held(rd):
        if fd is not None:
            os.close(fd)
        return _held_elsewhere(rd, token, WORKER_LOCK if fd is None else LMP_LOCK)
    try:
        return _run_locked(rd, token, ranks, threads, env, launcher, srun_args, stop, before)
    finally:
        os.close(fd)


def _run_locked(rd: RunDir, token: str, ranks: int, threads: int, env: dict | None,
                launcher: str, srun_args: list[str] | None, stop: StopRequests | None,
                before: dict) -> dict:
    """:func:`run_one` once it holds the run's worker lock: find LAMMPS, say in the claim
    where and how it runs (for ``status``; the token checked again: a wait for an earlier
    LAMMPS may have been long), run it."""
    path = rd.path
    try:
        command = lammps_command(launcher, ranks, threads, srun_args) or find_lammps(ranks)
        ran = {"host": socket.gethostname(), "command": command, "slurm_job": slurm_job_id()}
        if not update_claim(path, token, lambda claim: {**claim, "ran": ran}):
            return {"path": str(path), "skipped": "claimed by a later submission",
                    **rd.status}
    except SETUP_ERRORS as exc:         # no lmp on this node, a claim it cannot write
        return _not_started(path, token, exc, rd.status)
    run_env = {"OMP_NUM_THREADS": str(threads)}
    run_env.update(env or {})
    try:
        status = execute(rd, nprocs=ranks, env=run_env,
                         launcher=locked_command(rd, command), stop=stop)
    except RunInterrupted:     # SIGTERM/SIGINT/USR2 (scancel, walltime): recorded, stop
        _note_why_stopped(rd, stop)
        raise
    except Exception as exc:  # its input not written, lmp not started; or a bug
        if not isinstance(exc, (IonmdError, OSError)):
            _say_unexpected(path, exc)
        now = rd.status
        if int(now.get("pieces", 0)) > int(before.get("pieces", 0)):
            # a LAMMPS of this hand-out started (a piece counted): no setup failure, which
            # would stop its series for good; the run is handed out again as one that died
            # (let go of: a status left 'running' under a live submitter's claim reads
            # 'running', its final wait never ending)
            error = f"after its LAMMPS started (piece {now.get('pieces')}): {_error_text(exc)}"
            try:
                _let_go(path, token)
            except (OSError, ValueError) as again:
                error += f" (its claim {path / CLAIM} could not be let go of: {again})"
            return {"path": str(path), **now, "stopped_on_error": error}
        return _not_started(path, token, exc, now)
    if status.get("state") == "running":
        _lost_launcher(path, token)
    return {"path": str(path), **status, **_recorded_only(before, status)}


def _lost_launcher(path: Path, token: str) -> None:
    """Let go of the claim of a run whose launcher ended while its LAMMPS runs on (left
    ``running``: :func:`ionmd.protocols.outcome.finish`): no job of this hand-out runs it
    any more. It reads ``running`` by its LAMMPS's lock alone, then ``interrupted`` (handed
    out again, recorded) once that LAMMPS ended; held, its claim kept it ``running`` for as
    long as this task (its other runs) or local submitter lived on."""
    try:
        _let_go(path, token)
    except (OSError, ValueError) as exc:
        print(f"ionmd: {path}: its claim still names this job ({exc}); it reads running "
              f"until the job ends", file=sys.stderr, flush=True)


def _note_why_stopped(rd: RunDir, stop: StopRequests | None) -> None:
    """The job that stopped the run added to its recorded reason (:func:`_why_stopped`);
    a note that cannot be written (a full disk) is said on stderr: raised, it would
    replace the stop, and the array task would go on to its next run."""
    try:
        why = _why_stopped(stop, rd.status)
        if why and rd.status.get("state") == "interrupted":
            rd.set_status("interrupted", reason=why)
    except (OSError, ValueError) as exc:
        print(f"ionmd: {rd.path}: why it stopped not recorded in its status ({exc})",
              file=sys.stderr, flush=True)


def _held_elsewhere(rd: RunDir, token: str, lock: str) -> dict:
    """The result of a hand-out that found the run's ``lock`` held (another worker, or its
    LAMMPS, runs it; named as the lock file names its holder): the run is left alone, and
    this hand-out lets go of its claim (:func:`_let_go`): held by a live local submitter,
    the run would read ``queued`` (that submitter's final wait on it never ending) though
    no one of this submission will run it."""
    status = rd.status
    lammps = (f"; its LAMMPS: pid {status.get('pid')} on {status.get('host')}"
              if status.get("state") == "running" else "")
    why = f"another process runs it ({held_by(rd.path / lock)}{lammps})"
    try:
        _let_go(rd.path, token)
    except (OSError, ValueError) as exc:
        why += f" (its claim {rd.path / CLAIM} could not be let go of: {exc})"
    return {"path": str(rd.path), **status, "skipped": why}


def _error_text(exc: Exception) -> str:
    """What a result and the claim say of ``exc``: its message; with its type where it is
    no error a hand-out expects (:data:`SETUP_ERRORS`: a bug, most likely)."""
    if isinstance(exc, SETUP_ERRORS):
        return str(exc) or type(exc).__name__
    return (f"{type(exc).__name__}: {exc} (unexpected: its traceback is on stderr; please "
            f"report it)")


def _say_unexpected(path: str | Path, exc: Exception) -> None:
    """The traceback of an error no one expected, on stderr (for a bug report)."""
    print(f"ionmd: {path}: unexpected error:", file=sys.stderr)
    traceback.print_exception(exc, file=sys.stderr)
    sys.stderr.flush()


def _status_of(path: str | Path) -> dict:
    """The run's status where it can be read, else nothing."""
    try:
        status = json.loads((Path(path) / STATUS).read_text())
    except (OSError, ValueError):
        return {}
    return status if isinstance(status, dict) else {}


def unexpected_failure(path: str | Path, token: str, exc: Exception) -> dict:
    """The result of a hand-out ended by an error no one expected (a bug): its traceback
    on stderr, then recorded as a hand-out that did not start (:func:`_not_started`);
    the pool or the array task goes on with its other runs."""
    _say_unexpected(path, exc)
    return _not_started(path, token, exc, _status_of(path))


def _not_started(path: str | Path, token: str, exc: Exception,
                 status: dict | None = None) -> dict:
    """The result of a hand-out that failed before its LAMMPS started: ``error`` says
    why, recorded in the claim (:func:`setup_failed`) where it could be and the run is
    still this hand-out's (else the result says so)."""
    error = _error_text(exc)
    if not Path(path).is_dir():
        error += (" (its run folder is gone: nothing recorded; `ionmd sweep submit` writes "
                  "it again)")
        return {"path": str(path), "error": error, **(status or {})}
    try:
        mine = setup_failed(path, token, error)
    except Exception as again:   # the claim cannot be written either (or a bug): said
        error += f" (not recorded in its claim {Path(path) / CLAIM}: {again})"
    else:
        if not mine and not (Path(path) / CLAIM).is_file():
            error += " (its claim is gone: nothing recorded)"
        elif not mine:
            error += " (its claim, of a later submission, left as it is)"
    return {"path": str(path), "error": error, **(status or {})}


def _let_go(path: str | Path, token: str, **fields) -> bool:
    """The claim of this hand-out (``token``) no longer held by its job (its job id kept
    in ``ran``), with ``fields`` added; False where a later submission's claim is there
    (left as it is).

    Raises
    ------
    OSError, ValueError
        If the claim cannot be read or written.
    """
    return update_claim(path, token, lambda claim: {
        **claim, "job_id": None, **fields,
        "ran": {**claim.get("ran", {}), "job_id": claim.get("job_id")}})


def let_go_of(path: str | Path, token: str) -> None:
    """:func:`_let_go` of a hand-out its submitter will not start after all (a Ctrl-C):
    the run reads ``pending``, not ``queued`` under the submitter that lives on while its
    running runs finish. A claim that cannot be written is said on stderr (it is let go
    of once that submitter ends)."""
    try:
        _let_go(path, token)
    except (OSError, ValueError) as exc:
        print(f"ionmd: {path}: its claim still names this submitter ({exc})",
              file=sys.stderr, flush=True)


def setup_failed(path: str | Path, token: str, error: str) -> bool:
    """Record in the claim of the run folder ``path`` that this hand-out (``token``) ended
    before its LAMMPS ran, and why (``error``; its job kept in ``ran``): the run is no
    longer held by a job (its local submitter lives on and made it ``queued`` for as long,
    a ``submit`` of the local executor waiting on it for ever), and whoever hands it out
    next reads why it did not start (:func:`ionmd.sweep.submit.setup_failure`: a goal
    stops waiting on it at once, as a second try fails the same way). The next claim
    replaces it. A claim that carries another token (the run handed out again meanwhile)
    is another worker's: left as it is (False).

    Raises
    ------
    OSError, ValueError
        If the claim cannot be read or written.
    """
    return _let_go(path, token, error=error)


def run_group(paths: list[str], token: str, ranks: int = 1, threads: int = 1,
              launcher: str = "srun", srun_args: list[str] | None = None) -> list[dict]:
    """Run several run directories one after the other (one SLURM array task).

    The walltime warning (``USR2``) stops the run going on and starts no other; then
    submitit's own ``USR2`` handler (installed before this ran) requeues the task. Other
    signals (scancel) stop it as well and end the task."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    requeue = signal.getsignal(signal.SIGUSR2)
    stop = JobStop()
    results: list[dict] = []
    try:
        with stop:
            for p in paths:
                results.append(run_one(p, token, ranks, threads, launcher,
                                       srun_args=srun_args, stop=stop))
            return results
    except RunInterrupted:
        if stop.time_limit and callable(requeue):
            requeue_task(requeue, paths[len(results)])
        raise


def requeue_task(requeue, path: str | Path) -> None:
    """Call submitit's ``USR2`` handler ``requeue``, which requeues this task and exits
    (SystemExit), or refuses (after ``max_num_timeout`` timeouts: "timed-out too many
    times") by raising; the timed-out run at ``path`` says which (its reason: before, it
    said the task was requeued either way)."""
    try:
        requeue(signal.SIGUSR2, None)
    except SystemExit:
        _add_to_reason(path, "the task was requeued (submitit: `scontrol requeue`): it "
                             "resumes the run from its restart")
        raise
    except Exception as exc:
        _add_to_reason(path, f"the task was not requeued (submitit: {str(exc).strip()}): "
                             f"`ionmd sweep submit` resumes the run")
        raise


def _add_to_reason(path: str | Path, text: str) -> None:
    """``text`` added to the recorded reason of a run that this job stopped at its time
    limit (a run not stopped so, or by another job, is left as it is). A note that cannot
    be written (a run.json edit gone wrong, a full disk) is said on stderr instead: raised,
    it would replace submitit's exit after its requeue, or its refusal, with its own."""
    try:
        rd = RunDir.open(path)
        reason = str(rd.status.get("reason") or "")
        if rd.status.get("state") == "interrupted" and \
                reason.startswith(f"timed out: SLURM job {slurm_job_id()} "):
            rd.set_status("interrupted", reason=f"{reason}; {text}")
    except (IonmdError, OSError, ValueError) as exc:
        print(f"ionmd: {path}: {text}; not recorded in its status ({exc})", file=sys.stderr)
