"""A CIF of several data blocks: one bad block (a site pymatgen would drop) refused the
whole file, good blocks with it, and the error did not say which block. Each block is now
read on its own: the good ones load (as pymatgen reads each alone), every error names its
block, a command taking one structure names the blocks to choose from, and a screen
reports the bad block as its own error row and screens the others."""

from __future__ import annotations

import json
import warnings

import pytest
from pymatgen.core import Structure
from ionmd.structures import StructureError, load_structure, read_structures
from ionmd.structures.io import read_blocks
from ionmd.structures.load import LoadFailure, load_structures


def _block(name: str, li_symbol: str = "Li") -> str:
    """Rock-salt LiCl (Fm-3m), Li typed ``li_symbol``."""
    return f"""data_{name}
_cell_length_a 5.14
_cell_length_b 5.14
_cell_length_c 5.14
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'F m -3 m'
_space_group_IT_number 225
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Li1 {li_symbol} 0 0 0 1
Cl1 Cl 0.5 0.5 0.5 1
"""


@pytest.fixture
def two_blocks(tmp_path):
    """A good block ('good') and one typed 7Li ('bad'), which pymatgen would read as Cl4."""
    path = tmp_path / "two.cif"
    path.write_text(_block("good") + "\n" + _block("bad", "7Li"))
    return path


def _pymatgen(text: str) -> Structure:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Structure.from_str(text, fmt="cif")


def test_the_good_block_reads_and_the_bad_one_is_named(two_blocks):
    (name0, block0, good), (name1, block1, bad) = read_blocks(two_blocks)
    assert (name0, block0, name1, block1) == ("two_0", "good", "two_1", "bad")
    assert good.composition == _pymatgen(_block("good")).composition
    assert isinstance(bad, StructureError)
    assert "data block 'bad'" in str(bad) and "7Li" in str(bad)
    with pytest.raises(StructureError, match=r"data block 'bad'"):   # all or nothing
        read_structures(two_blocks)


def test_loading_keeps_the_good_block_and_names_the_bad(two_blocks):
    good, bad = load_structures(two_blocks, keep_failures=True)
    assert good.structure.composition == _pymatgen(_block("good")).composition
    assert isinstance(bad, LoadFailure) and bad.block == "bad" and bad.structure is None


def test_an_ordering_failure_names_its_block(tmp_path):
    """A block with partial occupancies and no --order: refused naming the block, the other
    loaded."""
    text = _block("good") + "\n" + _block("half").replace("Li1 Li 0 0 0 1", "Li1 Li 0 0 0 0.5")
    path = tmp_path / "half.cif"
    path.write_text(text)
    good, half = load_structures(path, keep_failures=True)
    assert not isinstance(good, LoadFailure)
    assert isinstance(half, LoadFailure) and half.structure is not None
    assert "data block 'half'" in str(half.error) and "partially occupied" in str(half.error)


def test_a_command_taking_one_structure_names_the_blocks(two_blocks):
    with pytest.raises(StructureError, match=r"holds 2 structures \(data blocks 'good', 'bad' "
                                             r"\(cannot be read\)\): keep the block you want"):
        load_structure(two_blocks)


def test_a_publication_block_beside_one_structure_is_no_second_structure(tmp_path):
    path = tmp_path / "one.cif"
    path.write_text("data_global\n_journal_name_full 'J. Test'\n\n" + _block("LiCl"))
    assert load_structure(path).structure.composition == _pymatgen(_block("LiCl")).composition


def test_the_screen_reports_the_bad_block_and_screens_the_good(two_blocks, tiny_f64, tmp_path):
    from ionmd.cli import main

    (tmp_path / "LiCl.cif").write_text(_block("good"))
    out = tmp_path / "out"
    code = main(["screen", str(two_blocks), "--model", str(tiny_f64), "--spacing", "0.7",
                 "-o", str(out)])
    rows = {r["name"]: r for r in json.loads((out / "screen.json").read_text())}
    assert code == 3                                        # a failure, reported
    assert rows["two_0"]["status"] == "ok"
    assert rows["two_1"]["status"] == "error" and rows["two_1"]["stage"] == "cannot read"
    assert "data block 'bad'" in rows["two_1"]["error"]
    # the good block's descriptors are those of the block as a file of its own
    alone = tmp_path / "alone"
    main(["screen", str(tmp_path / "LiCl.cif"), "--model", str(tiny_f64), "--spacing", "0.7",
          "-o", str(alone)])
    (row,) = json.loads((alone / "screen.json").read_text())
    assert rows["two_0"]["mpe_eV"] == pytest.approx(row["mpe_eV"], rel=1e-9)
