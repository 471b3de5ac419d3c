"""A run that loses an atom between thermo outputs, dumped more often than it prints rows
(real LAMMPS, 64-atom NaCl, one atom fired through a non-periodic face; the thermostat
and the printed temperature are the other atoms'): LAMMPS removes the
atom at its next neighbour-list rebuild and writes the dump's next frame without it, but
stops the run (``ERROR: Lost atoms``) only at its next thermo output. ``ionmd analyze``
refused the whole run ("63 atoms in the dump at step 40 ... cut the dump"), the failure
post-mortem included, which is the analysis such a run needs. Now the frames before the
loss are read and the loss is reported, dated by the first frame without the atom where
the logs date it later; under ``thermo_modify lost ignore`` (no error, the run goes on
without the atom) likewise.

Reference: LAMMPS itself, the same run with ``thermo 1`` (its error after the row of the
step before the loss), and the dump's own atom counts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from failure_nacl_runs import analyze, lmp, nacl_dir

KICK = """change_box all z final -1.0 12.28 boundary p p f units box
velocity all create 1000 42 dist gaussian
group kick id 2
group rest subtract all kick
velocity kick set 0 0 400 units box
fix 1 rest nvt temp 1000 1000 0.1
fix 2 kick nve
compute t_rest rest temp
thermo {thermo}
thermo_modify temp t_rest
{lost}
dump 1 all custom 20 md.dump id type x y z
run 400
"""


def _kicked_run(run_dir: Path, thermo: int, lost: str = "") -> Path:
    nacl_dir(run_dir, reps=(2, 2, 2), temperature_K=1000.0, dump_every=20)
    lmp(run_dir, KICK.format(thermo=thermo, lost=lost), check=False)
    return run_dir


def _lammps_loss_step(tmp_path: Path) -> int:
    """The step at which LAMMPS counts the atom lost with a thermo row at every step."""
    log = (_kicked_run(tmp_path / "every_step", 1) / "log.lammps").read_text()
    before = log.split("ERROR: Lost atoms")[0]
    rows = re.findall(r"^\s+(\d+)\s+\S+\s+\S+", before, re.M)
    return int(rows[-1]) + 1


def _first_short_frame(dump: Path) -> tuple[int, int]:
    """Step and atoms of the first dump frame holding fewer than 64 atoms."""
    text = dump.read_text()
    for step, n in re.findall(r"ITEM: TIMESTEP\n(\d+)\nITEM: NUMBER OF ATOMS\n(\d+)", text):
        if int(n) < 64:
            return int(step), int(n)
    raise AssertionError("the kicked atom was not lost")


@pytest.mark.parametrize("lost", ["", "thermo_modify lost ignore"], ids=["error", "ignore"])
def test_atoms_lost_between_thermo_rows_are_reported(tmp_path, lost):
    truth = _lammps_loss_step(tmp_path)
    run = _kicked_run(tmp_path / "run", 50, lost)
    short_step, n_short = _first_short_frame(run / "md.dump")
    assert truth <= short_step < 50       # the dump shows it before the thermo output

    failure = analyze(run)
    assert failure["modes"] == ["lost_atoms"]
    first = failure["first"]
    # dated by the frame that shows it: after LAMMPS's own count, before its next row
    assert first["step"] == short_step
    assert f"{n_short} atoms of 64" in first["detail"]
    assert first["time_ps"] == pytest.approx(short_step * 1e-3)
