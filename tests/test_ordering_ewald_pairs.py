"""The Ewald ordering of split-site cells under the pair rule (``ordering_pairs``): where
the rule leaves one atom per cluster of too-close sites, the arrangements that keep it are
all evaluated. References: pymatgen's ``EwaldMinimizer`` over every arrangement, filtered
by the rule (today's path); every arrangement built and summed by pymatgen's
``EwaldSummation``, the rule checked on its Li-Li distances; C(n, k) and 2^k by hand.
The shipped Li6PS5Cl.cif (24 Li on 48 split sites: C(48, 24) = 3.2e13 arrangements, 2^24
keeping the rule) was refused."""

from __future__ import annotations

import itertools
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from pymatgen.analysis.ewald import EwaldSummation
from pymatgen.core import Lattice, Structure

from ionmd.structures import order_structure
from ionmd.structures.errors import StructureError
from ionmd.structures.ordering import _element_counts
from ionmd.structures.ordering_cells import VACANCY, _arrangements, _groups, _site_counts
from ionmd.structures.ordering_ewald import _ewald_draws
from ionmd.structures.ordering_limits import _PairLimits
from ionmd.structures.ordering_pairs import pair_clusters
SHIPPED = Path(__file__).parents[1] / "pypkg" / "ionmd" / "data" / "structures" / "Li6PS5Cl.cif"
STATES = {"Li": 1, "Mg": 2, "P": 5, "S": -2, "Cl": -1}
LI_LI_RULE = 0.8 * 2 * 1.28       # the default rule: 0.8 x Li's covalent radii sum (A)
FCC = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])


def split_rocksalt(seed: int, mixed: bool = False) -> Structure:
    """LiCl rock salt whose Li are split into pairs 0.77 A apart along seeded random
    directions (no symmetry left: no two arrangements share an energy); ``mixed``: two
    cells, the second one's cations Li 0.5 + Mg 0.25 with no split (a group the rule
    leaves free)."""
    rng = np.random.default_rng(seed)
    a = 5.14
    lattice = Lattice.orthorhombic(2 * a, a, a) if mixed else Lattice.cubic(a)
    cations = (np.vstack([FCC * [0.5, 1, 1], FCC * [0.5, 1, 1] + [0.5, 0, 0]]) if mixed
               else FCC)
    species, coords = [], []
    for k, c in enumerate(cations):
        if mixed and k >= 4:
            species.append({"Li": 0.5, "Mg": 0.25})
            coords.append(c)
            continue
        v = rng.normal(size=3)
        v *= 0.45 / np.linalg.norm(v)
        for sign in (1, -0.7):          # off-centre: no inversion left
            species.append({"Li": 0.5})
            coords.append(lattice.get_fractional_coords(lattice.get_cartesian_coords(c)
                                                        + sign * v))
    anions = (cations + [0.25 if mixed else 0.5, 0.5, 0.5]) % 1
    return Structure(lattice, species + ["Cl"] * len(anions),
                     np.vstack([np.array(coords) % 1, anions]))


def argyrodite_primitive() -> Structure:
    """Li6PS5Cl's primitive cell: 6 Li on 12 half-occupied 48h sites, in 6 pairs."""
    cubic = Structure.from_spacegroup(
        "F-43m", Lattice.cubic(9.85), ["P", "S", "S", "Cl", {"Li": 0.5}],
        [[0.5, 0.5, 0.5], [0.619, 0.619, 0.619], [0.25, 0.25, 0.25], [0, 0, 0],
         [0.18, 0.18, 0.02]])
    return cubic.get_primitive_structure()


CELLS = {"pairs": lambda: split_rocksalt(0), "pairs+free": lambda: split_rocksalt(1, True),
         "argyrodite": argyrodite_primitive}


def _problem(s: Structure):
    groups = _groups(s)
    counts = _site_counts(groups)
    limits = _PairLimits(s, None, STATES)
    return groups, counts, limits, _element_counts(s, counts)


def _as_sets(draws: list) -> list:
    """(energy, draw) lowest first, as runs of equal energies (1e-9 eV): each run's
    energy and its set of arrangements."""
    runs: list = []
    for energy, draw in draws:
        if runs and abs(energy - runs[-1][0]) < 1e-9:
            runs[-1][1].add(tuple(draw))
        else:
            runs.append((energy, {tuple(draw)}))
    return runs


