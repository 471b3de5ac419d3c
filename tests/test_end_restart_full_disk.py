"""A restart file that a full disk kept LAMMPS from writing whole (real ``lmp`` + the
plugin, Morse cells; runs of 60 steps extended to 150, restart.end written at each end as
tests/test_extension_end_restart.py; restart.end.part, which the template writes and
renames, made a link to ``/dev/full``, whose writes fail with ENOSPC):

* a 256-atom file (23 KB) fails within LAMMPS's writes, which it checks (``ERROR: I/O
  error while writing restart``): the run was ``failed``, for good (an error line), never
  resumed; now it is ``interrupted`` (resumable), its reason names the file, where and the
  space left, and says "disk full" only where less is free than a restart file takes
  (LAMMPS's message names no cause; /dev/full on a disk with room is no full disk); the
  unfinished restart.end.part is gone and the whole restart.end of step 60 kept; run
  again, it completes;
* a 32-atom file (4 KB, within stdio's buffer) fails at its ``fclose``, which LAMMPS does
  not check: the template renamed the failed file over the whole restart.end (the link:
  restart.end -> /dev/full), and the state of step 60 was lost; a hard link kept aside
  (e780750) brought it back where the file system has hard links; now the template writes
  restart.end.part only and ionmd renames it once whole, so no file system loses it; a
  restart.end that a template writes in place and cuts is removed.

References: LAMMPS's own restart format (its closing mark, read back by
``restart_complete``; its step by ``restart_step``), the file system (``os.lstat``), and
the trajectory's frames read by ionmd's reader.
"""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames
from ionmd.lammps.restart import restart_complete, restart_step
from ionmd.protocols import execute, plan_runs
from ionmd.protocols.restarts import END_RESTART
from protocol_setup import fcc_cell, morse_model, short

PART = END_RESTART + ".part"


def _proto(**kw):
    settings = dict(temperatures=(700.0,), duration_ps=0.06, discard_ps=0.01, dump_every=10,
                    thermo_every=10, restart_every=1000, tdamp_fs=50.0, pdamp_fs=500.0)
    return short("conductivity", **{**settings, **kw})


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return morse_model(tmp_path_factory.mktemp("model") / "morse.pt")


def _completed_at_60(tmp, model, cell=None):
    (rd,) = plan_runs(_proto(), fcc_cell() if cell is None else cell, model, tmp, name="fcc")
    assert execute(rd)["state"] == "completed"
    end = rd.path / END_RESTART
    assert restart_complete(end) and restart_step(end) == 60
    return rd, end.read_bytes()


def _frame_steps(rd) -> np.ndarray:
    spec = load_run_spec(rd.path)
    return read_frames(spec.data_file, spec.trajectory, type_map=spec.type_map)[0].steps


def test_full_disk_at_write_restart_is_an_interruption(tmp_path, model):
    # 256 atoms: a 23 KB restart file, past stdio's buffer, so that a write fails within
    # write_restart, which LAMMPS checks
    rd, before = _completed_at_60(tmp_path / "full", model, cell=fcc_cell(reps=4))
    rd.set_length(150)
    os.symlink("/dev/full", rd.path / PART)        # its writes: ENOSPC
    status = execute(rd)
    assert status["state"] == "interrupted" and status["resumable"] is True, status
    reason = status["reason"]
    # /dev/full on a disk with room: LAMMPS's error names no cause, and this is no full disk
    assert reason.startswith(f"could not write {PART} after step 150 in {rd.path} "), reason
    assert "I/O error while writing restart" in reason and "MB free there now" in reason
    assert "disk full" not in reason and "a quota" in reason
    assert "resume from restart.end (step 60)" in reason
    assert not os.path.lexists(rd.path / PART)     # nothing unfinished left to trust
    end = rd.path / END_RESTART
    assert end.read_bytes() == before              # the whole one of step 60, untouched
    assert not (rd.path / "restart.end.kept").exists()
    # space is back: the same call resumes from step 60 and completes
    status = execute(rd)
    assert status["state"] == "completed" and status["step"] == 150, status
    assert restart_complete(end) and restart_step(end) == 150
    np.testing.assert_array_equal(_frame_steps(rd), np.arange(0, 151, 10))


def test_full_disk_at_a_periodic_restart_is_an_interruption(tmp_path, model, monkeypatch):
    """restart.b (``restart 50 restart.a restart.b``) on a full disk at step 100: was
    ``failed`` for good; now interrupted, resumed from restart.a (step 50). The disk
    reads full: 100 KB free, as a full tmpfs read after a 23.7 KB restart file failed
    (the run's 64 KB reserve given up to record it, and the cut file's blocks)."""
    import shutil

    proto = _proto(duration_ps=0.15, restart_every=50)
    (rd,) = plan_runs(proto, fcc_cell(reps=4), model, tmp_path, name="fcc")
    os.symlink("/dev/full", rd.path / "restart.b")
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage",
                        lambda path: real(path)._replace(free=100_000))
    status = execute(rd)
    assert status["state"] == "interrupted" and status["resumable"] is True, status
    assert status["reason"].startswith(
        f"disk full writing restart.a/restart.b (written every 50 steps) after step 100 in "
        f"{rd.path} "), status["reason"]
    assert status["reason"].endswith("run again to resume from restart.a (step 50)")
    monkeypatch.undo()
    (rd.path / "restart.b").unlink()
    status = execute(rd)
    assert status["state"] == "completed" and status["resumed_from"] == "restart.a"
    np.testing.assert_array_equal(_frame_steps(rd), np.arange(0, 151, 10))
    # the resumed piece wrote restart.b first (step 100), not restart.a, the only whole
    # file while it wrote (was: restart.a at 100, a kill there left no restart at all)
    assert "restart         50 restart.b restart.a" in rd.piece(1)["input"].read_text()
    steps = {n: restart_step(rd.path / n) for n in ("restart.a", "restart.b")}
    assert steps == {"restart.a": 150, "restart.b": 100}
    assert all(restart_complete(rd.path / n) for n in steps)


