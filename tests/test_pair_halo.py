"""Per-layer halo exchange (`pair_style ionmd ... ghost halo`) against the serial result.

A 3-layer toy message-passing model (tests/contract_models.py, float64, unequal feature
widths 3/5/4, an energy readout in every layer) is exported twice with the same weights:
as a plain contract file and with per-layer stages. The reference is the plain file on
one rank (ghosts mapped to their owners, no exchange at all); the halo runs use the
staged file on 1-4 ranks, orthogonal and triclinic cells whose subdomains are thinner
than the cutoff (multi-hop swaps, periodic self-images), processor grids that leave
ranks empty, and `comm_style tiled` with recursive bisection."""

import numpy as np
import pytest
from ase.build import bulk

from contract_models import save_toy_models
from lammps_runner import run_lmp, single_point, thermo_table, to_lammps_frame, write_data
from structures import licl_supercell, triclinic_distorted

pytestmark = pytest.mark.mpi

ELEMENTS = ["Cl", "Li"]
RTOL = 1e-10


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    plain, staged = save_toy_models(tmp_path_factory.mktemp("toy"))
    return {"plain": plain, "staged": staged}


def slab_with_vacuum():
    """Atoms fill z < 10.6 A of a 24 A box: with 'processors 1 1 4' two ranks own nothing."""
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (2, 2, 2)
    atoms.rattle(0.05, seed=4)
    cell = atoms.cell.array.copy()
    cell[2, 2] = 24.0
    atoms.set_cell(cell, scale_atoms=False)
    atoms.positions[:, 2] += 0.3
    return to_lammps_frame(atoms)


CELLS = {"ortho": lambda: licl_supercell(2, rattle=0.08, seed=2),
         "triclinic": triclinic_distorted}


@pytest.fixture(scope="module")
def serial(toy, tmp_path_factory):
    """One-rank reference of each cell with the plain (stage-less) model file."""
    base = tmp_path_factory.mktemp("serial")
    cells = dict(CELLS, slab=slab_with_vacuum)
    return {name: single_point(make(), toy["plain"], base / name, ELEMENTS)
            for name, make in cells.items()}


def assert_same(run, ref):
    assert abs(run.energy - ref.energy) <= RTOL * abs(ref.energy)
    fmax = np.abs(ref.forces).max()
    assert fmax > 0.1  # forces large enough for the comparison to mean something
    assert np.abs(run.forces - ref.forces).max() <= RTOL * fmax
    pmax = np.abs(ref.pressure).max()
    assert np.abs(run.pressure - ref.pressure).max() <= RTOL * pmax
    assert np.abs(run.atom_energy - ref.atom_energy).max() <= RTOL * np.abs(ref.atom_energy).max()
    vmax = np.abs(ref.atom_virial).max()
    assert np.abs(run.atom_virial - ref.atom_virial).max() <= RTOL * vmax


def test_one_rank_halo_and_redundant(toy, serial, tmp_path):
    """On one rank the halo exchange only copies periodic self-images."""
    atoms = CELLS["ortho"]()
    halo = single_point(atoms, toy["staged"], tmp_path / "halo", ELEMENTS, pair_extra="ghost halo")
    assert "halo exchange between 3 stages" in halo.log
    assert "4 feature exchanges in 1 calls" in halo.log  # 2 forward + 2 reverse
    assert_same(halo, serial["ortho"])
    redundant = single_point(atoms, toy["plain"], tmp_path / "red", ELEMENTS,
                             pair_extra="ghost redundant")
    assert "redundant ghost shell" in redundant.log
    assert_same(redundant, serial["ortho"])


@pytest.mark.parametrize("nprocs", [2, 3, 4])
@pytest.mark.parametrize("cell", ["ortho", "triclinic"])
def test_ranks_match_serial(toy, serial, cell, nprocs, tmp_path):
    """`ghost auto` picks the halo exchange for a staged file on several ranks."""
    run = single_point(CELLS[cell](), toy["staged"], tmp_path, ELEMENTS, nprocs=nprocs)
    assert "halo exchange between 3 stages" in run.log
    assert_same(run, serial[cell])