@pytest.mark.parametrize("name", list(CELLS))
def test_every_arrangement_keeping_the_rule_as_the_minimizer_lists_it(name):
    s = CELLS[name]()
    groups, counts, limits, elements = _problem(s)
    reduced = pair_clusters(s, groups, counts, limits)
    assert reduced is not None
    everything = _ewald_draws(s, STATES, elements, groups, counts, _arrangements(counts))
    assert len(everything) == _arrangements(counts)
    kept = [(e, d) for e, d in everything if limits.first_clash(d) is None]
    assert reduced.count == len(kept)
    new = _ewald_draws(s, STATES, elements, groups, counts, reduced.count, reduced)
    assert len(new) == len(kept)
    assert np.abs(np.array([e for e, _ in new]) - [e for e, _ in kept]).max() < 1e-10
    old_runs, new_runs = _as_sets(kept), _as_sets(new)
    assert [r[1] for r in new_runs] == [r[1] for r in old_runs]
    if name != "argyrodite":        # no symmetry: every energy its own
        assert all(len(r[1]) == 1 for r in new_runs)


@pytest.mark.parametrize("name", list(CELLS))
def test_the_ordering_and_its_candidates_are_todays(name):
    s = CELLS[name]()
    groups, counts, limits, _ = _problem(s)
    reduced = pair_clusters(s, groups, counts, limits)
    today = order_structure(s, "ewald", oxidation_states=STATES, candidates=3)
    new = order_structure(s, "ewald", oxidation_states=STATES, candidates=3,
                          max_arrangements=reduced.count)        # refused before
    assert _arrangements(counts) > reduced.count
    assert abs(new.ewald_energy - today.ewald_energy) < 1e-10
    if name != "argyrodite":        # the argyrodite's lowest is one of 24 equal ones
        assert new.structure == today.structure
    assert [round(c.ewald_energy, 9) for c in new.candidates] == \
        [round(c.ewald_energy, 9) for c in today.candidates]


