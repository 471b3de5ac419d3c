"""Runs resumed by hand from a restart file, and lost atoms dated as LAMMPS finds them,
run for real: rock-salt NaCl (tests/failure_nacl_runs.py, seconds a run) and the 32-atom
Morse cell of the protocol tests (tests/protocol_setup.py).

A user runs piece 1 (killed after its restart file of step 500, it went on to step 800),
then piece 2 from that restart, its log appended to the same ``log.lammps`` (``log
log.lammps append``) or in a log of its own; piece 2 runs at another thermostat target,
so that its rows differ from the abandoned ones. What ``ionmd analyze`` reports (thermo
series, frames, failure step) is checked against the logs and DCD files read here with
parsers of our own, and against the step at which LAMMPS itself finds the atoms lost (the
same input run with ``thermo 1``).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from failure_nacl_runs import HEAD, POTENTIAL, analyze, lmp, nacl_dir
from lammps_runner import lammps_cmd

RESTART, KILLED_AT, END, KICK = 500, 800, 1500, 1123
THERMO, DUMP = 50, 100


def own_rows(text: str) -> list[list[tuple[int, float]]]:
    """(step, temp) of the 9-column thermo rows of each piece of a NaCl log, read here: a
    piece starts at the log's top and at each ``read_restart``."""
    pieces = [[]]
    for line in text.splitlines():
        parts = line.split()
        if parts[:1] == ["read_restart"]:
            pieces.append([])
        elif len(parts) == 9 and parts[0].isdigit():
            pieces[-1].append((int(parts[0]), float(parts[2])))
    return [p for p in pieces if p]


def first_lost_step(text: str) -> int:
    """The step of the last row before LAMMPS's 'Lost atoms' in a ``thermo 1`` run: the
    first step at which it finds them lost is the next one."""
    before = text[:text.index("ERROR: Lost atoms")]
    return [int(p[0]) for p in (ln.split() for ln in before.splitlines())
            if len(p) == 9 and p[0].isdigit()][-1] + 1


def piece_one(run, *, log="log.lammps"):
    """0 -> KILLED_AT at 1000 K, restart files every RESTART steps (a killed run)."""
    lmp(run, "velocity all create 1000 12345 mom yes rot no dist gaussian\n"
             f"fix 1 all nvt temp 1000 1000 0.1\nthermo {THERMO}\n"
             f"dump traj all dcd {DUMP} md.0.dcd\nrestart {RESTART} md.restart\n"
             f"run {KILLED_AT}\n", log=log)


PIECE_TWO = (f"fix 1 all nvt temp 1400 1400 0.1\nthermo {{thermo}}\n"
             f"dump traj all dcd {DUMP} md.1.dcd\n{{extra}}run {END} upto\n")
KICKED = (f"variable kick equal (step>={KICK})*1.0e5\ngroup one id 1\n"
          f"fix kick one addforce v_kick 0.0 0.0\n")


