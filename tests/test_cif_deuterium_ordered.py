"""A deuteride that needs ordering (Li2ODCl: Li 2/3 on 3d, D 1/6 on 6f) lost its
deuterium's mass: the ordering rebuilds species from element symbols (and adding
oxidation states by element does too), so its D ran as hydrogen, 1.008 instead of 2.014.
``load_structures`` now gives the ordered cell its isotopes back. Reference: pymatgen's
mass of D, and the LAMMPS data file's Masses section."""

from __future__ import annotations

import pytest
from pymatgen.core import Element
from ionmd.lammps.data_file import write_data
from ionmd.protocols.prepare import as_atoms
from ionmd.structures.load import OrderOptions, load_structure

LI2ODCL = """data_Li2ODCl
_cell_length_a 3.9103
_cell_length_b 3.9103
_cell_length_c 3.9103
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_space_group_IT_number 221
_symmetry_space_group_name_H-M 'P m -3 m'
{states}loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Cl1 Cl{cl} 0 0 0 1
O1 O{o} 0.5 0.5 0.5 1
Li1 Li{li} 0 0.5 0.5 0.6667
D1 D{d} 0.5 0.5 0.25 0.1667
"""
STATES = ("loop_\n_atom_type_symbol\n_atom_type_oxidation_number\nCl1- -1\nO2- -2\n"
          "Li1+ 1\nD1+ 1\n")


@pytest.mark.parametrize("states", [False, True])
def test_ordered_deuterium_keeps_its_mass(tmp_path, states):
    text = LI2ODCL.format(states=STATES if states else "",
                          **({"cl": "1-", "o": "2-", "li": "1+", "d": "1+"} if states else
                             {"cl": "", "o": "", "li": "", "d": ""}))
    path = tmp_path / "Li2ODCl.cif"
    path.write_text(text)
    cell = load_structure(path, OrderOptions(method="random", seed=0)).structure
    hydrogen = [site for site in cell if site.specie.Z == 1]
    assert hydrogen                                     # the ordered cell has its D atoms
    d_mass = float(Element("D").atomic_mass)
    assert {round(float(site.specie.atomic_mass), 6) for site in hydrogen} == {
        round(d_mass, 6)}
    data = tmp_path / "data.lmp"
    write_data(as_atoms(cell), data, ["Li", "O", "Cl", "H"])
    masses = {line.split("#")[1].strip(): float(line.split()[1])
              for line in data.read_text().split("Masses")[1].split("Atoms")[0].splitlines()
              if "#" in line}
    assert masses["H"] == pytest.approx(d_mass, abs=1e-6)
