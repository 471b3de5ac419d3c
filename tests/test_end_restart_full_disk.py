"""A restart file that a full disk kept LAMMPS from writing whole (real ``lmp`` + the
plugin, Morse cells; runs of 60 steps extended to 150, restart.end written at each end as
tests/test_extension_end_restart.py; restart.end.part, which the template writes and
renames, made a link to ``/dev/full``, whose writes fail with ENOSPC):

* a 256-atom file (23 KB) fails within LAMMPS's writes, which it checks (``ERROR: I/O
  error while writing restart``): the run was ``failed``, for good (an error line), never
  resumed; now it is ``interrupted`` (resumable), its reason says the disk was full,
  which file and where, the unfinished restart.end.part is gone and the whole restart.end
  of step 60 kept; run again, it completes;
* a 32-atom file (4 KB, within stdio's buffer) fails at its ``fclose``, which LAMMPS does
  not check: the template renamed the failed file over the whole restart.end (here the
  link: restart.end -> /dev/full), and the state of step 60 was lost; now it is back (a
  hard link held while the piece ran), and the status says what was cut; where a
  template writes restart.end in place (both names cut), the cut file is removed.

References: LAMMPS's own restart format (its closing mark, read back by
``restart_complete``; its step by ``restart_step``), the file system (``os.lstat``), and
the trajectory's frames read by ionmd's reader.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames
from ionmd.lammps.restart import restart_complete, restart_step
from ionmd.protocols import execute, plan_runs
from ionmd.protocols.execute import END_RESTART
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
    assert reason.startswith(f"disk full writing {PART} after step 150 in {rd.path} "), reason
    assert "I/O error while writing restart" in reason and "MB free there now" in reason
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


def test_full_disk_at_a_periodic_restart_is_an_interruption(tmp_path, model):
    """restart.b (``restart 50 restart.a restart.b``) on a full disk at step 100: was
    ``failed`` for good; now interrupted, resumed from restart.a (step 50)."""
    proto = _proto(duration_ps=0.15, restart_every=50)
    (rd,) = plan_runs(proto, fcc_cell(reps=4), model, tmp_path, name="fcc")
    os.symlink("/dev/full", rd.path / "restart.b")
    status = execute(rd)
    assert status["state"] == "interrupted" and status["resumable"] is True, status
    assert status["reason"].startswith(
        f"disk full writing restart.a/restart.b (written every 50 steps) after step 100 in "
        f"{rd.path} "), status["reason"]
    assert status["reason"].endswith("run again to resume from restart.a (step 50)")
    (rd.path / "restart.b").unlink()
    status = execute(rd)
    assert status["state"] == "completed" and status["resumed_from"] == "restart.a"
    np.testing.assert_array_equal(_frame_steps(rd), np.arange(0, 151, 10))


def test_cut_end_restart_never_replaces_the_whole_one(tmp_path, model):
    # 32 atoms: a 4 KB restart file, written out at its fclose, which LAMMPS does not
    # check: it renames the failed file over the whole one
    rd, before = _completed_at_60(tmp_path / "cut", model)
    rd.set_length(150)
    os.symlink("/dev/full", rd.path / PART)        # its writes: ENOSPC
    status = execute(rd)
    assert status["state"] == "completed" and status["step"] == 150, status
    end = rd.path / END_RESTART
    # was: the link to /dev/full renamed to restart.end, step 60's state lost
    assert end.is_file() and not end.is_symlink()
    assert restart_complete(end) and end.read_bytes() == before
    assert status["restart_end_cut"].startswith(f"{END_RESTART} was cut short (")
    assert "the one before it (step 60) is kept" in status["restart_end_cut"]
    assert not os.path.lexists(rd.path / PART)
    assert not (rd.path / "restart.end.kept").exists()
    # extended again, it goes on from step 60 (the newest whole state) and completes
    rd.set_length(230)
    status = execute(rd)
    assert status["state"] == "completed" and status["step"] == 230
    assert status["resumed_from"] == END_RESTART and status["restart_end_cut"] is None
    assert restart_complete(end) and restart_step(end) == 230
    np.testing.assert_array_equal(_frame_steps(rd), np.arange(0, 231, 10))


def test_end_restart_cut_in_place_is_removed_not_trusted(tmp_path, model):
    """A template that writes restart.end in place (no .part) cuts the kept name too
    (one file, two names): nothing whole is left to bring back, so the cut file goes."""
    from types import SimpleNamespace

    from ionmd.protocols.execute import _keep_end_restart, _settle_end_restart

    rd, whole = _completed_at_60(tmp_path / "src", model)
    run = SimpleNamespace(path=tmp_path / "in_place")
    run.path.mkdir()
    end = run.path / END_RESTART
    end.write_bytes(whole)
    _keep_end_restart(run)
    assert (run.path / "restart.end.kept").samefile(end)
    with open(end, "r+b") as fh:                   # LAMMPS's fopen("wb"), cut short
        fh.truncate(len(whole) - 8)
    said = _settle_end_restart(run)
    assert said.endswith("removed (no whole one before it was kept)")
    assert sorted(f.name for f in run.path.iterdir()) == []
