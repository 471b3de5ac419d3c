"""A minimisation after MD (a template's quench) that LAMMPS stops for lost atoms, real
``lmp`` runs (review of 38a0058/238e751). Its rows keep the MD's last velocities (Temp
one number, not 0): under ``echo none`` they were read as MD rows (steps 20-35, the
loss dated "between step 35 and step 36"); with the ``minimize`` echoed (LAMMPS's
default) the loss was "during the minimisation before the MD" and the run's status
"failed at step 0 ... so the MD never started". References: LAMMPS's own MD rows
(``fix print`` during the MD only) and the echoed ``minimize``."""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.lammps.lost_atoms import find_lost_atoms
from ionmd.lammps.thermo_log import parse_thermo
from lammps_cells import MINIMIZE_PUSHING_ATOM_OUT, lj_units_fcc_cell
from lammps_runner import run_lmp
from protocol_setup import run_quench_losing_atoms

QUENCH_LOSES = lj_units_fcc_cell() + """velocity all create 1.44 87287 loop geom
fix 1 all nve
thermo 5
fix p all print 5 "MDROW $(step) $(temp:%.12g)" file md_rows.txt screen no
run 20
unfix p
unfix 1
""" + MINIMIZE_PUSHING_ATOM_OUT


@pytest.fixture(scope="module", params=["default", "none"])
def quench(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"quench_{request.param}")
    echo = "echo none\n" if request.param == "none" else ""
    run_lmp(echo + QUENCH_LOSES, folder, check=False)
    md = np.loadtxt(folder / "md_rows.txt", usecols=(1, 2))
    return request.param, (folder / "log.lammps").read_text(), md


def test_the_quench_rows_are_no_md_rows(quench):
    echo, log, md = quench
    assert "ERROR: Lost atoms" in log and "Minimization stats" not in log
    assert ("\nminimize 0 0 100 1000" in log) == (echo == "default")
    thermo = parse_thermo(log)
    assert thermo["Step"].astype(int).tolist() == md[:, 0].astype(int).tolist()
    np.testing.assert_allclose(thermo["Temp"], md[:, 1], rtol=1e-6)


def test_the_loss_is_dated_after_the_md(quench):
    echo, log, md = quench
    last_md = int(md[-1, 0])
    rows = [int(p[0]) for p in (ln.split() for ln in log.splitlines())
            if len(p) == 3 and p[0].isdigit()]
    lost = find_lost_atoms(log, thermo_every=5)
    assert lost.in_minimization and lost.md_step == last_md and lost.after_row == rows[-1]
    assert lost.when == (f"during a minimisation after the MD's row at step {last_md} "
                         f"(after the minimisation's row at step {rows[-1]})")


def test_a_run_whose_quench_loses_atoms_says_the_md_ran(tmp_path):
    rd, status, log = run_quench_losing_atoms(tmp_path)
    assert "ERROR: Lost atoms" in log[log.index("\nminimize"):]
    assert status["state"] == "failed" and status["failure_mode"] == "lost_atoms"
    assert status["failed_step"] == rd.target_step == status["step"]   # the MD ran to its end
    assert "never started" not in status["reason"]
    assert f"after the MD's row at step {rd.target_step}" in status["reason"]
