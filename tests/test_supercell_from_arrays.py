"""Supercells built from numpy arrays (``supercell_structure``, ``supercell_sites``) against
pymatgen's own ``Structure.make_supercell``, which built them before (one Python object
per atom: 59 s for 941,192 atoms of LiCl): the same sites in the same order, fractional
coordinates equal to the bit (a run directory's structure hash is taken on them), the
same species, site properties, labels, lattice and charge; and through ``ionmd run``'s
loading of a minimum-width supercell, the same data file and LAMMPS's ``read_data`` of it
holding that crystal."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from ionmd.structures.examples import example_path
from ionmd.structures.supercell import make_supercell, supercell_structure
from ionmd.structures.supercell_shape import min_width_matrix

# the decorated cell's charge differs from its oxidation states' sum on purpose; pymatgen
# says so whenever it is read
pytestmark = pytest.mark.filterwarnings("ignore:Structure charge", "ignore:Not all sites")

A_LICL = 5.13
PRIMITIVE_FCC = A_LICL * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]) / 2


def licl_primitive() -> Structure:
    return Structure(Lattice(PRIMITIVE_FCC), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def li7p3s11() -> Structure:
    """The shipped triclinic (P-1) Li7P3S11, 42 atoms, ordered."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Structure.from_file(str(example_path("Li7P3S11")))


def decorated() -> Structure:
    """Oxidation states, a structure charge, site properties (one site lacking one),
    repeated labels, and coordinates a hair below 0 and 1 (folded to 1.0, then 0.0)."""
    s = Structure(Lattice.from_parameters(4, 5, 6, 80, 95, 110), ["Li+", "Cl-", "Li+"],
                  [[0, 0, 0], [0.5, 0.5, 0.5], [1e-17, 1 - 1e-17, -1e-18]], charge=1.0,
                  site_properties={"magmom": [1, 2, 3]}, labels=["Li1", "Cl", "Li1"])
    s[1].properties["extra"] = 5
    return s


def slab() -> Structure:
    """Periodic along a and b only: pymatgen folds nothing along c."""
    return Structure(Lattice(np.diag([4.0, 5.0, 6.0]), pbc=(True, True, False)), ["Li", "Cl"],
                     [[-0.25, 1.5, -0.5], [0.5, 0.5, 1.25]])


CASES = {
    "primitive fcc, 8 A cell (det -20)": (licl_primitive, min_width_matrix(PRIMITIVE_FCC, 8.0)),
    "primitive fcc, 2x3x1": (licl_primitive, [2, 3, 1]),
    "triclinic, 20 A cell": (li7p3s11, min_width_matrix(li7p3s11().lattice.matrix, 20.0)),
    "triclinic, skewed matrix": (li7p3s11, [[1, 1, 0], [-1, 1, 0], [0, 0, 2]]),
    "triclinic, left-handed": (li7p3s11, [[0, 1, 0], [1, 0, 0], [0, 0, -1]]),
    "decorated, sheared": (decorated, [[1, 1, 0], [-1, 1, 0], [0, 0, 2]]),
    "decorated, 2x1x1": (decorated, [2, 1, 1]),
    "slab, 2x2x1": (slab, [2, 2, 1]),
}


def assert_same_structure(got: Structure, want: Structure) -> None:
    # to rounding, and a coordinate of 0 the same as one of 1 - 1e-16 (bit for bit held with
    # the dependencies of 2026-12-06; the next day's round pymatgen's products otherwise in the
    # last bit, its 0 then reading 0.9999999999999999): a misplaced site is off by > 1e-3
    np.testing.assert_allclose(got.lattice.matrix, want.lattice.matrix, rtol=0, atol=1e-12)
    assert got.lattice.pbc == want.lattice.pbc
    assert len(got) == len(want)
    step = got.frac_coords - want.frac_coords
    step -= np.round(step)                          # the same site across the cell's face
    np.testing.assert_allclose(step @ want.lattice.matrix, 0.0, rtol=0, atol=1e-12)
    assert [s.species for s in got] == [s.species for s in want]
    assert [s.label for s in got] == [s.label for s in want]
    assert [s.properties for s in got] == [s.properties for s in want]
    assert got.charge == want.charge and got.properties == want.properties
    # (pymatgen's own got == want compares coordinates without the cell's periodicity)


@pytest.mark.parametrize("name", list(CASES))
def test_the_sites_pymatgen_builds(name):
    build, matrix = CASES[name]
    structure = build()
    want = structure.make_supercell(matrix, in_place=False)
    got = supercell_structure(structure, matrix)
    assert_same_structure(got, want)
    periodic = got.frac_coords[:, list(got.lattice.pbc)]
    assert np.min(periodic) >= 0 and np.max(periodic) < 1
    assert len(structure) == len(build())      # the cell given is left as it was


def test_make_supercell_by_repetitions_and_by_width():
    structure = li7p3s11()
    assert_same_structure(make_supercell(structure, "2x1x2"),
                          structure.make_supercell((2, 1, 2), in_place=False))
    # widths 11.26, 5.76, 11.42 A: 1x2x1 reaches 10 A
    assert_same_structure(make_supercell(structure, min_width=10.0),
                          structure.make_supercell((1, 2, 1), in_place=False))



