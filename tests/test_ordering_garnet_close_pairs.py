"""Random ordering of a cubic garnet (Ia-3d Li 24d/96h, La/Zr mixed on 16a) in a 2x2x2
cell: where the 1x1x1 cell's pair-free arrangement, repeated, has the 2x2x2 cell's counts
(a constructive proof that no Li-Li pair need be closer than the rule), the ordering has
none either (it kept 18-23 pairs 1.60 A apart, 'forced by the occupancies'); and the
ordering line says that the occupancies force close pairs only where a count proves it.
Pairs are counted with pymatgen's neighbour lists."""

import numpy as np
import pytest
from pymatgen.core import Structure

from ionmd.structures import order_structure
from ordering_rings import cubic_garnet, seeded_draw

RULE = 0.8 * 2 * 1.28       # 0.8 x Li-Li covalent radii sum (A), the default rule


def _li_pairs(structure: Structure, cutoff: float = RULE) -> int:
    """Li-Li pairs closer than ``cutoff`` (each counted once), pymatgen's neighbour list."""
    centre, neighbour, _, _ = structure.get_neighbor_list(cutoff)
    symbols = np.array([site.specie.symbol for site in structure])
    li = (symbols[centre] == "Li") & (symbols[neighbour] == "Li")
    return int(li.sum()) // 2


def _li_on(structure: Structure, parent: Structure, wyckoff_occupancy: float) -> int:
    """Li atoms of ``structure`` on the parent's sites of one Li occupancy."""
    sites = [s.frac_coords for s in parent
             if s.species.get("Li", 0) == pytest.approx(wyckoff_occupancy)]
    li = [parent.lattice.get_fractional_coords(site.coords) for site in structure
          if site.specie.symbol == "Li"]
    d = parent.lattice.get_all_distances(li, sites)      # periodic in the parent's cell
    return int((d.min(axis=1) < 0.01).sum())


@pytest.fixture(scope="module")
def mixed():
    return cubic_garnet(0.5417, 0.4479, zr=0.95)


@pytest.fixture(scope="module")
def tiled(mixed):
    """The 1x1x1 ordering (13 Li on 24d, 43 on 96h), repeated 2x2x2 by pymatgen."""
    one = order_structure(mixed, "random", seed=0, occ_tol=0.15)
    assert one.supercell == (1, 1, 1) and _li_pairs(one.structure) == 0
    return one.structure.make_supercell((2, 2, 2), in_place=False)


@pytest.mark.parametrize("seed", [0, 1])
def test_2x2x2_garnet_ordering_has_no_close_pairs_where_the_repeated_cell_has_none(
        mixed, tiled, seed):
    cell = order_structure(mixed, "random", seed=seed, supercell="2x2x2", occ_tol=0.02)
    counts = {key.split()[0]: c for key, c in cell.site_counts.items()}
    # the repeated 1x1x1 arrangement: the same counts on each Li site, and no close pair
    assert (counts["Li:0.5417"]["Li"], counts["Li:0.4479"]["Li"]) == (104, 344)
    assert _li_on(tiled, mixed, 0.5417) == 104 and _li_on(tiled, mixed, 0.4479) == 344
    assert _li_pairs(tiled) == 0
    # so the ordering must have none either (it had 18 and 23 Li-Li pairs 1.60 A apart)
    assert _li_on(cell.structure, mixed, 0.5417) == 104
    assert _li_on(cell.structure, mixed, 0.4479) == 344
    assert _li_pairs(cell.structure) == 0
    assert cell.close_pairs == ""


def test_forced_close_pairs_are_called_forced_only_with_a_proof():
    """The Li7La3Zr2O12 site model (24d x 0.564, 96h x 0.442): each 96h site has one 24d
    site 1.6 A away and each 24d site four 96h ones, so at most 4 Li per empty 24d site sit
    on 96h without a close pair; the cell's counts exceed that, and the note says the
    occupancies force the pairs."""
    parent = cubic_garnet(0.564, 0.442)
    cell = order_structure(parent, "random", seed=0, min_width=8.0)
    counts = {key.split()[0]: c for key, c in cell.site_counts.items()}
    tet, octa = counts["Li:0.564"], counts["Li:0.442"]
    assert octa["Li"] > 4 * tet["vacancy"]         # the counting proof, independently
    assert _li_pairs(cell.structure) >= octa["Li"] - 4 * tet["vacancy"]
    assert "the occupancies force such pairs" in cell.close_pairs


