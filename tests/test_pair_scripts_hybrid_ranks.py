"""The hybrid skipped-pairs refusal (review r3) where test_pair_scripts_hybrid does not
go: on 2 MPI ranks (every rank stops, none waits in a barrier), after a `run 0` that was
right when a pair_coeff mid-script takes model pairs (the check is per init, not once),
and the legitimate use it must not refuse: two ionmd sub-styles on disjoint types,
whose energy is the model's on each sublattice alone (SevenNet's calculator)."""

from __future__ import annotations

import pytest
from ase import Atoms

from lammps_runner import run_lmp, thermo_table, write_data
from sevennet_reference import reference_calculator
from structures import licl_supercell

HEAD = ("units metal\natom_style atomic\nread_data s.data\n"
        "thermo_style custom step pe\nthermo_modify format float %.17g\n")


@pytest.fixture(scope="module")
def licl_ar(tmp_path_factory):
    """64-atom LiCl with two Ar atoms (type 3: zbl's alone, so plain hybrid uses zbl)."""
    folder = tmp_path_factory.mktemp("hybrid_ranks")
    atoms = licl_supercell(rep=2) + Atoms("Ar2", positions=[[1.3, 1.2, 1.4], [6.4, 3.9, 3.5]])
    write_data(atoms, folder / "s.data", ["Cl", "Li", "Ar"])
    return folder


@pytest.mark.parametrize("nprocs", [1, 2])
def test_a_pair_coeff_after_a_run_taking_model_pairs_is_refused_on_every_rank(
        tiny_f64, licl_ar, nprocs):
    work = licl_ar / f"mid{nprocs}"
    work.mkdir()
    (work / "s.data").symlink_to(licl_ar / "s.data")
    script = (HEAD + f"pair_style hybrid ionmd {tiny_f64} zbl 1.0 2.0\n"
              "pair_coeff * * ionmd Cl Li NULL\npair_coeff 1 3 zbl 17 18\n"
              "pair_coeff 2 3 zbl 3 18\npair_coeff 3 3 zbl 18 18\nrun 0\n"
              "pair_coeff 1 1 zbl 17 17\nrun 0\n")
    proc = run_lmp(script, work, nprocs=nprocs, check=False)     # a hang ends in a timeout
    assert proc.stdout.count("Loop time") == 1, proc.stdout[-2000:]
    assert proc.returncode != 0
    assert "under pair_style hybrid the pairs of atom types 1 1 (Cl Cl) are not ionmd's" \
        in proc.stdout


def test_two_models_on_disjoint_types_are_each_the_model_on_its_sublattice(
        tiny_f64, tiny_checkpoint, tmp_path):
    """`pair_style hybrid ionmd A ionmd B` with Cl on the first and Li on the second, the
    Cl-Li pairs to zbl (out of its 2 A reach here): each model sees its own type only, so
    the energy is the calculator's on the Cl atoms alone plus on the Li atoms alone."""
    atoms = licl_supercell(rep=2)
    write_data(atoms, tmp_path / "s.data", ["Cl", "Li"])
    script = (HEAD + f"pair_style hybrid ionmd {tiny_f64} ionmd {tiny_f64} zbl 1.0 2.0\n"
              "pair_coeff * * ionmd 1 Cl NULL\npair_coeff * * ionmd 2 NULL Li\n"
              "pair_coeff 1 2 zbl 17 3\nrun 0\n")
    energy = thermo_table(run_lmp(script, tmp_path, nprocs=2).stdout, 2)[-1][1]
    calc = reference_calculator(str(tiny_checkpoint), "float64")
    expected = 0.0
    for symbol in ("Cl", "Li"):
        part = atoms[[s == symbol for s in atoms.get_chemical_symbols()]]
        part.calc = calc
        expected += part.get_potential_energy()
    assert min(atoms.get_distance(i, j, mic=True) for i in range(len(atoms))
               for j in range(len(atoms)) if atoms[i].symbol != atoms[j].symbol) > 2.0
    assert energy == pytest.approx(expected, abs=1e-8)
