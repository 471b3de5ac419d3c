"""pair_style ionmd (lmp -in) against SevenNet's own ASE calculator (independent reference)."""

import numpy as np
import pytest

from lammps_runner import single_point
from sevennet_reference import reference_calculator
from structures import STRUCTURES

CORE = ["licl_64", "li3ps4_like_32", "triclinic_licl_64", "licl_primitive_2", "li2s_12"]


def elements_of(atoms):
    return sorted(set(atoms.get_chemical_symbols()))


def compare(atoms, model_file, workdir, dtype, checkpoint="7net-0", modal=None):
    elements = elements_of(atoms)
    lmp = single_point(atoms, model_file, workdir, elements)
    ref = atoms.copy()
    ref.calc = reference_calculator(checkpoint, dtype, modal)
    return lmp, ref.get_potential_energy(), ref.get_forces(), ref.get_stress(), len(atoms)


def report(name, dtype, lmp, e_ref, f_ref, s_ref, n):
    print(f"\n{name} {dtype}: |dE|/atom {abs(lmp.energy - e_ref) / n:.1e} eV, "
          f"max|dF| {np.abs(lmp.forces - f_ref).max():.1e} eV/A, "
          f"max|dS| {np.abs(lmp.stress_ase() - s_ref).max():.1e} eV/A^3")


@pytest.mark.parametrize("name", CORE)
def test_float64_matches_sevennet_calculator(name, sevennet0_f64, tmp_path):
    atoms = STRUCTURES[name]()
    lmp, e_ref, f_ref, s_ref, n = compare(atoms, sevennet0_f64, tmp_path, "float64")
    report(name, "float64", lmp, e_ref, f_ref, s_ref, n)
    # float64 end to end, constants included: float32-rounded Wigner 3j symbols alone
    # would show as ~1e-9 eV/A here
    assert abs(lmp.energy - e_ref) / n <= 1e-12
    assert np.abs(lmp.forces - f_ref).max() <= 1e-12
    assert np.abs(lmp.stress_ase() - s_ref).max() <= 1e-12
    # per-atom energies and virials add up to the global ones
    assert lmp.atom_energy.sum() == pytest.approx(lmp.energy, abs=1e-9)
    virial_global = -lmp.stress_ase() * lmp.volume  # Voigt xx yy zz yz xz xy
    w = lmp.atom_virial.sum(axis=0)                   # xx yy zz xy xz yz
    np.testing.assert_allclose(w[[0, 1, 2, 5, 4, 3]], virial_global, atol=1e-7)


@pytest.mark.parametrize("name", ["licl_64", "li3ps4_like_32", "triclinic_licl_64"])
def test_float32_matches_sevennet_calculator(name, sevennet0_f32, tmp_path):
    atoms = STRUCTURES[name]()
    lmp, e_ref, f_ref, s_ref, n = compare(atoms, sevennet0_f32, tmp_path, "float32")
    report(name, "float32", lmp, e_ref, f_ref, s_ref, n)
    assert abs(lmp.energy - e_ref) / n <= 1e-5
    assert np.abs(lmp.forces - f_ref).max() <= 1e-4
    assert np.abs(lmp.stress_ase() - s_ref).max() <= 1e-5