def test_avoidable_close_pairs_are_not_called_forced(mixed, tiled):
    """A draw of the 1x1x1 cell with close pairs, where a pair-free arrangement of the same
    counts exists (``tiled``'s first cell): its note says the search found no arrangement
    without them, not that the occupancies force them."""
    from ionmd.structures.ordering_cells import _groups, _site_counts
    from ionmd.structures.ordering_limits import _PairLimits

    big = mixed.copy()
    big.remove_oxidation_states()
    groups = _groups(big)
    counts = _site_counts(groups)
    draw = seeded_draw(big, groups, counts, 3)
    limits = _PairLimits(big, None, {"Li": 1, "La": 3, "Zr": 4, "O": -2})
    assert limits.first_clash(draw) is not None
    assert "the occupancies force such pairs" not in limits.close_pairs_note(draw)
    note = limits.close_pairs_note(draw, (big, groups, counts), "10 moves", "another seed")
    assert "Li-Li pair" in note
    assert "the occupancies force such pairs" not in note
    assert "found no arrangement without them in 10 moves" in note and "try another seed" in note


def test_repeated_smaller_cell_fallback_keeps_the_rule_and_the_counts(mixed):
    """The fallback where the min-conflicts search fails: the 2x2x2 cell's Li groups
    ordered in a smaller cell that divides it, repeated and shuffled: each group's counts as
    the cell's, no Li-Li pair closer than the rule (pymatgen), La/Zr drawn as counted."""
    from ionmd.structures.ordering_cells import VACANCY, _groups, _site_counts
    from ionmd.structures.ordering_limits import _PairLimits
    from ionmd.structures.ordering_search import _ordered, _tiled_draw

    parent = mixed.copy()
    parent.remove_oxidation_states()
    big = parent.make_supercell((2, 2, 2), in_place=False)
    groups = _groups(big)
    counts = _site_counts(groups)
    species = [str(site.specie) if site.is_ordered else None for site in big]
    limits = _PairLimits(big, None, {"Li": 1, "La": 3, "Zr": 4, "O": -2})
    draw = _tiled_draw(np.random.default_rng(0), big, groups, counts, species, limits)
    assert draw is not None
    for key, (fractions, idx) in groups.items():
        placed = [draw[i] for i in idx]
        assert {sp: placed.count(sp) for sp in fractions} == {
            sp: n for sp, n in counts[key].items() if sp != "sites"}
    assert VACANCY not in [draw[i] for i, site in enumerate(big) if site.is_ordered]
    ordered = _ordered(big, draw)
    assert ordered.composition["Li"] == 448
    assert _li_pairs(ordered) == 0


def test_lgps_forced_pairs_note_counts_its_li1_pairs():
    """LGPS's 16h Li1 sites (x 0.691) come in pairs 1.73 A apart (pymatgen's distances):
    at most one Li per pair, so the 15-cell ordering's 166 Li1 atoms on 240 sites force
    46 pairs, and the note says so, naming the site Li1 (not its 16 numbered labels)."""
    from ionmd.structures import read_structure

    parent = read_structure("Li10GeP2S12")
    li1 = [i for i, site in enumerate(parent) if site.species.get("Li", 0) == pytest.approx(0.691)]
    d = parent.distance_matrix[np.ix_(li1, li1)]
    assert ((d > 0) & (d < RULE)).sum(axis=1).tolist() == [1] * len(li1)   # disjoint pairs
    cell = order_structure(parent, "random", seed=0)
    sites, atoms = len(li1) * cell.cells, round(0.691 * len(li1) * cell.cells)
    assert (sites, atoms) == (240, 166)
    assert (f"the occupancies force such pairs of partially occupied sites (the cell's {sites} "
            f"Li1 sites must hold {atoms} atoms, but at most {sites // 2} fit") in cell.close_pairs
    assert f"{atoms - sites // 2} Li-Li pairs 1.73 A apart" in cell.close_pairs
