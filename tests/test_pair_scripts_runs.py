"""Commands around a run with `pair_style ionmd`, as users write them: `fix npt tri` through
a box flip, `run N pre no` continuing a run, and the pressure of `hybrid/overlay ionmd zbl`
against the strain derivative of the energy (`change_box` + `run 0`), which
`fix box/relax` and `npt` follow.

References: SevenNet's own calculator in float64 on the frames LAMMPS dumps, LAMMPS's own
invariants (a run split in pieces is the run), finite differences of the energy."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms

from lammps_runner import run_lmp, thermo_table, to_lammps_frame, write_data
from sevennet_reference import reference_calculator
from structures import licl_supercell, triclinic_distorted
from test_virial_fd import base_print, strain_scan, virials

ELEMENTS = ["Cl", "Li"]


def read_dump_frames(path, symbols_by_type):
    """Frames of a triclinic LAMMPS text dump (`id type x y z fx fy fz`, sorted by id):
    (step, Atoms with the dumped cell, forces)."""
    lines = path.read_text().splitlines()
    frames, k = [], 0
    while k < len(lines):
        step = int(lines[k + 1])
        n = int(lines[k + 3])
        bounds = np.array([lines[k + 5 + d].split() for d in range(3)], float)
        xy, xz, yz = bounds[:, 2]
        xlo = bounds[0, 0] - min(0.0, xy, xz, xy + xz)
        xhi = bounds[0, 1] - max(0.0, xy, xz, xy + xz)
        ylo, yhi = bounds[1, 0] - min(0.0, yz), bounds[1, 1] - max(0.0, yz)
        zlo, zhi = bounds[2, :2]
        rows = np.array([line.split() for line in lines[k + 9:k + 9 + n]], float)
        atoms = Atoms([symbols_by_type[int(t)] for t in rows[:, 1]],
                      positions=rows[:, 2:5] - [xlo, ylo, zlo],
                      cell=[[xhi - xlo, 0, 0], [xy, yhi - ylo, 0], [xz, yz, zhi - zlo]], pbc=True)
        frames.append((step, atoms, rows[:, 5:8]))
        k += 9 + n
    return frames


@pytest.fixture(scope="module")
def calculator(tiny_checkpoint):
    return reference_calculator(str(tiny_checkpoint), "float64")


@pytest.mark.mpi
@pytest.mark.parametrize("nprocs", [1, 2])
def test_npt_tri_through_a_box_flip(tiny_f64, calculator, nprocs, tmp_path):
    """64-atom LiCl with xy at 0.47 of the box length, `fix npt tri` pushing the tilt on:
    LAMMPS flips the box (xy -> xy - lx) within the run. The energies and forces of the
    frames on both sides of the flip are the calculator's, and the energy runs on smoothly
    (on 2 ranks the flip also moves the subdomains under the halo exchange)."""
    atoms = licl_supercell(rep=2, rattle=0.0)
    cell = atoms.cell.array.copy()
    cell[1, 0] = 0.47 * cell[0, 0]
    atoms.set_cell(cell, scale_atoms=True)
    atoms = to_lammps_frame(atoms)
    atoms.rattle(0.05, seed=1)
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_data(atoms, tmp_path / "s.data", ELEMENTS)
    script = (f"units metal\natom_style atomic\nread_data s.data\npair_style ionmd {tiny_f64}\n"
              "pair_coeff * * Cl Li\nvelocity all create 300 3\ntimestep 0.001\n"
              "fix 1 all npt temp 300 300 0.1 x 0 0 0.5 y 0 0 0.5 z 0 0 0.5 "
              "xy -20000 -20000 0.2 xz 0 0 0.5 yz 0 0 0.5\n"
              "thermo_style custom step pe xy lx\nthermo_modify format float %.17g\nthermo 1\n"
              "dump d all custom 1 t.dump id type x y z fx fy fz\n"
              "dump_modify d sort id format float %.17g\nrun 45\n")
    proc = run_lmp(script, tmp_path, nprocs=nprocs, env={"OMP_NUM_THREADS": "1"})
    thermo = thermo_table(proc.stdout, 4)
    tilt = thermo[:, 2] / thermo[:, 3]
    flips = np.flatnonzero(np.abs(np.diff(tilt)) > 0.5)
    assert len(flips) == 1, f"expected one flip, tilt/lx went {tilt.min():.3f} .. {tilt.max():.3f}"
    before = flips[0]
    frames = {step: (a, f) for step, a, f in read_dump_frames(tmp_path / "t.dump", {1: "Cl", 2: "Li"})}
    for k in (before, before + 1):
        frame, forces = frames[int(thermo[k, 0])]
        frame.calc = calculator
        assert thermo[k, 1] == pytest.approx(frame.get_potential_energy(), abs=1e-9)
        assert np.abs(forces - frame.get_forces()).max() <= 1e-9
    # smooth: the step across the flip changes the energy as its neighbours do
    steps = np.diff(thermo[:, 1])
    assert abs(steps[before]) <= 2.0 * max(abs(steps[before - 1]), abs(steps[before + 1]))


def test_run_pre_no_continues_the_run(tiny_f64, tmp_path):
    """`run 5`, `run 5 pre no`, `run 10 pre no post no`: step for step the one `run 20`."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_data(licl_supercell(rep=2), tmp_path / "s.data", ELEMENTS)
    head = (f"units metal\natom_style atomic\nread_data {tmp_path / 's.data'}\n"
            f"pair_style ionmd {tiny_f64}\npair_coeff * * Cl Li\nvelocity all create 600 3\ntimestep 0.002\nfix 1 all nve\n"
            "thermo_style custom step pe etotal pxx pxy\nthermo_modify format float %.17g\n"
            "thermo 5\n")
    whole = thermo_table(run_lmp(head + "run 20\n", tmp_path / "whole").stdout, 5)
    pieces = thermo_table(run_lmp(head + "run 5\nrun 5 pre no\nrun 10 pre no post no\n",
                                  tmp_path / "pieces").stdout, 5)
    pieces = np.unique(pieces, axis=0)            # each piece's last row is the next's first
    assert list(pieces[:, 0]) == [0, 5, 10, 15, 20]
    np.testing.assert_allclose(pieces, whole, rtol=1e-12)
    assert np.ptp(whole[:, 1]) > 0.1              # the atoms moved


