"""Charges for a Nernst-Einstein sigma where no formal oxidation states fit.

Closo-borates (Li2B12H12, LiCB11H12, Na2B12H12) hold cluster anions whose atoms have no
formal states (polysulfides' S atoms have an average one: test_charges3_polyanions), so the
oxidation-state guess gives none (since this session's formal-state rules; before, states
such as B-0.818 with H+1 that at least gave Li +1). A sigma of the Li or Na ions needs only
their own charge, +1 by chemistry: run.json and a campaign's ``charges = "auto"`` carry it,
the cluster's atoms get none.
"""

import pytest
from ase import Atoms

from ionmd.protocols.prepare import oxidation_states
from ionmd.structures import guess_oxidation_states, transport_charges


@pytest.mark.parametrize("formula,ions", [
    ("Li2B12H12", {"Li": 1.0}), ("LiCB11H12", {"Li": 1.0}), ("Na2B12H12", {"Na": 1.0}),
    ("NaCB9H10", {"Na": 1.0}),
])
def test_cluster_anions_keep_the_mobile_ions_charge(formula, ions):
    assert guess_oxidation_states(formula) == {}
    assert transport_charges(formula) == ions


@pytest.mark.parametrize("formula", ["LiCl", "Li6PS5Cl", "Li3YCl6", "LiBH4"])
def test_a_sound_guess_is_kept_whole(formula):
    assert guess_oxidation_states(formula)
    assert transport_charges(formula) == guess_oxidation_states(formula)


def test_run_json_charges_of_a_closo_borate():
    """What `ionmd run` writes to run.json for a closo-borate cell (was {}: sigma refused)."""
    cell = Atoms("Li2B12H12", positions=[[0, 0, 0]] * 26, cell=[10, 10, 10], pbc=True)
    assert oxidation_states(cell) == {"Li": 1.0}


def test_missing_charge_names_every_way_to_give_it():
    import numpy as np

    from ionmd.analysis.conductivity import conductivity_from_diffusion
    from ionmd.errors import AnalysisError

    class Result:
        species, n_ions, samples = "Li", 10, np.ones(4)

    with pytest.raises(AnalysisError) as err:
        conductivity_from_diffusion([Result()], {}, 1000.0, 600.0)
    text = str(err.value)
    assert "ionmd analyze --charges Li=1" in text and "charges = {Li = 1}" in text
