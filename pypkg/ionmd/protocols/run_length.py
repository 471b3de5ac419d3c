"""A run folder made longer by the command that made it, given a longer ``--time``.

``ionmd run ... --time 6ps -o OUT`` and then the same command with ``--time 8ps`` (nothing
else changed) go on with each run of OUT from its end (``restart.end``, else the newer
``restart.a/b``) to 8 ps: a completed run through :meth:`RunDir.set_length`, as a goal
campaign's extension, an interrupted one by resuming to the new length. ``settings.json``
then records 8 ps, so that the same command again resumes or skips as usual, and
``status.json``'s :data:`LENGTH_CHANGES` how the run grew. A shorter ``--time`` is refused
(a run is not cut back: its analysis can use part of it, ``ionmd analyze --fit-end-ps``);
a failed run is not extended (it is never run again) and keeps its settings. With a
stopping rule (``--until``) ``--time``/``--max-time`` is the most a run may last: a run
whose rule held (``converged``) is complete at any longer maximum and is kept as it is;
one that stopped at the old maximum goes straight to the new one and is checked there
(``stop_reason`` ``extended``, :mod:`ionmd.protocols.stopping`); one not ended yet goes on
with its checks up to the new maximum.

Only ``ionmd run`` asks for this (:func:`lengthening_runs`): a campaign file's other
``duration_ps`` is still refused, its runs grow by its goal."""

from __future__ import annotations

import contextlib
import contextvars
import time
import warnings

from ionmd.analysis.run_files import SETTINGS
from ionmd.errors import IonmdError, IonmdNote
from ionmd.protocols.run_settings import differs_in_length_only, read_folder_json

LENGTH_CHANGES = "length_changes"
"""``status.json``'s record of a run made longer: ``[{"from_ps", "to_ps", "at_step",
"on"}, ...]``, one entry per ``ionmd run`` that lengthened it."""

_LENGTHENING = contextvars.ContextVar("ionmd_lengthening_runs", default=False)


@contextlib.contextmanager
def lengthening_runs():
    """Within it, a run folder whose settings differ from the run's only in its length is
    the same run made longer (:func:`length_change`), not refused."""
    token = _LENGTHENING.set(True)
    try:
        yield
    finally:
        _LENGTHENING.reset(token)


def _ps(rd, steps: int) -> str:
    return f"{steps * rd.protocol.timestep_fs / 1000.0:g}"


def length_change(rd, wanted: dict) -> tuple[int, int] | None:
    """``(steps the folder's run has, steps of the run wanted)`` where :func:`lengthening_runs`
    is on and the folder of ``rd`` (a :class:`~ionmd.protocols.rundir.RunDir`) holds
    settings that differ from ``wanted`` only in the run's length; else None.

    Raises
    ------
    IonmdError
        If the run wanted is shorter: what ran, and how to use part of it.
    """
    f = rd.path / SETTINGS
    if not _LENGTHENING.get() or not f.is_file():
        return None
    if not differs_in_length_only(read_folder_json(f), wanted):
        return None
    held = type(rd).open(rd.path)
    old, new = held.planned_steps, rd.protocol.steps(rd.temperature)
    _refuse_running(held)
    if new < old:
        st = held.status
        raise IonmdError(
            f"run directory {rd.path} is a run of {_ps(rd, old)} ps ({st.get('state')} at "
            f"{_ps(rd, int(st.get('step', 0)))} ps); a run is not cut back to a shorter "
            f"--time ({_ps(rd, new)} ps): give --time {_ps(rd, old)}ps (or longer, to extend "
            f"it) to go on with it, analyse part of it with `ionmd analyze {rd.path} "
            f"--fit-end-ps T`, or choose another output folder")
    return old, new


def _refuse_running(rd) -> None:
    """Refuse to lengthen a run that a LAMMPS runs now (this host's pid, or its lock held
    from any host): it ends at its old length and would be recorded completed there."""
    from ionmd.protocols.execute import running_here
    from ionmd.protocols.outcome import LAMMPS_LOCK
    from ionmd.protocols.run_lock import held_by, lock_holder

    st = rd.status
    if st.get("state") != "running":
        return
    lock = rd.path / LAMMPS_LOCK
    if running_here(st) or lock_holder(lock) is not None:
        how = held_by(lock) if lock_holder(lock) is not None else f"pid {st.get('pid')}"
        raise IonmdError(f"run directory {rd.path} is running ({how}): a longer --time "
                         f"cannot reach a run going on; wait for it to end, then run the "
                         f"command with the longer --time again")


def refuses_lengthening(rd, change: tuple[int, int] | None) -> bool:
    """Whether the run of ``rd`` stays as it is though ``change`` (:func:`length_change`)
    asks for a longer one: a failed run (never run again; its settings keep its length),
    said in a note."""
    if change is None or change[0] == change[1] or rd.status.get("state") != "failed":
        return False
    why = rd.status.get("reason")
    warnings.warn(IonmdNote(
        f"{rd.path} failed{f' ({why})' if why else ''}: not extended to "
        f"{_ps(rd, change[1])} ps (a failed run is not run again; it keeps its "
        f"{_ps(rd, change[0])} ps)"), stacklevel=2)
    return True


def lengthen(rd, change: tuple[int, int]) -> None:
    """Give the reopened run of ``rd`` the length ``change`` (:func:`length_change`) asks,
    its settings already written: a completed run (or one not started) by
    :meth:`~ionmd.protocols.rundir.RunDir.set_length`, one not ended yet by its status's
    length (it resumes up to it); a run whose stopping rule held is kept. Each said in a
    note, and recorded in ``status.json`` (:data:`LENGTH_CHANGES`)."""
    old, new = change
    if new == old:
        return
    st = rd.status
    state, step = st.get("state"), int(st.get("step", 0))
    if state == "completed" and rd.protocol.until and st.get("stop_reason") == "converged":
        warnings.warn(IonmdNote(
            f"{rd.path}: its stopping rule held at {_ps(rd, step)} ps (converged): complete at "
            f"the longer maximum {_ps(rd, new)} ps too, not run on"), stacklevel=2)
        return
    history = list(st.get(LENGTH_CHANGES) or []) + [
        {"from_ps": float(_ps(rd, old)), "to_ps": float(_ps(rd, new)), "at_step": step,
         "on": time.strftime("%Y-%m-%dT%H:%M:%S")}]
    if state == "completed" or (state == "pending" and not st.get("pieces")):
        rd.set_length(new)
        rd.set_status("pending", **{LENGTH_CHANGES: history})
        how = ("goes on from its end" if state == "completed" else "starts")
        rule = (" to the new maximum, checked there once (stop_reason extended)"
                if rd.protocol.until and state == "completed" else "")
    else:                          # interrupted (or left running): it resumes to the new end
        rd.set_status(state, length_steps=new, planned_steps=new, **{LENGTH_CHANGES: history})
        how, rule = "resumes from its restart file", ""
    warnings.warn(IonmdNote(f"{rd.path}: {_ps(rd, old)} ps -> {_ps(rd, new)} ps ({state} at "
                            f"{_ps(rd, step)} ps: {how}{rule})"), stacklevel=2)
