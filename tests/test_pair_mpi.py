"""Same energies and forces on 1, 2 and 4 MPI ranks, with the redundant ghost shell and
with the per-layer halo exchange (the export's SevenNet stages), including a processor
grid that leaves ranks without atoms, and against SevenNet's calculator.

Uses a small SevenNet (2 layers, 4 A cutoff, random weights): the ghost shell of
SevenNet-0 (5 x 5 A) would make a 4-rank run of a test cell take minutes here."""

import numpy as np
import pytest
from ase.build import bulk

from lammps_runner import single_point, to_lammps_frame
from sevennet_reference import reference_calculator
from structures import triclinic_distorted

pytestmark = pytest.mark.mpi


def licl_cell():
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (3, 2, 2)
    atoms.rattle(0.08, seed=21)
    return to_lammps_frame(atoms)


def slab_with_vacuum():
    """Atoms fill x < 10.3 A of a 22 A box: with 'processors 4 1 1' two ranks own nothing."""
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (2, 2, 2)
    atoms.rattle(0.05, seed=4)
    cell = atoms.cell.array.copy()
    cell[0, 0] = 22.0
    atoms.set_cell(cell, scale_atoms=False)
    atoms.positions[:, 0] += 0.3
    return atoms


LOG_LINE = {"redundant": "redundant ghost shell", "halo": "halo exchange between 2 stages"}


@pytest.mark.parametrize("ghost", ["redundant", "halo"])
@pytest.mark.parametrize("make", [licl_cell, triclinic_distorted], ids=["licl_96", "triclinic_64"])
def test_ranks_agree(make, ghost, tiny_f64, tiny_checkpoint, tmp_path):
    atoms = make()
    elements = ["Cl", "Li"]
    runs = {n: single_point(atoms, tiny_f64, tmp_path / f"np{n}", elements, nprocs=n,
                            pair_extra="" if n == 1 else f"ghost {ghost}")
            for n in (1, 2, 4)}
    e1, f1 = runs[1].energy, runs[1].forces
    for n in (2, 4):
        assert LOG_LINE[ghost] in runs[n].log
        assert abs(runs[n].energy - e1) <= 1e-10 * abs(e1)
        assert np.abs(runs[n].forces - f1).max() <= 1e-10 * np.abs(f1).max()
        np.testing.assert_allclose(runs[n].pressure, runs[1].pressure, rtol=1e-9, atol=1e-6)
    ref = atoms.copy()
    ref.calc = reference_calculator(str(tiny_checkpoint), "float64")
    assert abs(runs[4].energy - ref.get_potential_energy()) / len(atoms) <= 1e-8
    assert np.abs(runs[4].forces - ref.get_forces()).max() <= 1e-6


@pytest.mark.parametrize("ghost", ["redundant", "halo"])
def test_ranks_without_atoms(ghost, tiny_f64, tmp_path):
    atoms = slab_with_vacuum()
    elements = ["Cl", "Li"]
    serial = single_point(atoms, tiny_f64, tmp_path / "np1", elements)
    split = single_point(atoms, tiny_f64, tmp_path / "np4", elements, nprocs=4,
                         processors="4 1 1", pair_extra=f"ghost {ghost}")
    assert LOG_LINE[ghost] in split.log
    nlocal_line = split.log.split("Nlocal:")[1].splitlines()[0]
    assert nlocal_line.split()[-2] == "0", f"expected an empty rank: {nlocal_line}"
    assert abs(split.energy - serial.energy) <= 1e-10 * abs(serial.energy)
    assert np.abs(split.forces - serial.forces).max() <= 1e-10 * np.abs(serial.forces).max()
