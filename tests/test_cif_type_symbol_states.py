"""Oxidation states a CIF gives only in its type symbols (``Ni3+``, ``O2-``: the CIF core
dictionary lets _atom_site_type_symbol carry a charge) are read as the file's states. Before,
pymatgen's reader took states only from an _atom_type_oxidation_number loop, so
LiNi0.5Mn0.5O2 typed Ni3+/Mn3+ ran with ionmd's guess Ni 2, Mn 4 (charges_guessed) and its
Ewald ordering asked for the states the file already gave. The reference for each file is
pymatgen's reading of the same file with the loop written by hand."""

from __future__ import annotations

import warnings

import pytest
from pymatgen.io.cif import CifParser

from ionmd.protocols.prepare import run_charges
from ionmd.structures import OrderOptions, load_structures, read_structure
from ionmd.structures.charges_sites import declared_oxidation_states
from ionmd.structures.cif_charges import type_symbol_state

# R-3m LiNi0.5Mn0.5O2 (hexagonal setting, operators listed), Ni3+/Mn3+ in the type symbols
LNMO_SITES = """loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Li1 {li} 0 0 0.5 1
Ni1 Ni3+ 0 0 0 0.5
Mn1 Mn3+ 0 0 0 0.5
O1 {o} 0 0 0.2578 1
"""
LNMO_HEAD = """data_LNMO
_cell_length_a 2.8917(2)
_cell_length_b 2.8917(2)
_cell_length_c 14.2906(9)
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 120
_symmetry_space_group_name_H-M 'R -3 m'
_space_group_IT_number 166
"""
HAND_LOOP = """loop_
_atom_type_symbol
_atom_type_oxidation_number
Li1+ 1
Ni3+ 3
Mn3+ 3
O2- -2
"""


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def _species(structure) -> list[list[tuple[str, float]]]:
    """Each site's species as (symbol, oxidation state), states 0 where none is given."""
    return [sorted((sp.symbol, float(getattr(sp, "oxi_state", 0) or 0))
                   for sp in site.species) for site in structure]


