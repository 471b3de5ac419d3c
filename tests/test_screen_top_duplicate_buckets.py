"""``--top``'s duplicate check meets pymatgen's StructureMatcher only within a bucket of
formula and site count, each row's bucket computed once: rows of three formulas make
fits only within a formula (not the n(n-1)/2 pairs), and each formula is worked out once
per row (before: twice for every pair of equal site counts, 44 us a pair). The choice is
pymatgen's own grouping (StructureMatcher.group_structures, which pre-sorts by
composition the same way), the first of each group kept."""

from __future__ import annotations

import numpy as np
from pymatgen.analysis.structure_matcher import ElementComparator, StructureMatcher
from pymatgen.core import Lattice, Structure

import ionmd.screen.campaign_choice as choice_mod
from ionmd.screen.campaign_choice import SAME_CRYSTAL, choose_top


def rattled_cells() -> dict[str, Structure]:
    """Three formulas (rock-salt LiCl and LiF 16-atom cells, antifluorite Li2S), three
    rattled cells each, and one cell of each formula again under another name."""
    np.random.seed(5)
    rocksalt = lambda a, x: Structure.from_spacegroup(       # noqa: E731
        "Fm-3m", Lattice.cubic(a), ["Li", x], [[0, 0, 0], [0.5, 0.5, 0.5]]) * (1, 1, 2)
    bases = {"LiCl": rocksalt(5.14, "Cl"), "LiF": rocksalt(4.03, "F"),
             "Li2S": Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.71), ["S", "Li"],
                                               [[0, 0, 0], [0.25, 0.25, 0.25]])}
    cells = {}
    for k in range(3):
        for name, base in bases.items():
            cell = base.copy()
            cell.perturb(0.3, min_distance=0.2)
            cells[f"{name}_{k}"] = cell
    for name in bases:
        cells[f"{name}_again"] = cells[f"{name}_1"].copy()
    return cells


def test_fits_within_a_formula_and_one_formula_per_row(monkeypatch):
    cells = rattled_cells()
    monkeypatch.setattr(choice_mod, "_structure_of",
                        lambda row, outdir, cache: cache.setdefault(
                            row["name"], choice_mod._reduced(cells[row["name"]])))
    fits, formulas = [], []
    real_fit, real_formula = StructureMatcher.fit, choice_mod._formula
    monkeypatch.setattr(StructureMatcher, "fit",
                        lambda self, a, b, **kw: fits.append(1) or real_fit(self, a, b, **kw))
    monkeypatch.setattr(choice_mod, "_formula",
                        lambda s: formulas.append(1) or real_formula(s))
    names = list(cells)
    choice = choose_top([{"name": n} for n in names], len(names), outdir=None)

    matcher = StructureMatcher(**SAME_CRYSTAL, comparator=ElementComparator())
    monkeypatch.setattr(StructureMatcher, "fit", real_fit)
    groups = matcher.group_structures([cells[n] for n in names])
    first = {id(g[0]) for g in groups}
    assert len(groups) == 9                       # the three copies found again
    assert [r["name"] for r in choice.chosen] == [n for n in names if id(cells[n]) in first]
    n = len(names)
    assert len(fits) <= 3 * (4 * 3 // 2) < n * (n - 1) // 2      # 18 of 66 at most
    assert len(formulas) == n
