"""Lost atoms in a piece resumed by hand without a ``thermo`` command of its own, run for
real (rock-salt NaCl, tests/failure_nacl_runs.py): LAMMPS keeps no thermo setting across
processes, so the piece runs under ``thermo 0``, prints its first row only and counts
atoms at its last step. An atom kicked out at step 1123 is found lost at step 1500, the
run's end, as the piece's ``fix print`` of every step shows (its last line).

Before, find_lost_atoms took the spacing of piece 1's rows (50) and dated the loss at 550,
before the atom was even kicked.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from failure_nacl_runs import HEAD, POTENTIAL, nacl_dir
from ionmd.lammps.lost_atoms import find_lost_atoms
from lammps_runner import lammps_cmd
from test_analysis_resumed_hand_runs import DUMP, END, KICK, KICKED, RESTART, piece_one

PIECE_TWO = ("fix 1 all nvt temp 1400 1400 0.1\n" + KICKED
             + 'fix p all print 1 "AT $(step)" file steps.txt screen no\n' + f"run {END} upto\n")


@pytest.fixture(scope="module", params=["own_log", "appended"])
def run(request, tmp_path_factory):
    """Piece 1 (thermo 50, 0 -> 800, restarts every 500), then piece 2 from the restart of
    step 500 with no ``thermo``, in a log of its own or appended to piece 1's."""
    folder = nacl_dir(tmp_path_factory.mktemp("thermo_off") / "nacl", temperature_K=1000.0,
                      dump_every=DUMP)
    piece_one(folder)
    script = HEAD.format(start=f"read_restart md.restart.{RESTART}", potential=POTENTIAL,
                         dt=0.001) + PIECE_TWO
    appended = request.param == "appended"
    if appended:
        script = "log log.lammps append\n" + script
    (folder / "in.2.lmp").write_text(script)
    subprocess.run(lammps_cmd() + ["-in", "in.2.lmp", "-log",
                                   "none" if appended else "log.lammps.1"],
                   cwd=folder, env={**os.environ, "OMP_NUM_THREADS": "1"},
                   capture_output=True, text=True, timeout=600)
    logs = ["log.lammps"] + ([] if appended else ["log.lammps.1"])
    return [(folder / name).read_text() for name in logs], folder


def lammps_own_step(folder) -> int:
    """The step at which LAMMPS stopped: the last one its fix print wrote."""
    return int((folder / "steps.txt").read_text().split()[-1])


def test_the_loss_is_dated_where_lammps_finds_it(run):
    texts, folder = run
    assert "ERROR: Lost atoms" in texts[-1]
    found = find_lost_atoms(texts)
    assert found.step == lammps_own_step(folder) == END > KICK
    assert found.after_row == RESTART and found.restart_file == f"md.restart.{RESTART}"
