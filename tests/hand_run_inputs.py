"""The pieces of the hand-written LAMMPS inputs the hand-run tests run: a Lennard-Jones Li/Cl
rock salt (units metal; Cl on a 5.4 A fcc lattice, 2 x 2 x 2 cells, Li in its octahedral
holes: 32 + 32 atoms), optionally thinned to 8 Li, and LAMMPS's own dump steps to check the
frames against. One home for what each test's input wrote again, so that the inputs differ
only where the tests do."""

from __future__ import annotations

import subprocess
from pathlib import Path

from lammps_runner import lammps_cmd, run_lmp

# units, atom style and the 64-atom cell: type 1 Li, type 2 Cl
ROCK_SALT = """
units metal
atom_style atomic
lattice fcc 5.4
region box block 0 2 0 2 0 2
create_box 2 box
create_atoms 2 box
lattice fcc 5.4 origin 0.5 0 0
create_atoms 1 box
"""

# 24 of the 32 Li deleted (seeded): 8 Li, 32 Cl, room for the Li to move
SPARSE_LI = """group li type 1
delete_atoms random count 24 yes li NULL 4321
"""

MASSES = "mass 1 6.94\nmass 2 35.45\n"

# the Lennard-Jones coefficients, which a read_restart or clear must be given again
LJ_COEFFS = """pair_coeff 1 1 0.01 2.4
pair_coeff 1 2 0.02 2.0
pair_coeff 2 2 0.3 3.4
"""


def lj_pair(cutoff: str) -> str:
    """``pair_style lj/cut`` at ``cutoff`` (A, as the input writes it) and :data:`LJ_COEFFS`."""
    return f"pair_style lj/cut {cutoff}\n" + LJ_COEFFS


# the whole 64-atom cell weighed, 6 A Lennard-Jones, written to start.data; thermo every 50
LJ_ROCK_SALT = ROCK_SALT + MASSES + lj_pair("6.0") + "write_data start.data\nthermo 50\n"


def dump_steps(path: Path) -> list[int]:
    """The steps of a LAMMPS text dump's frames, in file order."""
    lines = Path(path).read_text().splitlines()
    return [int(lines[k + 1]) for k, line in enumerate(lines) if line == "ITEM: TIMESTEP"]


def run_then_resume(folder: Path, first: str, resume: str) -> Path:
    """``first`` run in ``folder`` (log.lammps), then ``resume`` as a user resuming by hand
    runs it (``lmp -in in.resume -log log.lammps.1``, one OpenMP thread)."""
    run_lmp(first, folder)
    (folder / "in.resume").write_text(resume)
    subprocess.run(lammps_cmd() + ["-in", "in.resume", "-log", "log.lammps.1"], cwd=folder,
                   check=True, stdout=subprocess.DEVNULL, env={"OMP_NUM_THREADS": "1"})
    return folder
