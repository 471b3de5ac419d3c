"""Published rounding read as published, structures handed to the Python API turned into
the run's Atoms, and refusals that name their real cause: a site summing to 0.999 is whole
(as 1.001 is), a disordered pymatgen Structure is refused naming its sites, a pymatgen
cell becomes Atoms as pymatgen's own adaptor makes it, overlaps from 0.33/0.67 special
positions say so, the hydrogen time step names the command line's form."""

import numpy as np
import pytest
from ase.build import bulk
from ase.data import atomic_masses, covalent_radii
from pymatgen.core import Element, IStructure, Lattice, Species, Structure
from pymatgen.io.ase import AseAtomsAdaptor

from ionmd.errors import IonmdError
from ionmd.protocols import get_protocol, plan_runs
from ionmd.protocols.checks import check_cell
from ionmd.protocols.prepare import as_atoms, run_charges
from ionmd.structures.checks import fill_rounded_sites
from ionmd.structures.errors import StructureError
from ionmd.structures.io import read_structures
from ionmd.structures.load import load_structure

LICL = """data_LiCl
_cell_length_a 5.1295
_cell_length_b 5.1295
_cell_length_c 5.1295
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'F m -3 m'
_symmetry_Int_Tables_number 225
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Li1 Li 0 0 0 {li}
Cl1 Cl 0.5 0.5 0.5 1
"""

# anti-fluorite-like cubic cell whose 4b site mixes Br and Cl
MIXED = """data_mixed
_cell_length_a 5.5
_cell_length_b 5.5
_cell_length_c 5.5
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'F m -3 m'
_symmetry_Int_Tables_number 225
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Na1 Na 0 0 0 1
Br1 Br 0.5 0.5 0.5 {x}
Cl1 Cl 0.5 0.5 0.5 {x}
"""

LI3N = """data_Li3N
_cell_length_a 3.648
_cell_length_b 3.648
_cell_length_c 3.875
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 120
_symmetry_space_group_name_H-M 'P 6/m m m'
_symmetry_Int_Tables_number 191
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
N1 N 0 0 0 1
Li1 Li 0 0 0.5 1
Li2 Li {third} {two_thirds} 0 1
"""


def _read(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return read_structures(path)[0][1]


@pytest.fixture(scope="module")
def licl(tmp_path_factory):
    d = tmp_path_factory.mktemp("licl")
    return {li: _read(d, f"LiCl_{li}.cif", LICL.format(li=li)) for li in ("0.999", "1")}


def test_site_of_0999_is_whole_like_the_file_with_1(licl):
    """Li 0.999(3) is rounding: filled, the cell is pymatgen's reading of Li 1 (Li4 Cl4),
    where before it stayed partial (refused, or ordered in ~250 cells for its 0.001)."""
    assert not licl["0.999"].is_ordered        # pymatgen keeps 0.999
    filled, note = fill_rounded_sites(licl["0.999"])
    assert filled.is_ordered
    assert filled.composition == licl["1"].composition
    assert "0.999 read as whole" in note and "Li1: Li 0.999" in note
    assert not licl["0.999"].is_ordered        # the given structure is left as it was
    immutable, _ = fill_rounded_sites(IStructure.from_sites(licl["0.999"]))
    assert immutable.composition == licl["1"].composition


def test_mixed_site_below_1_scaled_as_pymatgen_scales_above_1(tmp_path):
    """Br 0.4995 + Cl 0.4995 (0.999) scaled as pymatgen scales 0.5005 + 0.5005 (1.001):
    the same composition, Br 0.5 Cl 0.5 per site."""
    below, _ = fill_rounded_sites(_read(tmp_path, "below.cif", MIXED.format(x="0.4995")))
    above = _read(tmp_path, "above.cif", MIXED.format(x="0.5005"))
    assert below.composition.almost_equals(above.composition, atol=1e-9)
    assert not below.is_ordered                # still mixed: ordering's business


def test_real_vacancies_stay_partial(tmp_path):
    """Li 0.98 is 2 % vacancies, beyond rounding: left as it is."""
    partial = _read(tmp_path, "vac.cif", LICL.format(li="0.98"))
    same, note = fill_rounded_sites(partial)
    assert same is partial and note == ""


def test_plan_runs_takes_a_rounded_structure_as_the_whole_one(licl, tmp_path):
    """The Python API: the 0.999 Structure runs as the file with 1 does (it raised
    ValueError: ASE Atoms only supports ordered structures)."""
    with pytest.warns(UserWarning, match="read as whole"):
        atoms = as_atoms(licl["0.999"])
    reference = AseAtomsAdaptor.get_atoms(licl["1"])
    assert atoms.get_chemical_symbols() == reference.get_chemical_symbols()
    np.testing.assert_allclose(atoms.positions, reference.positions, rtol=0, atol=1e-12)


def test_plan_runs_refuses_a_disordered_structure_naming_its_sites(licl, tmp_path):
    """D5: it raised a bare 'ValueError: ASE Atoms only supports ordered structures'."""
    half = licl["1"].copy()
    for i, site in enumerate(half):
        if site.specie.symbol == "Li":
            half.replace(i, {"Li": 0.5}, label="Li1")
    protocol = get_protocol("conductivity", temperatures=[600])
    with pytest.raises(IonmdError) as err:
        plan_runs(protocol, half, tmp_path / "model.pt", tmp_path / "runs", create=False)
    text = str(err.value)
    assert "partially occupied sites (Li1: Li 0.5)" in text
    assert "load_structures" in text and "order_structure" in text


def _triclinic_structures():
    lattice = Lattice.from_parameters(4.1, 5.3, 6.2, 81.0, 97.0, 112.0)
    coords = [[0.1, 0.2, 0.3], [0.61, 0.47, 0.12], [0.33, 0.91, 0.58], [0.95, 0.05, 0.77]]
    oxidized = Structure(lattice, [Species("Li", 1), Species("O", -2), Species("Li", 1),
                                   Species("H", 1)], coords,
                         site_properties={"magmom": [0.0, 0.1, 0.0, 0.2],
                                          "charge": [1.0, -2.0, 1.0, 0.0]})
    deuterated = Structure(lattice, ["Li", "O", "Li", Element("D")], coords)
    return {"oxidation states, site properties": oxidized, "deuterium": deuterated}


@pytest.mark.parametrize("what", list(_triclinic_structures()))
def test_conversion_equals_pymatgens_adaptor(what):
    """The array conversion (2 s where the adaptor took 35-39 s at 941,192 atoms) gives
    pymatgen's AseAtomsAdaptor's numbers, positions (to the bit), cell and pbc; masses
    ASE's standard ones, an isotope's its own (D 2.014: the adaptor gives H's 1.008)."""
    structure = _triclinic_structures()[what]
    atoms = as_atoms(structure)
    reference = AseAtomsAdaptor.get_atoms(structure)
    assert np.array_equal(atoms.numbers, reference.numbers)
    # to rounding (bit for bit with numpy 2.4 < 2.4.6, which rounds the adaptor's last bit
    # otherwise)
    np.testing.assert_allclose(atoms.positions, reference.positions, rtol=0, atol=1e-12)
    np.testing.assert_allclose(atoms.cell.array, reference.cell.array, rtol=0, atol=1e-12)
    assert np.array_equal(atoms.pbc, reference.pbc)
    masses = [float(Element.D.atomic_mass) if site.specie == Element.D
              else atomic_masses[site.specie.Z] for site in structure]
    assert np.allclose(atoms.get_masses(), masses, rtol=0, atol=1e-9)
    assert run_charges(structure)[0] == (
        {"Li": 1.0, "O": -2.0, "H": 1.0} if "oxidation" in what else run_charges(atoms)[0])


def test_one_element_in_two_masses_refused():
    lattice = Lattice.cubic(4.0)
    mixed = Structure(lattice, ["Li", "H", Element("D")],
                      [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0, 0]])
    with pytest.raises(IonmdError, match=r"H atoms of different masses \(1.008, 2.0136"):
        as_atoms(mixed)


