"""Failed runs resumed in pieces, run for real (`lmp` + the plugin, a 32-atom Morse cell,
tests/protocol_setup.py): what status.json and `ionmd analyze` say about them, against the
LAMMPS logs read here with a parser of our own.

A killed piece goes on past its last restart file; the piece resumed from it runs those
steps again on another trajectory. A failure in the resumed piece happens at its steps,
at the temperature of that step, not where the killed piece's rows ended.
"""

from __future__ import annotations

import json

import pytest

from ionmd.cli import main
from ionmd.protocols import execute, plan_runs
from protocol_setup import fcc_cell, killed_then_resumed_template, morse_model, short

KILLED_AT, RESTART_EVERY = 1500, 1000


@pytest.fixture(scope="module")
def morse(tmp_path_factory):
    return morse_model(tmp_path_factory.mktemp("morse") / "morse.pt")


def own_rows(text: str) -> list[tuple[int, float]]:
    """(step, temp) of the thermo rows of an ionmd md log, read here: the rows of 9
    numbers after a ``Step Time Temp`` header."""
    rows, inside = [], False
    for line in text.splitlines():
        parts = line.split()
        if parts[:3] == ["Step", "Time", "Temp"]:
            inside = True
        elif inside and len(parts) == 9 and parts[0].isdigit():
            rows.append((int(parts[0]), float(parts[2])))
        elif parts:
            inside = False
    return rows


def kill_then_explode_template(path) -> str:
    """The md template, with the first piece ending itself at step KILLED_AT without
    finishing (as a killed run: its restart at RESTART_EVERY, its rows beyond it), and in
    a resumed piece one atom kicked at step 1043 by a force that sends it many box
    lengths in a step (LAMMPS loses it)."""
    return killed_then_resumed_template(
        path, KILLED_AT, 'variable        kick equal (step>=1043)*1.0e5\n'
                         'if "$$(step) > 0" then "group one id 1" "fix kick one addforce v_kick '
                         '0.0 0.0"')


@pytest.fixture(scope="module")
def exploded(tmp_path_factory, morse):
    tmp = tmp_path_factory.mktemp("pieces")
    proto = short("stability", temperatures=(300.0,), temperature_end=2100.0, duration_ps=4.0,
                  relax=False, ensemble="nvt", halt_volume_change=None,
                  restart_every=RESTART_EVERY, template=kill_then_explode_template(tmp / "t.lmp"))
    (rd,) = plan_runs(proto, fcc_cell(), morse, tmp / "out", name="fcc")
    first = execute(rd)
    second = execute(rd)
    return rd, proto, first, second


def test_the_runs_are_what_the_test_needs(exploded):
    rd, proto, first, second = exploded
    assert first["state"] == "interrupted" and first["step"] == KILLED_AT, first
    assert second["state"] == "failed" and second["failure_mode"] == "lost_atoms", second
    rows0 = own_rows((rd.path / "log.0.lammps").read_text())
    rows1 = own_rows((rd.path / "log.1.lammps").read_text())
    assert rows0[-1][0] == KILLED_AT and rows1[0][0] == RESTART_EVERY
    assert rows1[-1][0] < KILLED_AT       # it exploded before the killed piece's last row


def test_status_dates_the_loss_in_the_resumed_piece(exploded):
    rd, proto, _, status = exploded
    rows1 = own_rows((rd.path / "log.1.lammps").read_text())
    last = rows1[-1][0]
    assert status["step"] == last
    assert status["failed_step"] == last + proto.thermo_every
    ramp = 300.0 + 1800.0 * status["failed_step"] / proto.steps(300.0)
    assert status["failed_temperature_K"] == pytest.approx(ramp)
    assert f"between step {last} and step {last + proto.thermo_every}" in status["reason"]
    assert status["temperature_now_K"] == pytest.approx(rows1[-1][1])


def test_analysis_dates_the_loss_in_the_resumed_piece(exploded):
    rd, proto, _, status = exploded
    rows1 = own_rows((rd.path / "log.1.lammps").read_text())
    assert main(["analyze", str(rd.path), "--failures-only"]) in (0, None)
    report = json.loads((rd.path / "analysis" / "failure.json").read_text())
    lost = next(e for e in report["events"] if e["mode"] == "lost_atoms")
    assert lost["step"] == status["failed_step"] == rows1[-1][0] + proto.thermo_every
    assert lost["time_ps"] == pytest.approx(lost["step"] * proto.timestep_fs * 1e-3)
    # the thermo temperature of the last row before it: the resumed piece's; the ramp's
    # target at that step
    assert lost["temperature_K"] == pytest.approx(rows1[-1][1])
    ramp = 300.0 + 1800.0 * lost["step"] / proto.steps(300.0)
    assert lost["target_temperature_K"] == pytest.approx(ramp)
    assert report["run_end_step"] == lost["step"]


def test_loss_in_an_earlier_piece_is_dated_in_that_piece(tmp_path):
    """NaCl (tests/failure_nacl_runs.py) losing an atom in its first log (one atom kicked
    at step 623), then resumed by hand from the restart of step 500 and run on to step
    1500 without the kick: the loss is where the first log's rows end, not the run's."""
    from failure_nacl_runs import analyze, lmp, nacl_dir

    run = nacl_dir(tmp_path / "nacl", temperature_K=1000.0, dump_every=50,
                   trajectory=["md.0.dcd", "md.1.dcd"], logs=["log.0.lammps", "log.1.lammps"])
    lmp(run, "velocity all create 1000 12345 mom yes rot no dist gaussian\n"
             "fix 1 all nvt temp 1000 1000 0.1\nthermo 20\ndump traj all dcd 50 md.0.dcd\n"
             "restart 500 md.restart\nvariable kick equal (step>=623)*1.0e5\n"
             "group one id 1\nfix kick one addforce v_kick 0.0 0.0\nrun 1000\n",
        log="log.0.lammps", check=False)
    lmp(run, "fix 1 all nvt temp 1000 1000 0.1\nthermo 20\ndump traj all dcd 50 md.1.dcd\n"
             "run 1500 upto\n", restart="md.restart.500", log="log.1.lammps")
    log0 = (run / "log.0.lammps").read_text()
    assert "ERROR: Lost atoms" in log0
    rows0 = own_rows_nacl(log0)
    report = analyze(run)
    lost = next(e for e in report["events"] if e["mode"] == "lost_atoms")
    assert lost["step"] == rows0[-1][0] + 20 < 1000
    assert lost["time_ps"] == pytest.approx(lost["step"] * 1e-3)
    assert report["run_end_step"] == 1500


def own_rows_nacl(text: str) -> list[tuple[int, float]]:
    """(step, temp) of the 9-column thermo rows of tests/failure_nacl_runs.py's logs."""
    return [(int(p[0]), float(p[2])) for p in (ln.split() for ln in text.splitlines())
            if len(p) == 9 and p[0].isdigit()]
