"""Refusals of ``method="random"``/``"ewald"`` whose pair rule no arrangement keeps: the
``--order-min-distance`` they advise must order the file when followed literally (the
old advice named the first pair the search hit, rounded down: for 8 of OBELiX's 12 such
entries it was refused again), and where split positions of one atom must hold two
atoms, the refusal says that no arrangement exists and why (advice below the physical
floor: tests/test_structures_advice_physical.py). Checked against pymatgen's reading of
each file and its distances, and ASE's covalent radii."""

from __future__ import annotations

import re

import numpy as np
import pytest
from ase.data import atomic_numbers, covalent_radii
from pymatgen.core import Lattice, Structure

from ionmd.structures import OrderOptions, StructureError, load_structures, order_structure
from published_cifs import FILES, pymatgen_structure

LGPS_SN = FILES / "OBELiX_13q_Li10SnP2S12.cif"      # Li2 0.54 on 8 sites: 4 pairs 0.42 A
ADVICE = re.compile(r"`--order-min-distance ([\d.]+)`")


def _overlap(a: str, b: str) -> float:
    """The overlap check's limit: half the covalent radii sum (ASE's radii)."""
    return 0.5 * (covalent_radii[atomic_numbers[a]] + covalent_radii[atomic_numbers[b]])


def _refusal(path, **options) -> str:
    with pytest.raises(StructureError) as err:
        load_structures(path, OrderOptions(method="random", seed=0, **options))
    return str(err.value)


def _home_sites(cell: Structure, parent: Structure) -> np.ndarray:
    """For each atom of the ordered cell, the site of ``parent`` it sits on."""
    frac = parent.lattice.get_fractional_coords(cell.cart_coords) % 1.0
    d = parent.lattice.get_all_distances(frac, parent.frac_coords)
    assert d.min(axis=1).max() < 1e-6
    return d.argmin(axis=1)


def test_split_pairs_that_must_hold_two_atoms_are_refused_with_the_count():
    """13q's Li2 (0.54 on 8 sites per cell) are 4 pairs of sites 0.42 A apart (pymatgen's
    distances), closer than any two Li may be: 4.32 Li per cell on 4 pairs, so every cell
    fills a pair twice. The refusal advised --order-min-distance 1.3, refused again; it
    now says no arrangement exists, with the count, and advises no distance."""
    parent = pymatgen_structure(LGPS_SN)
    li2 = [k for k, site in enumerate(parent) if site.label == "Li2"]
    d = parent.distance_matrix[np.ix_(li2, li2)]
    partner = (d > 0) & (d < _overlap("Li", "Li"))
    assert (partner.sum(axis=1) == 1).all() and np.isclose(d[partner], 0.42, atol=5e-3).all()
    occupancy = parent[li2[0]].species.num_atoms
    assert occupancy * len(li2) > partner.sum() / 2         # 4.32 Li on 4 pairs per cell
    message = _refusal(LGPS_SN)
    assert "--order-min-distance" not in message
    assert "Li2 (Li 0.54; Li 0.54), 0.42 A apart" in message
    cells, atoms, room = map(int, re.search(
        r"the cell's (\d+) Li2 sites must hold (\d+) atoms, but at most (\d+) fit", message
    ).groups())
    assert cells % len(li2) == 0 and room == cells // 2
    assert atoms == round(occupancy * cells) > room


def test_ewald_refusal_advises_a_distance_the_ewald_ordering_keeps():
    """Two pairs of Li sites 1.8 A apart (0.75 each, so three Li fill a pair): Ewald
    ordering with min_distance=2.5 cannot; the advised distance, the largest one of the
    lowest-energy arrangements keeps, orders it, and the ordered cell keeps it (pymatgen's
    distances)."""
    lattice = Lattice.cubic(7.0)
    s = Structure(lattice, [{"Li": 0.75}] * 4 + ["Cl"] * 3,
                  [[0.1, 0.1, 0.1], [0.1, 0.1 + 1.8 / 7, 0.1], [0.6, 0.6, 0.6],
                   [0.6, 0.6 + 1.8 / 7, 0.6], [0.35, 0.35, 0.85], [0.85, 0.85, 0.35],
                   [0.35, 0.85, 0.35]])
    with pytest.raises(StructureError) as err:
        order_structure(s, "ewald", min_distance=2.5, oxidation_states={"Li": 1, "Cl": -1})
    advised = float(ADVICE.search(str(err.value)).group(1))
    assert advised == pytest.approx(1.8, abs=0.011)
    cell = order_structure(s, "ewald", min_distance=advised,
                           oxidation_states={"Li": 1, "Cl": -1}).structure
    li = [k for k, site in enumerate(cell) if site.specie.symbol == "Li"]
    assert len(li) == 3
    assert cell.distance_matrix[np.ix_(li, li)][np.triu_indices(3, 1)].min() >= advised
