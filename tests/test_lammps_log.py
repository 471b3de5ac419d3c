"""Thermo output of a LAMMPS run that minimises first (the ``stability`` preset, any
template with ``relax``): ``minimize`` prints thermo rows too, and after ``reset_timestep
0`` the MD repeats their step numbers. Read from a real LAMMPS log (LAMMPS's own
``pair_style morse``), the MD's rows must be the ones kept: the reference is the
temperature ``velocity create`` sets at step 0 and LAMMPS's own count of MD steps."""

import re

import numpy as np

from lammps_runner import run_lmp, write_data
from protocol_setup import fcc_cell

from ionmd.lammps.thermo_log import parse_thermo, thermo_steps

INPUT = """
units metal
atom_style atomic
read_data struct.data
pair_style morse 6.0
pair_coeff * * 0.3 1.5 2.8
thermo_style custom step temp pe press vol
thermo 10
minimize 1.0e-10 1.0e-6 60 600
reset_timestep 0
velocity all create 600 4928 mom yes rot yes dist gaussian
timestep 0.002
fix 1 all nvt temp 600 600 0.1
run 40
"""


def test_minimisation_rows_are_not_read_as_md(tmp_path):
    atoms = fcc_cell(a=3.55)                 # strained: the minimiser takes a few steps
    atoms.rattle(0.05, seed=1)
    write_data(atoms, tmp_path / "struct.data", ["Li", "Cl"])
    run = run_lmp(INPUT, tmp_path)
    log, screen = (tmp_path / "log.lammps").read_text(), run.stdout
    # the minimiser printed rows at steps the MD prints again
    assert re.search(r"Iterations, force evaluations = (\d+)", log)
    without_echo = "\n".join(ln for ln in log.splitlines() if not ln.startswith("minimize"))
    for text in (log, screen, without_echo):
        thermo = parse_thermo(text)
        assert thermo["Step"].tolist() == [0, 10, 20, 30, 40]
        assert thermo["Temp"][0] == 600.0    # velocity create's temperature, not the minimiser's 0 K
        assert np.all(thermo["Temp"] > 100)

    for text in (log, screen):               # read as LAMMPS writes it
        lines = text.splitlines()
        steps, blocks = thermo_steps(lines[:25], None)
        more, _ = thermo_steps(lines[25:], blocks)
        assert steps + more == [0, 10, 20, 30, 40]


def test_log_files_in_run_order(tmp_path):
    """Pieces resumed by hand write log.lammps, log.lammps.1, ... (sorted as text,
    log.lammps.10 came before log.lammps.2, and log*.lammps missed them all)."""
    from ionmd.lammps.log import log_files

    names = ["log.lammps.10", "log.lammps", "log.lammps.2", "log.lammps.1", "log.lammps.bak",
             "log.lammps.1.txt", "notes.txt"]
    for name in names:
        (tmp_path / name).write_text("")
    assert [p.name for p in log_files(tmp_path)] == ["log.lammps", "log.lammps.1",
                                                     "log.lammps.2", "log.lammps.10"]
    ionmd = tmp_path / "ionmd"
    ionmd.mkdir()
    for k in (10, 0, 2, 1):
        (ionmd / f"log.{k}.lammps").write_text("")
    assert [p.name for p in log_files(ionmd)] == [f"log.{k}.lammps" for k in (0, 1, 2, 10)]


def test_lost_atoms_after_fix_halt_or_a_finished_run():
    """What may stand between the last row and the error: fix halt's message (the loss is
    found at the halt's forced output, mid-run), or the end of the run (``Loop time``: no
    row's output found it; at the step the run ended). Before, a halted run read as lost
    at the setup of its run, at step 0."""
    from ionmd.lammps.lost_atoms import find_lost_atoms

    header = "   Step   Temp   Atoms\n"
    halted = (header + "         0   300   32\n"
              "Fix halt condition for fix-id halt met on step 10 with value 0.90\n"
              "ERROR: Lost atoms: original 32 current 30 (src/thermo.cpp:526)\n")
    lost = find_lost_atoms(halted, thermo_every=10)
    assert (lost.step, lost.after_row, lost.halt_step) == (10, 0, 10)
    ended = (header + "".join(f"{s:10d}   300   32\n" for s in (0, 50, 100))
             + "Loop time of 1 on 1 procs for 100 steps with 32 atoms\n"
             "ERROR: Lost atoms: original 32 current 31 (src/thermo.cpp:526)\n")
    lost = find_lost_atoms(ended)
    assert (lost.step, lost.after_row) == (100, None)
