"""A resumed piece that loses atoms at its setup, before it printed any thermo row, run
for real (`lmp` + the plugin, a 32-atom Morse cell, tests/protocol_setup.py).

The killed first piece went on past its restart file (step RESTART_EVERY) to KILLED_AT;
the piece resumed from that restart loses an atom as it starts. The failure is dated at
the restart's step, as LAMMPS itself reads it from the restart file (``read_restart``,
then ``print $(step)``), not after the killed piece's last row (before: 'between step 1500
and step 1510').
"""

from __future__ import annotations

import re

import pytest

from ionmd.protocols import execute, plan_runs
from ionmd.lammps.restart import restart_step
from ionmd.lammps.dcd import dcd_last_step
from lammps_runner import run_lmp
from protocol_setup import fcc_cell, killed_then_resumed_template, morse_model, short

KILLED_AT, RESTART_EVERY = 1500, 1000


def kill_then_lose_at_setup_template(path) -> str:
    """The md template: the first piece ends itself at step KILLED_AT without finishing
    (as a killed run: its restart at RESTART_EVERY, its rows beyond it); a resumed piece
    puts atom 1 far out of the periodic box before its run (as a restart written between
    two reneighborings of an exploding run holds it), which LAMMPS finds lost at setup."""
    return killed_then_resumed_template(path, KILLED_AT,
                                        'if "$$(step) > 0" then "set atom 1 x 1.0e6"')


@pytest.fixture(scope="module")
def lost_at_setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("setup_loss")
    model = morse_model(tmp / "morse.pt")
    proto = short("stability", temperatures=(300.0,), temperature_end=2100.0, duration_ps=4.0,
                  relax=False, ensemble="nvt", halt_volume_change=None,
                  restart_every=RESTART_EVERY,
                  template=kill_then_lose_at_setup_template(tmp / "t.lmp"))
    (rd,) = plan_runs(proto, fcc_cell(), model, tmp / "out", name="fcc")
    first = execute(rd)
    second = execute(rd)
    return rd, proto, first, second


def lammps_restart_step(folder, restart: str) -> int:
    """The step LAMMPS restores from ``restart`` (read_restart, then print $(step)), run
    in a folder of its own."""
    out = run_lmp(f"read_restart {folder / restart}\nprint \"RESTART_STEP $(step)\"\n",
                  folder.parent / f"read_{restart}").stdout
    return int(re.search(r"^RESTART_STEP (\d+)", out, re.M).group(1))


def own_rows(text: str) -> list[tuple[int, float]]:
    """(step, temp) of the 9-column thermo rows of an ionmd md log, read here."""
    return [(int(p[0]), float(p[2])) for p in (ln.split() for ln in text.splitlines())
            if len(p) == 9 and p[0].isdigit()]


def test_the_runs_are_what_the_test_needs(lost_at_setup):
    rd, _, first, second = lost_at_setup
    assert first["state"] == "interrupted" and first["step"] == KILLED_AT, first
    assert own_rows((rd.path / "log.0.lammps").read_text())[-1][0] == KILLED_AT
    log1 = (rd.path / "log.1.lammps").read_text()
    assert "ERROR: Lost atoms" in log1 and own_rows(log1) == []   # lost before any row
    assert second["resumed_from"] in ("restart.a", "restart.b")


def test_restart_step_is_the_one_lammps_restores(lost_at_setup):
    rd, *_ = lost_at_setup
    for name in ("restart.a", "restart.b"):
        if (rd.path / name).is_file():
            assert restart_step(rd.path / name) == lammps_restart_step(rd.path, name)
    assert restart_step(rd.path / "log.0.lammps") is None        # not a restart file


def test_loss_at_a_resumed_setup_is_dated_at_the_restart(lost_at_setup):
    rd, proto, _, status = lost_at_setup
    start = lammps_restart_step(rd.path, status["resumed_from"])
    assert start == RESTART_EVERY < KILLED_AT
    assert status["state"] == "failed" and status["failure_mode"] == "lost_atoms", status
    assert status["failed_step"] == start and status["step"] == start
    ramp = 300.0 + 1800.0 * start / proto.steps(300.0)
    assert status["failed_temperature_K"] == pytest.approx(ramp)
    assert f"at step {start}" in status["reason"] and "between" not in status["reason"]
    # the last state is the restart's: the killed piece's row at that step
    rows0 = dict(own_rows((rd.path / "log.0.lammps").read_text()))
    assert status["temperature_now_K"] == pytest.approx(rows0[start])


def test_abandoned_frames_after_the_restart_are_cut(lost_at_setup):
    rd, _, _, status = lost_at_setup
    start = lammps_restart_step(rd.path, status["resumed_from"])
    assert dcd_last_step(rd.path / "traj.0.dcd") == start
