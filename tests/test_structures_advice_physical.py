"""Ordering advice that is physical. A refusal advised the ``--order-min-distance`` that
orders the file, however short: OBELiX's pyrochlores xut and e81 (O on 96g at 0.5, the
sites in triangles 0.99 and 0.69 A across) were advised 0.98 and 0.68 A, O-O pairs that
explode in MD. Now a count proves that no physical arrangement exists (in any supercell:
the triangles are small, the count per triangle), and no distance is advised; where the
smallest cell has none but a larger one has, the refusal advises that cell, checked. A
user's ``min_distance`` under Ewald ordering keeps the fewest pairs closer than the
default rule first, then the lowest energy (brute force: pymatgen's EwaldSummation,
numpy distances). Radii: ASE's covalent radii, pymatgen's Shannon radii."""

from __future__ import annotations

import itertools
import re
import warnings

import numpy as np
import pytest
from ase.data import atomic_numbers, covalent_radii
from pymatgen.analysis.ewald import EwaldSummation
from pymatgen.core import Lattice, Species, Structure
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from ionmd.structures import OrderOptions, StructureError, load_structures, order_structure
from published_cifs import FILES, pymatgen_structure

PYROCHLORES = {"xut": (FILES / "OBELiX_xut_LiSrTa2O6F.cif", "O3", 0.99),
               "e81": (FILES / "OBELiX_e81_SrLiTaZrO6F.cif", "O4", 0.69)}


def _covalent(a: str, b: str) -> float:
    return covalent_radii[atomic_numbers[a]] + covalent_radii[atomic_numbers[b]]


def _o_o_floor() -> float:
    """O-O: the smaller of 0.8 x covalent sum (ASE, 1.06 A: below O2's 1.21 A bond) and
    0.85 x the O2- crystal radii sum (pymatgen's Shannon radii, 2.14 A)."""
    return min(0.8 * _covalent("O", "O"), 0.85 * 2 * float(Species("O", -2).ionic_radius))


def _refusal(path, **options) -> str:
    with pytest.raises(StructureError) as err:
        load_structures(path, OrderOptions(method="random", seed=0, **options))
    return str(err.value)


@pytest.mark.parametrize("entry", sorted(PYROCHLORES))
def test_pyrochlore_oxygen_triangles_are_refused_as_unphysical_with_the_count(entry):
    """The O sites (0.5 on 96g) form 32 triangles per cell (pymatgen's distances), each
    side shorter than the O-O floor: each triangle holds at most one O, 48 O need 1.5
    each. The refusal says no physical arrangement exists, in every supercell, with that
    count; it advises no distance (it advised 0.98 and 0.68 A)."""
    path, label, side = PYROCHLORES[entry]
    parent = pymatgen_structure(path)
    sites = [k for k, site in enumerate(parent) if site.label == label]
    d = parent.distance_matrix[np.ix_(sites, sites)]
    near = (d > 0) & (d < _o_o_floor())
    n, triangle = connected_components(csr_matrix(near), directed=False)
    assert (n, set(np.bincount(triangle))) == (32, {3})
    assert d[near].max() == pytest.approx(side, abs=0.01) and side < _o_o_floor()
    oxygen = sum(parent[k].species["O"] for k in sites)
    assert oxygen == pytest.approx(48) and oxygen > n
    message = _refusal(path)
    assert "--order-min-distance" not in message and "no physical arrangement exists" in message
    cells, atoms, room = map(int, re.search(
        rf"the cell's (\d+) {label} sites must hold (\d+) atoms, but at most (\d+) fit",
        message).groups())
    k = cells // len(sites)
    assert cells == k * len(sites) and (atoms, room) == (48 * k, n * k)
    assert f"O-O: {_o_o_floor():.2f} A" in message and "the same in every supercell" in message
    if entry == "xut":      # checked: a larger cell is refused with the same count per cell
        larger = _refusal(path, supercell="2x1x1")
        assert "the cell's 192 O3 sites must hold 96 atoms, but at most 64 fit" in larger


def test_the_old_advice_filled_pairs_below_the_floor():
    """Following xut's old advice (0.98 A) orders the file with O-O pairs 0.99 A apart,
    below the floor the refusal now names: why it is no longer advised; the ordering line
    of a user who gives it anyway says so, with the count (numpy's distances)."""
    [loaded] = load_structures(PYROCHLORES["xut"][0],
                               OrderOptions(method="random", seed=0, min_distance=0.98))
    cell = loaded.structure
    oxygen = [k for k, site in enumerate(cell) if site.specie.symbol == "O"]
    d = cell.distance_matrix[np.ix_(oxygen, oxygen)][np.triu_indices(len(oxygen), 1)]
    assert 0.98 <= d.min() < _o_o_floor()
    pairs = int(np.count_nonzero(d < _o_o_floor()))
    assert (f"{pairs} O-O pairs {d.min():.2f} A apart (physical floor {_o_o_floor():.2f} A)"
            in loaded.ordering and "below the physical floor, atoms that close explode in MD"
            in loaded.ordering)


def _ring_cell() -> Structure:
    """Li 0.5 (and Cl 0.5) on rings of three sites 1.40 A apart along a 4.2 A axis: the
    smallest cell (doubled along b or c) closes each ring on itself, 3 Li on two rings of
    three, so a ring holds two Li 1.40 A apart; doubled along a, a ring of six holds three
    Li 2.8 A apart."""
    return Structure(Lattice.orthorhombic(4.2, 3.2, 3.4), [{"Li": 0.5}] * 3 + [{"Cl": 0.5}] * 3,
                     [[0, 0, 0], [1 / 3, 0, 0], [2 / 3, 0, 0],
                      [0, 0.5, 0.5], [1 / 3, 0.5, 0.5], [2 / 3, 0.5, 0.5]])


