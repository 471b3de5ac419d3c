"""``--order-model-rank N`` where the search holds fewer than N classes: the ordering line
said "only 15 symmetry-distinct among the 360 lowest" for the shipped Li3YCl6 (occ_tol 0.1,
one cell), but the 360 arrangements hold 30 classes; the 15 are the classes of the 180 that
keep the pair rule. Reference, by hand: Li 5 of 6 (6h) x 4 of 6 (6g) x Y 1 of 2 on each
split 2d pair = 6 x 15 x 2 x 2 = 360; a Y on both 2d sites of one column is closer than
0.8 x 2 x Y's covalent radius (ASE), so 2 of the 4 Y choices keep the rule: 180; P-3m1
(12 operations, spglib) maps no arrangement onto itself here: 360 / 12 = 30, 180 / 12 = 15."""

from __future__ import annotations

import numpy as np
from ase.data import atomic_numbers, covalent_radii

from contract_models import MorseEdgeModel, save_contract_model
from ionmd.screen.ordering_rank import ModelRanking, rank_by_model
from ionmd.structures import OrderOptions, example_path, load_structure, read_structure


def test_the_fewer_classes_are_named_with_the_arrangements_that_keep_the_rule(tmp_path):
    parent = read_structure(example_path("Li3YCl6"))
    split = [s for s in parent if "Y" in s.species.as_dict() and s.species.num_atoms < 1]
    column = min(parent.get_distance(parent.index(a), parent.index(b))
                 for a in split for b in split if a is not b)
    assert column < 0.8 * 2 * covalent_radii[atomic_numbers["Y"]]     # the rule's pair

    loaded = load_structure(example_path("Li3YCl6"),
                            OrderOptions("ewald", occ_tol=0.1, candidates=20))
    assert loaded.candidates_searched == 6 * 15 * 2 * 2
    assert loaded.candidates_kept == 6 * 15 * 2
    assert len(loaded.candidates) == 180 // 12
    model = save_contract_model(MorseEdgeModel(d0=0.2, alpha=1.5, r0=2.8, rc=5.0),
                                tmp_path / "m.pt", cutoff=5.0, elements=["Li", "Y", "Cl"])
    kept, ranking = rank_by_model(loaded, model, 20)
    assert "only 15 symmetry-distinct among the 360 lowest, 180 of them keeping the pair " \
           "rule)" in kept.ordering
    again = ModelRanking.from_record(ranking.record())       # a campaign's cache
    assert again.note() == ranking.note()
    assert np.isfinite(ranking.model_energies).all()
