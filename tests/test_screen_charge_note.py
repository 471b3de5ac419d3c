"""A screened cell that no sound oxidation states make neutral gets a note: OBELiX's
Li2(OH)Br CIF holds no H and was screened as Li2BrO (-1 e per formula unit under Li+ Br-
O2-) without a word. Here anti-fluorite 'Li2Cl' (+1 e per formula unit under Li+ Cl-, by
hand) gets the note, with its charge; rock-salt LiCl (neutral) does not."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

from ionmd.screen.batched_energy import ModelRunner
from ionmd.screen.screen import ScreenSettings, charge_note, screen_structure
from protocol_setup import morse_model

SETTINGS = ScreenSettings(spacing=0.9, rmin=1.0, max_nodes=4096)


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    return ModelRunner(morse_model(tmp_path_factory.mktemp("morse") / "morse.pt"))


def li2cl():
    """Anti-fluorite (Li2O's structure) with Cl for O: Li2Cl, Li+ and Cl- leave +1 e."""
    atoms = bulk("CaF2", "fluorite", a=5.8)
    atoms.set_chemical_symbols(["Cl", "Li", "Li"])
    return atoms


def test_a_cell_no_states_make_neutral_is_noted(runner):
    result = screen_structure(li2cl(), runner, SETTINGS)
    note = result.extra["charge_note"]      # its own column: `note` is the narrow cell's
    assert "planes" in result.extra["note"]
    assert "no sound oxidation states for Li2Cl" in note and "+1 e" in note
    assert "may lack atoms" in note


def test_a_neutral_cell_gets_no_charge_note(runner):
    result = screen_structure(bulk("LiCl", "rocksalt", a=5.14), runner, SETTINGS)
    assert "charge_note" not in result.extra
    assert charge_note(bulk("LiCl", "rocksalt", a=5.14)) is None


def test_states_the_file_declares_are_its_own():
    """pymatgen's reading of a file with oxidation states carries them (ASE array
    ``oxi_states``): the file says what it is, no guess is needed."""
    atoms = li2cl()
    atoms.set_array("oxi_states", np.array([-2.0, 1.0, 1.0]))
    assert charge_note(atoms) is None
    assert charge_note(li2cl()) is not None


@pytest.mark.parametrize("formula", ["Li2B12H12", "LiCB11H12"])
def test_a_closo_borate_is_a_neutral_salt_not_a_cell_lacking_atoms(formula):
    """[B12H12]2- and [CB11H12]- cages with Li+ are neutral salts (by hand: 2 x (+1) - 2,
    +1 - 1): no note that the file lacks atoms; a cage short of its cations still gets one."""
    from ase import Atoms

    rng = np.random.default_rng(0)
    n = len(Atoms(formula))
    assert charge_note(Atoms(formula, positions=rng.random((n, 3)) * 8, cell=[8, 8, 8],
                             pbc=True)) is None
    short = Atoms(formula.replace("Li2", "Li", 1).replace("LiC", "C", 1))
    assert charge_note(Atoms(short.get_chemical_formula(), cell=[8, 8, 8], pbc=True,
                             positions=rng.random((len(short), 3)) * 8)) is not None


@pytest.mark.parametrize("formula", ["Li2S6", "Na2S4"])
def test_a_polysulfide_is_no_file_to_check_and_the_note_says_none_is(formula):
    """Polysulfide salts have formal states (pymatgen: Li+ S-1/3, Na+ S-0.5): no note. The
    note of a cell without states said 'cluster anions, as a polysulfide's, have no formal
    states: such a file is fine', which told a Li2S cell short of Li (Li7S4) it may be one;
    it now names the borane anions that are such files (LiB9H14's B9H14-; LiB3H8's B3H8-
    has its cluster guess since 1e61001, so it gets no note)."""
    from ase import Atoms
    from pymatgen.core import Composition

    rng = np.random.default_rng(1)

    def cell(f):
        n = len(Atoms(f))
        return Atoms(f, positions=rng.random((n, 3)) * 8, cell=[8, 8, 8], pbc=True)

    assert Composition(formula).oxi_state_guesses()
    assert charge_note(cell(formula)) is None
    for short in ("Li7S4", "LiB9H14"):
        note = charge_note(cell(short))
        assert note is not None and "polysulfide" not in note and "B9H14-" in note
    assert charge_note(cell("LiB3H8")) is None
