"""A finished piece ends on a restart file (restart.end), so a run extended later goes on
from its last step, bit for bit the run made straight to the new length (real ``lmp`` + the
plugin, a 32-atom Morse cell, NpT Nose-Hoover: thermostat and barostat state travel in
the file). Before, restart files came only every ``restart_every`` steps: a 60-step run
(restart_every 100) extended to 150 was deleted and run again from step 0, and one of 150
extended to 230 ran steps 100-150 again."""

from __future__ import annotations

import os
import shutil
import signal
import time
from types import SimpleNamespace

import numpy as np
import pytest

from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames
from ionmd.lammps.process import process_group_alive
from ionmd.lammps.restart import restart_complete, restart_step
from ionmd.lammps.thermo_log import parse_thermo, parse_thermo_pieces
from ionmd.protocols import execute, plan_runs
from ionmd.protocols.execute import launch
from ionmd.protocols.md_input import INPUTS
from ionmd.protocols.restarts import END_RESTART, newest_restart, writes_end_restart
from ionmd.protocols.rundir import RunDir
from ionmd.sweep.goal import _end_step
from protocol_setup import fcc_cell, morse_model, short

RESTART_EVERY = 100


def _proto(**kw):
    settings = dict(temperatures=(700.0,), duration_ps=0.06, discard_ps=0.01, dump_every=10,
                    thermo_every=10, restart_every=RESTART_EVERY, tdamp_fs=50.0,
                    pdamp_fs=500.0)
    return short("conductivity", **{**settings, **kw})


def _run(rd, lengths):
    """Run ``rd`` to each length in turn (the first is its planned one), as extensions."""
    for k, steps in enumerate(lengths):
        if k:
            rd.set_length(steps)
        status = execute(rd)
        assert status["state"] == "completed" and status["step"] == steps, status
    return rd


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("end_restart")
    model = morse_model(tmp / "morse.pt")
    (ext,) = plan_runs(_proto(), fcc_cell(), model, tmp / "extended", name="fcc")
    (ref,) = plan_runs(_proto(), fcc_cell(), model, tmp / "straight", name="fcc")
    checks = {}
    _run(ext, [60])
    checks["after_60"] = (sorted(f.name for f in ext.path.glob("restart.*")),
                          restart_step(ext.path / END_RESTART))
    _run(ext, [60, 150])
    checks["after_150"] = {f.name: restart_step(f) for f in ext.path.glob("restart.*")}
    _run(ext, [150, 230])
    ref.set_length(230)
    _run(ref, [230])
    return ext, ref, checks


def _thermo(rd):
    spec = load_run_spec(rd.path)
    return parse_thermo_pieces([f.read_text() for f in spec.logs])


def _frames(rd):
    spec = load_run_spec(rd.path)
    return read_frames(spec.data_file, spec.trajectory, type_map=spec.type_map)[0]


def test_a_run_shorter_than_restart_every_leaves_an_end_restart(runs):
    _, _, checks = runs
    names, step = checks["after_60"]
    assert names == [END_RESTART] and step == 60     # no restart.a/b below 100 steps
    assert checks["after_150"] == {"restart.a": 100, END_RESTART: 150}


def test_each_extension_resumes_from_the_end_of_the_last_piece(runs):
    ext, _, _ = runs
    assert ext.status["pieces"] == 3 and ext.status["resumed_from"] == END_RESTART
    # piece k starts where piece k-1 ended: none was deleted, no step ran twice
    starts = [int(parse_thermo(ext.piece(k)["log"].read_text())["Step"][0]) for k in range(3)]
    assert starts == [0, 60, 150]
    assert [p.name for p in load_run_spec(ext.path).trajectory] == [
        "traj.0.dcd", "traj.1.dcd", "traj.2.dcd"]


def test_extended_run_equals_one_run_straight_to_its_end(runs):
    ext, ref, _ = runs
    got, want = _thermo(ext), _thermo(ref)
    # the straight run's rows, every one of them, with the same values to the last bit
    np.testing.assert_array_equal(want["Step"], np.arange(0, 231, 10))
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    got, want = _frames(ext), _frames(ref)
    np.testing.assert_array_equal(got.steps, np.arange(0, 231, 10))
    np.testing.assert_array_equal(got.steps, want.steps)
    assert got.starts == (0,)                 # each seam frame matched its repeat
    np.testing.assert_array_equal(got.boxes, want.boxes)
    # NpT frames are written wrapped, and a resumed piece puts the atoms back in the box
    # at its start, where the straight run does so at its next neighbour list: the same
    # positions, some a whole box length apart (a 7.4 A jump, never a small difference)
    lengths = np.diagonal(want.boxes, axis1=1, axis2=2)[:, None, :]    # orthogonal cells
    diff = got.positions - want.positions
    images = np.round(diff / lengths)
    assert np.abs(diff - images * lengths).max() < 1e-5
    np.testing.assert_array_equal(np.where(images == 0, diff, 0.0), 0.0)