@pytest.mark.parametrize("hard_links", [True, False], ids=["hard-links", "no-hard-links"])
def test_cut_end_restart_never_replaces_the_whole_one(tmp_path, model, monkeypatch,
                                                       hard_links):
    # 32 atoms: a 4 KB restart file, written out at its fclose, which LAMMPS does not
    # check: a template that renamed it itself put the failed file over the whole one
    rd, before = _completed_at_60(tmp_path / "cut", model)
    rd.set_length(150)
    if not hard_links:          # a file system without them (e780750 kept nothing there)
        def refuse(*args, **kw):
            raise PermissionError(errno.EPERM, "Operation not permitted")
        monkeypatch.setattr(os, "link", refuse)
    os.symlink("/dev/full", rd.path / PART)        # its writes: ENOSPC
    status = execute(rd)
    monkeypatch.undo()
    assert status["state"] == "completed" and status["step"] == 150, status
    end = rd.path / END_RESTART
    # was: the link to /dev/full renamed to restart.end, step 60's state lost
    assert end.is_file() and not end.is_symlink()
    assert restart_complete(end) and end.read_bytes() == before
    cut = status["restart_end_cut"]
    assert cut.startswith(f"{PART} was cut short (0 bytes, "), cut
    assert cut.endswith(f"; removed ({END_RESTART} of step 60 is kept)"), cut
    assert sorted(f.name for f in rd.path.glob("restart.end*")) == [END_RESTART]
    # extended again, it goes on from step 60 (the newest whole state) and completes
    rd.set_length(230)
    status = execute(rd)
    assert status["state"] == "completed" and status["step"] == 230
    assert status["resumed_from"] == END_RESTART and status["restart_end_cut"] is None
    assert restart_complete(end) and restart_step(end) == 230
    np.testing.assert_array_equal(_frame_steps(rd), np.arange(0, 231, 10))


def test_end_restart_cut_in_place_is_removed_not_trusted(tmp_path, model):
    """A template that writes restart.end in place (no .part) and is cut: nothing whole
    is left to bring back, so the cut file goes (a resume would read it)."""
    from types import SimpleNamespace

    from ionmd.protocols.restarts import settle_end_restart

    rd, whole = _completed_at_60(tmp_path / "src", model)
    run = SimpleNamespace(path=tmp_path / "in_place")
    run.path.mkdir()
    end = run.path / END_RESTART
    end.write_bytes(whole[:-8])                    # LAMMPS's fopen("wb"), cut short
    said = settle_end_restart(run)
    assert said == (f"{END_RESTART} was cut short ({len(whole) - 8} bytes, without the mark "
                    f"LAMMPS ends a restart file with: a full disk or quota, or LAMMPS "
                    f"stopped while writing it); removed (no {END_RESTART} is left)")
    assert sorted(f.name for f in run.path.iterdir()) == []


def test_a_whole_end_restart_left_by_a_dead_runner_is_taken(tmp_path, model):
    """LAMMPS wrote restart.end.part whole, and its runner died before renaming it: the
    next call's record of the dead piece renames it, and the extension goes on from it."""
    rd, whole = _completed_at_60(tmp_path / "dead", model)
    end = rd.path / END_RESTART
    rd.set_length(100)
    os.replace(end, rd.path / PART)                # as the dead runner left it
    rd.set_status("running", pid=2 ** 22 + 12345, host=None)     # no such process
    status = execute(rd)
    assert status["state"] == "completed" and status["step"] == 100, status
    assert status["resumed_from"] == END_RESTART
    assert restart_complete(end) and restart_step(end) == 100
    assert not os.path.lexists(rd.path / PART)
    np.testing.assert_array_equal(_frame_steps(rd), np.arange(0, 101, 10))


def test_a_restart_file_that_cannot_be_opened_is_an_interruption(tmp_path, model):
    """restart.b cannot be created (a folder in its way: LAMMPS's 'Cannot open restart
    file restart.b: Is a directory', as it says of a read-only folder or a stale NFS
    handle): the run was failed for good, and --retry-failed deleted its pieces; now it
    is interrupted at step 100, resumable from restart.a (step 50), and completes."""
    proto = _proto(duration_ps=0.15, restart_every=50)
    (rd,) = plan_runs(proto, fcc_cell(), model, tmp_path, name="fcc")
    (rd.path / "restart.b").mkdir()
    status = execute(rd)
    assert status["state"] == "interrupted" and status["resumable"] is True, status
    assert status["reason"] == (
        f"LAMMPS could not open restart.b after step 100 in {rd.path}: Is a directory (the "
        f"folder's permissions, a read-only or stale file system, or something else of that "
        f"name in the way); fix that, then run again to resume from restart.a (step 50)")
    (rd.path / "restart.b").rmdir()
    status = execute(rd)
    assert status["state"] == "completed" and status["resumed_from"] == "restart.a"
    np.testing.assert_array_equal(_frame_steps(rd), np.arange(0, 151, 10))
