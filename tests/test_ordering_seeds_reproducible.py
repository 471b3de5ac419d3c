"""Seeded random orderings drawn by ionmd before 97b4324 (16 empty sites tried per
min-conflicts move, where 97b4324 tried 64) are drawn again, site for site, wherever that
search found an arrangement keeping the rule: a campaign resumed after an upgrade keeps its
structure_hash. The references were computed by the old version's own code
(tests/fixtures/make_seeded_orderings_before_97b4324.py, which runs 5f76f45's package)."""

import json
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Structure

import ionmd
from ionmd.structures import order_structure

FIXTURE = Path(__file__).parent / "fixtures" / "seeded_orderings_before_97b4324.json"
CASES = json.loads(FIXTURE.read_text())["cases"]
DATA = Path(ionmd.__file__).parent / "data" / "structures"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['cif']}-{c['supercell']}-{c['seed']}")
def test_seeded_ordering_is_the_one_earlier_versions_drew(case):
    parent = Structure.from_file(DATA / case["cif"])
    cell = order_structure(parent, "random", seed=case["seed"], supercell=case["supercell"])
    ordered = cell.structure
    assert [list(map(int, np.ravel(r))) if np.ndim(r) else int(r)
            for r in cell.supercell] == case["reps"]
    assert [site.specie.symbol for site in ordered] == case["species"]
    step = ordered.frac_coords - np.array(case["frac_coords"])
    np.testing.assert_allclose(step - np.round(step), 0.0, atol=1e-6)   # a site at 0 or 1


def test_the_references_include_an_ordering_the_min_conflicts_search_made():
    """Li6PS5Cl 2x2x2 at seed 0: its plain draw breaks the rule (so the reference is the
    search's result, which 97b4324 changed), checked with pymatgen's neighbour list."""
    case = next(c for c in CASES if c["cif"] == "Li6PS5Cl.cif" and c["supercell"] == "2x2x2")
    assert case["seed"] == 0
    from ionmd.structures.ordering_cells import _groups, _site_counts

    parent = Structure.from_file(DATA / "Li6PS5Cl.cif")
    big = parent.make_supercell((2, 2, 2), in_place=False)
    groups = _groups(big)
    counts = _site_counts(groups)
    rng = np.random.default_rng(0)
    symbols = [str(next(iter(s.species)).symbol) if s.is_ordered else None for s in big]
    for key, (fractions, idx) in groups.items():
        pool = [sp for sp in fractions for _ in range(counts[key][sp])]
        for i, sp in zip(idx, rng.permutation(np.array(pool, dtype=object))):
            symbols[i] = sp
    keep = [i for i, sp in enumerate(symbols) if sp in ("Li",)]
    li = Structure(big.lattice, ["Li"] * len(keep), big.frac_coords[keep])
    centre, _, _, _ = li.get_neighbor_list(0.8 * 2 * 1.28)
    assert len(centre) > 0          # the plain draw has Li-Li pairs under the rule
