"""A template whose LAMMPS ``timer timeout`` ends its run (real ``lmp`` + the plugin, a
32-atom Morse cell): LAMMPS logs ``WARNING: Wall time limit reached``, skips the rest of
the input and exits 0. The run was recorded "interrupted at step N (exit status 0)",
nothing saying that its own timer stopped it nor that it resumes; now its status names the
timer and the restart it resumes from, its run record carries that reason, and running it
again resumes from that restart (and is stopped by the same timer).

References: LAMMPS's own log (its warning, its ``New timer settings`` line, its last
thermo row) and the restart file's step (``ionmd.lammps.restart.restart_step``, read from
the file LAMMPS wrote).
"""

from __future__ import annotations

import pytest

from ionmd.analysis.run_records import run_record, stop_text
from ionmd.lammps.restart import restart_step
from ionmd.protocols import execute, plan_runs
from ionmd.protocols.md_input import INPUTS
from protocol_setup import fcc_cell, morse_model, short

RUN = "run             $steps upto"


def _last_row(log: str) -> int:
    rows = [int(p[0]) for p in (ln.split() for ln in log.splitlines())
            if len(p) == 9 and p[0].isdigit()]
    return rows[-1]


@pytest.fixture(scope="module")
def timed_out(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("timer_timeout")
    text = (INPUTS / "md.lmp").read_text()
    assert RUN in text
    template = tmp / "timed.lmp"
    # the third piece's stall (fixture `stalled`) asked for on the command line: one
    # template for every piece (a launch refuses a changed one)
    template.write_text(text.replace(RUN, "timer           timeout 0:00:02 every 1\n"
                                     "variable        stall index 0\n"
                                     'if "$${stall} > 0" then "timer timeout 0:00:01 every 1" '
                                     '"shell sleep 2"\n' + RUN))
    # 400 ps: far more steps than two pieces of 2 s run (a quiet machine ran 11,000 of this
    # cell's steps in 2 s: 20 ps let the second piece finish); a restart file every 20 steps
    proto = short("conductivity", temperatures=(600.0,), duration_ps=400.0, discard_ps=0.0,
                  restart_every=20, template=str(template))
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp / "morse.pt"), tmp / "out",
                      name="fcc")
    first = execute(rd)
    log0 = (rd.path / "log.0.lammps").read_text()
    resumed_from = rd.path / first["reason"].split("resume from ")[1].split(" ")[0]
    resumed_step = restart_step(resumed_from)
    second = execute(rd)
    return rd, first, log0, resumed_step, second


def test_the_timer_is_named_and_the_run_resumable(timed_out):
    rd, status, log, resumed_step, _ = timed_out
    assert "WARNING: Wall time limit reached" in log and "timeout=00:00:02" in log
    step = _last_row(log)
    assert 0 < step < rd.target_step
    assert status["state"] == "interrupted" and status["resumable"]
    assert status["step"] == step
    assert status["stopped_by"] == "timer timeout"
    reason = status["reason"]           # was "interrupted at step N (exit status 0); ..."
    assert "timer timeout 00:00:02" in reason and "Wall time limit reached" in reason
    assert f"step {resumed_step})" in reason and 0 < resumed_step <= step
    rec = run_record({"run": str(rd.path)}, status)
    assert rec["reason"] == reason and rec["resumable"] is True
    assert stop_text(rec) == "interrupted (resumable)"


def test_running_it_again_resumes_from_the_restart(timed_out):
    rd, _, _, resumed_step, status = timed_out
    assert status["pieces"] == 2 and status["state"] == "interrupted"
    log1 = (rd.path / "log.1.lammps").read_text()
    assert "Reading restart file" in log1
    rows = [int(p[0]) for p in (ln.split() for ln in log1.splitlines())
            if len(p) == 9 and p[0].isdigit()]
    assert rows[0] == resumed_step and status["step"] == rows[-1] > resumed_step


@pytest.fixture(scope="module")
def timed_out_relaxing(tmp_path_factory):
    """A template whose timer fires in the relaxation (1 s limit, 2 s asleep before it)."""
    tmp = tmp_path_factory.mktemp("timer_relaxation")
    text = (INPUTS / "md.lmp").read_text()
    template = tmp / "timed.lmp"
    template.write_text(text.replace(
        "$prepare", "timer           timeout 0:00:01 every 1\nshell sleep 2\n$prepare"))
    proto = short("conductivity", temperatures=(600.0,), duration_ps=2.0, discard_ps=0.0,
                  relax=True, restart_every=20, template=str(template))
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp / "morse.pt"), tmp / "out",
                      name="fcc")
    return rd, execute(rd)


def test_a_timer_that_ends_the_relaxation_is_named(timed_out_relaxing):
    """Was 'failed' (not resumable) for a template whose thermo output 'gives no thermo
    row ionmd reads': the MD that LAMMPS skipped printed none."""
    rd, status = timed_out_relaxing
    log = (rd.path / "log.0.lammps").read_text()
    # LAMMPS's own account: the minimisation stopped by the timer, no MD loop after it
    assert "Stopping criterion = walltime limit reached" in log
    assert log.count("Loop time of") == log.count("Minimization stats:") >= 1
    assert status["state"] == "interrupted" and status["resumable"]
    assert status["stopped_by"] == "timer timeout" and status["step"] == 0
    reason = status["reason"]
    assert "relaxation's minimisation" in reason and "timer timeout 00:00:01" in reason
    assert "thermo output" not in reason


@pytest.fixture(scope="module")
def stalled(timed_out):
    """A third piece of the timed-out run whose timer fires at its run's first steps (the
    template now sleeps past its 1 s limit): no restart file after the one it resumed from."""
    import shutil

    rd = timed_out[0]
    return rd, execute(rd, launcher=[shutil.which("lmp"), "-var", "stall", "1"])


def test_a_resumed_piece_stopped_before_its_first_restart_is_not_progress(stalled):
    """Was 'resumable: run again to resume from restart.X': the same restart it had
    resumed from, where the same timer stops it again."""
    rd, status = stalled
    log = (rd.path / "log.2.lammps").read_text()
    rows = [int(p[0]) for p in (ln.split() for ln in log.splitlines())
            if len(p) == 9 and p[0].isdigit()]
    start = rows[0]                      # LAMMPS's first row: the restart's step
    assert "WARNING: Wall time limit reached" in log
    assert rows[-1] - start < rd.protocol.restart_every          # no restart after it
    assert status["state"] == "interrupted" and status["stopped_by"] == "timer timeout"
    reason = status["reason"]
    assert f"resumed from step {start} and wrote no restart file" in reason
    assert "stops the same way" in reason and "resumable: run again" not in reason