def _pymatgen(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CifParser(str(path)).parse_structures(primitive=False)[0]


@pytest.mark.parametrize("li, o", [("Li1+", "O2-"), ("Li+", "O2-"), ("Li1+", "O-2")])
def test_type_symbols_give_the_states_of_the_hand_written_loop(tmp_path, li, o):
    typed = _write(tmp_path, "typed.cif", LNMO_HEAD + LNMO_SITES.format(li=li, o=o))
    looped = _write(tmp_path, "looped.cif", LNMO_HEAD + HAND_LOOP + LNMO_SITES.format(
        li="Li1+", o="O2-"))
    reference = _pymatgen(looped)
    assert {sp.symbol: sp.oxi_state for sp in reference.composition} == {
        "Li": 1, "Ni": 3, "Mn": 3, "O": -2}                       # hand-assigned
    ours = read_structure(typed)
    assert _species(ours) == _species(reference)
    assert run_charges(ours) == ({"Li": 1.0, "Ni": 3.0, "Mn": 3.0, "O": -2.0}, False)


def test_ewald_ordering_takes_the_type_symbol_states(tmp_path):
    """The Ewald ordering ranks with the file's Ni3+/Mn3+ (before: the guess Ni2+ Mn4+)
    and the ordered cell keeps them for the run's charges."""
    typed = _write(tmp_path, "typed.cif", LNMO_HEAD + LNMO_SITES.format(li="Li1+", o="O2-"))
    (loaded,) = load_structures(typed, OrderOptions(method="ewald", occ_tol=0.002, seed=1))
    states = {(sp.symbol, getattr(sp, "oxi_state", None)) for sp in loaded.structure.composition}
    assert states == {("Li", 1), ("Ni", 3), ("Mn", 3), ("O", -2)}
    assert run_charges(loaded.structure)[1] is False


def test_rocksalt_typed_li_cl_is_declared_not_guessed(tmp_path):
    path = _write(tmp_path, "LiCl.cif", """data_LiCl
_cell_length_a 5.1295(4)
_cell_length_b 5.1295(4)
_cell_length_c 5.1295(4)
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'F m -3 m'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Li1 Li1+ 0 0 0
Cl1 Cl1- 0.5 0.5 0.5
""")
    structure = read_structure(path)
    assert len(structure) == len(_pymatgen(path)) == 8
    assert run_charges(structure) == ({"Li": 1.0, "Cl": -1.0}, False)


def test_the_files_loop_wins_and_a_contradiction_is_said(tmp_path):
    """A loop giving Ni 2 beside the type symbol Ni3+: pymatgen's reading (the loop's Ni2+)
    is kept, and the warning names the site and both states."""
    loop = HAND_LOOP.replace("Ni3+ 3", "Ni3+ 2")
    path = _write(tmp_path, "both.cif", LNMO_HEAD + loop + LNMO_SITES.format(li="Li1+", o="O2-"))
    with pytest.warns(UserWarning, match=r"site Ni1: its type symbol Ni3\+ says \+3, the "
                                         r"file's _atom_type_oxidation_number \+2; \+2 is used"):
        ours = read_structure(path)
    assert _species(ours) == _species(_pymatgen(path))
    assert {sp.symbol: sp.oxi_state for sp in ours.composition}["Ni"] == 2


def test_a_loop_without_some_types_gets_them_from_the_type_symbols(tmp_path):
    """The file's loop covers Li and O only: pymatgen gave Ni and Mn state 0 (no states
    declared); the type symbols fill them in, as the whole hand-written loop has them."""
    partial = "".join(line + "\n" for line in HAND_LOOP.splitlines()
                      if not line.startswith(("Ni", "Mn")))
    path = _write(tmp_path, "partial.cif",
                  LNMO_HEAD + partial + LNMO_SITES.format(li="Li1+", o="O2-"))
    looped = _write(tmp_path, "looped.cif",
                    LNMO_HEAD + HAND_LOOP + LNMO_SITES.format(li="Li1+", o="O2-"))
    assert {sp.symbol: sp.oxi_state for sp in _pymatgen(path).composition}["Ni"] == 0
    assert _species(read_structure(path)) == _species(_pymatgen(looped))


def test_a_partly_charged_file_declares_no_states(tmp_path):
    """Type symbols Li1+ beside uncharged O: no states (pymatgen's reading, no loop), so
    the run's charges are the guess; a warning says so (before: silently)."""
    path = _write(tmp_path, "part.cif", LNMO_HEAD + LNMO_SITES.format(li="Li1+", o="O"))
    with pytest.warns(UserWarning, match=r"the type symbols Li1\+, Mn3\+, Ni3\+ carry a "
                                         r"charge but O does not, so the type symbols declare "
                                         r"no oxidation states"):
        ours = read_structure(path)
    assert _species(ours) == _species(_pymatgen(path))
    assert declared_oxidation_states(ours) is None


@pytest.mark.parametrize("symbol", ["Ni3+", "O2-", "Li+", "Li1+", "Mn3.5+", "Cl1-"])
def test_type_symbol_states_match_pymatgens_species(symbol):
    from pymatgen.core import Species

    assert type_symbol_state(symbol) == pytest.approx(Species.from_str(symbol).oxi_state)


@pytest.mark.parametrize("symbol", ["Li", "Li1", "Ow", "Li0+", "Xx2+", "OH"])
def test_symbols_without_a_charge_give_none(symbol):
    assert type_symbol_state(symbol) is None


@pytest.mark.parametrize("unknown", ["?", "."])
def test_unknown_states_in_the_loop_are_taken_from_the_type_symbols(tmp_path, unknown):
    """A loop giving the states as unknown ('?': pymatgen then drops every state of the
    file; '.': read as 0, and the contradiction note said '+0 is used') beside charged type
    symbols: the states are the type symbols', as the hand-written loop has them (before:
    charges guessed)."""
    loop = "".join(f"{line.split()[0]} {unknown}\n" if line[:1] in "LNMO" else line + "\n"
                   for line in HAND_LOOP.splitlines())
    path = _write(tmp_path, "unknown.cif", LNMO_HEAD + loop + LNMO_SITES.format(li="Li1+", o="O2-"))
    looped = _write(tmp_path, "looped.cif",
                    LNMO_HEAD + HAND_LOOP + LNMO_SITES.format(li="Li1+", o="O2-"))
    assert declared_oxidation_states(_pymatgen(path)) is None       # pymatgen: no states
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = read_structure(path)
    assert not [w for w in caught if "_atom_type_oxidation_number" in str(w.message)]
    assert _species(ours) == _species(_pymatgen(looped))
    assert run_charges(ours) == ({"Li": 1.0, "Ni": 3.0, "Mn": 3.0, "O": -2.0}, False)
