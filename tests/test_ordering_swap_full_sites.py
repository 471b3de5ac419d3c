"""A fully occupied mixed site (Li 0.75 / Na 0.25 on LiOD's Li 2a square net, 2.50 A
apart) has arrangements with no two Na neighbours: the search, which only moved atoms to
empty sites, left Na-Na pairs 2.50 A apart and called them forced by the occupancies. The
reference that such an arrangement exists is networkx's maximum independent set of the
sites' neighbour graph (at least as many sites as Na atoms, no two neighbours)."""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pytest

from ionmd.structures import OrderOptions, load_structures

LIOD_PART = """data_LiOD_part
_cell_length_a 3.5365
_cell_length_b 3.5365
_cell_length_c 4.3394
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_space_group_IT_number 129
_symmetry_space_group_name_H-M 'P 4/n m m :2'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Li1 Li 0.75 0.25 0 0.75
Na1 Na 0.75 0.25 0 0.25
O1 O 0.25 0.25 0.1934 1
D1 D 0.25 0.25 0.4137 1
"""
NA_COVALENT = 1.66
"""Cordero et al. 2008 covalent radius of Na (A): the rule's Na-Na limit is 0.8 x twice it,
2.66 A, above the net's 2.50 A neighbours and below its 3.54 A next neighbours."""


@pytest.fixture(scope="module")
def ordered(tmp_path_factory):
    path = tmp_path_factory.mktemp("liod") / "LiODpart.cif"
    path.write_text(LIOD_PART)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_structures(str(path), OrderOptions(method="random", seed=0,
                                                       supercell="8A"))[0].structure


def test_an_arrangement_without_close_na_pairs_exists(ordered):
    # every Li/Na site of the ordered cell, whatever ionmd put on it
    sites = [i for i, s in enumerate(ordered) if s.specie.symbol in ("Li", "Na")]
    d = ordered.distance_matrix[np.ix_(sites, sites)]
    limit = 0.8 * 2 * NA_COVALENT
    graph = nx.Graph()
    graph.add_nodes_from(range(len(sites)))
    graph.add_edges_from((a, b) for a in range(len(sites)) for b in range(a + 1, len(sites))
                         if d[a, b] < limit)
    assert graph.number_of_edges() > 0          # the sites do have close neighbours
    independent, size = nx.max_weight_clique(nx.complement(graph), weight=None)
    n_na = round(0.25 * len(sites))
    assert size >= n_na > 1


def test_ionmd_finds_one(ordered):
    counts = {el.symbol: int(n) for el, n in ordered.composition.element_composition.items()}
    n_sites = counts["Li"] + counts["Na"]
    assert counts["Na"] == round(0.25 * n_sites) and counts["Na"] > 1
    na = [i for i, s in enumerate(ordered) if s.specie.symbol == "Na"]
    d = ordered.distance_matrix[np.ix_(na, na)]
    assert d[~np.eye(len(na), dtype=bool)].min() >= 0.8 * 2 * NA_COVALENT
