"""read_structure: CIF, POSCAR, pymatgen, ASE and shipped names agree with what
ASE and pymatgen read themselves; bad input fails with a message that says why."""

import numpy as np
import pytest
from ase.build import bulk
from ase.io import write as ase_write
from pymatgen.core import Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor

from ionmd.errors import IonmdError
from ionmd.structures import example_names, read_structure


def _same(structure: Structure, atoms) -> None:
    assert structure.composition.formula == AseAtomsAdaptor.get_structure(atoms).composition.formula
    np.testing.assert_allclose(structure.lattice.matrix, atoms.cell.array, atol=1e-6)
    np.testing.assert_allclose(structure.cart_coords, atoms.positions, atol=1e-5)


def _disordered() -> Structure:
    fcc = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
    return Structure(Lattice.cubic(5.4), [{"Li": 1}] * 4 + [{"Cl": 0.5, "Br": 0.5}] * 4,
                     np.vstack([fcc, fcc + 0.5]) % 1)


def test_ase_atoms_and_poscar(tmp_path):
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (1, 1, 2)
    atoms.rattle(0.05, seed=2)
    _same(read_structure(atoms), atoms)
    for name in ("POSCAR", "cell.vasp", "CONTCAR_final"):
        ase_write(tmp_path / name, atoms, format="vasp", direct=True)
        _same(read_structure(tmp_path / name), atoms)
    # no telling extension: tried as CIF, then POSCAR
    ase_write(tmp_path / "cell.txt", atoms, format="vasp")
    _same(read_structure(str(tmp_path / "cell.txt")), atoms)


def test_cif_keeps_partial_occupancy(tmp_path):
    original = _disordered()
    original.to(filename=str(tmp_path / "x.cif"))
    s = read_structure(tmp_path / "x.cif")
    assert not s.is_ordered
    assert s.composition.almost_equals(original.composition)
    assert {str(sp): occ for sp, occ in s[-1].species.items()} == {"Cl": 0.5, "Br": 0.5}


def test_structure_is_copied():
    original = _disordered()
    s = read_structure(original)
    assert s == original and s is not original
    s.replace(0, "Na")
    assert original[0].species_string == "Li"


def test_shipped_example_names():
    names = example_names()
    assert "Li10GeP2S12" in names
    assert read_structure(names[0].lower()).composition == read_structure(names[0]).composition


@pytest.mark.parametrize("content", ["not a crystal\n", "data_x\n_cell_length_a 5\n"])
def test_unreadable_file(tmp_path, content):
    path = tmp_path / "bad.cif"
    path.write_text(content)
    with pytest.raises(IonmdError, match=r"cannot read '.*bad.cif' as CIF"):
        read_structure(path)


def test_missing_file_and_unknown_name(tmp_path):
    with pytest.raises(IonmdError, match="does not exist"):
        read_structure(tmp_path / "nothing.cif")
    with pytest.raises(IonmdError, match=r"no shipped example.*'Li99X'.*available: .*Li10GeP2S12"):
        read_structure("Li99X")


def test_no_atoms_and_wrong_type():
    from ase import Atoms
    with pytest.raises(IonmdError, match="no atoms"):
        read_structure(Atoms(cell=[3, 3, 3], pbc=True))
    with pytest.raises(IonmdError, match="no atoms"):
        read_structure(Structure(Lattice.cubic(3), [], []))
    with pytest.raises(IonmdError, match="cannot read a structure from a int"):
        read_structure(42)