def test_an_end_restart_cut_short_is_passed_over(runs, tmp_path):
    """A kill while LAMMPS writes the end restart (the template writes it aside and renames
    it; a file cut short anyway) leaves the periodic one to resume from."""
    ext, _, _ = runs
    assert newest_restart(ext).name == END_RESTART
    end = ext.path / END_RESTART
    whole = end.read_bytes()
    try:
        end.write_bytes(whole[: len(whole) // 2])
        assert not restart_complete(end)
        assert newest_restart(ext).name in ("restart.a", "restart.b")
    finally:
        end.write_bytes(whole)


def test_goal_extensions_end_on_frames_not_restart_intervals(tmp_path):
    """A goal campaign's 0.2 ps extension (1 fs steps) of a 1500-step run: 200 steps with
    the presets' end restart (was rounded up to the 500-step restart interval: 500); a
    template without it keeps the restart grid its extensions resume from."""
    preset = SimpleNamespace(protocol=_proto(restart_every=500, dump_every=20))
    assert writes_end_restart(preset.protocol)
    assert _end_step(preset, 1500, 0.2) == 1700
    assert _end_step(preset, 1500, 0.3) == 1800       # 300 steps, not 301 rounded up
    assert _end_step(preset, 1500, 0.21) == 1720      # up to the next frame
    assert _end_step(preset, 0, 1.0) == 1000
    template = tmp_path / "no_end_restart.lmp"
    text = (INPUTS / "md.lmp").read_text()
    template.write_text("\n".join(ln for ln in text.splitlines() if "restart.end" not in ln))
    custom = SimpleNamespace(protocol=_proto(restart_every=500, dump_every=20,
                                             template=str(template)))
    assert not writes_end_restart(custom.protocol)
    assert _end_step(custom, 1500, 0.2) == 2000
    assert _end_step(custom, 1500, 1.2) == 3000


@pytest.fixture(scope="module")
def off_grid(tmp_path_factory):
    """A run whose end (155) falls between frames (every 10 steps), extended to 230."""
    tmp = tmp_path_factory.mktemp("end_off_grid")
    model = morse_model(tmp / "morse.pt")
    (ext,) = plan_runs(_proto(duration_ps=0.155), fcc_cell(), model, tmp / "extended",
                       name="fcc")
    (ref,) = plan_runs(_proto(duration_ps=0.23), fcc_cell(), model, tmp / "straight",
                       name="fcc")
    _run(ext, [155, 230])
    _run(ref, [230])
    return ext, ref


def test_an_end_between_frames_resumes_from_the_periodic_restart(off_grid):
    """Resumed at 155, the next piece's first frame (160) would not repeat the last one
    (150) the pieces are joined at ('trajectory gap'): restart.a (100) is taken, as
    before the end restart, and the run is still the straight one."""
    ext, ref = off_grid
    assert ext.status["resumed_from"] == "restart.a"
    assert int(parse_thermo(ext.piece(1)["log"].read_text())["Step"][0]) == 100
    got, want = _thermo(ext), _thermo(ref)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    got, want = _frames(ext), _frames(ref)
    np.testing.assert_array_equal(got.steps, np.arange(0, 231, 10))
    np.testing.assert_array_equal(got.steps, want.steps)


@pytest.fixture(scope="module")
def retried(tmp_path_factory):
    """A run that fix halt stopped (error soft: LAMMPS goes on with the input, so
    restart.end holds the failed state), retried as ``sweep submit --retry-failed`` does
    (RunDir.reset), the retry killed before its first restart file, then run again."""
    tmp = tmp_path_factory.mktemp("end_retried")
    proto = short("stability", temperatures=(300.0,), temperature_end=None, duration_ps=3.0,
                  halt_volume_change=0.01, halt_check_every=10, tdamp_fs=50.0,
                  pdamp_fs=200.0, restart_every=100000, relax=False)
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp / "morse.pt"), tmp / "out",
                      name="fcc")
    first = execute(rd)
    first_rows = parse_thermo(rd.piece(0)["log"].read_text())
    end_step = restart_step(rd.path / END_RESTART)
    rd.reset()
    proc = launch(rd)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    while process_group_alive(proc.pid):
        time.sleep(0.05)
    again = execute(rd)
    return rd, first, first_rows, end_step, again


