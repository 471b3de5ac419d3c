"""Oxidation states as files declare them: a magnetic CIF (Bilbao MAGNDATA, .mcif) reads as
pymatgen reads it, and a mixed-valence site (Fe2+ 0.5 / Fe3+ 0.5 in
``_atom_type_oxidation_number``) keeps its states per site through ordering, counted
against pymatgen's own reading of the file, with no net charge."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter

from ionmd.structures import OrderOptions, load_structure, read_structure
from published_cifs import FILES, pymatgen_structure


def test_magnetic_cif_reads_as_pymatgen_reads_it():
    """LaMnO3 (MAGNDATA 0.1): magnetic operators carry a time-reversal sign (x,y,z,+1)
    and the moments a loop of their own; the atoms are the 20 of the Pnma cell."""
    path = FILES / "LaMnO3_magnetic.mcif"
    got, want = read_structure(path), pymatgen_structure(path)
    assert len(got) == len(want) == 20
    assert got.composition.reduced_formula == "LaMnO3" and got.composition == want.composition
    assert np.allclose(got.lattice.abc, [5.7461, 7.6637, 5.5333])
    for site in want:
        d = got.lattice.get_all_distances(got.frac_coords, [site.frac_coords])[:, 0]
        assert d.min() < 1e-6
    loaded = load_structure(path, OrderOptions(supercell="8A"))
    cells = round(len(loaded.structure) / 20)
    assert loaded.structure.composition == want.composition * cells
    assert cells == 4       # 5.7 x 7.7 x 5.5 A: 4 cells reach 8 A (repeating it: 2x2x2)


def _magnetite() -> Structure:
    """Inverse spinel Fe3O4 (Fd-3m, origin 1): Fe3+ on 8a, Fe2+/Fe3+ 0.5/0.5 on 16d."""
    return Structure.from_spacegroup(
        "Fd-3m", Lattice.cubic(8.396), [{"Fe3+": 1}, {"Fe2+": 0.5, "Fe3+": 0.5}, {"O2-": 1}],
        [[0, 0, 0], [0.625, 0.625, 0.625], [0.3799, 0.3799, 0.3799]])


@pytest.mark.parametrize("method", ["random", "ewald"])
def test_mixed_valence_site_keeps_its_states_per_site(method, tmp_path):
    path = tmp_path / "Fe3O4.cif"
    CifWriter(_magnetite()).write_file(path)
    text = path.read_text()
    assert "_atom_type_oxidation_number" in text and "Fe2+" in text
    want = pymatgen_structure(path)                  # pymatgen's own reading: Fe2+8 Fe3+16 O2-32
    loaded = load_structure(path, OrderOptions(method=method, seed=3))
    got = loaded.structure
    cells = round(len(got) / len(want))
    assert got.composition == want.composition * cells          # per species, not element
    assert sum(sp.oxi_state * n for sp, n in got.composition.items()) == 0
    # Fe2+ only where the file allows it: the octahedral 16d sites (6 O within 2.2 A)
    for i, site in enumerate(got):
        if site.specie.symbol == "Fe":
            n_o = sum(1 for nb in got.get_neighbors(site, 2.2) if nb.specie.symbol == "O")
            assert (n_o == 6) or str(site.specie) == "Fe3+"
    octahedral = [s for s in got if s.specie.symbol == "Fe"
                  and sum(1 for nb in got.get_neighbors(s, 2.2) if nb.specie.symbol == "O") == 6]
    assert sum(str(s.specie) == "Fe2+" for s in octahedral) == len(octahedral) // 2
