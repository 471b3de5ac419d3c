"""N in an oxynitride whose oxoanion has another centre (LiPON: N replaces O around P,
Bates et al., Solid State Ionics 53-56 (1992) 647) is N3-. Li3PO4N was guessed Li+ P4+
O2- N+ (as pymatgen's ``oxi_state_guesses`` has it) and Li3PO3N N2-: states that absorb
what these compositions hold under N3- (-3 e, -1 e). Nitrates and nitrites, where N is
the centre of its own oxoanion, keep N5+ and N3+."""

from __future__ import annotations

import pytest
from pymatgen.core import Composition

from ionmd.structures.charges import oxidation_guess

HAND_ASSIGNED = {"Li": 1, "P": 5, "O": -2, "N": -3}


@pytest.mark.parametrize("formula", ["Li2.9PO3.3N0.46", "Li2.88PO3.73N0.14",
                                     "Li3.3PO3.9N0.17", "Li2PO2N", "LiPN2", "Li7PN4"])
def test_lipon_and_its_crystals_hold_nitride(formula):
    """Published LiPON films (Yu et al., J. Electrochem. Soc. 144 (1997) 524; as deposited
    Li2.9PO3.3N0.46) and crystalline Li2PO2N, LiPN2, Li7PN4."""
    guess = oxidation_guess(formula)
    amounts = Composition(formula)
    assert guess.states == {el: HAND_ASSIGNED[el] for el in guess.states}
    net = sum(HAND_ASSIGNED[el.symbol] * n for el, n in amounts.items())
    assert guess.net_charge == pytest.approx(net, abs=1e-9) and abs(net) < 0.01 * 8


@pytest.mark.parametrize("formula,net", [("Li3PO4N", -3), ("Li3PO3N", -1)])
def test_nitrogen_absorbs_no_charge_beside_a_phosphate(formula, net):
    assert sum(HAND_ASSIGNED[el.symbol] * n for el, n in Composition(formula).items()) == net
    guess = oxidation_guess(formula)
    assert guess.states.get("N", -3) == -3
    assert guess.states == {} and "N3-" in guess.note and f"{net:+g} e" in guess.note


@pytest.mark.parametrize("formula,states", [
    ("LiNO3", {"Li": 1, "N": 5, "O": -2}), ("NaNO2", {"Na": 1, "N": 3, "O": -2}),
    ("NH4H2PO4", {"N": -3, "H": 1, "P": 5, "O": -2}),
])
def test_nitrogen_at_the_centre_of_its_own_oxoanion_stays_positive(formula, states):
    assert oxidation_guess(formula).states == states
