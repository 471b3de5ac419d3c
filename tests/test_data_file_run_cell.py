"""The run cell a data file is written from (``prepare.run_cell``) and the run's
Nernst-Einstein charges (``prepare.oxidation_states``).

References: the atom count of a supercell is cells x atoms per cell (no cell is built to
count it: ``Atoms.repeat`` is made to fail); the charges by the composition's own
neutrality (pymatgen's species)."""

from __future__ import annotations

import math

import pytest
from ase import Atoms
from ase.build import bulk
from pymatgen.core import Lattice, Structure

from ionmd.errors import IonmdError
from ionmd.protocols import get_protocol
from ionmd.protocols.prepare import oxidation_states, run_cell
from ionmd.protocols.setting_ranges import MAX_RUN_ATOMS


def protocol(supercell):
    return get_protocol("conductivity", supercell=supercell)


def licl_cell(n_atoms: int) -> Atoms:
    """Rock salt's 8-atom cube (a = 5.13 A) stacked along c to ``n_atoms`` atoms."""
    return bulk("LiCl", "rocksalt", a=5.13, cubic=True).repeat((1, 1, n_atoms // 8))


CELL_200 = licl_cell(200)       # built before a test replaces Atoms.repeat


@pytest.fixture
def no_repeat(monkeypatch):
    """``Atoms.repeat`` replaced by a recorder that builds nothing."""
    calls = []

    def record(self, rep):
        calls.append(tuple(rep))
        return self
    monkeypatch.setattr(Atoms, "repeat", record)
    return calls


def test_a_huge_supercell_is_refused_from_its_count_before_it_is_built(no_repeat):
    """46x46x46 copies of a 200-atom cell: 19.5 million atoms, which ran out of time and
    memory unrefused."""
    cell = CELL_200
    assert len(cell) == 200
    n = 46**3 * 200
    with pytest.raises(IonmdError) as err:
        run_cell(protocol("46x46x46"), cell)
    text = str(err.value)
    assert "supercell '46x46x46': 46x46x46 copies of the 200-atom cell" in text
    assert f"would hold {n:,} atoms, more than the {MAX_RUN_ATOMS:,}" in text
    # the fix offered: a minimum width, with its count on this cell (8 A: 2x2x1 copies)
    widths_8a = [math.ceil(8.0 / w) for w in (5.13, 5.13, 5.13 * 25)]
    assert f"8A: {math.prod(widths_8a) * 200:,} atoms here" in text
    assert no_repeat == []


def test_a_supercell_of_just_the_most_atoms_is_built(no_repeat):
    cell = CELL_200
    reps = MAX_RUN_ATOMS // 200         # 25000 copies = 5,000,000 atoms exactly
    run_cell(protocol(f"{reps}x1x1"), cell)
    assert no_repeat == [(reps, 1, 1)]
    with pytest.raises(IonmdError, match="5,000,200 atoms"):
        run_cell(protocol(f"{reps + 1}x1x1"), cell)


def test_a_cell_already_in_its_supercell_is_counted_too():
    big = licl_cell(8).repeat((2, 2, 2))
    run_cell(protocol("2x2x2"), big, in_run_cell=True)      # 64 atoms: as it is
    import ionmd.structures.supercell as supercell

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(supercell, "MAX_RUN_ATOMS", 63)
        with pytest.raises(IonmdError, match=r"the run cell \(supercell '2x2x2', built as "
                                             r"the structure was loaded\) would hold 64 atoms"):
            run_cell(protocol("2x2x2"), big, in_run_cell=True)


@pytest.mark.parametrize("cell", [None, [[4, 0, 0], [0, 4, 0], [4, 4, 0]]],
                         ids=["no cell", "flat cell"])
def test_a_cell_that_is_no_box_is_named(cell):
    """ASE's Prism raised ``LinAlgError: Singular matrix`` on these."""
    atoms = Atoms("LiCl", positions=[[0, 0, 0], [2, 2, 2]], cell=cell)
    with pytest.raises(IonmdError, match="is not three-dimensional; MD runs in a periodic box"):
        run_cell(protocol(None), atoms)


MAGNETITE_LIKE = [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5],
                  [0.25, 0.25, 0.25], [0.75, 0.75, 0.75], [0.25, 0.75, 0.25]]


@pytest.mark.parametrize("species", [
    ["Fe2+", "Fe2+", "Fe3+", "O2-", "O2-", "O2-", "O2-", "Li+"],
    ["Fe3+", "Fe2+", "Fe2+", "O2-", "O2-", "O2-", "O2-", "Li+"]], ids=["Fe3+ last", "Fe2+ last"])
def test_mixed_valence_from_the_file_is_averaged_and_neutral(species):
    """LiFe3O4 with 2 Fe2+ and Fe3+: the last site's state stood before (Fe 3 or Fe 2 by
    the order of the sites: +2 or -1 e per formula); now Fe 7/3, neutral like the file's
    species."""
    structure = Structure(Lattice.cubic(8.4), species, MAGNETITE_LIKE)
    assert sum(sp.oxi_state * n for sp, n in structure.composition.items()) == 0
    charges = oxidation_states(structure)
    assert charges == pytest.approx({"Fe": 7 / 3, "O": -2.0, "Li": 1.0})
    net = sum(charges[el.symbol] * n for el, n in structure.composition.element_composition.items())
    assert net == pytest.approx(0.0, abs=1e-12)