def test_a_retry_never_resumes_from_the_failed_end_state(retried):
    rd, first, first_rows, end_step, again = retried
    assert first["failure_mode"] == "volume_change" and end_step == first["failed_step"]
    # killed before any restart file of its own, the retry starts over, as before
    # restart.end; it resumed from the failed state instead (killed here, before its log:
    # refused, 'log.0.lammps is missing'; killed at step 20: resumed at 60, failed at 190)
    assert again["resumed_from"] is None and again["pieces"] == 1
    assert again["failure_mode"] == "volume_change"
    assert again["failed_step"] == first["failed_step"]
    rows = parse_thermo(rd.piece(0)["log"].read_text())
    for name in first_rows:
        np.testing.assert_array_equal(rows[name], first_rows[name], err_msg=name)


def test_a_copied_folder_resumes_from_the_latest_step_not_the_newest_file(runs, tmp_path):
    """A folder copied without its files' times (``cp -r``: each file dated by when it was
    copied, here restart.a last) is extended from restart.end (230), not restart.a (200):
    before, steps 200-230 ran again."""
    ext, _, _ = runs
    copy = tmp_path / "copied"
    shutil.copytree(ext.path, copy, copy_function=shutil.copyfile)
    assert {f.name: restart_step(f) for f in copy.glob("restart.*")} == {
        "restart.a": 200, END_RESTART: 230}     # the third piece (from 150) wrote restart.a
    now = time.time_ns()
    for k, name in enumerate((END_RESTART, "restart.a")):      # oldest to newest
        os.utime(copy / name, ns=(now + k * 10**9, now + k * 10**9))
    rd = RunDir.open(copy)
    _run(rd, [230, 260])
    assert rd.status["resumed_from"] == END_RESTART
    assert int(parse_thermo(rd.piece(3)["log"].read_text())["Step"][0]) == 230
    np.testing.assert_array_equal(_frames(rd).steps, np.arange(0, 261, 10))


RUN = "run             $steps upto"


def test_a_piece_stopped_between_frames_keeps_the_last_end_restart(runs, tmp_path):
    """A piece resumed at 60 that the template's timer stops one step in (61, between
    frames, where no later piece can join): its state went over restart.end (60), no
    restart file was left and the run started over from step 0. Now restart.end keeps
    step 60, and the run, run again without the timer, goes on from there: LAMMPS's rows
    those of the straight run."""
    _, ref, _ = runs
    template = tmp_path / "stalls.lmp"
    text = (INPUTS / "md.lmp").read_text()
    # one template for every piece (a launch refuses a changed one): the stall is asked
    # for on the command line (an index variable given by -var wins over the template's)
    stall = ('variable        stall index 0\n'
             'if "$${stall} > 0 && $$(step) > 0" then "timer timeout 0:00:01 every 1" '
             '"shell sleep 1.5"\n')
    template.write_text(text.replace(RUN, stall + RUN))
    (rd,) = plan_runs(_proto(template=str(template)), fcc_cell(), ref.model, tmp_path / "out",
                      name="fcc")
    _run(rd, [60])
    rd.set_length(150)
    stopped = execute(rd, launcher=[shutil.which("lmp"), "-var", "stall", "1"])
    assert stopped["state"] == "interrupted" and stopped["stopped_by"] == "timer timeout"
    log = rd.piece(1)["log"].read_text()
    assert "Wall time limit reached" in log and "Loop time of" in log and " for 1 steps " in log
    assert restart_step(rd.path / END_RESTART) == 60
    assert "resumed from step 60 and wrote no restart file" in stopped["reason"]
    done = execute(rd)
    assert done["state"] == "completed" and done["resumed_from"] == END_RESTART
    assert int(parse_thermo(rd.piece(2)["log"].read_text())["Step"][0]) == 60
    got, want = _thermo(rd), _thermo(ref)
    assert list(got["Step"]) == list(range(0, 151, 10))
    for name in want:
        np.testing.assert_array_equal(got[name], want[name][:16], err_msg=name)


def test_a_retry_deletes_the_end_restart_of_the_failed_run(tmp_path):
    """RunDir.reset (a failed run retried) deleted restart.a/b but kept restart.end (the
    failed state, written after a soft fix halt) and a half-written restart.end.part."""
    (rd,) = plan_runs(_proto(), fcc_cell(), morse_model(tmp_path / "morse.pt"), tmp_path / "out",
                      name="fcc")
    for name in ("restart.a", "restart.end", "restart.end.part"):
        (rd.path / name).write_bytes(b"state of the failed run")
    rd.reset()
    assert not any((rd.path / name).exists()
                   for name in ("restart.a", "restart.end", "restart.end.part"))
