"""The repeated-smaller-cell fallback of the random ordering finds the divisions of a cell
whose translations map each clashing group's sites onto its own: checked against every
pair's distance by pymatgen (2x2x2 cubic garnet) and against the lattice translations of
a 4x4x4 one, where all pairs' distances (7680 Li sites: 225 s, 3.4 GB per shift) are not
computed."""

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
from pymatgen.core import Lattice

from ordering_rings import cubic_garnet

from ionmd.structures.ordering_cells import _groups
from ionmd.structures.ordering_search import TILE_FACTORS, _tile_factors

REACH = 0.8 * 2 * 1.28      # the default Li-Li rule (A)


def _li_cell(n: int, change_one: bool = False):
    parent = cubic_garnet(0.5417, 0.4479, zr=0.95)
    parent.remove_oxidation_states()
    big = parent.make_supercell((n, n, n), in_place=False)
    if change_one:          # one 24d site of another occupancy: no translation keeps groups
        i = next(i for i, s in enumerate(big) if s.species.get("Li", 0) == pytest.approx(0.5417))
        big.replace(i, {"Li": 0.6})
    groups = _groups(big)
    linked = [key for key in groups if key.startswith("Li:")]
    sites = np.array([i for key in linked for i in groups[key][1]], dtype=int)
    return big, groups, linked, sites


def _by_all_distances(big, groups, linked, sites) -> list:
    """The divisions found from every pair's periodic distance (pymatgen)."""
    frac = big.frac_coords[sites]
    key_of = np.array([linked.index(k) for k in linked for _ in groups[k][1]])
    allowed = []
    for axis in range(3):
        ok = [1]
        for m in TILE_FACTORS:
            d = big.lattice.get_all_distances(frac + np.eye(3)[axis] / m, frac)
            d[key_of[:, None] != key_of[None, :]] = np.inf
            if d.min(axis=1).max() < 1e-2:
                ok.append(m)
        allowed.append(ok)
    widths = np.array(big.lattice.abc)      # cubic: the perpendicular widths
    return sorted([f for f in itertools.product(*allowed)
                   if np.prod(f) > 1 and (widths / np.array(f)).min() > 2 * REACH],
                  key=lambda f: -int(np.prod(f)))


@pytest.mark.parametrize("change_one", [False, True])
def test_divisions_of_a_2x2x2_garnet_match_all_pair_distances(change_one):
    big, groups, linked, sites = _li_cell(2, change_one)
    found = _tile_factors(big, groups, linked, sites, SimpleNamespace(reach=REACH))
    assert found == _by_all_distances(big, groups, linked, sites)
    assert (found == []) == change_one


def test_divisions_of_a_4x4x4_garnet_without_all_pair_distances(monkeypatch):
    """The 4x4x4 cell is 4 conventional cells along each axis: halves and quarters are
    lattice translations, thirds are not; every division is wider than twice the rule."""
    big, groups, linked, sites = _li_cell(4)
    assert len(sites) == 7680
    all_pairs = Lattice.get_all_distances

    def refuse_all_pairs(self, a, b):
        assert len(a) * len(b) < 10 ** 6, "every pair's distance among the cell's sites"
        return all_pairs(self, a, b)

    monkeypatch.setattr(Lattice, "get_all_distances", refuse_all_pairs)
    found = _tile_factors(big, groups, linked, sites, SimpleNamespace(reach=REACH))
    expected = {f for f in itertools.product((1, 2, 4), repeat=3) if f != (1, 1, 1)}
    assert set(found) == expected and len(found) == len(expected)
    assert found[0] == (4, 4, 4)
