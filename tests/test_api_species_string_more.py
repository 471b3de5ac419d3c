"""One species given as a str is one species in the last entry points that iterated it
letter by letter (``list("Li")`` is ``['L', 'i']``): the structure-function files, the
stopping rule's convergence values; and transport_charges takes a pymatgen Structure as
oxidation_guess does (``Composition(structure)`` raised ``KeyError: 'Invalid key=0'``).
References: the same call with ``["Li"]``; pymatgen's composition of the structure."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice, Structure

from ionmd.analysis.convergence import convergence_values
from ionmd.analysis.structure_files import write_structure_functions
from ionmd.analysis.trajectory import Trajectory
from ionmd.structures.charges_transport import transport_charges
from test_api_input_forms import gaussian_walk


def _walk() -> Trajectory:
    pos, boxes, steps, elements, masses = gaussian_walk(n_frames=121, n_li=8, n_cl=4)
    return Trajectory(pos, boxes, steps, elements, masses, 1.0)


def test_structure_functions_take_one_species_as_a_str(tmp_path):
    traj = _walk()
    (tmp_path / "s").mkdir()
    (tmp_path / "l").mkdir()
    as_str = write_structure_functions(traj, "Li", tmp_path / "s", van_hove_lags_ps=[1.0])
    as_list = write_structure_functions(traj, ["Li"], tmp_path / "l", van_hove_lags_ps=[1.0])
    assert sorted(p.rsplit("/", 1)[-1] for p in as_str) == sorted(
        p.rsplit("/", 1)[-1] for p in as_list)
    assert (tmp_path / "s" / "density_Li.cube").is_file()
    assert not (tmp_path / "s" / "density_L.cube").exists()
    for name in ("rdf.csv", "van_hove.csv"):
        assert (tmp_path / "s" / name).read_text() == (tmp_path / "l" / name).read_text()


def test_convergence_values_take_one_species_as_a_str():
    traj = _walk()
    one, listed = convergence_values(traj, "Li"), convergence_values(traj, ["Li"])
    assert "note" not in one and list(one["species"]) == ["Li"]
    assert np.isclose(one["species"]["Li"]["D"], listed["species"]["Li"]["D"], rtol=1e-12)
    assert one["hops"] == listed["hops"] > 0


def test_transport_charges_of_a_structure_are_those_of_its_composition():
    s = Structure(Lattice.cubic(5.14), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    assert transport_charges(s) == transport_charges(s.composition) == {"Li": 1.0, "Cl": -1.0}


def test_framework_species_of_one_mobile_species_as_a_str():
    from ionmd.analysis.framework import framework_species

    elements = ["Na"] * 3 + ["N"] * 2 + ["Cl"] * 3
    charges = {"Na": 1.0, "N": -3.0, "Cl": -1.0}
    assert framework_species(elements, "Na", charges) == framework_species(
        elements, ["Na"], charges) == ["Cl", "N"]


def test_unsigned_steps_that_decrease_are_refused():
    import pytest

    from ionmd.errors import AnalysisError

    pos, boxes, steps, elements, masses = gaussian_walk(n_frames=5, n_li=2, n_cl=1)
    with pytest.raises(AnalysisError, match="strictly increasing"):
        Trajectory(pos, boxes, steps[::-1].astype(np.uint64), elements, masses, 1.0)
    Trajectory(pos, boxes, steps.astype(np.uint64), elements, masses, 1.0)   # increasing: fine