def test_overlay_pressure_is_the_strain_derivative(tiny_f64, tmp_path):
    """`hybrid/overlay ionmd zbl` on a triclinic 64-atom cell with ZBL in reach: the six
    virial components are -dE/d(strain) from central differences of `change_box` energies."""
    atoms = triclinic_distorted(seed=5)
    atoms.rattle(0.25, seed=2)
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_data(atoms, tmp_path / "s.data", ELEMENTS)
    lines = ["units metal", "atom_style atomic", "read_data s.data", "change_box all triclinic",
             f"pair_style hybrid/overlay ionmd {tiny_f64} zbl 1.0 2.0",
             "pair_coeff * * ionmd Cl Li", "pair_coeff 1 1 zbl 17 17", "pair_coeff 1 2 zbl 17 3",
             "pair_coeff 2 2 zbl 3 3", "compute z all pair zbl",
             "thermo_style custom step pe c_z pxx pyy pzz pxy pxz pyz vol", "run 0",
             base_print("c_z")]
    run_lmp("\n".join(lines + strain_scan(atoms.cell.array)) + "\n", tmp_path)
    w_lammps, w_fd, base = virials((tmp_path / "fd.txt").read_text())
    assert base[7] > 0.5                           # zbl's energy: its pairs are in the sum
    np.testing.assert_allclose(w_lammps, w_fd, rtol=1e-6, atol=2e-6)