def test_a_larger_supercell_is_advised_only_where_it_orders_the_cell():
    """The refusal says so in this cell only (the rings reach their own images) and
    advises the larger supercell the search orders; followed, every Li-Li and Cl-Cl pair
    is above its floor (Li+ and Cl- Shannon radii x 0.85, capped by 0.8 x covalent)."""
    s = _ring_cell()
    with pytest.raises(StructureError) as err:
        order_structure(s, "random", seed=0)
    message = str(err.value)
    assert "no physical arrangement exists" in message and "larger cell may differ" in message
    advised = re.search(r"`--supercell (\d+x\d+x\d+)`", message).group(1)
    cell = order_structure(s, "random", seed=0, supercell=advised).structure
    for el, state in (("Li", 1), ("Cl", -1)):
        floor = min(0.8 * _covalent(el, el), 0.85 * 2 * float(Species(el, state).ionic_radius))
        atoms = [k for k, site in enumerate(cell) if site.specie.symbol == el]
        d = cell.distance_matrix[np.ix_(atoms, atoms)][np.triu_indices(len(atoms), 1)]
        assert d.min() >= floor and 1.40 < floor
    assert "--order-min-distance" not in message


def _mixed_cell() -> Structure:
    """Li 0.5 and Cl 0.5 on four sites each at random in a 6 A cube (draw 362 of a search
    for a cell whose lowest-Ewald arrangement fills Li-Cl pairs closer than 0.8 x the
    covalent sum, 1.84 A, that other arrangements avoid)."""
    rng = np.random.default_rng(362)
    return Structure(Lattice.cubic(6.0), [{"Li": 0.5}] * 4 + [{"Cl": 0.5}] * 4,
                     [rng.random(3) for _ in range(8)])


def _all_arrangements(s: Structure, floor: float):
    """(pairs closer than 0.8 x covalent sum, Ewald energy, sites) of every arrangement of
    two Li and two Cl keeping ``floor``."""
    li = [k for k, site in enumerate(s) if "Li" in site.species]
    cl = [k for k, site in enumerate(s) if "Cl" in site.species]
    species = ["Li", "Li", "Cl", "Cl"]
    rule = np.array([[0.8 * _covalent(a, b) for b in species] for a in species])
    upper = np.triu_indices(4, 1)
    out = []
    for a, b in itertools.product(itertools.combinations(li, 2), itertools.combinations(cl, 2)):
        sub = Structure(s.lattice, species, s.frac_coords[list(a + b)])
        d = sub.distance_matrix
        if d[upper].min() >= floor:
            sub.add_oxidation_state_by_element({"Li": 1, "Cl": -1})
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                energy = EwaldSummation(sub).total_energy
            out.append((int((d[upper] < rule[upper]).sum()), energy, sub))
    return out


def test_ewald_with_a_user_floor_keeps_the_fewest_close_pairs_then_the_lowest_energy():
    """Brute force over the 36 arrangements: the lowest energy keeping 1.5 A fills 3 pairs
    closer than the default rule, where one with none exists; the ordering takes the
    lowest energy among those with the fewest (it took the lowest energy overall)."""
    s = _mixed_cell()
    found = _all_arrangements(s, 1.5)
    lowest = min(found, key=lambda f: f[1])
    best = min(found, key=lambda f: (f[0], f[1]))
    assert len(found) > 1 and lowest[0] > best[0]
    cell = order_structure(s, "ewald", min_distance=1.5, oxidation_states={"Li": 1, "Cl": -1})
    assert cell.ewald_energy == pytest.approx(best[1], abs=1e-6)
    d = cell.structure.lattice.get_all_distances(cell.structure.frac_coords,
                                                 best[2].frac_coords)
    assert np.allclose(d.min(axis=1), 0, atol=1e-6)


def _pymatgen_crystals() -> list[Structure]:
    """The ordered crystals pymatgen ships for its tests (Materials Project cells: oxides,
    phosphates, peroxides, halides, selenides, elements)."""
    from importlib import resources

    folder = resources.files("pymatgen") / "util" / "structures"
    out = [Structure.from_file(str(p)) for p in folder.iterdir() if p.name.endswith(".json")]
    return [s for s in out if s.is_ordered]


def test_the_physical_floor_is_below_every_pair_of_ordered_crystals():
    """The floor was chosen from data: every pair of atoms in pymatgen's ordered test
    crystals (19, from Ti-O 1.75 A in Pb2TiZrO6 to peroxide O-O) is at least the floor
    of its elements, under the oxidation-state guess the ordering uses."""
    from ionmd.structures.charges import guess_oxidation_states
    from ionmd.structures.ordering_limits import _PairLimits

    crystals = _pymatgen_crystals()
    assert len(crystals) >= 15
    closest = []
    for s in crystals:
        s = s.copy()
        s.remove_oxidation_states()
        with warnings.catch_warnings():     # He: "No Pauling electronegativity"
            warnings.simplefilter("ignore", UserWarning)
            limits = _PairLimits(s, None, guess_oxidation_states(s.composition))
        d = s.distance_matrix + np.diag(np.full(len(s), np.inf))
        symbols = [site.specie.symbol for site in s]
        floor = np.array([[limits.physical_floor(a, b) for b in symbols] for a in symbols])
        closest.append((d / floor).min())
    assert min(closest) >= 1.0
