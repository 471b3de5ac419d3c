"""Test structures: a Li-halide, a Li-thiophosphate, a strongly distorted triclinic
cell and cells smaller than the cutoff. All are rotated into the LAMMPS frame."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.build import bulk

from lammps_runner import to_lammps_frame


def licl_supercell(rep: int = 2, rattle: float = 0.05, seed: int = 1) -> Atoms:
    """Rock-salt LiCl (a = 5.14 A), rep^3 conventional cells, rattled."""
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (rep, rep, rep)
    atoms.rattle(rattle, seed=seed)
    return to_lammps_frame(atoms)


def li3ps4_like(seed: int = 3) -> Atoms:
    """Li3PS4 composition (4 f.u., 32 atoms) at the density of beta-Li3PS4: PS4
    tetrahedra (P-S 2.05 A) on an fcc lattice, Li at random sites >= 2.2 A from all
    atoms. Not a crystal structure, a thiophosphate-like environment for force checks."""
    rng = np.random.default_rng(seed)
    a = (4 * 165.0) ** (1 / 3)
    p_sites = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]) * a
    tet = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) * (2.05 / np.sqrt(3))
    symbols, positions = [], []
    for p in p_sites:
        symbols.append("P")
        positions.append(p)
        for v in tet:
            symbols.append("S")
            positions.append(p + v)
    atoms = Atoms(symbols, positions=positions, cell=[a, a, a], pbc=True)
    while atoms.get_chemical_symbols().count("Li") < 12:
        trial = atoms + Atoms("Li", positions=[rng.random(3) @ atoms.cell.array])
        if trial.get_distances(len(atoms), range(len(atoms)), mic=True).min() >= 2.2:
            atoms = trial
    atoms.wrap()
    atoms.rattle(0.03, seed=seed)
    return to_lammps_frame(atoms)


def triclinic_distorted(seed: int = 5) -> Atoms:
    """LiCl 2x2x2 under a large non-symmetric deformation (angles far from 90 deg)."""
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (2, 2, 2)
    deform = np.array([[1.0, 0.28, 0.17], [0.06, 0.93, 0.22], [0.11, -0.14, 1.06]])
    atoms.set_cell(atoms.cell.array @ deform, scale_atoms=True)
    atoms.rattle(0.05, seed=seed)
    return to_lammps_frame(atoms)


def licl_primitive_small(seed: int = 9) -> Atoms:
    """2-atom LiCl primitive cell (3.6 A edges, smaller than the 5 A cutoff): a
    neighbourhood made of many periodic images of the same two atoms."""
    atoms = bulk("LiCl", "rocksalt", a=5.14)
    atoms.set_cell(atoms.cell.array @ np.array([[1.02, 0.03, 0], [0, 0.98, 0.02], [0.01, 0, 1.0]]),
                   scale_atoms=True)
    atoms.positions[1] += [0.07, -0.04, 0.05]
    return to_lammps_frame(atoms)


def li2s_conventional(seed: int = 11) -> Atoms:
    """Anti-fluorite Li2S conventional cell (12 atoms, 5.7 A < 2 x cutoff), rattled."""
    # ASE's fluorite takes the formula as written: the first species goes on the fcc
    # (cation) site, the second fills the tetrahedral holes. "SLi2" gives anti-fluorite
    # Li2S (S on fcc, Li at (1/4,1/4,1/4)); "Li2S" would not.
    atoms = bulk("SLi2", "fluorite", a=5.70, cubic=True)
    atoms.rattle(0.04, seed=seed)
    return to_lammps_frame(atoms)


def li_cl_split_cell(lx: float = 12.0, lyz: float = 9.0) -> Atoms:
    """Li on a 3 A grid in x < lx/2, Cl on the same grid shifted by lx/2: on 2 or 3 ranks of
    a processors N 1 1 grid, the ranks holding Cl are known (the rank-failure tests)."""
    grid = np.array([[x, y, z] for x in (0.75, 3.75) for y in np.arange(0, lyz, 3.0)
                     for z in np.arange(0, lyz, 3.0)])
    return Atoms(["Li"] * len(grid) + ["Cl"] * len(grid),
                 positions=np.r_[grid, grid + [lx / 2, 0, 0]], cell=[lx, lyz, lyz], pbc=True)


STRUCTURES = {
    "licl_64": licl_supercell,
    "li3ps4_like_32": li3ps4_like,
    "triclinic_licl_64": triclinic_distorted,
    "licl_primitive_2": licl_primitive_small,
    "li2s_12": li2s_conventional,
}


def p1_cif(name: str, a: float, sites: list[tuple]) -> str:
    """A cubic P1 CIF written by hand (as files come from other programs), one row per site:
    (label, symbol, x, y, z, occupancy) in fractional coordinates."""
    head = (f"data_{name}\n" + "".join(f"_cell_length_{ax} {a:.2f}\n" for ax in "abc")
            + "".join(f"_cell_angle_{ang} 90\n" for ang in ("alpha", "beta", "gamma"))
            + "_symmetry_space_group_name_H-M 'P 1'\nloop_\n_symmetry_equiv_pos_as_xyz\n'x, y, z'\n"
            + "loop_\n" + "".join(f"_atom_site_{k}\n" for k in (
                "label", "type_symbol", "fract_x", "fract_y", "fract_z", "occupancy")))
    return head + "".join(" ".join(str(v) for v in row) + "\n" for row in sites)

