"""Ordered cells from partial occupancies: whole-number supercells, seeded random
ordering, and the Ewald ordering checked against enumerating every arrangement."""

import functools
import itertools
import re

import numpy as np
import pytest
from pymatgen.analysis.ewald import EwaldSummation
from pymatgen.core import Composition, Lattice, Structure

from ionmd.errors import IonmdError
from ionmd.structures import integral_supercell, order_structure


FCC = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])


def rocksalt(cation, anion, a: float) -> Structure:
    """Conventional rock-salt cell (4 + 4 sites), written out: pymatgen's Fm-3m
    generation takes seconds."""
    return Structure(Lattice.cubic(a), [cation] * 4 + [anion] * 4,
                     np.vstack([FCC, (FCC + 0.5) % 1]), labels=["M1"] * 4 + ["X1"] * 4)


def rocksalt_clbr(a: float = 5.4) -> Structure:
    """Rock salt with 50/50 Cl/Br on the anion site (4 anion sites per cell)."""
    return rocksalt({"Li": 1}, {"Cl": 0.5, "Br": 0.5}, a)


@functools.lru_cache
def _argyrodite(cl_on_4a: float) -> Structure:
    return Structure.from_spacegroup(
        "F-43m", Lattice.cubic(9.85),
        ["P", "S", {"S": cl_on_4a, "Cl": 1 - cl_on_4a}, {"Cl": cl_on_4a, "S": 1 - cl_on_4a},
         {"Li": 0.5}],
        [[0.5, 0.5, 0.5], [0.619, 0.619, 0.619], [0.25, 0.25, 0.25], [0, 0, 0], [0.18, 0.18, 0.02]],
        labels=["P1", "S1", "X4c", "X4a", "Li1"])


def argyrodite_like(cl_on_4a: float = 0.75) -> Structure:
    """Li6PS5Cl-like: S/Cl exchange between 4a and 4c, Li half on 48h (vacancies)."""
    return _argyrodite(cl_on_4a).copy()


def _on_sites(ordered: Structure, parent: Structure) -> bool:
    """Every ordered atom sits on a site of ``parent`` that allowed its species."""
    d = parent.lattice.get_all_distances(ordered.frac_coords, parent.frac_coords)
    near = d.argmin(axis=1)
    return bool(d.min(axis=1).max() < 1e-6 and all(
        site.specie.symbol in {el.symbol for el in parent[j].species.elements}
        for site, j in zip(ordered, near)))


def test_random_is_reproducible_and_seed_dependent():
    s = rocksalt_clbr()
    a = order_structure(s, "random", seed=7, supercell="2x2x2")
    b = order_structure(s, "random", seed=7, supercell="2x2x2")
    c = order_structure(s, "random", seed=8, supercell="2x2x2")
    assert a.structure == b.structure
    # 32 anion sites, 16 Cl: two seeds giving the same cell has probability 1/C(32,16)
    assert a.structure != c.structure
    assert a.structure.composition.as_dict() == {"Li": 32, "Cl": 16, "Br": 16}
    assert a.site_counts == {"Br:0.5 Cl:0.5": {"sites": 32, "Cl": 16, "Br": 16}}
    assert a.structure.is_ordered and _on_sites(a.structure, s.make_supercell((2, 2, 2), in_place=False))


def test_random_needs_seed_and_known_method():
    with pytest.raises(IonmdError, match="needs a seed"):
        order_structure(rocksalt_clbr(), "random")
    with pytest.raises(IonmdError, match="unknown ordering method 'best'"):
        order_structure(rocksalt_clbr(), "best", seed=1)


