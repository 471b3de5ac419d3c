"""The random ordering's search state (``ordering_clashes._Clashes``) keeps, move by move, how
many atoms each species would be too close to on each partially occupied site, and prices
all candidate swaps at once, where it recounted each candidate's neighbours and tried
each swap by four updates (Ga-LLZO's ordering took 145 s, 2 minutes of it in the swaps).
The references count anew from pymatgen's distance matrix and the rule's own limit for
each element pair. And where a count proves that every arrangement breaks the rule, the
wider searches that cannot succeed are skipped: the arrangement is the one the full
search gives."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from ionmd.structures import order_structure, ordering_search
from ionmd.structures.ordering_cells import VACANCY, _groups, _site_counts
from ionmd.structures.ordering_clashes import _Clashes
from ionmd.structures.ordering_limits import _PairLimits
from ordering_rings import cubic_garnet, seeded_draw

STATES = {"Li": 1, "La": 3, "Zr": 4, "O": -2}


@pytest.fixture(scope="module")
def cell():
    """The garnet with La/Zr mixed on 16a (a full mixed site, swapped) and Li on 24d/96h
    (with vacancies, moved), a seeded draw of it and the default rule's limits."""
    big = cubic_garnet(0.5417, 0.4479, zr=0.95)
    groups = _groups(big)
    counts = _site_counts(groups)
    draw = seeded_draw(big, groups, counts, 7)
    members = {key: idx for key, (_, idx) in groups.items()}
    return big, draw, members, _PairLimits(big, None, STATES)


def _too_close(limits: _PairLimits, draw: list, i: int, species: str, relaxed=False) -> int:
    """Atoms of ``draw`` on partially occupied sites closer to ``species`` on site ``i``
    than the rule's limit for the pair (its ionic floor where ``relaxed``): counted anew."""
    rule = limits.relax() if relaxed else limits
    k = limits.partial.index(i)
    return sum(1 for m, j in enumerate(limits.partial)
               if j != i and draw[j] != VACANCY
               and limits.distances[k, m] < rule.limit(species, draw[j]))


def _pairs(limits: _PairLimits, draw: list) -> int:
    return sum(_too_close(limits, draw, i, draw[i]) for i in limits.partial
               if draw[i] != VACANCY) // 2


def _check(state: _Clashes, limits: _PairLimits) -> None:
    draw = state.draw_out()
    assert state.pairs() == _pairs(limits, draw)
    for k, i in enumerate(limits.partial):
        own = _too_close(limits, draw, i, draw[i]) if draw[i] != VACANCY else 0
        assert state.n_near[k] == own
        for c, species in enumerate(limits.symbols):
            if species in ("Li", "La", "Zr"):
                assert state.counts(np.array([k]), c)[0] == _too_close(limits, draw, i, species)


def test_kept_counts_are_the_counts_made_anew(cell):
    big, draw, members, limits = cell
    # what keeping counts by each changed site's own row relies on
    assert np.array_equal(limits.distances, limits.distances.T)
    state = _Clashes(draw, members, limits)
    _check(state, limits)
    rng = np.random.default_rng(0)

    def fewest(sp, trial):
        return int(trial[state.counts(trial, sp).argmin()])
    assert state.pairs() > 0
    for _ in range(150):    # moves to empty sites, swaps on the full La/Zr site, puts
        if not state.pairs():
            break
        state.move(rng, fewest, candidates=16, swaps=True)
    k = int(np.flatnonzero(state.code[:-1] >= 0)[0])
    state.put(k, -1)
    _check(state, limits)
    la, zr = limits.symbols.index("La"), limits.symbols.index("Zr")
    mixed = np.flatnonzero(np.isin(state.code[:-1], (la, zr)))
    for k in mixed[:6]:
        state.swap(rng, int(k), mixed, None, 8)
    _check(state, limits)


def test_swap_costs_are_the_pairs_after_each_swap(cell):
    """Each candidate's price: the pairs of the draw with the two atoms swapped, counted
    anew; with looser limits, whether neither swapped atom breaks them."""
    big, draw, members, limits = cell
    state = _Clashes(draw, members, limits)
    relaxed = limits.relax()
    for species in ("La", "Zr"):        # the full mixed site's atoms
        code = limits.symbols.index(species)
        k = int(np.flatnonzero(state.code[:-1] == code)[0])
        group = state.members[state.group_of[k]]
        others = group[(state.code[group] != code) & (state.code[group] >= 0)]
        assert len(others)
        cost, fine = state.swap_costs(int(k), others, relaxed.matrix())
        i = limits.partial[k]
        for j_pos, price, ok in zip(others, cost, fine):
            j = limits.partial[j_pos]
            swapped = list(draw)
            swapped[i], swapped[j] = draw[j], draw[i]
            assert price == _pairs(limits, swapped)
            assert ok == (_too_close(limits, swapped, i, swapped[i], relaxed=True) == 0
                          and _too_close(limits, swapped, j, swapped[j], relaxed=True) == 0)


def test_a_proof_skips_the_wider_searches_and_keeps_the_arrangement(monkeypatch):
    """Pairs of Li sites 1.70 A apart (closer than the rule's 2.05 A), each 0.75 occupied:
    in the 4 cells that make the counts whole, 6 Li on 4 pairs fill 2 of them in every
    arrangement (a count proves it). The wider searches after the first cannot find an
    arrangement without; the one ordered is the one they are run for."""
    parent = Structure(Lattice.cubic(4.0), [{"Li": 0.75}, {"Li": 0.75}, {"O": 0.75}],
                       [[0, 0, 0], [0.425, 0, 0], [0.5, 0.5, 0.5]])
    calls = []
    search = ordering_search._min_conflicts

    def counted(rng, state, keep=None, candidates=ordering_search.RESOLVE_CANDIDATES,
                swaps=False):
        calls.append((keep is None, candidates))
        return search(rng, state, keep=keep, candidates=candidates, swaps=swaps)
    monkeypatch.setattr(ordering_search, "_min_conflicts", counted)
    wider = (True, ordering_search.RESOLVE_CANDIDATES)
    for seed in (0, 1):
        calls.clear()
        skipped = order_structure(parent, "random", seed=seed)
        assert "2 Li-Li pairs 1.70 A apart" in skipped.close_pairs
        assert "the occupancies force such pairs" in skipped.close_pairs
        assert wider not in calls
        with monkeypatch.context() as m:
            m.setattr(ordering_search, "_forced_close_pairs", lambda *a: None)
            full = order_structure(parent, "random", seed=seed)
        assert wider in calls
        assert [site.specie for site in full.structure] == [
            site.specie for site in skipped.structure]
        assert np.array_equal(full.structure.frac_coords, skipped.structure.frac_coords)
        assert full.close_pairs == skipped.close_pairs
