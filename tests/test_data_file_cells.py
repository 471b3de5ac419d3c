"""ionmd's data file (``write_data``) for every cell shape users bring, checked on the box
and atoms LAMMPS itself holds after ``read_data`` (``lmp``, a dump of id type mass x y z
and the thermo box): the volume, every interatomic distance within 6 A per species pair
(against ASE's neighbour list on the original cell), the species and mass of each atom,
the handedness of the crystal (signed volume of three bonds), and LAMMPS's tilt limits
(|xy|, |xz| <= lx/2, |yz| <= ly/2).

Before: a cell written with skewed vectors kept its tilts (xy = 2.25 lx), which stopped
``fix npt`` at its first step; a left-handed cell was rotated into LAMMPS's box by a
reflection (the mirror crystal: eSEN is not reflection-invariant); an Atoms read from a
data file written Cl-first kept its ``type`` column, so Li ran as Cl."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.geometry import cellpar_to_cell
from ase.io import read, write
from ase.neighborlist import neighbor_list
from scipy.spatial.transform import Rotation

from ionmd.errors import IonmdError
from ionmd.lammps.data_file import lammps_triclinic, write_data
from ionmd.structures.supercell_shape import min_width_matrix
from lammps_runner import run_lmp, thermo_table

CUTOFF = 6.0
ELEMENTS = ["Li", "Cl"]
TRICLINIC = cellpar_to_cell([5, 6, 7, 80, 95, 110])
PRIMITIVE_FCC = 5.13 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]) / 2
CELLS = {
    "monoclinic beta 130": cellpar_to_cell([5, 6, 7, 90, 130, 90]),
    "hexagonal gamma 120": cellpar_to_cell([4, 4, 6, 90, 90, 120]),
    "rhombohedral alpha 30": cellpar_to_cell([5, 5, 5, 30, 30, 30]),
    "triclinic": TRICLINIC,
    "left-handed (a, b swapped)": TRICLINIC[[1, 0, 2]],
    "left-handed (-c)": np.diag([5.0, 6.0, -7.0]),
    "skewed vectors (xy 2.25 lx)": np.array([[4, 0, 0], [9, 3, 0], [-7, 5.5, 4.0]]),
    "a not along x": Rotation.from_euler("xyz", [30, 40, 50], degrees=True).apply(TRICLINIC),
    # ionmd's own 8 A cell of rock salt's primitive cell: 20 cells by a matrix of
    # determinant -20, left-handed
    "8 A supercell of primitive fcc": min_width_matrix(PRIMITIVE_FCC, 8.0) @ PRIMITIVE_FCC,
}
SCRIPT = """units metal
atom_style atomic
boundary p p p
read_data data.lmp
pair_style zero {cutoff}
pair_coeff * *
thermo_style custom step lx ly lz xy xz yz vol
thermo_modify format float %.17g
write_dump all custom dump.txt id type mass x y z modify sort id format float %.17g
run 0
"""


def crystal(cell) -> Atoms:
    """Five atoms at general positions, repeated 2x1x2: no symmetry hides a wrong image."""
    frac = [(0.1, 0.1, 0.1), (0.3, 0.15, 0.12), (0.12, 0.35, 0.1), (0.1, 0.12, 0.33),
            (0.6, 0.55, 0.7)]
    return Atoms("LiClLiClLi", scaled_positions=frac, cell=cell, pbc=True).repeat((2, 1, 2))


def as_lammps_holds(atoms: Atoms, tmp_path) -> tuple[Atoms, np.ndarray, np.ndarray]:
    """The atoms (in the box) LAMMPS reads from ionmd's data file, their masses, and the
    box (lx ly lz xy xz yz)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_data(atoms, tmp_path / "data.lmp", ELEMENTS)
    proc = run_lmp(SCRIPT.format(cutoff=CUTOFF), tmp_path)
    box = thermo_table(proc.stdout, 8)[-1, 1:7]
    lx, ly, lz, xy, xz, yz = box
    rows = np.loadtxt(tmp_path / "dump.txt", skiprows=9)
    held = Atoms([ELEMENTS[int(t) - 1] for t in rows[:, 1]], positions=rows[:, 3:6],
                 cell=[[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]], pbc=True)
    return held, rows[:, 2], box


def distances(atoms: Atoms) -> dict[str, np.ndarray]:
    """Sorted distances below ``CUTOFF`` per species pair (pairs within 1e-6 A of it
    left out: a lattice vector of exactly 6 A counts either way by rounding)."""
    i, j, d = neighbor_list("ijd", atoms, CUTOFF)
    symbols = np.array(atoms.get_chemical_symbols())
    pairs = np.char.add(np.char.add(symbols[i], "-"), symbols[j])
    keep = d < CUTOFF - 1e-6
    return {p: np.sort(d[keep & (pairs == p)]) for p in sorted(set(pairs))}


def handedness(atoms: Atoms) -> float:
    """Signed volume of the bonds from atom 0 to atoms 1, 2, 3 (nearest images): a
    reflection flips its sign, a rotation keeps it."""
    return float(np.linalg.det(atoms.get_distances(0, [1, 2, 3], mic=True, vector=True)))


