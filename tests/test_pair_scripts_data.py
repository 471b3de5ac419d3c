"""Data files as users have them with `pair_style ionmd`: pymatgen's writer (its own type
order, atom_style charge, 6 decimals), atom types without atoms (a writer's fixed type
list, types for atoms created later), elements the model lacks.

References: SevenNet's calculator in float64 on the atoms ASE reads from the same data
file; the messages must name what is wrong and how to fix it."""

from __future__ import annotations

import numpy as np
import pytest
from ase.io import read

from lammps_runner import EV_PER_A3_TO_BAR, run_lmp, thermo_table, write_data
from sevennet_reference import reference_calculator
from structures import licl_supercell

THERMO = ("thermo_style custom step pe pxx pyy pzz pxy pxz pyz\nthermo_modify format float %.17g\n"
          "dump d all custom 1 out.dump id fx fy fz\ndump_modify d sort id format float %.17g\n"
          "run 0\n")


def pymatgen_data(path):
    """The 64-atom rattled LiCl as pymatgen's LammpsData writes it (atom_style charge);
    its Masses put Li first."""
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.io.lammps.data import LammpsData

    structure = AseAtomsAdaptor.get_structure(licl_supercell(rep=2, rattle=0.1))
    LammpsData.from_structure(structure, atom_style="charge").write_file(str(path))
    return path


def test_pymatgen_data_file_in_its_type_order(tiny_f64, tiny_checkpoint, tmp_path):
    """pair_coeff in the order of pymatgen's Masses (Li Cl) is the calculator on the atoms
    ASE reads from the file; the order users assume (Cl Li) is named as swapped."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    data = pymatgen_data(tmp_path / "pmg.data")
    atoms = read(data, format="lammps-data", atom_style="charge")
    assert atoms.get_chemical_symbols()[:2] == ["Li", "Cl"]     # type 1 = Li (mass 6.941)
    atoms.calc = reference_calculator(str(tiny_checkpoint), "float64")
    proc = run_lmp(f"units metal\natom_style charge\nread_data pmg.data\n"
                   f"pair_style ionmd {tiny_f64}\npair_coeff * * Li Cl\n{THERMO}", tmp_path)
    row = thermo_table(proc.stdout, 8)[-1]
    assert row[1] == pytest.approx(atoms.get_potential_energy(), abs=1e-9)
    forces = np.loadtxt(tmp_path / "out.dump", skiprows=9)[:, 1:4]
    assert np.abs(forces - atoms.get_forces()).max() <= 1e-10
    p = row[2:8] / EV_PER_A3_TO_BAR
    stress = -np.array([p[0], p[1], p[2], p[5], p[4], p[3]])
    assert np.abs(stress - atoms.get_stress()).max() <= 1e-10
    assert "elements probably swapped" not in proc.stdout

    swapped = run_lmp(f"units metal\natom_style charge\nread_data pmg.data\n"
                      f"pair_style ionmd {tiny_f64}\npair_coeff * * Cl Li\nrun 0\n", tmp_path)
    assert "elements probably swapped" in swapped.stdout
    assert "the line is 'pair_coeff * * Li Cl'" in swapped.stdout


def test_a_type_without_atoms_runs(tiny_f64, tiny_checkpoint, tmp_path):
    """A third type (S, for atoms created later) without atoms changes nothing."""
    atoms = licl_supercell(rep=1)
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_data(atoms, tmp_path / "s.data", ["Cl", "Li"])
    proc = run_lmp(f"units metal\natom_style atomic\nread_data s.data extra/atom/types 1\n"
                   f"mass 3 32.06\npair_style ionmd {tiny_f64}\npair_coeff * * Cl Li S\n{THERMO}",
                   tmp_path)
    atoms.calc = reference_calculator(str(tiny_checkpoint), "float64")
    assert thermo_table(proc.stdout, 8)[-1][1] == pytest.approx(atoms.get_potential_energy(), abs=1e-9)


def run_bad(tmp_path, model, extra_types, elements, nprocs=1):
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_data(licl_supercell(rep=1), tmp_path / "s.data", ["Cl", "Li"])
    masses = "".join(f"mass {3 + k} 32.06\n" for k in range(extra_types))
    proc = run_lmp(f"units metal\natom_style atomic\nread_data s.data extra/atom/types {extra_types}\n"
                   f"{masses}pair_style ionmd {model}\npair_coeff * * {elements}\nrun 0\n",
                   tmp_path, nprocs=nprocs, check=False)
    assert proc.returncode != 0
    return proc.stdout


@pytest.mark.parametrize("extra, named", [(1, "atom type 3 has no atoms but counts too: give it"),
                                          (2, "atom types 3 4 have no atoms but count too: give each")])
def test_too_few_elements_names_the_types_without_atoms(morse, extra, named, tmp_path):
    """Elements for the types with atoms only: the stop says which types have none."""
    out = run_bad(tmp_path, morse, extra, "Cl Li")
    assert f"{2 + extra} atom types but 2 elements given ({named} an element of its mass" in out
    assert "NULL under pair_style hybrid" in out


@pytest.mark.mpi
@pytest.mark.parametrize("nprocs", [1, 2])
def test_element_the_model_lacks_on_a_type_without_atoms(morse, nprocs, tmp_path):
    """S for an empty third type, with a Cl/Li model: the stop names the model's elements
    and that the type, empty or not, needs one of them (on every rank)."""
    out = run_bad(tmp_path, morse, 1, "Cl Li S", nprocs=nprocs)
    assert "element 'S' (atom type 3) is not known to model" in out and "it knows: Li Cl" in out
    assert "type 3 has no atoms, but still needs one of these" in out
