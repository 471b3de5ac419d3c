"""Slabs, clusters and monolayers for `pair_style ionmd` under non-periodic LAMMPS
boundaries (``boundary p p f``, ``p p s``, ``s s s``, ``f f f``), the ``lmp -in`` run users
write for them, and the references: the family's ASE calculator with the matching
``atoms.pbc`` and the virial as the strain derivative of that calculator's energy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms
from ase.build import bulk

from lammps_runner import EV_PER_A3_TO_BAR, run_lmp, write_data

VOIGT_LAMMPS = [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]   # xx yy zz xy xz yz


def licl_slab(vacuum: float, *, tilt: float = 0.0, height: float | None = None,
              seed: int = 3) -> Atoms:
    """Four (001) layers of rattled rock-salt LiCl (2x2 conventional cells in-plane), with
    ``vacuum`` Angstrom of box above and below the atoms in total, periodic in x and y
    only; ``tilt`` is the xy tilt of the cell (Angstrom); ``height`` makes the box that
    tall instead, the atoms staying 0.5 x ``vacuum`` above its bottom."""
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (2, 2, 2)
    atoms.rattle(0.08, seed=seed)
    z = atoms.positions[:, 2]
    atoms.positions[:, 2] += 0.5 * vacuum - z.min()
    cell = atoms.cell.array.copy()
    cell[2, 2] = height if height else z.max() - z.min() + vacuum
    atoms.set_cell(cell, scale_atoms=False)
    if tilt:
        cell[1, 0] = tilt
        atoms.set_cell(cell, scale_atoms=True)
    atoms.pbc = [True, True, False]
    return atoms


def licl_cluster_with_lone_atom(seed: int = 4) -> Atoms:
    """A rattled 8-atom LiCl cube and, 10 A beyond it along x, a Li atom without neighbours;
    not periodic. Split in x over two ranks, one rank owns the lone atom only."""
    cube = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
    cube.rattle(0.08, seed=seed)
    cube.positions += 4.0 - cube.positions.min(0)
    far = cube.positions[:, 0].max() + 10.0
    atoms = cube + Atoms("Li", positions=[[far, 5.0, 5.0]])
    atoms.set_cell(np.diag([far + 4.0, cube.positions[:, 1].max() + 4.0,
                            cube.positions[:, 2].max() + 4.0]))
    atoms.pbc = False
    return atoms


def licl_monolayer(rep: int = 3, height: float = 300.0, seed: int = 1) -> Atoms:
    """One flat (001) layer of LiCl (4 rep^2 atoms, all at the same z) in a box ``height``
    tall: with ``boundary p p s`` LAMMPS shrink-wraps z to 2e-4 x height (0.06 A)."""
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (rep, rep, 1)
    atoms = atoms[atoms.positions[:, 2] < 0.1]
    atoms.positions[:, 2] = 0.5 * height
    atoms.positions[:, :2] += np.random.default_rng(seed).normal(0.0, 0.05, (len(atoms), 2))
    cell = atoms.cell.array.copy()
    cell[2, 2] = height
    atoms.set_cell(cell, scale_atoms=False)
    atoms.pbc = [True, True, False]
    return atoms


def run_boundaries(atoms: Atoms, model_file: Path, workdir: Path, elements: list[str], *,
                   boundary: str, nprocs: int = 1, pair_extra: str = "",
                   processors: str | None = None, setup_lines: str = "") -> dict:
    """``run 0`` with the given ``boundary`` line (``setup_lines`` after ``read_data``): energy, forces, per-atom energies, the
    virial (eV, LAMMPS order, = pressure x box volume) and the box volume, atoms by id."""
    workdir.mkdir(parents=True, exist_ok=True)
    write_data(atoms, workdir / "struct.data", elements)
    proc = run_lmp(f"""units metal
atom_style atomic
boundary {boundary}
atom_modify map yes
{f'processors {processors}' if processors else ''}
read_data struct.data
{setup_lines}
pair_style ionmd {model_file} {pair_extra}
pair_coeff * * {' '.join(elements)}
compute pea all pe/atom
dump d all custom 1 out.dump id fx fy fz c_pea
dump_modify d sort id format float %.17g
thermo_style custom step pe pxx pyy pzz pxy pxz pyz vol
run 0
print "RESULT $(pe:%.17g) $(pxx:%.17g) $(pyy:%.17g) $(pzz:%.17g) $(pxy:%.17g) $(pxz:%.17g) $(pyz:%.17g) $(vol:%.17g)" file result.txt
""", workdir, nprocs=nprocs)
    nums = np.array([float(v) for v in (workdir / "result.txt").read_text().split()[1:]])
    dump = np.loadtxt(workdir / "out.dump", skiprows=9, ndmin=2)
    return {"energy": nums[0], "forces": dump[:, 1:4], "atom_energy": dump[:, 4],
            "virial": nums[1:7] * nums[7] / EV_PER_A3_TO_BAR, "volume": nums[7],
            "log": proc.stdout}


def strain_virial(atoms: Atoms, calc, h: float = 1e-5) -> np.ndarray:
    """Virial W_ab = -dE/d(strain_ab) (eV, LAMMPS order) by central differences of the
    calculator's energy under homogeneous strain of positions and cell. Well defined
    without periodicity (for a cluster it is sum_i x_i f_i), whatever volume a calculator
    divides its stress by."""
    w = np.zeros(6)
    for k, (a, b) in enumerate(VOIGT_LAMMPS):
        energies = []
        for sign in (1.0, -1.0):
            eps = np.zeros((3, 3))
            eps[a, b] += 0.5 * sign * h
            eps[b, a] += 0.5 * sign * h
            strained = atoms.copy()
            strained.set_cell(atoms.cell.array @ (np.eye(3) + eps).T, scale_atoms=True)
            strained.calc = calc
            energies.append(strained.get_potential_energy())
        w[k] = -(energies[0] - energies[1]) / (2.0 * h)
    return w
