"""Blocks of LAMMPS output that are no MD run's, told by what LAMMPS prints whatever
``echo`` says (real ``lmp`` runs of a 108-atom LJ cell):

* a ``rerun`` of a dump written at every step: its loop line counts the snapshots it read
  (21 for steps 0-20), one more than its rows span, where a run counts the steps its rows
  span; a run stopped early (``fix halt``, the timer's time-out) spans fewer but says so
  first. Before, under ``echo none`` its rows (steps 0-15 again, one temperature)
  superseded the MD's (rows 15-20 lost, the temperatures the rerun's).
* a minimisation stopped by lost atoms prints no statistics: its rows have no kinetic
  energy. Before, under ``echo none`` its rows were the thermo table's and the loss was
  dated between two MD steps; with the command echoed, "at the setup of its run".

References: LAMMPS's own MD rows (``fix print`` during the MD only), the rows of the
minimisation in the same input's log under the default ``echo log`` (where the
``minimize`` command precedes them) and its screen's ``Setting up cg style minimization``.
"""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.lammps.lost_atoms import find_lost_atoms
from ionmd.lammps.thermo_log import parse_thermo, thermo_steps
from lammps_cells import MINIMIZE_PUSHING_ATOM_OUT, lj_units_fcc_cell
from lammps_runner import run_lmp

CELL = lj_units_fcc_cell()
MD_THEN_RERUN = CELL + """velocity all create 1.44 87287 loop geom
fix 1 all nve
thermo 5
fix p all print 5 "MDROW $(step) $(temp:%.12g)" file md_rows.txt screen no
dump d all custom 1 md.dump id type x y z
run 20
unfix p
undump d
variable t equal temp
fix h all halt 1 v_t > 0.1 error continue
run 10 post no
unfix h
timer timeout 0:00:01 every 1
run 100000000 post no
timer timeout off
rerun md.dump last 15 dump x y z
"""
MINIMIZE_LOSES = CELL + MINIMIZE_PUSHING_ATOM_OUT + """reset_timestep 0
unfix push
velocity all create 1.44 87287 loop geom
fix 1 all nve
run 100
"""
ECHO = {"default": "", "none": "echo none\n"}


def _md_rows(folder) -> tuple[list[int], np.ndarray]:
    rows = np.loadtxt(folder / "md_rows.txt", usecols=(1, 2))
    return rows[:, 0].astype(int).tolist(), rows[:, 1]


@pytest.fixture(scope="module", params=list(ECHO))
def rerun_log(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"rerun_{request.param}")
    screen = run_lmp(ECHO[request.param] + MD_THEN_RERUN, folder).stdout
    return folder, (folder / "log.lammps").read_text(), screen


def test_what_lammps_printed(rerun_log):
    _, log, _ = rerun_log
    assert "Fix halt condition for fix-id h met on step 21" in log
    assert "Wall time limit reached" in log
    assert "for 16 steps" in log                    # the rerun's snapshots 0-15


def test_rows_are_the_md_s_after_an_every_step_rerun(rerun_log):
    folder, log, screen = rerun_log
    steps, temps = _md_rows(folder)
    assert steps == [0, 5, 10, 15, 20]
    for text in (log, screen):
        thermo = parse_thermo(text)
        got = thermo["Step"].astype(int).tolist()
        # the MD's rows, and those of the runs fix halt and the time-out stopped after it
        assert got[:5] == steps and len(got) > 6 and got[-1] > 20
        np.testing.assert_allclose(thermo["Temp"][:5], temps, rtol=1e-6)
        lines, blocks = text.splitlines(), None
        for k in range(0, len(lines), 5):           # as a running LAMMPS writes it
            _, blocks = thermo_steps(lines[k:k + 5], blocks)
        assert blocks.md_step == got[-1]            # not the rerun's last snapshot, 15


@pytest.fixture(scope="module", params=list(ECHO))
def minimize_log(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"min_lost_{request.param}")
    proc = run_lmp(ECHO[request.param] + MINIMIZE_LOSES, folder, check=False)
    return request.param, (folder / "log.lammps").read_text(), proc.stdout


def _minimisation_rows(log: str) -> list[int]:
    """The steps of the rows after the echoed ``minimize`` (default echo only)."""
    after = log[log.index("\nminimize 0 0 100 1000"):]
    return [int(ln.split()[0]) for ln in after.splitlines()
            if len(ln.split()) == 3 and ln.split()[0].isdigit()]


def test_atoms_lost_in_a_minimisation(minimize_log):
    echo, log, screen = minimize_log
    assert "ERROR: Lost atoms" in log and "Minimization stats" not in log
    assert "Setting up cg style minimization" in screen
    assert ("\nminimize 0 0 100 1000" in log) == (echo == "default")
    rows = [int(p[0]) for p in (ln.split() for ln in log.splitlines())
            if len(p) == 3 and p[0].isdigit()]
    if echo == "default":
        assert rows == _minimisation_rows(log)      # every row is the minimisation's
    assert len(rows) > 2
    for text in (log, screen):
        assert "Step" not in parse_thermo(text)      # no MD row
        _, read = thermo_steps(text.splitlines(), None)
        assert read.md_step is None
        lost = find_lost_atoms(text, thermo_every=100)
        # was "between step 23 and step 24" (echo none), "at the setup of its run"
        assert lost.when.startswith("during the minimisation before the MD")
        assert lost.in_minimization and lost.after_row == rows[-1]
