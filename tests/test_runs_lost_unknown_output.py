"""Atoms lost in a run whose log gives no thermo spacing and no run length (``echo none``,
no ``thermo`` command: LAMMPS prints step 0 and counts atoms next at the run's end), read
for real (``lmp``, 108-atom LJ cell, one atom shot out through a fixed z boundary): the
loss is "after step 0", the output that found it unknown (before: "between step 0 and
step 0", where LAMMPS itself, told to warn, reports it at step 300)."""

from __future__ import annotations

import re

from ionmd.lammps.lost_atoms import find_lost_atoms
from lammps_cells import lj_units_fcc_cell
from lammps_runner import run_lmp

SHOT = "echo none\n" + lj_units_fcc_cell() + """change_box all boundary p p f
velocity all create 1.44 87287 loop geom
group kick id 1
velocity kick set 0 0 -50
fix 1 all nve
thermo_modify lost {lost}
run 300
"""


def test_a_loss_without_spacing_is_not_dated_at_the_last_row(tmp_path):
    warned = run_lmp(SHOT.format(lost="warn"), tmp_path / "warn").stdout
    lammps_step = int(re.search(r"WARNING: Lost atoms.*\n(?:.*\n)*?\s*(\d+)\s", warned).group(1))
    assert lammps_step == 300
    run_lmp(SHOT.format(lost="error"), tmp_path / "error", check=False)
    log = (tmp_path / "error" / "log.lammps").read_text()
    assert "ERROR: Lost atoms" in log and "\nthermo" not in log          # nothing echoed
    lost = find_lost_atoms(log)
    assert lost.after_row == 0
    assert lost.when == ("after step 0 (the output that found them is unknown: the log gives "
                         "neither its thermo spacing nor its run's length)")
    # with the run's length known, the step LAMMPS found them at
    assert find_lost_atoms(log, run_end=300).step == lammps_step
