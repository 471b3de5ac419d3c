"""Resuming a run: its restart files (restart.a/b every ``restart_every`` steps, and
:data:`END_RESTART`, a piece's final state, made whole before it counts), the newest one a
piece resumes from, the pieces' trajectories cut back to their seams, and why a restart
file could not be written or opened."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from ionmd.lammps.dcd import dcd_first_step, dcd_last_step, truncate_dcd
from ionmd.lammps.restart import restart_complete, restart_step
from ionmd.lammps.thermo_log import thermo_steps
from ionmd.protocols.md_input import protocol_template
from ionmd.protocols.presets import Protocol
from ionmd.protocols.piece_times import RESTART_FILES
from ionmd.protocols.rundir import RESERVE_BYTES, RunDir


END_RESTART = "restart.end"
"""The restart file of a piece's final state, written after its run where it ends on a
frame (inputs/md.lmp)."""
PART_END_RESTART = END_RESTART + ".part"
"""Where the template writes a piece's final state; ionmd renames it to restart.end once
it is whole (:func:`settle_end_restart`): LAMMPS does not check the last write of a
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


def newest_restart(rd: RunDir) -> Path | None:
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


# (test_extension_end_restart, test_end_restart_full_disk): to go once they use the public one


def _whole_restart(f: Path) -> bool:
    return f.is_file() and restart_complete(f)


def settle_end_restart(rd: RunDir) -> str | None:
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


def trajectory_gap(rd: RunDir, kept: list[int]) -> str | None:
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


def rowless_resume_step(rd: RunDir, status: dict, logs: list[Path]) -> int | None:
    """The step the last piece was resumed from when it ended before printing any thermo
    row (an error at its setup): then the run's last state is that restart's, and the rows
    a killed earlier piece printed after it are abandoned. None otherwise."""
    if len(logs) < 2 or not status.get("resumed_from") or not logs[-1].is_file():
        return None
    _, read = thermo_steps(logs[-1].read_text(errors="replace").splitlines(), None)
    if read.md_step is not None:             # an MD row (a minimisation's are none)
        return None
    return restart_step(rd.path / status["resumed_from"])


def last_frame_step(rd: RunDir, kept: list[int]) -> int | None:
    """The step of the run's last DCD frame (where a dump, not a thermo output, found
    atoms lost, the next dump's step follows it)."""
    if not kept:
        return None
    traj = rd.piece(kept[-1])["trajectory"]
    return dcd_last_step(traj) if traj.suffix == ".dcd" and traj.is_file() else None


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


def restart_write_reason(rd: RunDir, step: int, error: str, text: str) -> str:
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
    restart = newest_restart(rd)
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


def own_restart_file(name: str) -> bool:
    """Whether ``name`` is a restart file ionmd names in the run folder (restart.a/b, the
    end restart): one it cannot open there is the folder's fault (read-only, stale, a
    folder in the way), resumable once fixed. A template's own file (``write_restart
    equil/state.restart`` where equil/ is missing) fails at the same step on every resume:
    a failure of the template, as any other LAMMPS error."""
    return os.path.normpath(name) in RESTART_FILES


def restart_open_reason(rd: RunDir, step: int, name: str, why: str) -> str:
    """Why a run whose LAMMPS could not open the restart file ``name`` (the system's
    ``why``) was interrupted, and where it resumes once that is fixed."""
    restart = newest_restart(rd)
    again = (f"run again to resume from {restart.name} (step {restart_step(restart)})"
             if restart is not None else "run again to start it over")
    return (f"LAMMPS could not open {name} after step {step} in {rd.path}: {why} (the "
            f"folder's permissions, a read-only or stale file system, or something else of "
            f"that name in the way); fix that, then {again}")
