"""A minimum-width supercell of a primitive or skewed cell is built by pymatgen at loading
(``structures.load._compact_supercell``), before the run cell's atom count: 400 A of
2-atom primitive LiF (0.122 atoms/A^3: ~7.8 million atoms, over the 5 million a run cell may
hold) was built first (pymatgen: 8 s per 110,000 atoms, so ~10 min) and refused after. The
count is now taken from the supercell matrix before anything is built."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from ionmd.errors import IonmdError
from ionmd.structures import OrderOptions, load_structure


@pytest.fixture
def primitive_lif(tmp_path):
    path = tmp_path / "LiF.cif"
    bulk("LiF", "rocksalt", a=4.03).write(path)         # fcc primitive vectors
    return path


def test_a_huge_width_is_refused_before_pymatgen_builds_it(primitive_lif, monkeypatch):
    def building(self, matrix, *args, **kwargs):
        raise AssertionError(f"make_supercell called (det {np.linalg.det(matrix):.0f})")

    monkeypatch.setattr(Structure, "make_supercell", building)
    with pytest.raises(IonmdError, match=r"would hold ([\d,]+) atoms, more than the "
                                         r"5,000,000") as exc:
        load_structure(primitive_lif, OrderOptions(supercell="400A"))
    named = int(exc.value.args[0].split("would hold ")[1].split(" atoms")[0].replace(",", ""))
    # at least the atoms of a 400 A cube at rock salt LiF's density
    prim = AseAtomsAdaptor.get_structure(bulk("LiF", "rocksalt", a=4.03))
    assert named >= 400.0 ** 3 / prim.volume * 2 > 5_000_000


def test_a_usual_width_is_built_as_before(primitive_lif):
    loaded = load_structure(primitive_lif, OrderOptions(supercell="8A"))
    widths = np.abs(np.linalg.det(loaded.structure.lattice.matrix)) / np.linalg.norm(
        np.cross(np.roll(loaded.structure.lattice.matrix, -1, 0),
                 np.roll(loaded.structure.lattice.matrix, -2, 0)), axis=1)
    assert loaded.in_run_cell and widths.min() >= 8.0 - 1e-9
