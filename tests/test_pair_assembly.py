"""Force, virial and per-atom assembly of pair_style ionmd against LAMMPS's own
`pair_style morse` (analytic reference) for a Morse potential written in the model
contract: serial ('owners' graph), the ghost-shell graph, and 1/2/4 MPI ranks."""

import numpy as np
import pytest

from contract_models import ALPHA, D0, R0, RC, MorseEdgeModel, lammps_morse, save_contract_model
from lammps_runner import run_lmp, single_point, thermo_table, write_data
from structures import licl_supercell, triclinic_distorted



@pytest.fixture(scope="module")
def morse_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("morse") / "morse.pt"
    # declare 2 layers so the multi-rank ghost shell is 2 x cutoff, as for a real MPNN
    return save_contract_model(MorseEdgeModel(D0, ALPHA, R0, RC), path, cutoff=RC,
                               elements=["Cl", "Li"], num_layers=2)



@pytest.mark.parametrize("make", [licl_supercell, triclinic_distorted], ids=["licl", "triclinic"])
@pytest.mark.parametrize("nprocs,graph", [(1, "owners"), (1, "ghosts"), (2, "auto"), (4, "auto")])
def test_morse_matches_lammps(make, nprocs, graph, morse_model, tmp_path):
    atoms = make()
    ref = lammps_morse(atoms, tmp_path / "ref")
    got = single_point(atoms, morse_model, tmp_path / "ionmd", ["Cl", "Li"], nprocs=nprocs,
                       pair_extra=f"graph {graph}")
    assert got.energy == pytest.approx(ref.energy, rel=1e-12, abs=1e-10)
    np.testing.assert_allclose(got.pressure, ref.pressure, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(got.forces, ref.forces, rtol=0, atol=1e-11)
    np.testing.assert_allclose(got.atom_energy, ref.atom_energy, rtol=0, atol=1e-11)
    # morse tallies per-atom virial half/half per pair, as pair_style ionmd does per edge
    np.testing.assert_allclose(got.atom_virial, ref.atom_virial, rtol=0, atol=1e-10)


def test_null_types_are_left_out_of_the_graph(morse_model, tmp_path):
    """pair_coeff * * Cl Li NULL under hybrid/overlay: the NULL atoms (Ar) take no part,
    so energy and forces equal those of the system without them."""
    from ase import Atoms

    base = licl_supercell()
    ar = Atoms("Ar4", positions=[[1.3, 1.3, 1.3], [3.9, 3.9, 1.3], [3.9, 1.3, 3.9],
                                 [6.4, 6.4, 6.4]])
    mixed = base + ar
    ref = lammps_morse(base, tmp_path / "ref")
    (tmp_path / "mix").mkdir()
    write_data(mixed, tmp_path / "mix" / "struct.data", ["Cl", "Li", "Ar"])
    run_lmp(f"""
units metal
atom_style atomic
read_data struct.data
pair_style hybrid/overlay ionmd {morse_model} zero {RC}
pair_coeff * * ionmd Cl Li NULL
pair_coeff * * zero
dump d all custom 1 out.dump id fx fy fz
dump_modify d sort id format float %.17g
run 0
print "RESULT $(pe:%.17g)" file result.txt
""", tmp_path / "mix")
    energy = float((tmp_path / "mix" / "result.txt").read_text().split()[1])
    forces = np.loadtxt(tmp_path / "mix" / "out.dump", skiprows=9)[:, 1:4]
    assert energy == pytest.approx(ref.energy, rel=1e-12)
    np.testing.assert_allclose(forces[: len(base)], ref.forces, atol=1e-11)
    assert np.all(forces[len(base):] == 0.0)


def test_nph_trajectory_follows_lammps_morse(tmp_path_factory, tmp_path):
    """The virial drives the box: 300 NPH steps of fcc Cu with a Morse potential through
    pair_style ionmd and through LAMMPS's `pair_style morse` give the same volume and
    energy history (a wrong virial sign or component sends the box elsewhere)."""
    d0, alpha, r0, rc = 0.3429, 1.3588, 2.866, 6.0
    model = save_contract_model(MorseEdgeModel(d0, alpha, r0, rc),
                                tmp_path_factory.mktemp("cu") / "cu_morse.pt", cutoff=rc,
                                elements=["Cu"])
    histories = {}
    for name, pair in {"ionmd": f"pair_style ionmd {model}\npair_coeff * * Cu",
                       "lammps": f"pair_style morse {rc}\npair_coeff * * {d0} {alpha} {r0}\n"
                                 "pair_modify shift yes"}.items():
        proc = run_lmp(f"""
units metal
atom_style atomic
lattice fcc 3.615
region b prism 0 2 0 2 0 2 0.1 0 0
create_box 1 b
create_atoms 1 box
mass 1 63.546
{pair}
velocity all create 600 4928459 mom yes rot no dist gaussian
timestep 0.002
fix 1 all nph tri 1000.0 1000.0 0.2
thermo_style custom step vol pe pxx pxy
thermo_modify format float %.15g
thermo 20
run 300
""", tmp_path / name)
        histories[name] = thermo_table(proc.stdout, 5)
    ours, ref = histories["ionmd"], histories["lammps"]
    assert ours.shape == ref.shape == (16, 5)
    assert np.ptp(ref[:, 1]) > 1.0, "the box did not move"
    np.testing.assert_allclose(ours[:, 1], ref[:, 1], rtol=1e-8)   # volume
    np.testing.assert_allclose(ours[:, 2], ref[:, 2], rtol=1e-8)   # energy