@pytest.mark.parametrize("name", list(CELLS))
def test_lammps_holds_the_crystal_as_given(name, tmp_path):
    atoms = crystal(CELLS[name])
    held, masses, box = as_lammps_holds(atoms, tmp_path)
    lx, ly, lz, xy, xz, yz = box
    assert lx * ly * lz == pytest.approx(abs(atoms.cell.volume), rel=1e-12)
    assert held.get_chemical_symbols() == atoms.get_chemical_symbols()
    assert np.allclose(masses, atoms.get_masses(), rtol=1e-8)      # ASE's IUPAC table
    want, got = distances(atoms), distances(held)
    assert want.keys() == got.keys()
    for pair in want:
        assert len(got[pair]) == len(want[pair]), pair
        assert np.abs(got[pair] - want[pair]).max() < 1e-10, pair
    assert handedness(held) == pytest.approx(handedness(atoms), rel=1e-9)
    # LAMMPS's limits: beyond them fix npt stops ("tilted box too far in one step")
    tol = 1e-12 * max(lx, ly)
    assert abs(xy) <= lx / 2 + tol and abs(xz) <= lx / 2 + tol and abs(yz) <= ly / 2 + tol
    assert lammps_triclinic(atoms) == bool(np.any(np.abs([xy, xz, yz]) > 0))


def test_types_follow_the_symbols_not_a_read_data_files_type_column(tmp_path):
    """An Atoms read from a data file written in Cl Li order carries its ``type`` column
    (Cl = 1); ionmd's Li Cl file must type Li as 1, as its Masses and pair_coeff say."""
    atoms = crystal(TRICLINIC)
    tmp_path.mkdir(parents=True, exist_ok=True)
    write(tmp_path / "cl_first.data", atoms, format="lammps-data", specorder=["Cl", "Li"],
          masses=True)
    from_file = read(tmp_path / "cl_first.data", format="lammps-data")
    assert "type" in from_file.arrays
    assert from_file.get_chemical_symbols() == atoms.get_chemical_symbols()
    held, _, _ = as_lammps_holds(from_file, tmp_path / "rewritten")
    assert held.get_chemical_symbols() == atoms.get_chemical_symbols()


def test_an_element_missing_from_the_types_is_named(tmp_path):
    with pytest.raises(IonmdError, match=r"holds Cl, which the LAMMPS types \(Li\) lack"):
        write_data(crystal(TRICLINIC), tmp_path / "x.data", ["Li"])


def test_one_element_in_two_masses_is_refused(tmp_path):
    """ASE wrote the first Li atom's mass for every Li (a D/H mix became all D)."""
    atoms = crystal(TRICLINIC)
    masses = atoms.get_masses()
    masses[0] = 7.016
    atoms.set_masses(masses)
    with pytest.raises(IonmdError, match=r"Li atoms of different masses \(6\.9400, 7\.0160\)"):
        write_data(atoms, tmp_path / "x.data", ELEMENTS)
    assert not (tmp_path / "x.data").exists()


def skewed_fcc_run(tmp_path, model):
    """The 32-atom fcc cell of the Morse model given by the vectors a, b + 2a, c - a + b
    (the same lattice, xy = 2.25 lx), planned as a short run of the conductivity preset
    (fix npt, couple tri): its run folder and the cell as given."""
    from ionmd.protocols import get_protocol, plan_runs
    from protocol_setup import fcc_cell

    cube = fcc_cell()
    a, b, c = cube.cell.array
    skewed = cube.copy()
    skewed.set_cell([a, b + 2 * a, c - a + b])
    protocol = get_protocol("conductivity", temperatures=(600.0,), duration_ps=0.1,
                            discard_ps=0.05, supercell=None, dump_every=50, thermo_every=10,
                            restart_every=1000, replicas=1, long_below_K=None)
    (rd,) = plan_runs(protocol, skewed, model, tmp_path, name="fcc")
    return rd, skewed


def test_npt_runs_a_crystal_written_with_skewed_vectors(tmp_path, morse):
    """The skewed fcc cell (:func:`skewed_fcc_run`): the conductivity preset's fix npt
    (couple tri) stopped at its first step ("Fix npt has tilted box too far in one step");
    now it runs as the cell given by a, b, c does, from the same volume."""
    from ionmd.protocols.execute import execute
    from protocol_setup import fcc_cell

    cube = fcc_cell()
    rd, skewed = skewed_fcc_run(tmp_path, morse)
    status = execute(rd)
    assert status["state"] == "completed", status.get("reason")
    assert "skew is large" not in (rd.path / "log.0.lammps").read_text()
    held = read(rd.path / "struct.data", format="lammps-data")     # types from the masses
    assert abs(held.cell.volume) == pytest.approx(abs(cube.cell.volume), rel=1e-12)
    want, got = distances(cube), distances(held)
    assert want.keys() == got.keys()
    for pair in want:
        assert np.abs(got[pair] - want[pair]).max() < 1e-10, pair
