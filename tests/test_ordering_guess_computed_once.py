"""The Ewald ordering's oxidation-state guess is computed once: ``order_structure`` keeps
its caveat on ``OrderedCell.guess_note`` and the ordering line names it from there
(``load._guessed_states_note`` guessed again from the ordered cell: two guesses per load).
The note is the guess of the file's own composition (``oxidation_guess``; f007a59), which
here reduces to the ordered cell's formula."""

from __future__ import annotations

import pytest
from pymatgen.core import Lattice, Structure

import ionmd.structures.charges as charges
import ionmd.structures.ordering as ordering
import ionmd.structures.ordering_ewald as ordering_ewald
from ionmd.structures import OrderOptions, load_structures, order_structure


def _rock_salt(cations, a):
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), [cations, "O"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])


@pytest.fixture
def calls(monkeypatch):
    """Every oxidation_guess call for the Ewald energy's states, wherever the package
    imported it (the file composition's guess that keeps rounded cells neutral,
    ``guess_oxidation_states``, is another question and not counted)."""
    seen = []
    real = charges.oxidation_guess

    def counted(composition):
        seen.append(composition)
        return real(composition)
    monkeypatch.setattr(ordering, "guess_oxidation_states", lambda c: real(c).states)
    for module in (charges, ordering, ordering_ewald):
        if hasattr(module, "oxidation_guess"):
            monkeypatch.setattr(module, "oxidation_guess", counted)
    return seen


def test_an_ewald_load_guesses_once_and_names_the_guess(calls):
    [nm] = load_structures(_rock_salt({"Li": 0.5, "Ni": 0.25, "Mn": 0.25}, 4.1),
                           OrderOptions(method="ewald"))
    assert len(calls) == 1
    note = charges.oxidation_guess(nm.structure.composition).note
    assert note and f"; Ewald charges guessed: {note}" in nm.ordering


def test_the_cell_carries_the_caveat_only_where_the_guess_has_one():
    nm = order_structure(_rock_salt({"Li": 0.5, "Ni": 0.25, "Mn": 0.25}, 4.1), "ewald")
    assert nm.guess_note == charges.oxidation_guess(nm.structure.composition).note != ""
    fe = order_structure(_rock_salt({"Li": 0.5, "Fe": 0.5}, 4.2), "ewald")
    assert fe.guess_note == "" == charges.oxidation_guess(fe.structure.composition).note
    given = order_structure(_rock_salt({"Li": 0.5, "Ni": 0.25, "Mn": 0.25}, 4.1), "ewald",
                            oxidation_states={"Li": 1, "Ni": 2, "Mn": 4, "O": -2})
    assert given.guess_note == ""
