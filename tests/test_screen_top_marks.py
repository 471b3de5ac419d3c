"""``--top`` ranked rock-salt LiCl's 2-atom primitive cell first (SevenNet-0: MPE 0.514 eV,
Xi 0.866; 4.85 eV with the ion 5.5 A from its images) and said why its rank means little
only on stderr and in the row's ``note``: the campaign file, where the user decides what to
run, read like any other ranking. A narrow-cell row is now marked NOT COMPARABLE above its
entry and beside its numbers in the header. The reference for which cells are narrow is
the geometry itself: the image-plane widths V / |a_j x a_k| of pymatgen's standard
primitive cell, computed here with numpy."""

from __future__ import annotations

import numpy as np
import yaml
from ase import Atoms
from ase.build import bulk
from ase.io import write
from ionmd.cli import main
from ionmd.export import read_metadata
from pymatgen.core import Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer



def _min_plane_width(path) -> float:
    cell = SpacegroupAnalyzer(Structure.from_file(path)).get_primitive_standard_structure()
    m = cell.lattice.matrix
    volume = abs(np.linalg.det(m))
    return min(volume / np.linalg.norm(np.cross(m[j], m[k]))
               for j, k in ((1, 2), (2, 0), (0, 1)))


def _entry_marks(text: str) -> dict[str, list[str]]:
    """Each campaign entry's name -> the comment lines right above its ``- path:`` line."""
    lines = text.splitlines()
    start = lines.index("structures:")
    marks, pending = {}, []
    for k, line in enumerate(lines[start + 1:], start + 1):
        if line.startswith("#"):
            pending.append(line)
        elif line.startswith("- path:"):
            marks[lines[k + 1].split("name:")[1].strip()] = pending
            pending = []
        elif not line.startswith("  "):
            break
    return marks


def test_narrow_cells_are_marked_where_the_campaign_is_read(tiny_f64, tmp_path, capsys):
    narrow, wide = tmp_path / "LiCl.cif", tmp_path / "LiClCs.cif"
    write(narrow, bulk("LiCl", "rocksalt", a=5.14))
    # CsCl-type LiCl, a = 5.6 A: its primitive cell is the cube itself
    write(wide, Atoms("LiCl", scaled_positions=[(0, 0, 0), (.5, .5, .5)], cell=[5.6] * 3,
                      pbc=True))
    out = tmp_path / "out"
    # docs/screen.md: image planes closer than the model's cutoff make a row's note
    narrow_a = float(read_metadata(tiny_f64)["cutoff"])
    assert main(["screen", str(narrow), str(wide), "--model", str(tiny_f64), "--spacing",
                 "0.5", "--top", "2", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    text = (out / "campaign.yaml").read_text()
    assert {s["name"] for s in yaml.safe_load(text)["structures"]} == {"LiCl", "LiClCs"}
    marks = _entry_marks(text)
    for name, path in (("LiCl", narrow), ("LiClCs", wide)):
        is_narrow = _min_plane_width(path) < narrow_a
        marked = any("NOT COMPARABLE" in line for line in marks[name])
        assert marked == is_narrow, (name, _min_plane_width(path), marks[name])
        header = next(ln for ln in text.splitlines() if ln.startswith(f"#   {name}: Xi"))
        assert ("[NOT COMPARABLE]" in header) == is_narrow
        assert (f"--top: {name}: NOT COMPARABLE" in err) == is_narrow
    assert _min_plane_width(narrow) < narrow_a <= _min_plane_width(wide)   # one of each


def test_a_charge_note_is_marked_to_check(tiny_f64, tmp_path):
    """A cell no sound oxidation states make neutral (Li2Cl: +1 e under Li+ Cl-) keeps its
    place and is marked CHECK above its entry."""
    odd = tmp_path / "Li2Cl.cif"
    write(odd, Atoms("LiLiCl", scaled_positions=[(.5, 0, 0), (0, .5, 0), (.5, .5, .5)],
                     cell=[5.6] * 3, pbc=True))
    out = tmp_path / "out"
    assert main(["screen", str(odd), "--model", str(tiny_f64), "--spacing", "0.5",
                 "--top", "1", "-o", str(out)]) == 0
    text = (out / "campaign.yaml").read_text()
    assert any("CHECK: no sound oxidation states" in line
               for line in _entry_marks(text)["Li2Cl"])
