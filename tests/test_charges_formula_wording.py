"""The charge notes wrote formulas with spaces ("Li6.72 P S5 Cl holds +0.72 e", "Li2 Si is
an intermetallic"); they now write them as chemists do: no spaces, no ones, cations first."""

from __future__ import annotations

import pytest

from ionmd.structures.charges import oxidation_guess, transport_note


@pytest.mark.parametrize("formula,written", [
    ("Li6.72PS5Cl", "Li6.72PS5Cl holds +0.72 e"),
    ("Fe3O4", "makes Fe3O4 neutral"),
    ("Li2S6", "LiS3: S -0.333"),
    ("Li2Cl", "no sound oxidation states for Li2Cl:"),
    ("Fe3C", "Fe3C is a metallic carbide"),
])
def test_guess_notes_write_formulas_without_spaces(formula, written):
    assert written in oxidation_guess(formula).note


@pytest.mark.parametrize("formula,written", [
    ("Li4Si2", "Li2Si is an intermetallic or Zintl phase"),
    ("LiAl", "LiAl is an intermetallic"),
    ("LiC6", "LiC6 is an intercalation compound"),
])
def test_transport_notes_write_formulas_without_spaces(formula, written):
    assert transport_note(formula).startswith(written)
