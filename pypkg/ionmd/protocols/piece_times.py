"""Wall time of a run folder's pieces: each piece's recorded start, progress and end
(``status.json`` :data:`PIECE_TIMES`), and where its runner died with it, the latest evidence
of it running, its files' mtimes corrected for a file server's clock
(:func:`piece_end_evidence`); a piece's wall seconds (:func:`piece_wall_seconds`) for a
campaign's budget and a killed run's record."""

from __future__ import annotations

from pathlib import Path

PIECE_TIMES = "piece_times"
"""``status.json``'s wall-clock ``started`` and last ``progress`` (epoch seconds) of each
piece, in piece order (None for a piece run before they were recorded), ``ended`` once its
LAMMPS ended, its input's ``input_mtime``, and once the piece is over ``end_from``, what
its end (``progress``) was read from: ``"runner"`` (ionmd saw LAMMPS end), or for a piece
whose runner died with it the latest of its evidence (:func:`piece_end_evidence`): a
piece's wall time whatever became of its files' mtimes."""
END_EVIDENCE = ("log.{k}.lammps", "screen.{k}.txt", "traj.{k}.dcd")
"""The files of piece ``k`` whose mtime shows LAMMPS still running (beside the restart
files), where its runner died: the progress note is up to a minute old
(:data:`ionmd.protocols.execute.PROGRESS_EVERY_S`), a sparse thermo output's log older."""
RESTART_FILES = ("restart.a", "restart.b", "restart.end", "restart.end.part")
"""A run folder's restart files (the two LAMMPS writes alternately, the last piece's final
state, whole and being written): their mtimes show a piece running too
(:func:`piece_end_evidence`), and :mod:`ionmd.protocols.restarts` settles them."""


def piece_wall_seconds(path: Path, k: int, status: dict) -> float | None:
    """Wall seconds piece ``k`` of the run folder ``path`` ran as far as it is known: from
    its recorded start to its recorded end (``status`` :data:`PIECE_TIMES`, which a copied
    folder keeps: ``progress``, the end once ``end_from`` says what it was read from),
    else, for a piece run before they were recorded, from its input's mtime (written just
    before it started) to its log's (a folder copied without keeping times gives the
    copy's timing instead); None where neither is known (a hand-run piece).

    A piece whose runner died and that was not recorded since is read from the best
    evidence at hand: the last piece of a ``running`` status from every file LAMMPS
    writes (:func:`piece_end_evidence`), an older piece from its log alone (its
    trajectory was cut back since, which gave it a new mtime)."""
    times = status.get(PIECE_TIMES) or []
    given, log = Path(path) / f"in.{k}.lmp", Path(path) / f"log.{k}.lammps"
    if k < len(times) and times[k]:
        record = times[k]
        end = float(record["progress"])
        if not record.get("ended") and "end_from" not in record:
            last_running = status.get("state") == "running" and k == len(times) - 1
            end = piece_end_evidence(path, k, record, every_file=last_running)[0]
        return max(end - float(record["started"]), 0.0)
    if given.is_file() and log.is_file():
        return log.stat().st_mtime - given.stat().st_mtime
    return None


def piece_end_evidence(path: Path, k: int, record: dict,
                       every_file: bool = True) -> tuple[float, str]:
    """When piece ``k`` (its :data:`PIECE_TIMES` ``record``) was last seen running, and
    what says so: the latest of its last progress note (``"progress note"``) and the
    mtimes of its log, screen output and trajectory and of the restart files (named),
    those where the folder keeps the times of the launch (its input's mtime is the
    recorded one: a copy's mtimes are the copy's). ``every_file`` False: the log alone
    beside the note (the trajectory and the restart files may have been written since,
    by the repair of the pieces or a later piece)."""
    path = Path(path)
    end, said = float(record["progress"]), "progress note"
    if not _mtimes_kept(path / f"in.{k}.lmp", record.get("input_mtime")):
        return end, said
    ahead = _file_clock_ahead(record)
    names = [n.format(k=k) for n in END_EVIDENCE] + list(RESTART_FILES) if every_file \
        else [f"log.{k}.lammps"]
    for name in names:
        try:
            mtime = (path / name).stat().st_mtime - ahead
        except OSError:
            continue
        if mtime > end:
            end, said = mtime, name
    return end, said


CLOCK_SKEW_S = 1.0
"""How far the file system's clock (mtimes: an NFS server's own) may be off the runner's
(``time.time()``: a piece's start and notes) before :func:`piece_end_evidence` corrects
for it; below it, the time between writing a piece's input and starting it."""


def _file_clock_ahead(record: dict) -> float:
    """Seconds the file system's clock runs ahead of the runner's, from a piece's input
    (written just before the recorded start, so a piece's end reads late by the time it
    took to start LAMMPS, tens of ms): 0 below :data:`CLOCK_SKEW_S`. A file server a
    minute ahead gave every killed piece a minute more."""
    ahead = float(record["input_mtime"]) - float(record["started"])
    return ahead if abs(ahead) >= CLOCK_SKEW_S else 0.0


def _mtimes_kept(given: Path, recorded: float | None) -> bool:
    """Whether a piece's input still has the mtime recorded at its launch (the folder
    was not copied without keeping times)."""
    return recorded is not None and given.is_file() and given.stat().st_mtime == recorded
