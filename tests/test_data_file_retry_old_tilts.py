"""A run folder made before ionmd reduced the box's tilts into LAMMPS's limits holds a
data file with them as given: the 32-atom fcc cell of the Morse model given by a, b + 2a,
c - a + b (xy = 2.25 lx) stopped ``fix npt`` at its first step ("Fix npt has tilted box
too far in one step"). Retried (``RunDir.reset``, ``ionmd sweep submit --retry-failed``)
by today's ionmd, the folder is reopened (same structure hash) and kept that data file:
the retry failed the same way. Now the reset writes the data file again from its atoms.

The old data file is ASE's own writer as ionmd called it then (no tilt reduction); the
references are LAMMPS (the run completes) and ASE's neighbour list on the cube."""

from __future__ import annotations

import numpy as np
import pytest
from ase.io import read, write
from ase.neighborlist import neighbor_list

from ionmd.protocols.execute import execute
from ionmd.protocols.rundir import DATA
from protocol_setup import fcc_cell
from test_data_file_cells import skewed_fcc_run


def distances(atoms, cutoff=5.0) -> np.ndarray:
    return np.sort(neighbor_list("d", atoms, cutoff))


def test_a_failed_run_with_an_old_tilted_data_file_runs_when_retried(tmp_path, morse):
    cube = fcc_cell()
    rd, skewed = skewed_fcc_run(tmp_path, morse)
    # the data file as ionmd wrote it before: the tilts as given, a triclinic box
    write(rd.path / DATA, skewed, format="lammps-data", specorder=rd.elements, masses=True,
          atom_style="atomic", force_skew=True)
    failed = execute(rd)
    assert failed["state"] == "failed" and "tilted box too far" in failed["reason"]

    rd, _ = skewed_fcc_run(tmp_path, morse)                 # the same run folder, reopened
    rd.reset()
    status = execute(rd)
    assert status["state"] == "completed", status.get("reason")
    held = read(rd.path / DATA, format="lammps-data", atom_style="atomic")
    assert abs(held.cell.volume) == pytest.approx(abs(cube.cell.volume), rel=1e-12)
    assert held.get_chemical_symbols() == cube.get_chemical_symbols()
    want, got = distances(cube), distances(held)
    assert len(got) == len(want) and np.abs(got - want).max() < 1e-10
    assert not list(rd.path.glob("*.tmp"))
