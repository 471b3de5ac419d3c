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


@pytest.mark.parametrize("content, message", [
    ("not a crystal\n", r"cannot read '.*bad.cif' as CIF"),
    ("data_x\n_cell_length_a 5\n", r"'.*bad.cif' has a unit cell but no atom positions")])
def test_unreadable_file(tmp_path, content, message):
    path = tmp_path / "bad.cif"
    path.write_text(content)
    with pytest.raises(IonmdError, match=message):
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


LI3N_HEXAGONAL = """data_Li3N
_symmetry_space_group_name_H-M 'P 6/m m m'
_symmetry_Int_Tables_number 191
_cell_length_a 3.648
_cell_length_b 3.648
_cell_length_c 3.875
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 120
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
N1 N 0 0 0 1
Li1 Li 0 0 0.5 1
Li2 Li {third} {two_thirds} 0 1
"""


def test_files_as_published_read_as_the_crystal_they_describe(tmp_path):
    """Published files that round: Li3N (P6/mmm, symmetry from the space-group number)
    with its special position given to three decimals is the same crystal as with the
    exact thirds (3 Li + 1 N, not six Li atoms 0.004 A apart); occupancies of one position
    that add up to 1.002 are scaled to 1, as occupancies are; LAMMPS data files with
    Masses (.data, .lmp) read as LAMMPS data with their elements."""
    from structures import p1_cif

    exact = tmp_path / "exact.cif"
    exact.write_text(LI3N_HEXAGONAL.format(third="0.333333", two_thirds="0.666667"))
    rounded = tmp_path / "rounded.cif"
    rounded.write_text(LI3N_HEXAGONAL.format(third="0.333", two_thirds="0.667"))
    a, b = read_structure(exact), read_structure(rounded)
    assert a.composition.formula == b.composition.formula == "Li3 N1"
    assert np.abs(a.lattice.get_all_distances(a.frac_coords, b.frac_coords)).min(axis=1).max() < 2e-3

    sums = tmp_path / "sums.cif"
    sums.write_text(p1_cif("x", 5.14, [("Li1", "Li", 0, 0, 0, 0.501), ("Na1", "Na", 0, 0, 0, 0.501),
                                       ("Cl1", "Cl", 0.5, 0.5, 0.5, 1)]))
    s = read_structure(sums)
    assert len(s) == 2 and s[0].species.num_atoms == pytest.approx(1.0)
    assert s[0].species["Li"] == pytest.approx(0.5)

    licl = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
    licl.rattle(0.02, seed=1)
    for name in ("struct.data", "struct.lmp", "struct.lammps-data"):
        ase_write(tmp_path / name, licl, format="lammps-data", masses=True, atom_style="atomic",
                  specorder=["Cl", "Li"])
        got = read_structure(tmp_path / name)
        assert sorted(got.composition.as_dict().items()) == [("Cl", 4.0), ("Li", 4.0)], name
        np.testing.assert_allclose(got.volume, licl.get_volume(), rtol=1e-9)