def test_an_istructure_is_built_as_its_structure():
    """ionmd.structures.make_supercell of an IStructure (no make_supercell of its own; the
    array build raised AttributeError setting its lattice) is pymatgen's supercell of the
    mutable Structure of the same sites, charge and properties kept."""
    from pymatgen.core import IStructure

    structure = decorated()
    frozen = IStructure.from_sites(structure, charge=structure.charge)
    matrix = [[1, 1, 0], [-1, 1, 0], [0, 0, 2]]
    assert_same_structure(supercell_structure(frozen, matrix),
                          structure.make_supercell(matrix, in_place=False))
    assert_same_structure(make_supercell(frozen, "2x1x1"),
                          structure.make_supercell((2, 1, 1), in_place=False))

LMP_SCRIPT = """units metal
atom_style atomic
boundary p p p
read_data struct.data
thermo_style custom step lx ly lz xy xz yz vol
thermo_modify format float %.17g
write_dump all custom dump.txt id type x y z modify sort id format float %.17g
run 0
"""


@pytest.fixture(scope="module")
def minimum_width_run(tmp_path_factory):
    """LiCl's primitive cell loaded as ``ionmd run --supercell 15A`` loads it (3x3x3
    conventional cubes, 108 primitive cells, against 6x6x6 = 216 repeated), its run cell
    and data file
    today, and the same through pymatgen's make_supercell and ASE's writer (the path
    before), and LAMMPS's read_data of today's file."""
    from ase.io import write
    from pymatgen.io.ase import AseAtomsAdaptor

    from ionmd.lammps.data_file import lammps_prism, write_data
    from ionmd.protocols import get_protocol
    from ionmd.protocols.prepare import run_cell
    from ionmd.structures import OrderOptions, load_structure
    from lammps_runner import run_lmp, thermo_table

    tmp = tmp_path_factory.mktemp("min_width")
    licl_primitive().to(filename=str(tmp / "LiCl.cif"))
    loaded = load_structure(tmp / "LiCl.cif", OrderOptions(supercell="15A"))
    assert loaded.in_run_cell and loaded.supercell
    atoms = run_cell(get_protocol("conductivity", supercell="15A"), loaded.structure,
                     loaded.in_run_cell)
    write_data(atoms, tmp / "struct.data", ["Li", "Cl"])

    small = load_structure(tmp / "LiCl.cif").structure
    matrix = min_width_matrix(small.lattice.matrix, 15.0)
    before = AseAtomsAdaptor.get_atoms(small.make_supercell(matrix, in_place=False))
    prism = lammps_prism(before)
    write(tmp / "before.data", before, format="lammps-data", specorder=["Li", "Cl"],
          masses=True, atom_style="atomic", prismobj=prism, force_skew=prism.is_skewed())
    proc = run_lmp(LMP_SCRIPT, tmp)
    return {"path": tmp, "structure": small.make_supercell(matrix, in_place=False),
            "box": thermo_table(proc.stdout, 8)[-1, 1:8],
            "dump": np.loadtxt(tmp / "dump.txt", skiprows=9)}


def test_the_data_file_is_the_one_written_before(minimum_width_run):
    path = minimum_width_run["path"]
    got = (path / "struct.data").read_text().splitlines()
    want = (path / "before.data").read_text().splitlines()
    assert len(got) == len(want) == 216 + 16   # 216 atoms; header, masses, Atoms heading
    assert got[0] == "(written by ionmd)"
    # the same text but for the last digits of a coordinate (rounding: see
    # assert_same_structure); the atoms at the same places, across the box's faces too
    assert [ln.split()[:2] for ln in got[1:]] == [ln.split()[:2] for ln in want[1:]]
    from ase.io import read

    mine, theirs = (read(path / name, format="lammps-data", atom_style="atomic")
                    for name in ("struct.data", "before.data"))
    np.testing.assert_allclose(mine.cell.array, theirs.cell.array, rtol=0, atol=1e-9)
    step = mine.cell.scaled_positions(mine.positions - theirs.positions)
    step -= np.round(step)
    np.testing.assert_allclose(step @ mine.cell.array, 0.0, rtol=0, atol=1e-9)


def test_lammps_reads_the_crystal(minimum_width_run):
    structure, box, dump = (minimum_width_run[k] for k in ("structure", "box", "dump"))
    lx, ly, lz, xy, xz, yz, volume = box
    assert len(dump) == len(structure) == 27 * 8
    assert volume == pytest.approx(structure.volume, rel=1e-12)
    assert [("Li", "Cl")[int(t) - 1] for t in dump[:, 1]] == \
        [s.specie.symbol for s in structure]
    # every distance from the first 10 atoms (nearest images), against pymatgen's on its
    # own cell: the same atoms at the same places up to a rotation
    from ase.geometry import get_distances

    box_rows = [[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]]
    _, held = get_distances(dump[:10, 2:5], dump[:, 2:5], cell=box_rows, pbc=True)
    want = structure.lattice.get_all_distances(structure.frac_coords[:10],
                                               structure.frac_coords)
    assert np.abs(held - want).max() < 1e-9
