"""What a run used counts toward a campaign's budget, whatever became of its logs (real
``lmp`` + the plugin, a 32-atom Morse cell relaxed, then MD):

* a piece killed (SIGKILL, an actual killed process) before its first restart file is
  deleted when the run starts over: its compute was gone from the budget (``spent``
  undercounted, the budget overspent silently); now ``status.json`` keeps it
  (``discarded_core_seconds``, ``discarded_md_steps``);
* the relaxation's minimisation is compute a budget pays: ``used_core_seconds`` (what
  ``goal.measure`` spends) counts every loop, the MD's and the minimisation's.

References: LAMMPS's own ``Loop time`` lines and thermo rows (of a copy of the killed
piece's log, taken before the run started over), and the wall clock of the killed
process as this test measured it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import time

import pytest

from ionmd.lammps.process import process_group_alive
from ionmd.protocols import execute, plan_runs
from ionmd.protocols.execute import launch
from ionmd.sweep.cost import used_core_seconds
from protocol_setup import fcc_cell, morse_model, short

LOOP = re.compile(r"Loop time of (\S+) on (\d+) procs for (\d+) steps")
RELAXED = re.compile(r"^IONMD_RELAX (converged|NOT converged) after (\d+) round", re.M)
"""The relaxation's last line (its rounds: an atoms-only minimisation, then atoms and cell)."""


def _loops(text: str) -> list[tuple[float, int, int, bool]]:
    """(seconds, procs, steps, a minimisation's) of each loop line LAMMPS printed."""
    found = list(LOOP.finditer(text))
    return [(float(m[1]), int(m[2]), int(m[3]),
             "Minimization stats:" in text[m.end():(found[k + 1].start()
                                                  if k + 1 < len(found) else len(text))])
            for k, m in enumerate(found)]


def _rows(text: str) -> list[int]:
    """Steps of the thermo rows after the relaxation's last line (the MD's)."""
    after = text[RELAXED.search(text).end():]
    return [int(p[0]) for p in (ln.split() for ln in after.splitlines())
            if len(p) == 9 and p[0].isdigit()]


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("killed_piece")
    proto = short("conductivity", temperatures=(600.0,), duration_ps=6.0, discard_ps=0.0,
                  relax=True, restart_every=100000, thermo_every=10)
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp / "morse.pt"), tmp / "out",
                      name="fcc")
    log = rd.piece(0)["log"]
    t0 = time.time()
    proc = launch(rd)
    while not (log.is_file() and len(_rows_or_none(log)) > 30):
        assert proc.poll() is None, "the piece ended before it could be killed"
        time.sleep(0.05)
    t_seen = time.time()
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    t_kill = time.time()
    while process_group_alive(proc.pid) and time.time() < t_kill + 10:   # its children
        time.sleep(0.05)
    shutil.copy(log, tmp / "killed.log")
    status = execute(rd)            # records the kill, starts over (no restart), runs on
    return rd, status, (tmp / "killed.log").read_text(), (t0, t_seen, t_kill)


def _rows_or_none(log) -> list[int]:
    text = log.read_text(errors="replace")
    return _rows(text) if RELAXED.search(text) else []


def test_the_killed_piece_is_kept_in_the_status(killed):
    rd, status, killed_log, (t0, t_seen, t_kill) = killed
    assert status["state"] == "completed" and status["pieces"] == 1    # started over
    assert "Loop time" in killed_log and not (rd.path / "restart.a").exists()
    rows = _rows(killed_log)
    assert status["discarded_md_steps"] == rows[-1] - rows[0] > 0      # was absent
    minimisation = [s for s, _, _, m in _loops(killed_log) if m]
    # the relaxation's minimisations (two a round), no MD loop: killed in the MD
    rounds = int(RELAXED.search(killed_log)[2])
    assert len(minimisation) == len(_loops(killed_log)) == 2 * rounds
    used = status["discarded_core_seconds"]
    assert sum(minimisation) < used <= (t_kill - t0) + 0.05
    assert used >= 0.5 * (t_seen - t0)


def test_budget_counts_all_compute(killed):
    rd, status, _, _ = killed
    text = rd.piece(0)["log"].read_text()
    loops = _loops(text)
    md = [(s, p, n) for s, p, n, m in loops if not m]
    # the relaxation (two minimisations a round), then the MD
    rounds = int(RELAXED.search(text)[2])
    assert [m for *_, m in loops] == [True] * (2 * rounds) + [False]
    assert md[0][2] == rd.planned_steps
    # every loop (the minimisation's too) and the killed piece, whatever the MD's rate
    every_loop = sum(s * p for s, p, _, _ in loops)
    for per_step in (None, 1e3):
        assert used_core_seconds(rd.path, per_step) == pytest.approx(
            every_loop + status["discarded_core_seconds"], rel=1e-9)
