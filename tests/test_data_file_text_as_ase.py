"""ionmd's data-file writer (``write_data``: numpy arrays formatted in blocks) against
ASE's ``write_lammps_data``, which wrote every run's data file before (one Python call per
atom: 17-20 s for 1.9 million atoms here, against 10 s): the same text line for line
after the title, for every cell shape (orthogonal, triclinic, left-handed, written with
skewed vectors, rotated), an isotope's mass, a type the cell has no atom of, and atoms
spread over several blocks. That LAMMPS reads these files as the crystal is checked in
``test_data_file_cells.py``."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.geometry import cellpar_to_cell
from ase.io import write
from scipy.spatial.transform import Rotation

import ionmd.lammps.data_file as data_file
from ionmd.lammps.data_file import lammps_prism, write_data

TRICLINIC = cellpar_to_cell([5, 6, 7, 80, 95, 110])
CELLS = {
    "orthogonal": np.diag([5.0, 6.0, 7.0]),
    "triclinic": TRICLINIC,
    "left-handed": TRICLINIC[[1, 0, 2]],
    "skewed vectors (xy 2.25 lx)": np.array([[4, 0, 0], [9, 3, 0], [-7, 5.5, 4.0]]),
    "a not along x": Rotation.from_euler("xyz", [30, 40, 50], degrees=True).apply(TRICLINIC),
}


def crystal(cell, symbols="LiClLiClLi") -> Atoms:
    frac = [(0.1, 0.1, 0.1), (0.3, 0.15, 0.12), (0.12, 0.35, 0.1), (0.1, 0.12, 0.33),
            (0.6, 0.55, 0.7)]
    atoms = Atoms(symbols, scaled_positions=frac, cell=cell, pbc=True).repeat((2, 1, 2))
    atoms.rattle(0.3, seed=3)       # some atoms outside the cell: folded in as ASE folds
    return atoms


def as_ase_wrote(atoms: Atoms, path, elements) -> list[str]:
    """The data file as ``write_data`` had ASE write it (before 2026-12-06)."""
    prism = lammps_prism(atoms)
    plain = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell,
                  pbc=True, masses=atoms.get_masses())
    write(path, plain, format="lammps-data", specorder=list(elements), masses=True,
          atom_style="atomic", prismobj=prism, force_skew=prism.is_skewed())
    return path.read_text().splitlines()


def assert_same_text(atoms: Atoms, tmp_path, elements) -> list[str]:
    write_data(atoms, tmp_path / "ionmd.data", elements)
    got = (tmp_path / "ionmd.data").read_text().splitlines()
    want = as_ase_wrote(atoms, tmp_path / "ase.data", elements)
    assert got[0] == "(written by ionmd)"
    assert got[1:] == want[1:]
    return got


@pytest.mark.parametrize("name", list(CELLS))
def test_each_cell_shape(name, tmp_path):
    got = assert_same_text(crystal(CELLS[name]), tmp_path, ["Li", "Cl"])
    assert got[2] == "20 atoms"


def test_isotope_mass_and_a_type_without_atoms(tmp_path):
    atoms = crystal(TRICLINIC, "HClHClH")
    atoms.set_masses([2.014 if s == "H" else None for s in atoms.get_chemical_symbols()])
    got = assert_same_text(atoms, tmp_path, ["Li", "H", "Cl"])
    masses = got[got.index("Masses") + 2:got.index("Masses") + 5]
    assert [float(line.split()[1]) for line in masses] == pytest.approx([6.94, 2.014, 35.45])


def test_atoms_over_several_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(data_file, "_LINES_PER_BLOCK", 7)
    got = assert_same_text(crystal(TRICLINIC).repeat((3, 1, 1)), tmp_path, ["Cl", "Li"])
    ids = [int(line.split()[0]) for line in got[got.index("Atoms # atomic") + 2:]]
    assert ids == list(range(1, 61))