def test_ewald_is_the_lowest_of_all_arrangements():
    # Ewald energies see charges only: Mg2+ on half the cation sites of rock salt
    # (vacancies on the rest) gives arrangements of different energy; Cl/Br would not.
    s = rocksalt({"Mg": 0.5}, "Cl", 5.2)
    big = s.make_supercell((1, 1, 2), in_place=False)          # 8 cation sites, 4 Mg
    result = order_structure(s, "ewald", supercell=(1, 1, 2))
    cations = [i for i, site in enumerate(big) if not site.is_ordered]
    energies = []
    for mg in itertools.combinations(cations, 4):
        keep = [i for i in range(len(big)) if i not in cations or i in mg]
        species = ["Mg2+" if i in cations else "Cl-" for i in keep]
        energies.append(EwaldSummation(Structure(big.lattice, species, big.frac_coords[keep])).total_energy)
    assert result.ewald_energy == pytest.approx(min(energies), rel=1e-6)
    assert result.ewald_energy < np.median(energies) - 0.1     # the test can tell orderings apart
    charged = result.structure.copy()
    charged.add_oxidation_state_by_element({"Mg": 2, "Cl": -1})
    assert EwaldSummation(charged).total_energy == pytest.approx(min(energies), rel=1e-6)
    assert result.structure.composition.as_dict() == {"Mg": 4, "Cl": 8}
    assert result.site_counts == {"Mg:0.5 vacancy:0.5": {"sites": 8, "Mg": 4, "vacancy": 4}}


def test_ewald_refuses_huge_searches():
    # Li 48h half occupied: C(48, 24) = 3.2e13 arrangements in one cell, 2^24 = 1.7e7 under
    # the pair rule (ordered since 3ce46ee); two cells: C(96, 48) = 6.4e27, 2^48 = 2.8e14
    with pytest.raises(IonmdError, match=r"6\.4e\+27 arrangements.*2\.8e\+14 keep the pair "
                                         r"rule.*method='random'"):
        order_structure(argyrodite_like(1.0), "ewald", supercell="2x1x1")


def test_ewald_user_oxidation_states():
    s = rocksalt_clbr()
    with pytest.raises(IonmdError, match=r"oxidation_states lacks \['Br'\]"):
        order_structure(s, "ewald", oxidation_states={"Li": 1, "Cl": -1})
    cell = order_structure(s, "ewald", oxidation_states={"Li": 1, "Cl": -1, "Br": -1})
    assert cell.structure.composition.as_dict() == {"Li": 4, "Cl": 2, "Br": 2}


def test_ewald_with_occupancies_that_round_to_full_sites():
    """Li 0.999 (a refined occupancy) rounds to full sites: one arrangement, the ordered
    cell, with its own Ewald energy (pymatgen's minimiser fails on nothing to arrange)."""
    s = rocksalt({"Li": 0.999}, {"Cl": 1}, 5.14)
    cell = order_structure(s, "ewald", oxidation_states={"Li": 1, "Cl": -1})
    assert cell.structure.composition.as_dict() == {"Li": 4, "Cl": 4}
    charged = cell.structure.copy()
    charged.add_oxidation_state_by_element({"Li": 1, "Cl": -1})
    assert cell.ewald_energy == pytest.approx(EwaldSummation(charged).total_energy, rel=1e-9)


def test_integral_supercell_for_argyrodite_disorder():
    s = argyrodite_like(cl_on_4a=0.6)   # 4 sites x 0.4 = 1.6 -> 5 cells for whole numbers
    reps = integral_supercell(s)
    assert np.prod(reps) == 5
    brute = min(n for n in range(1, 40) if all(abs(n * 4 * f - round(n * 4 * f)) < 1e-9 for f in (0.6, 0.4)))
    assert np.prod(reps) == brute
    cell = order_structure(s, "random", seed=3)
    assert cell.cells == 5
    counts = cell.site_counts
    assert counts["Cl:0.4 S:0.6"] == {"sites": 20, "S": 12, "Cl": 8}
    assert counts["Li:0.5 vacancy:0.5"] == {"sites": 240, "Li": 120, "vacancy": 120}
    assert cell.structure.composition.as_dict() == {"Li": 120, "P": 20, "S": 100, "Cl": 20}
    assert _on_sites(cell.structure, s.make_supercell(cell.matrix, in_place=False))