def test_ranks_without_atoms(toy, serial, tmp_path):
    run = single_point(slab_with_vacuum(), toy["staged"], tmp_path, ELEMENTS, nprocs=4,
                       processors="1 1 4")
    nlocal_line = run.log.split("Nlocal:")[1].splitlines()[0]
    assert nlocal_line.split()[-2] == "0", f"expected an empty rank: {nlocal_line}"
    assert "halo exchange" in run.log
    assert_same(run, serial["slab"])


def test_comm_style_tiled(toy, serial, tmp_path):
    run = single_point(CELLS["triclinic"](), toy["staged"], tmp_path, ELEMENTS, nprocs=3,
                       setup_lines="comm_style tiled\nfix lb all balance 0 1.0 rcb")
    assert "halo exchange" in run.log
    assert_same(run, serial["triclinic"])


def test_md_trajectory_matches_serial(toy, tmp_path):
    """NVE with atoms crossing subdomains and re-neighbouring: the same thermo output."""
    atoms = licl_supercell(2, rattle=0.1, seed=5)
    rows = {}
    for label, model, nprocs in (("serial", toy["plain"], 1), ("halo", toy["staged"], 4)):
        work = tmp_path / label
        work.mkdir()
        write_data(atoms, work / "struct.data", ELEMENTS)
        run_lmp(f"""
units metal
atom_style atomic
atom_modify map yes
read_data struct.data
pair_style ionmd {model}
pair_coeff * * {' '.join(ELEMENTS)}
velocity all create 1500 7 loop geom
neighbor 0.5 bin
neigh_modify every 1 delay 0 check yes
timestep 0.002
fix nve all nve
thermo_style custom step pe ke press
thermo_modify format float %.15g
thermo 10
run 60
""", work, nprocs=nprocs)
        rows[label] = thermo_table((work / "log.lammps").read_text(), 4)
    assert len(rows["serial"]) == 7
    np.testing.assert_allclose(rows["halo"], rows["serial"], rtol=1e-9, atol=1e-9)


def test_halo_needs_stages(toy, tmp_path):
    atoms = CELLS["ortho"]()
    write_data(atoms, tmp_path / "struct.data", ELEMENTS)
    proc = run_lmp(f"""
units metal
atom_style atomic
read_data struct.data
pair_style ionmd {toy['plain']} ghost halo
pair_coeff * * {' '.join(ELEMENTS)}
run 0
""", tmp_path, check=False)
    assert proc.returncode != 0
    assert "'ghost halo' needs a model file with per-layer stages" in proc.stdout


def test_null_types_under_hybrid(toy, serial, tmp_path):
    """Atoms of a NULL type (Ar, left to `pair_style zero`) are no graph nodes: the halo
    exchange skips their rows and the result equals the serial one without them."""
    from ase import Atoms

    base = CELLS["ortho"]()
    ar = Atoms("Ar3", positions=[[1.3, 1.3, 1.3], [3.9, 3.9, 6.4], [6.4, 1.3, 3.9]])
    run = single_point(base + ar, None, tmp_path, ["Cl", "Li", "Ar"], nprocs=2,
                       pair_lines=f"pair_style hybrid/overlay ionmd {toy['staged']} zero 4.0\n"
                                  "pair_coeff * * ionmd Cl Li NULL\npair_coeff * * zero")
    assert "halo exchange" in run.log
    ref = serial["ortho"]
    n = len(base)
    assert abs(run.energy - ref.energy) <= RTOL * abs(ref.energy)
    assert np.abs(run.forces[:n] - ref.forces).max() <= RTOL * np.abs(ref.forces).max()
    assert np.all(run.forces[n:] == 0.0)
