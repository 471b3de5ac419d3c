"""An ASE Atoms read from a partially occupied CIF keeps its occupancies in ionmd (audit A25).

ase.io.read gives one atom per site (the dominant species) and puts the occupancies in
atoms.info["occupancy"]; pymatgen's AseAtomsAdaptor ignored them, so read_structure of the
shipped Li3YCl6 read by ASE gave Li12Y5Cl18, every partial site filled, silently. The
reference is pymatgen's own reading of the same CIF file."""

import warnings

import numpy as np
import pytest
from ase.io import read as ase_read
from pymatgen.core import Structure

from ionmd.structures import example_path, load_structure, read_structure
from ionmd.structures.errors import StructureError


def _ase_and_pymatgen(name):
    path = str(example_path(name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ase_read(path), Structure.from_file(path)


def _site_species(structure):
    """Fractional position (rounded) -> {element: occupancy} of every site."""
    out = {}
    for site in structure:
        key = tuple(np.round(site.frac_coords % 1.0, 4) % 1.0)
        out[key] = {str(el): round(occ, 6) for el, occ in site.species.items()}
    return out


@pytest.mark.parametrize("name", ["Li3YCl6", "Li10GeP2S12", "beta-Li3PS4", "Li7P3S11"])
def test_ase_atoms_of_a_cif_read_as_the_cif(name):
    atoms, reference = _ase_and_pymatgen(name)
    got = read_structure(atoms)
    assert got.composition.almost_equals(reference.composition, rtol=0, atol=1e-6)
    assert got.is_ordered == reference.is_ordered
    assert _site_species(got) == _site_species(reference)


def test_repeated_atoms_keep_their_occupancies():
    atoms, reference = _ase_and_pymatgen("Li3YCl6")
    got = read_structure(atoms.repeat((1, 1, 2)))
    assert got.composition.almost_equals(reference.composition * 2, rtol=0, atol=1e-6)


def test_partial_ase_atoms_are_refused_unordered_like_the_file():
    atoms, _ = _ase_and_pymatgen("Li3YCl6")
    with pytest.raises(StructureError, match="partial"):
        load_structure(atoms)


def test_occupancies_that_no_longer_match_the_atoms_are_refused():
    atoms, _ = _ase_and_pymatgen("Li10GeP2S12")
    del atoms.arrays["spacegroup_kinds"]      # 58 atoms, 62 CIF rows: no mapping left
    with pytest.raises(StructureError, match=r"cannot be matched to its 58 atoms.*CIF file"):
        read_structure(atoms)
    atoms, _ = _ase_and_pymatgen("Li3YCl6")
    atoms.symbols[0] = "Na"
    with pytest.raises(StructureError, match="atom 0 is Na but its occupancy entry"):
        read_structure(atoms)
