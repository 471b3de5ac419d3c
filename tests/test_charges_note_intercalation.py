"""The charges note of an intercalation compound ended as an alloy's did: 'sigma is the
formal ionic Nernst-Einstein one, not an alloy's' for LiC6 and KC8 (graphite hosts, no
alloys), with the guess and with the user's own charges. It now says the carbon conducts;
alloys and Zintl phases keep 'not an alloy's'."""

from __future__ import annotations

import pytest

from ionmd.structures.charges import transport_note


@pytest.mark.parametrize("given", [False, True])
@pytest.mark.parametrize("formula, charges", [("LiC6", {"Li": 1, "C": -1 / 6}),
                                              ("KC8", {"K": 1, "C": -1 / 8})])
def test_intercalation_note_calls_it_no_alloy(formula, charges, given):
    note = transport_note(formula, charges, given=given)
    assert "intercalation compound" in note
    assert "alloy" not in note
    assert "not the compound's, whose carbon conducts electrons" in note
    assert ("to use others" in note) is not given


@pytest.mark.parametrize("given", [False, True])
@pytest.mark.parametrize("formula, charges", [("LiAl", {"Li": 1}),
                                              ("Li2Si", {"Li": 1, "Si": -2})])
def test_alloys_keep_their_ending(formula, charges, given):
    assert "formal ionic Nernst-Einstein one, not an alloy's" in transport_note(
        formula, charges, given=given)
