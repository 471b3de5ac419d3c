"""Prussian blue, Fe4[Fe(CN)6]3 (Fe7C18N18), for which ionmd has no guess, was called 'a
metallic carbonitride (C beside the d- or f-block metal Fe, as TiC, WC, Fe3C)' (review-F of
e3285e3): its C is a cyanide's, a cation. Reference: pymatgen's own search of formal states
puts C above 0 in its likeliest assignments; titanium carbonitride TiC0.5N0.5 stays metallic."""

from pymatgen.core import Composition

from ionmd.structures.charges import oxidation_guess, transport_note

PRUSSIAN_BLUE = "Fe7C18N18"


def test_prussian_blue_is_no_metallic_carbonitride():
    best = Composition(PRUSSIAN_BLUE).oxi_state_guesses(max_sites=-1)[:2]
    assert best and all(states["C"] > 0 for states in best)
    guess = oxidation_guess(PRUSSIAN_BLUE)
    assert "metallic" not in guess.note
    assert "metallic" not in transport_note(PRUSSIAN_BLUE, guess.states)


def test_titanium_carbonitride_stays_metallic():
    assert "metallic carbonitride" in transport_note("TiC0.5N0.5")