def test_thirds_written_as_033_067_named_as_rounded_special_positions(tmp_path):
    """Li3N's 2c site written 0.33 0.67: six Li 0.036 A apart, blamed on duplicated or
    split sites before; the file with 1/3 and 2/3 reads as Li3N."""
    (tmp_path / "frac.cif").write_text(LI3N.format(third="0.33333", two_thirds="0.66667"))
    assert load_structure(tmp_path / "frac.cif").structure.composition.reduced_formula == "Li3N"
    (tmp_path / "two.cif").write_text(LI3N.format(third="0.33", two_thirds="0.67"))
    with pytest.raises(StructureError) as err:
        load_structure(tmp_path / "two.cif")
    text = str(err.value)
    assert "coordinates like 0.33/0.67 for 1/3, 2/3" in text and "duplicated" not in text
    limit = 0.5 * 2 * covalent_radii[3]
    assert f"closer than the {limit:.2f} A allowed" in text


def test_overlap_names_the_limit_and_the_sum(tmp_path):
    """'less than 0.5 x their covalent radii sum (2.56 A)' read as if 2.56 A were the
    limit: now the limit (1.28 A) and the sum, each named."""
    text = LICL.format(li="1").replace("Cl1 Cl 0.5 0.5 0.5 1",
                                       "Cl1 Cl 0.5 0.5 0.5 1\nLi2 Li 0.058366 0 0 1")
    (tmp_path / "overlap.cif").write_text(text)
    with pytest.raises(StructureError) as err:
        load_structure(tmp_path / "overlap.cif")
    total = 2 * covalent_radii[3]
    assert (f"closer than the {0.5 * total:.2f} A allowed (0.5 x their covalent radii sum "
            f"of {total:.2f} A)") in str(err.value)
    assert "duplicated atom" in str(err.value)


def test_hydrogen_time_step_names_the_command_line_form():
    atoms = bulk("LiH", "rocksalt", a=4.08)
    with pytest.raises(IonmdError) as err:
        check_cell(get_protocol("conductivity", timestep_fs=1.0), atoms)
    assert "`--set timestep_fs=0.5`" in str(err.value)
    assert "timestep_fs = 0.5 in a campaign" in str(err.value)