def test_min_width_then_integral():
    s = argyrodite_like(cl_on_4a=0.75)       # one cell is whole already; 16 A asks for 2x2x2
    cell = order_structure(s, "random", seed=1, min_width=16.0)
    assert cell.supercell == (2, 2, 2)
    assert cell.structure.composition.reduced_formula == "Li6PS5Cl"


def test_non_integral_explicit_supercell_names_the_site():
    with pytest.raises(IonmdError, match=r"supercell 1x1x1 .* X4c|X4a"):
        order_structure(argyrodite_like(0.6), "random", seed=1, supercell="1x1x1")


def test_cannot_make_whole_names_the_site():
    s = Structure(Lattice.cubic(4.0), [{"Li": 1}, {"Cl": 1 / 7, "Br": 6 / 7}],
                  [[0, 0, 0], [0.5, 0.5, 0.5]], labels=["Li1", "Hal1"])
    with pytest.raises(IonmdError, match=r"occupancies of Hal1 .*needs 7 copies.*max_atoms=10"):
        order_structure(s, "random", seed=1, max_atoms=10)
    assert np.prod(integral_supercell(s, max_atoms=100)) == 7


def test_ordered_input_just_repeats():
    s = Structure(Lattice.cubic(4.0), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    cell = order_structure(s, "random", seed=1, min_width=8.0)
    assert cell.supercell == (2, 2, 2) and len(cell.structure) == 16 and cell.method == "ordered"


def _li_li_min(s: Structure) -> float:
    li = [i for i, site in enumerate(s) if site.specie.symbol == "Li"]
    d = s.lattice.get_all_distances(s.frac_coords[li], s.frac_coords[li]) + 99 * np.eye(len(li))
    return float(d.min())


def test_random_keeps_placed_atoms_apart():
    """Argyrodite's 48h Li sites come in pairs 1.96 A apart (here: (0.18, 0.18, 0.02) in
    F-43m). A plain random draw of 24 Li on 48 sites fills both sites of some pair for
    almost every seed; the default rule (0.8 x covalent radii sum, 2.05 A) must not, for
    any seed, and min_distance=0 must give the plain draw back."""
    from ase.data import covalent_radii

    s = argyrodite_like(1.0)
    limit = 0.8 * 2 * covalent_radii[3]
    plain = [order_structure(s, "random", seed=k, min_distance=0) for k in range(8)]
    assert sum(_li_li_min(c.structure) < limit for c in plain) >= 6      # the defect is real
    for k in range(8):
        cell = order_structure(s, "random", seed=k)
        assert _li_li_min(cell.structure) >= limit
        assert cell.structure.composition.as_dict() == {"Li": 24, "P": 4, "S": 20, "Cl": 4}
        assert _on_sites(cell.structure, s)
        assert cell.min_distance == "0.8 x covalent radii sum"
    again = order_structure(s, "random", seed=5)
    assert again.structure == order_structure(s, "random", seed=5).structure   # seeded
    # an explicit distance in A; one no arrangement can keep names the pair and a distance
    # that works when followed
    assert _li_li_min(order_structure(s, "random", seed=1, min_distance=2.2).structure) >= 2.2
    with pytest.raises(IonmdError, match=r"sites of Li1 .*2\.\d\d A apart.*min_distance=") as err:
        order_structure(s, "random", seed=1, min_distance=3.5)
    advised = float(re.search(r"`--order-min-distance ([\d.]+)`", str(err.value)).group(1))
    assert 2.2 <= advised < 3.5
    assert _li_li_min(order_structure(s, "random", seed=1, min_distance=advised).structure) >= advised


def test_ewald_keeps_each_groups_counts():
    """Two Li groups whose occupancies differ by < 10 % (LGPS: 0.691 and 0.643) keep their
    own counts; pymatgen's OrderDisorderedStructureTransformation merged them (8 + 8 Li
    instead of 11 + 5 there). Checked against enumerating every arrangement."""
    lattice = Lattice.cubic(10.0)
    grid = [[i / 3, j / 3, k / 3] for i in range(3) for j in range(3) for k in range(3)]
    s = Structure(lattice, [{"Li": 0.75}] * 4 + [{"Li": 0.7}] * 10 + ["Cl"] * 10, grid[:24],
                  labels=["A"] * 4 + ["B"] * 10 + ["X"] * 10)
    cell = order_structure(s, "ewald", min_distance=0)
    o = cell.structure
    d = s.lattice.get_all_distances(o.frac_coords, s.frac_coords)
    on = [s[j].label for j in d.argmin(axis=1)]
    assert on.count("A") == 3 and on.count("B") == 7          # 4 x 0.75 and 10 x 0.7
    energies = []
    for a in itertools.combinations(range(4), 3):
        for b in itertools.combinations(range(4, 14), 7):
            keep = list(a) + list(b) + list(range(14, 24))
            charged = Structure(lattice, ["Li+"] * 10 + ["Cl-"] * 10, s.frac_coords[keep])
            energies.append(EwaldSummation(charged).total_energy)
    assert cell.ewald_energy == pytest.approx(min(energies), rel=1e-6)


def test_ewald_ordering_uses_the_oxidation_states_the_file_gives():
    """LiNi0.5Mn0.5O2 with Li/Ni antisites, its species labelled Ni2+ and Mn4+ (as CIFs
    with _atom_type_oxidation_number give them, and as XAS finds them). pymatgen's own
    guess for Li2NiMnO4 is Ni 4, Mn 2; ordering with it put the cations where, with the
    file's charges, the cell's Ewald energy is -1109.1 eV instead of the lowest -1239.6 eV.
    With the file's states the arrangement is pymatgen's
    OrderDisorderedStructureTransformation's lowest; ionmd's guess is now the chemistry's,
    Ni2+ Mn4+ (its note names Ni4+ Mn2+), so the same file without states orders alike."""
    from pymatgen.core import Composition
    from pymatgen.transformations.standard_transformations import (
        OrderDisorderedStructureTransformation)

    from ionmd.structures import guess_oxidation_states
    from ionmd.structures.charges import oxidation_guess

    pymatgen_guess = Composition("Li2NiMnO4").oxi_state_guesses()[0]
    assert (pymatgen_guess["Ni"], pymatgen_guess["Mn"]) == (4, 2)     # pymatgen's differs
    file_states = {"Li": 1, "Ni": 2, "Mn": 4, "O": -2}
    assert guess_oxidation_states("Li2NiMnO4") == file_states
    assert "Mn2+ Ni4+" in oxidation_guess("Li2NiMnO4").note
    s = Structure.from_spacegroup(
        "R-3m", Lattice.hexagonal(2.89, 14.30),
        [{"Li+": 11 / 12, "Ni2+": 1 / 12}, {"Ni2+": 5 / 12, "Mn4+": 6 / 12, "Li+": 1 / 12}, "O2-"],
        [[0, 0, 0], [0, 0, 0.5], [0, 0, 0.2584]])
    cell = order_structure(s, "ewald", supercell=(2, 2, 1))
    ordered = cell.structure.copy()
    ordered.add_oxidation_state_by_element(file_states)
    big = s.make_supercell((2, 2, 1), in_place=False)
    best = OrderDisorderedStructureTransformation(algo=0).apply_transformation(
        big, return_ranked_list=1)[0]["structure"]
    reference = EwaldSummation(best).total_energy
    assert EwaldSummation(ordered).total_energy == pytest.approx(reference, abs=1e-6)
    assert cell.ewald_energy == pytest.approx(reference, abs=1e-6)
    plain = s.copy()
    plain.remove_oxidation_states()
    guessed = order_structure(plain, "ewald", supercell=(2, 2, 1))
    assert guessed.ewald_energy == pytest.approx(reference, abs=1e-6)


def test_ordered_file_keeps_the_oxidation_states_it_gives(tmp_path):
    """The LiNi0.5Mn0.5O2 CIF above, loaded with --order ewald: the ordered cell keeps the
    file's Ni2+/Mn4+ (run.json's charges, as for a file that needs no ordering), not
    pymatgen's Ni 4/Mn 2 guess."""
    from pymatgen.io.cif import CifWriter

    from ionmd.protocols.prepare import oxidation_states
    from ionmd.structures import OrderOptions, load_structures

    s = Structure.from_spacegroup(
        "R-3m", Lattice.hexagonal(2.89, 14.30),
        [{"Li+": 11 / 12, "Ni2+": 1 / 12}, {"Ni2+": 5 / 12, "Mn4+": 6 / 12, "Li+": 1 / 12}, "O2-"],
        [[0, 0, 0], [0, 0, 0.5], [0, 0, 0.2584]])
    CifWriter(s).write_file(tmp_path / "LNMO.cif")
    [loaded] = load_structures(tmp_path / "LNMO.cif",
                               OrderOptions(method="ewald", supercell="2x2x1"))
    assert loaded.structure.composition.element_composition.reduced_composition == Composition("Li2NiMnO4")
    assert oxidation_states(loaded.structure) == {"Li": 1.0, "Ni": 2.0, "Mn": 4.0, "O": -2.0}


def _argyrodite_s_cl_mixing() -> Structure:
    """Li5.75PS4.75Cl1.25 (F-43m) with S/Cl on 4a (Cl 0.375) and 4d (Cl 0.875): neutral,
    and each group's Cl count (1.5, 3.5 per cell) is half a whole number."""
    return Structure.from_spacegroup(
        "F-43m", Lattice.cubic(9.80),
        ["P", "S", {"S": 0.625, "Cl": 0.375}, {"S": 0.125, "Cl": 0.875}, {"Li": 23 / 48}],
        [[0.5, 0.5, 0.5], [0.619, 0.619, 0.619], [0, 0, 0], [0.75, 0.75, 0.75],
         [0.3125, 0.0, 0.6875]])


def test_rounded_occupancies_keep_the_cell_neutral():
    """With occ_tol 0.15 (--order-tol 0.15, as the docs use for the shipped examples) each
    S/Cl group was rounded on its own: 1.5 -> 2 and 3.5 -> 4 Cl, Li23 P4 S18 Cl6, +1 e
    (by the oxidation states pymatgen guesses, Li+ P5+ S2- Cl-). A cell is now only taken
    when rounding keeps the charge: two cells, Li46 P8 S38 Cl10, exactly the file's
    composition; the one cell asked for explicitly is refused, saying why."""
    s = _argyrodite_s_cl_mixing()
    ox = Composition("Li23P4S19Cl5").oxi_state_guesses()[0]
    charge = lambda c: sum(ox[el.symbol] * n for el, n in c.element_composition.items())  # noqa: E731
    assert charge(s.composition) == pytest.approx(0, abs=1e-9)
    cell = order_structure(s, "random", seed=0, occ_tol=0.15, min_distance=0)
    assert cell.cells == 2
    assert cell.structure.composition == s.composition * 2
    with pytest.raises(IonmdError, match=r"supercell 1x1x1 can only round the occupancies to whole "
                                         r"atoms with a net charge \(\+1 e in 1 cell: Cl 5 -> 6, S 3 -> 2"):
        order_structure(s, "random", seed=0, occ_tol=0.15, min_distance=0, supercell=(1, 1, 1))


def test_a_charged_ordered_cell_says_so():
    """The shipped LGPS's refined occupancies (Li20.2 Ge2.06 P3.94 S24) are charged under
    Li+ Ge4+ P5+ S2- (+0.14 e per cell), so its ordered cells are too (+2 e in the 15-cell
    supercell rounding needs); the ordering line says so, the neutral argyrodite's does not."""
    from ionmd.structures import OrderOptions, example_path, load_structures
    from ionmd.structures.io import read_structure

    states = {"Li": 1, "Ge": 4, "P": 5, "S": -2}
    parent = read_structure(example_path("Li10GeP2S12")).composition
    per_cell = sum(states[el.symbol] * n for el, n in parent.items())
    [lgps] = load_structures(example_path("Li10GeP2S12"),
                             OrderOptions(method="random", seed=0, min_distance=1.5))
    net = sum(states[el.symbol] * n for el, n in lgps.structure.composition.items())
    assert round(net) != 0 and abs(per_cell - 0.14) < 0.01
    assert f"net charge {net:+.0f} e" in lgps.ordering and f"{per_cell:+.2g} e per cell" in lgps.ordering
    [argyrodite] = load_structures(example_path("Li6PS5Cl"), OrderOptions(method="random", seed=0))
    assert "net charge" not in argyrodite.ordering


def test_an_element_rounded_away_is_named_in_the_ordering_line():
    """SrTi0.9Zr0.1O3 at --order-tol 0.15 orders into SrTiO3 (Zr 0.1 rounds to none in one
    cell, charge unchanged): the line named only the tolerance, as if the cell were the
    file's material; it names the element lost, with the file's amount (pymatgen's
    composition). A tolerance that keeps Zr names nothing."""
    from ionmd.structures import OrderOptions, load_structures

    file = Structure(Lattice.cubic(3.9), [{"Sr": 1.0}, {"Ti": 0.9, "Zr": 0.1}, "O", "O", "O"],
                     [[0, 0, 0], [.5, .5, .5], [.5, .5, 0], [.5, 0, .5], [0, .5, .5]])
    [lossy] = load_structures(file, OrderOptions(method="random", seed=0, occ_tol=0.15,
                                                 supercell="none"))
    assert lossy.structure.composition.reduced_formula == "SrTiO3"
    assert file.composition["Zr"] == pytest.approx(0.1)
    assert ("rounding left out Zr (0.1 per cell of the file): give a smaller --order-tol "
            "than 0.15 to keep it") in lossy.ordering
    [kept] = load_structures(file, OrderOptions(method="random", seed=0, occ_tol=0.001,
                                                supercell="none"))
    assert kept.structure.composition["Zr"] > 0 and "left out" not in kept.ordering


def test_vacancies_rounded_away_are_named():
    """Li 0.96 on the cation site of rock salt at --order-tol 0.05 orders into full LiCl
    (the 0.04 vacancies per cell round to none in one cell): rounded_away named only
    elements, so the vacancies filled went unsaid. They are named, with the file's amount
    (1 - occupancy per site, 4 sites per cell: pymatgen's composition); a tolerance that
    keeps them names nothing."""
    from ionmd.structures import OrderOptions, load_structures

    file = rocksalt({"Li": 0.96}, {"Cl": 1.0}, 5.1)
    vacancies = 4 - file.composition["Li"]
    [filled] = load_structures(file, OrderOptions(method="random", seed=0, occ_tol=0.05,
                                                  supercell="none"))
    assert filled.structure.composition.as_dict() == {"Li": 4, "Cl": 4}
    assert filled.rounded_away == {"vacancy": pytest.approx(vacancies)} and vacancies == pytest.approx(0.16)
    assert "rounding left out vacancies (0.16 per cell of the file: those sites filled)" in filled.ordering
    [kept] = load_structures(file, OrderOptions(method="random", seed=0, supercell="none"))
    assert kept.rounded_away == {} and "left out" not in kept.ordering
    assert kept.structure.composition["Li"] < 4 * round(kept.structure.volume / file.volume)
