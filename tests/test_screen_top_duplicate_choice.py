"""``--top``'s duplicate check (campaign_choice.choose_top): which of one crystal's rows it
keeps, and what it costs. It asks pymatgen's StructureMatcher about pairs of rows: each fit
reduced both cells again (Niggli, then primitive) and every pair of one formula reached the
matcher (40 rows of one 16-atom formula took 23 s, about 10 min for 200); now each cell is
reduced once and pairs that cannot match (other site counts or volumes) are not asked, the
choice unchanged. Of a narrow cell and a comparable cell of one crystal, the comparable one
is kept.

Reference: StructureMatcher.fit on the unreduced cells, pair by pair; plane widths by numpy."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.analysis.structure_matcher import ElementComparator, StructureMatcher
from pymatgen.core import Lattice, Structure

import ionmd.screen.campaign_choice as choice_mod
from ionmd.screen.campaign_choice import SAME_CRYSTAL, choose_top

ROCKSALT = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.14), ["Li", "Cl"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])


def variants() -> dict[str, Structure]:
    """Rock-salt LiCl as a conventional cube, a supercell with its origin moved and sites
    reordered (the same crystal), a 2 % strained cube, and four rattled 16-atom cells."""
    rng = np.random.default_rng(3)
    shifted = (ROCKSALT * (1, 1, 2)).copy()
    shifted.translate_sites(list(range(len(shifted))), [0.13, 0.05, 0.21])
    shifted = Structure.from_sites(sorted(shifted, key=lambda s: -s.frac_coords[2]))
    strained = ROCKSALT.copy()
    strained.scale_lattice(ROCKSALT.volume * 1.02 ** 3)
    out = {"cube": ROCKSALT, "super": shifted, "strained": strained}
    for k in range(4):
        rattled = (ROCKSALT * (1, 1, 2)).copy()
        rattled.perturb(0.3, min_distance=0.2)
        rattled.translate_sites([0], rng.uniform(-0.01, 0.01, 3), frac_coords=True)
        out[f"rattled{k}"] = rattled
    return out


@pytest.fixture()
def rows_and_cells(monkeypatch):
    cells = variants()
    # what the module caches of a row's file: a reduced cell (before: the cell as read)
    reduce = getattr(choice_mod, "_reduced", lambda structure: structure)
    monkeypatch.setattr(choice_mod, "_structure_of",
                        lambda row, outdir, cache: cache.setdefault(
                            row["name"], reduce(cells[row["name"]])))
    return [{"name": n} for n in cells], cells


def test_the_choice_is_pymatgens_pair_by_pair(rows_and_cells):
    rows, cells = rows_and_cells
    choice = choose_top(rows, len(rows), outdir=None)
    matcher = StructureMatcher(**SAME_CRYSTAL, comparator=ElementComparator())
    expected, left = [], []
    for row in rows:                  # the reference: every earlier chosen cell, unreduced
        twin = next((c for c in expected if matcher.fit(cells[row["name"]], cells[c])), None)
        (left if twin else expected).append(row["name"])
    assert [r["name"] for r in choice.chosen] == expected
    assert [r["name"] for r, _ in choice.left_out] == left == ["super"]


def test_each_cell_is_reduced_once(rows_and_cells, monkeypatch):
    """7 rows, 21 pairs: no cell reduced by the matcher's fit (before: both cells at every
    call that reached it)."""
    rows, _ = rows_and_cells
    calls = []
    reduce = StructureMatcher._get_reduced_structure.__func__

    def counted(cls, structure, *args, **kwargs):
        calls.append(len(structure))
        return reduce(cls, structure, *args, **kwargs)

    monkeypatch.setattr(StructureMatcher, "_get_reduced_structure", classmethod(counted))
    choice = choose_top(rows, len(rows), outdir=None)
    assert len(choice.left_out) == 1 and calls == []


def test_a_narrow_cell_gives_its_place_to_the_same_crystal_ranked(monkeypatch):
    """Rock-salt LiCl's 2-atom primitive cell ranked first by its images moving together
    (the row's note), its 8-atom cube (planes 5.14 A apart, no note) next: the cube is
    chosen, the primitive cell left out naming it (before: the cube was left out as the
    duplicate and the crystal listed by the narrow cell's numbers, NOT COMPARABLE)."""
    prim = ROCKSALT.get_primitive_structure()
    cells = {"LiCl_prim": prim, "LiCl_cube": ROCKSALT,
             "LiF": Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.03), ["Li", "F"],
                                              [[0, 0, 0], [0.5, 0.5, 0.5]])}
    reduce = getattr(choice_mod, "_reduced", lambda structure: structure)
    monkeypatch.setattr(choice_mod, "_structure_of",
                        lambda row, outdir, cache: cache.setdefault(
                            row["name"], reduce(cells[row["name"]])))

    def widths(s):                          # distances between lattice planes, A
        m = s.lattice.matrix
        return [s.volume / np.linalg.norm(np.cross(m[i - 2], m[i - 1])) for i in range(3)]

    narrow = {n: min(widths(s)) < 5.0 for n, s in cells.items()}
    assert narrow == {"LiCl_prim": True, "LiCl_cube": False, "LiF": True}
    rows = [{"name": n, **({"note": "narrow"} if narrow[n] else {})} for n in cells]
    choice = choose_top(rows, 2, outdir=None)
    assert [r["name"] for r in choice.chosen] == ["LiCl_cube", "LiF"]
    ((left, why),) = choice.left_out
    assert left["name"] == "LiCl_prim" and "the same crystal as LiCl_cube" in why
    assert "LiCl_prim" not in choice.marks and "LiF" in choice.marks   # LiF: no twin, marked
    # a narrow cell whose comparable twin ranks past the places keeps its place, marked
    choice = choose_top(rows, 1, outdir=None)
    assert [r["name"] for r in choice.chosen] == ["LiCl_prim"] and "LiCl_prim" in choice.marks
