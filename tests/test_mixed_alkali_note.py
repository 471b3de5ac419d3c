"""A cell holding two alkali ions, run with one of them mobile (a mixed Li/Na chloride
with the default mobile Li: audit A26), is noted before the MD: the analysis gives D and
the Nernst-Einstein sigma of the mobile species only (a toy Li/Na chloride: 716 mS/cm of
Li alone where Li and Na gave 925), and nothing said that Na was left out."""

from __future__ import annotations

import warnings

from ase.build import bulk

from ionmd.errors import IonmdNote
from ionmd.protocols import get_protocol
from ionmd.protocols.checks import check_cell


def _mixed_cell():
    atoms = bulk("NaCl", "rocksalt", a=5.1, cubic=True).repeat(2)
    symbols = atoms.get_chemical_symbols()
    na = [i for i, s in enumerate(symbols) if s == "Na"]
    for i in na[::2]:
        symbols[i] = "Li"
    atoms.set_chemical_symbols(symbols)
    return atoms


def _notes(protocol, atoms) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_cell(protocol, atoms)
    return [str(w.message) for w in caught if issubclass(w.category, IonmdNote)]


def test_the_other_alkali_of_a_mixed_cell_is_named_with_the_setting_that_counts_it():
    (note,) = _notes(get_protocol("conductivity"), _mixed_cell())   # default mobile Li
    assert "also holds Na" in note and "of Li only" in note
    assert "--set mobile_species=Li,Na" in note


def test_no_note_where_every_alkali_is_mobile_or_the_cell_holds_one():
    assert _notes(get_protocol("conductivity", mobile_species=("Li", "Na")), _mixed_cell()) == []
    nacl = bulk("NaCl", "rocksalt", a=5.64, cubic=True).repeat(2)
    assert _notes(get_protocol("conductivity", mobile_species=("Na",)), nacl) == []
    # a ramp gives no D: nothing to leave out
    assert _notes(get_protocol("pressure-ramp"), _mixed_cell()) == []
