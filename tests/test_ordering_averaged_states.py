"""Ordering's oxidation-state edges: averaged states keep an ionic floor without
pymatgen's terminal warnings, and an Ewald ordering without a guess says why and what to do
on the command line."""

import warnings

import pytest
from pymatgen.core import Lattice, Species, Structure

from ionmd.structures import StructureError, order_structure
from ionmd.structures.charges import oxidation_guess
from ionmd.structures.ordering_limits import _ionic_radii


def test_averaged_state_gets_radius_between_whole_states_quietly():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        radii = _ionic_radii(["Li", "O", "P", "V"], {"Li": 1, "O": -2, "P": 5, "V": 3.25})
        none = _ionic_radii(["Li", "P"], {"Li": 1, "P": -3})
    r3, r4 = Species("V", 3).ionic_radius, Species("V", 4).ionic_radius
    assert radii["V"] == pytest.approx(r3 + 0.25 * (r4 - r3))
    assert radii["P"] == pytest.approx(Species("P", 5).ionic_radius)
    assert none is None                     # P3- has no radius: no floor, as before
    assert [str(w.message) for w in caught] == []


def _zn_s3_half_occupied() -> Structure:
    """Zn on two half-filled sites, S3: Zn S3 has no sound oxidation states (Li S3 has
    since charges3: Li2S6, a polysulfide, Li+ S-1/3)."""
    return Structure(Lattice.cubic(10.0),
                     [{"Zn": 0.5}, {"Zn": 0.5}, "S", "S", "S"],
                     [[0, 0, 0], [0.5, 0.5, 0.5], [0.25, 0, 0], [0, 0.25, 0], [0, 0, 0.25]])


def test_ewald_without_guess_says_why_and_cli_ways():
    note = oxidation_guess({"Zn": 1, "S": 3}).note
    assert note
    with pytest.raises(StructureError) as err:
        order_structure(_zn_s3_half_occupied(), "ewald")
    text = str(err.value)
    assert note in text
    assert "--order random" in text and "_atom_type_oxidation_number" in text
    assert "check the file's occupancies" in text
    # the file's declared states are the CLI way the message names: they order it
    declared = _zn_s3_half_occupied()
    declared.add_oxidation_state_by_element({"Zn": 2, "S": -2 / 3})
    cell = order_structure(declared, "ewald")
    assert cell.structure.composition.reduced_formula == "ZnS3"
