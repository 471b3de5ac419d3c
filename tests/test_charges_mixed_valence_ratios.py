"""Every averaged state's note names its two states and their ratio.

1e61001 wrote CsAuCl3's Au 2 as "an average of +1 and +3 (Au+ and Au3+, 1:1)", but the notes
of oxides short of O or with extra O (SrFeO3-d, TiO2-x) and of Ni's mixed oxides (NMC811)
gave the two states without their ratio and listed the average among the ions as if it
were a state ("Sr2+ Fe3.8+ O2-", "Ni2.88+"). The ratios here are hand counts.
"""

from __future__ import annotations

import pytest

from ionmd.structures.charges import oxidation_guess

# formula: (metal, {state: atoms} of a cell by hand, its average)
CELLS = {
    # Sr5Fe5O14.5: 29 e of O for 10 of Sr, 19 for 5 Fe: one Fe3+, four Fe4+
    "SrFeO2.9": ("Fe", {3: 1, 4: 4}, 3.8),
    # Sr4Fe4O11 (Hodges et al. 2000): two Fe3+, two Fe4+
    "SrFeO2.75": ("Fe", {3: 1, 4: 1}, 3.5),
    # Li20Ti25O59.5: 119 - 20 = 99 e for 25 Ti: one Ti3+, 24 Ti4+
    "Li4Ti5O11.9": ("Ti", {3: 1, 4: 24}, 3.96),
    # La10Ni5O20.5: 41 - 30 = 11 e for 5 Ni: four Ni2+, one Ni3+
    "La2NiO4.1": ("Ni", {2: 4, 3: 1}, 2.2),
    # NMC811 x 10: 40 - 10 - 4 - 3 = 23 e for 8 Ni (Mn4+, Co3+): one Ni2+, seven Ni3+
    "LiNi0.8Mn0.1Co0.1O2": ("Ni", {2: 1, 3: 7}, 2.875),
}


@pytest.mark.parametrize("formula", CELLS)
def test_an_oxides_averaged_metal_is_named_with_its_ratio(formula):
    metal, counts, average = CELLS[formula]
    assert sum(s * k for s, k in counts.items()) / sum(counts.values()) == pytest.approx(average)
    (lo, n_lo), (hi, n_hi) = sorted(counts.items())
    guess = oxidation_guess(formula)
    assert guess.states[metal] == pytest.approx(average)
    assert (f"an average of +{lo} and +{hi} ({metal}{lo}+ and {metal}{hi}+, {n_lo}:{n_hi})"
            in guess.note), guess.note
    shown = f"{metal}{average:.3g}+ "
    assert shown not in guess.note, guess.note             # no Fe3.8+ as if a state