def piece_two(run, *, thermo=THERMO, extra=KICKED, append=True, log="log.lammps.1"):
    """From the restart of step RESTART to END at 1400 K; ``append``: its log appended to
    ``log.lammps`` by the ``log`` command (else its own ``log``)."""
    head = HEAD.format(start=f"read_restart md.restart.{RESTART}", potential=POTENTIAL,
                       dt=0.001)
    script = head + PIECE_TWO.format(thermo=thermo, extra=extra)
    if append:
        script = "log log.lammps append\n" + script
    (run / "in.2.lmp").write_text(script)
    subprocess.run(lammps_cmd() + ["-in", "in.2.lmp", "-log", "none" if append else log],
                   cwd=run, env={**os.environ, "OMP_NUM_THREADS": "1"},
                   capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module", params=[THERMO, 400])
def appended(request, tmp_path_factory):
    """Piece 2 (a row every ``request.param`` steps) appended to piece 1's log.lammps; an
    atom kicked out at step KICK. With 400 its rows are at 500 (the restart's step) and
    800 only before the loss: the spacing is not the one between them."""
    run = nacl_dir(tmp_path_factory.mktemp("appended") / "nacl", temperature_K=1000.0,
                   dump_every=DUMP, trajectory=["md.0.dcd", "md.1.dcd"], logs=["log.lammps"])
    piece_one(run)
    piece_two(run, thermo=request.param)
    # LAMMPS's own step of the loss: piece 2 again, a row every step
    ref = tmp_path_factory.mktemp("thermo1") / "nacl"
    shutil.copytree(run, ref)
    (ref / "log.lammps").unlink()
    piece_two(ref, thermo=1, append=False, log="log.lammps")
    return run, first_lost_step((ref / "log.lammps").read_text()), request.param


def test_the_runs_are_what_the_test_needs(appended):
    run, lost_at, every = appended
    text = (run / "log.lammps").read_text()
    one, two = own_rows(text)
    assert one[-1][0] == KILLED_AT and two[0][0] == RESTART and "ERROR: Lost atoms" in text
    assert KICK < lost_at < two[-1][0] + every     # found at the thermo output after it
    # the resumed rows differ from the abandoned ones at the same steps
    assert dict(one)[KILLED_AT] != pytest.approx(dict(two)[KILLED_AT], rel=1e-3)


def test_appended_log_thermo_is_the_resumed_run(appended):
    from ionmd.analysis.run_inputs import read_logs
    from ionmd.analysis.run_spec import load_run_spec

    run, _, _ = appended
    one, two = own_rows((run / "log.lammps").read_text())
    thermo, _ = read_logs(load_run_spec(run))
    want = [r for r in one if r[0] < RESTART] + two
    assert thermo["Step"].tolist() == [s for s, _ in want]
    assert np.allclose(thermo["Temp"], [t for _, t in want])


def test_appended_log_loss_is_dated_where_lammps_finds_it(appended):
    run, lost_at, every = appended
    one, two = own_rows((run / "log.lammps").read_text())
    lost = next(e for e in analyze(run)["events"] if e["mode"] == "lost_atoms")
    # the first thermo output at or after LAMMPS's own loss step (thermo at multiples)
    assert lost["step"] == math.ceil(lost_at / every) * every
    assert lost["temperature_K"] == pytest.approx(two[-1][1])      # piece 2's last row


def test_appended_frames_are_the_resumed_run(appended):
    """Frames after the restart are piece 2's (md.1.dcd, read with MDAnalysis: a frame
    every DUMP steps from the restart's), not the abandoned ones of md.0.dcd."""
    import MDAnalysis as mda

    from ionmd.analysis.run_inputs import run_frames
    from ionmd.analysis.run_spec import load_run_spec

    run, _, _ = appended
    frames, _, _ = run_frames(load_run_spec(run))

    def dcd(name):
        u = mda.Universe(str(run / "struct.data"), str(run / name), format="LAMMPS",
                         atom_style="id type q x y z")
        return [ts.positions.copy() for ts in u.trajectory]

    one, two = dcd("md.0.dcd"), dcd("md.1.dcd")
    steps = list(range(0, RESTART, DUMP)) + [RESTART + DUMP * k for k in range(len(two))]
    assert frames.steps.tolist() == steps
    at = steps.index(700)
    assert np.abs(frames.positions[at] - two[(700 - RESTART) // DUMP]).max() < 1e-3
    assert np.abs(frames.positions[at] - one[700 // DUMP]).max() > 0.1


# ---- a protocol run whose template prints thermo rows less often than thermo_every

TEMPLATE_THERMO, MORSE_KICK = 50, 123


@pytest.fixture(scope="module")
def sparse_rows(tmp_path_factory):
    """``ionmd run`` (stability, thermo_every 10) on a template that sets ``thermo 50``
    and kicks atom 1 out of the box at step MORSE_KICK; and LAMMPS's own step of the loss
    (the run's input again, with ``thermo 1``)."""
    from ionmd.protocols import execute, plan_runs
    from ionmd.protocols.md_input import INPUTS
    from protocol_setup import fcc_cell, morse_model, short

    tmp = tmp_path_factory.mktemp("sparse")
    template = tmp / "t.lmp"
    template.write_text((INPUTS / "md.lmp").read_text().replace(
        "$ensemble", f"$ensemble\nthermo {TEMPLATE_THERMO}\n"
                     + KICKED.replace(str(KICK), str(MORSE_KICK))))
    proto = short("stability", temperatures=(300.0,), relax=False, ensemble="nvt",
                  halt_volume_change=None, thermo_every=10, dump_every=TEMPLATE_THERMO,
                  template=str(template))
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp / "morse.pt"), tmp / "out", name="fcc")
    status = execute(rd)
    ref = tmp / "ref"
    shutil.copytree(rd.path, ref)
    script = (ref / "in.0.lmp").read_text()
    assert f"\nthermo {TEMPLATE_THERMO}\n" in script
    (ref / "in.0.lmp").write_text(script.replace(f"\nthermo {TEMPLATE_THERMO}\n", "\nthermo 1\n"))
    subprocess.run(lammps_cmd() + ["-in", "in.0.lmp", "-log", "log.ref"], cwd=ref,
                   env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, timeout=600)
    log = (ref / "log.ref").read_text()
    before = log[:log.index("ERROR: Lost atoms")]
    rows = [int(p[0]) for p in (ln.split() for ln in before.splitlines())
            if len(p) == 9 and p[0].isdigit()]
    return rd, status, rows[-1] + 1


def test_status_and_analysis_date_the_loss_where_lammps_finds_it(sparse_rows):
    from ionmd.cli import main

    rd, status, lost_at = sparse_rows
    assert MORSE_KICK < lost_at < MORSE_KICK + TEMPLATE_THERMO
    found = math.ceil(lost_at / TEMPLATE_THERMO) * TEMPLATE_THERMO
    assert status["failure_mode"] == "lost_atoms" and status["failed_step"] == found, status
    assert f"and step {found}" in status["reason"]
    assert main(["analyze", str(rd.path), "--failures-only"]) in (0, None)
    report = (rd.path / "analysis" / "failure.json").read_text()
    lost = next(e for e in json.loads(report)["events"] if e["mode"] == "lost_atoms")
    assert lost["step"] == found


# ---- a piece resumed by hand, in a log of its own, that loses an atom at its setup

@pytest.fixture(scope="module")
def lost_at_setup(tmp_path_factory):
    """Piece 2 in log.lammps.1 puts atom 1 far out of the box after its read_restart:
    LAMMPS stops at its setup, having printed its header and no row (its DCD stays
    empty: the run lists md.0.dcd alone)."""
    run = nacl_dir(tmp_path_factory.mktemp("setup") / "nacl", temperature_K=1000.0,
                   dump_every=DUMP, trajectory=["md.0.dcd"], logs=["log.lammps", "log.lammps.1"])
    piece_one(run)
    piece_two(run, extra="set atom 1 x 1.0e6\n", append=False, log="log.lammps.1")
    # the step LAMMPS restores from the restart file
    out = subprocess.run(lammps_cmd() + ["-log", "none"], cwd=run, text=True,
                         input=f"read_restart md.restart.{RESTART}\nprint \"AT $(step)\"\n",
                         capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"}).stdout
    return run, int(re.search(r"^AT (\d+)", out, re.M).group(1))


def test_loss_at_a_resumed_setup_is_dated_at_its_restart(lost_at_setup):
    run, restored = lost_at_setup
    log1 = (run / "log.lammps.1").read_text()
    assert "ERROR: Lost atoms" in log1 and not own_rows(log1)
    report = analyze(run)
    lost = next(e for e in report["events"] if e["mode"] == "lost_atoms")
    assert lost["step"] == restored == RESTART
    # the run ended there: piece 1's rows and frames after it were abandoned
    assert report["run_end_step"] == RESTART
    assert lost["temperature_K"] == pytest.approx(dict(own_rows(
        (run / "log.lammps").read_text())[0])[RESTART])