def _brute_force(s: Structure) -> list:
    """Every arrangement of ``s``'s partially occupied sites keeping Li-Li apart by the
    rule, built and summed by pymatgen: (energy, sorted (species, site) pairs)."""
    partial = [i for i, site in enumerate(s) if not site.is_ordered]
    pairs = [i for i in partial if len(s[i].species) == 1]
    mixed = [i for i in partial if len(s[i].species) == 2]
    out = []
    for li in itertools.combinations(pairs, len(pairs) // 2):
        for rest in sorted(set(itertools.permutations(["Li", "Li", "Mg", None][:len(mixed)])),
                           key=str):
            filled = [(i, "Li") for i in li] + [(i, x) for i, x in zip(mixed, rest) if x]
            cell = Structure.from_sites([s[i] for i in range(len(s)) if i not in partial])
            for i, x in filled:
                cell.append(x, s[i].frac_coords)
            lis = [k for k, site in enumerate(cell) if site.specie.symbol == "Li"]
            d = cell.distance_matrix[np.ix_(lis, lis)] + 99 * np.eye(len(lis))
            if d.min() < LI_LI_RULE:
                continue
            cell.add_oxidation_state_by_element(STATES)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append((EwaldSummation(cell).total_energy, sorted(filled)))
    return sorted(out, key=lambda o: o[0])


@pytest.mark.parametrize("name", ["pairs", "pairs+free"])
def test_the_lowest_arrangements_are_those_of_enumerating_every_one(name):
    s = CELLS[name]()
    groups, counts, limits, elements = _problem(s)
    reduced = pair_clusters(s, groups, counts, limits)
    truth = _brute_force(s)
    assert len(truth) == reduced.count == 2 ** 4 * (12 if name == "pairs+free" else 1)
    new = _ewald_draws(s, STATES, elements, groups, counts, 5, reduced)
    assert np.abs(np.array([e for e, _ in new]) - [t[0] for t in truth[:5]]).max() < 1e-8
    for (_, draw), t in zip(new, truth):
        assert sorted((i, x) for i, x in enumerate(draw)
                      if not s[i].is_ordered and x != VACANCY) == t[1]


def test_the_shipped_argyrodite_is_ordered_keeping_the_pair_rule():
    s = Structure.from_file(SHIPPED)
    assert math.comb(48, 24) > 10**8           # the minimizer's limit: refused before
    cell = order_structure(s, "ewald")
    out = cell.structure
    assert out.composition.reduced_formula == "Li6PS5Cl" and len(out) == 52
    lis = [k for k, site in enumerate(out) if site.specie.symbol == "Li"]
    d = out.distance_matrix[np.ix_(lis, lis)] + 99 * np.eye(len(lis))
    assert d.min() >= LI_LI_RULE
    charged = out.copy()
    charged.add_oxidation_state_by_element(STATES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        energy = EwaldSummation(charged).total_energy
        assert abs(cell.ewald_energy - energy) < 1e-8
        # no Li moved to the other site of its pair lowers the energy (pymatgen's sum)
        sites = [site for site in s if not site.is_ordered]
        for k in lis:
            other = [x for x in sites if 0.5 < x.distance(out[k]) < LI_LI_RULE]
            assert len(other) == 1
            moved = charged.copy()
            moved.replace(k, "Li+", other[0].frac_coords)
            assert EwaldSummation(moved).total_energy > energy


def test_a_larger_cells_refusal_counts_the_arrangements_keeping_the_rule():
    s = Structure.from_file(SHIPPED)
    with pytest.raises(StructureError) as err:
        order_structure(s, "ewald", supercell="2x1x1")
    text = str(err.value)
    assert f"{float(math.comb(96, 48)):.1e} arrangements (at most 1e+08; " \
           f"{float(2**48):.1e} keep the pair rule" in text
    assert "--order random" in text


def test_the_search_under_the_rule_has_its_own_limit():
    """Ten times the minimizer's (``max_arrangements``): the shipped file's 2^24 = 1.7e7
    are searched with max_arrangements 2e6, refused with 1e6, naming both counts."""
    s = Structure.from_file(SHIPPED)
    with pytest.raises(StructureError) as err:
        order_structure(s, "ewald", max_arrangements=10**6)
    assert (f"{float(math.comb(48, 24)):.1e} arrangements (at most 1e+06; "
            f"{float(2**24):.1e} keep the pair rule, one atom per set of sites too close to "
            "hold two: at most 1e+07 such); order it at random") in str(err.value)
    assert order_structure(s, "ewald", max_arrangements=2 * 10**6).structure.is_ordered


def test_energies_evaluated_in_small_blocks_keep_the_lowest(monkeypatch):
    """The combinations are evaluated block by block, the lowest kept across blocks: with
    blocks of 3 energies the argyrodite cell's 64 give the same list (the minimizer's)."""
    from ionmd.structures import ordering_pairs

    s = argyrodite_primitive()
    groups, counts, limits, elements = _problem(s)
    reduced = pair_clusters(s, groups, counts, limits)
    everything = _ewald_draws(s, STATES, elements, groups, counts, _arrangements(counts))
    kept = [(e, d) for e, d in everything if limits.first_clash(d) is None][:20]
    monkeypatch.setattr(ordering_pairs, "BLOCK_ENTRIES", 3)
    new = _ewald_draws(s, STATES, elements, groups, counts, 20, reduced)
    assert np.abs(np.array([e for e, _ in new]) - [e for e, _ in kept]).max() < 1e-10
    assert [r[1] for r in _as_sets(new)][:-1] == [r[1] for r in _as_sets(kept)][:-1]


def test_the_shipped_argyrodites_candidates_for_a_model_to_rank():
    """--order-model-rank 20: 20 symmetry-distinct arrangements, each keeping the rule, the
    first the one --order ewald keeps (the 125 lowest, what the minimizer's path lists
    for 5, held 4 classes: under the rule 5000 are listed)."""
    from ionmd.structures.ordering_candidates import MAX_DRAWS

    cell = order_structure(Structure.from_file(SHIPPED), "ewald", candidates=20)
    assert len(cell.candidates) == 20 and cell.candidates_searched == MAX_DRAWS
    energies = [c.ewald_energy for c in cell.candidates]
    assert energies == sorted(energies) and energies[0] == cell.ewald_energy
    assert cell.candidates[0].structure == cell.structure
    for c in cell.candidates:
        out = c.structure
        lis = [k for k, site in enumerate(out) if site.specie.symbol == "Li"]
        assert (out.distance_matrix[np.ix_(lis, lis)] + 99 * np.eye(24)).min() >= LI_LI_RULE
