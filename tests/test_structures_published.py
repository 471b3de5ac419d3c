"""Structure input with CIF files as published (tests/fixtures/published_cifs/README.md):
what pymatgen reads from them, what ionmd must refuse because atoms would be missing, and
the LAMMPS data file of a cell in a non-standard setting read back by LAMMPS itself."""

from __future__ import annotations

import itertools
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Composition, Lattice, Structure
from pymatgen.io.cif import CifParser

from ionmd.structures import StructureError, load_structures, read_structure, OrderOptions
from lammps_runner import run_lmp

FILES = Path(__file__).parent / "fixtures" / "published_cifs"

# LiOH (P4/nmm, written out in P1) with the H atom only counted on its O site, as ICSD
# files of hydroxides without a neutron refinement give it
LIOH_ATTACHED_H = """data_LiOH
_cell_length_a 3.5493(1)
_cell_length_b 3.5493(1)
_cell_length_c 4.3337(2)
_cell_angle_alpha 90.
_cell_angle_beta 90.
_cell_angle_gamma 90.
_symmetry_space_group_name_H-M 'P 1'
loop_
_symmetry_equiv_pos_as_xyz
'x, y, z'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
_atom_site_attached_hydrogens
Li1 Li 0 0 0 1. 0
Li2 Li 0.5 0.5 0 1. 0
O1 O 0 0.5 0.1939(2) 1. 1
O2 O 0.5 0 0.8061(2) 1. 1
"""


def _pymatgen(path) -> list[Structure]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CifParser(path).parse_structures(primitive=False)


def test_group_symbols_are_refused_not_dropped():
    """Tsumcorite's mixed site is typed 'OH2' (0.655) / 'OH' (0.345): pymatgen drops the
    site without an error (16 O per cell instead of the formula's 20: Z = 2 of
    ZnFePb(AsO4)2(OH)(H2O)), so the old reader simulated the crystal without its water
    and hydroxyl. ionmd refuses it, naming the sites and the symbols."""
    dropped = _pymatgen(FILES / "PF_sd_1601634.cif")[0].composition
    formula = Composition("ZnFePb(AsO4)2(OH)(H2O)") * 2
    assert dropped["O"] == formula["O"] - 4            # the 4-fold OH2/OH site is lost
    with pytest.raises(StructureError, match=r"PF_sd_1601634\.cif'?: sites OH2, OH \(type 'OH', "
                                             r"'OH2'\) name a group of atoms"):
        read_structure(FILES / "PF_sd_1601634.cif")


def test_hydroxide_label_without_type_symbol_is_refused(tmp_path):
    """A CIF without _atom_site_type_symbol whose hydroxide oxygen is labelled 'OH1':
    pymatgen drops it and reads LiOH as lithium metal."""
    text = (LIOH_ATTACHED_H.replace("_atom_site_type_symbol\n", "").replace(" 1. 1\n", " 1. 0\n")
            .replace("Li1 Li ", "Li1 ").replace("Li2 Li ", "Li2 ")
            .replace("O1 O ", "OH1 ").replace("O2 O ", "OH2 "))
    (tmp_path / "LiOH.cif").write_text(text)
    assert _pymatgen(tmp_path / "LiOH.cif")[0].composition == Composition("Li2")
    with pytest.raises(StructureError, match=r"sites OH1, OH2 .* name a group of atoms"):
        read_structure(tmp_path / "LiOH.cif")


def test_counted_but_unplaced_hydrogens_are_refused(tmp_path):
    """_atom_site_attached_hydrogens > 0: pymatgen reads LiOH as 'LiO' (charged, H
    missing) and only warns; ionmd refuses naming each site and its H count. Files that
    write the column with zeros (ICSD's usual form) read as before."""
    (tmp_path / "LiOH.cif").write_text(LIOH_ATTACHED_H)
    assert _pymatgen(tmp_path / "LiOH.cif")[0].composition == Composition("Li2O2")
    with pytest.raises(StructureError, match=r"counts hydrogen atoms it does not place "
                                             r"\(_atom_site_attached_hydrogens: O1 \(1 H\), O2 \(1 H\)\)"):
        load_structures(tmp_path / "LiOH.cif")

    kmnf3 = read_structure(FILES / "ICSD59959.cif")          # attached hydrogens all 0
    assert kmnf3.composition == _pymatgen(FILES / "ICSD59959.cif")[0].composition
    assert kmnf3.composition.reduced_formula == Composition("F3 K1 Mn1").reduced_formula


def test_mixed_site_cod_file_orders_to_the_files_composition():
    """Ca2AlNbO6 with Al/Nb antisite mixing 0.941(8)/0.059(8) on two sites: read with its
    esds; ordered in the smallest cell that makes 34 x 0.059 whole (17 cells), the
    composition is pymatgen's disordered composition x 17 rounded, and charge neutral
    with the oxidation states pymatgen guesses for the file's formula. The 17 cells are
    as compact as 17 cells can be (17 is prime: repeating the cell gave a 17x1x1 needle,
    smallest width 5.4 A, 91.8 A long): its smallest width is the largest of every
    supercell of 17 cells (each sublattice of index 17 once: a brute-force search over
    pymatgen's LLL-reduced bases)."""
    disordered = _pymatgen(FILES / "Cod_2100513.cif")[0]
    [loaded] = load_structures(FILES / "Cod_2100513.cif", OrderOptions(method="random", seed=4))
    expected = {el.symbol: round(n * 17) for el, n in disordered.composition.items()}
    assert dict(loaded.structure.composition.get_el_amt_dict()) == expected
    ox = Composition("Ca2AlNbO6").oxi_state_guesses()[0]
    assert sum(ox[el] * n for el, n in expected.items()) == 0
    assert loaded.structure.volume == pytest.approx(17 * disordered.volume)
    p = loaded.structure.lattice.matrix @ np.linalg.inv(disordered.lattice.matrix)
    assert np.allclose(p, np.rint(p), atol=1e-6)     # a supercell of the file's lattice
    best = 0.0
    m = disordered.lattice.matrix
    for d1, d2 in ((a, b) for a in (1, 17) for b in (1, 17) if a * b <= 17):
        d3 = 17 // (d1 * d2)
        for h in itertools.product(range(d1), range(d1), range(d2)):
            sub = Lattice(np.array([[d1, 0, 0], [h[0], d2, 0], [h[1], h[2], d3]]) @ m)
            best = max(best, _widths(sub.get_lll_reduced_lattice().matrix).min())
    got = _widths(loaded.structure.lattice.matrix).min()
    assert got >= 0.98 * best and got > 2.5 * _widths(m * [[17], [1], [1]]).min()


def _widths(m: np.ndarray) -> np.ndarray:
    """Perpendicular widths, volume over face area, written out here."""
    vol = abs(np.linalg.det(m))
    return np.array([vol / np.linalg.norm(np.cross(m[(i + 1) % 3], m[(i + 2) % 3]))
                     for i in range(3)])


def _lammps_cell_and_atoms(data: Path, workdir: Path) -> tuple[Structure, dict[int, float]]:
    """The box, positions, types and masses LAMMPS itself reads from ``data``."""
    script = (f"units metal\natom_style atomic\nread_data {data}\n"
              "print \"BOX $(lx:%.12f) $(ly:%.12f) $(lz:%.12f) $(xy:%.12f) $(xz:%.12f) $(yz:%.12f) "
              "$(xlo:%.12f) $(ylo:%.12f) $(zlo:%.12f)\"\n"
              "write_dump all custom atoms.txt id type mass x y z modify sort id format float %.12f\n")
    out = run_lmp(script, workdir).stdout
    lx, ly, lz, xy, xz, yz, *lo = map(float, re.search(r"^BOX (.*)$", out, flags=re.M).group(1).split())
    rows = np.loadtxt(workdir / "atoms.txt", skiprows=9, ndmin=2)
    masses = {int(t): m for t, m in zip(rows[:, 1], rows[:, 2])}
    cell = Lattice([[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]])
    return Structure(cell, ["H"] * len(rows), rows[:, 3:6] - np.array(lo),
                     coords_are_cartesian=True), masses


@pytest.mark.parametrize("reps", [(1, 1, 1), (17, 1, 1), "compact"],
                         ids=["cell", "needle_17x1x1", "compact_17"])
def test_data_file_of_a_non_standard_cell_reads_back_in_lammps(tmp_path, reps):
    """The Ca2AlNbO6 cell (beta = 89.97 deg, not LAMMPS's frame: it needs a rotation and a
    tilt), ordered in one cell (occupancies rounded within 0.06) and written by `ionmd
    run`'s writer, as LAMMPS reads it: the cell's lengths and angles and every
    minimum-image distance match pymatgen's structure to 1e-8 A, the composition per type
    and each type's mass match the element's. Its 17x1x1 cell (the one `--supercell none`
    orders) was written orthogonal: ASE's writer drops tilts below its 1e-8 skew ratio
    (beta 90 deg, distances 0.004 A off)."""
    from ase.data import atomic_masses, atomic_numbers

    from ionmd.lammps.data_file import write_data
    from ionmd.protocols.prepare import as_atoms

    [loaded] = load_structures(FILES / "Cod_2100513.cif",
                               OrderOptions(method="random", seed=4, occ_tol=0.06))
    if reps == "compact":       # the 17 cells ordering now takes: no tilt is small
        from ionmd.structures.supercell_shape import widest_matrix

        reps = widest_matrix(loaded.structure.lattice.matrix, 17)
        assert np.count_nonzero(reps - np.diag(np.diag(reps)))
    ref = loaded.structure * reps
    cells = np.diag(reps) if np.ndim(reps) == 1 else np.array(reps)
    assert len(ref) == 20 * round(abs(np.linalg.det(cells.astype(float))))
    if np.ndim(reps) == 1:
        assert ref.lattice.angles[1] == pytest.approx(89.97)
    elements = sorted({s.specie.symbol for s in ref})
    write_data(as_atoms(ref), tmp_path / "struct.data", elements)
    lmp, masses = _lammps_cell_and_atoms(tmp_path / "struct.data", tmp_path)
    assert np.allclose(lmp.lattice.abc, ref.lattice.abc, rtol=0, atol=1e-8)
    assert np.allclose(lmp.lattice.angles, ref.lattice.angles, rtol=0, atol=1e-8)
    assert len(lmp) == len(ref)
    assert np.abs(lmp.distance_matrix - ref.distance_matrix).max() < 1e-8    # same atom order
    types = np.loadtxt(tmp_path / "atoms.txt", skiprows=9, ndmin=2)[:, 1].astype(int)
    assert [elements[t - 1] for t in types] == [s.specie.symbol for s in ref]
    assert all(masses[k + 1] == pytest.approx(atomic_masses[atomic_numbers[el]], rel=1e-9)
               for k, el in enumerate(elements))


@pytest.mark.parametrize("formula", ["Li25Al1La12Zr8O48", "Li27La12Zr7Nb1O48", "Li32La15Zr7Ta3O60",
                                     "Li9La17Ti30O90"])
def test_oxidation_states_of_ordered_doped_cells_match_pymatgens_full_guess(formula):
    """Ordered cells of doped garnets (Al-, Nb-, Ta-LLZO) and of LLTO do not reduce below
    25 atoms; the guess on the composition scaled to 25 atoms gave Zr 3.5, Nb 2, nothing
    at all (Ewald ordering refused), Ti 3.8. The guess now agrees with pymatgen's own guess
    on the exact composition (fast for these; minutes for others)."""
    from ionmd.structures import guess_oxidation_states

    [full] = Composition(formula).oxi_state_guesses()[:1]
    assert guess_oxidation_states(formula) == {el: float(v) for el, v in full.items()}


def test_cif_cut_short_is_refused_by_its_declared_formula(tmp_path):
    """A COD file whose download stopped before its last two O rows read as Ca2AlNbO2
    (no error: it is still a valid CIF). Its _chemical_formula_sum 'Al Ca2 Nb O6' says
    otherwise, as pymatgen's own CifParser.check finds; ionmd now refuses it, naming the
    element. Whole files (the fixtures, the shipped examples with refined occupancies such
    as LGPS's 'Li20.2 Ge2.06 P3.94 S24') still read."""
    from ionmd.structures import example_names, example_path

    text = (FILES / "Cod_2100513.cif").read_text()
    (tmp_path / "cut.cif").write_text(text[:text.index("O O2 ")])
    parser = CifParser(tmp_path / "cut.cif")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert "Incorrect stoichiometry" in parser.check(parser.parse_structures(primitive=False)[0])
    with pytest.raises(StructureError, match=r"cut\.cif'?: the atoms read \(Ca2NbAlO2\) do not match "
                                             r"the file's _chemical_formula_sum 'Al Ca2 Nb O6' \(O: 33 %"):
        read_structure(tmp_path / "cut.cif")
    for path in [FILES / "Cod_2100513.cif", FILES / "ICSD59959.cif",
                 *(example_path(n) for n in example_names())]:
        parser = CifParser(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert parser.check(parser.parse_structures(primitive=False)[0]) is None, path
        read_structure(path)
    # a nominal formula a refinement departs from (as Al-LLZO 'Li7' refined to Li6.24) reads
    nominal = (FILES / "ICSD59959.cif").read_text().replace("'F3 K1 Mn1'", "'F2.6 K1 Mn1'")
    (tmp_path / "nominal.cif").write_text(nominal)
    assert read_structure(tmp_path / "nominal.cif").composition.reduced_formula == "KMnF3"


def test_cifs_without_fractional_positions_say_what_is_missing(tmp_path):
    """Tsumcorite's file without its standardized block (the blocks left have a cell and
    '?' for every atom) and the COD file with Cartesian coordinates only: pymatgen finds
    'no structures'; the error says which positions are missing."""
    text = (FILES / "PF_sd_1601634.cif").read_text()
    start, end = (text.index(f"data_sm_isp_SD1601634-{b}") for b in ("standardized_unitcell",
                                                                     "published_cell"))
    (tmp_path / "blocks.cif").write_text(text[:start] + text[end:])
    with pytest.raises(StructureError, match="has a unit cell but no atom positions"):
        read_structure(tmp_path / "blocks.cif")
    cod = (FILES / "Cod_2100513.cif").read_text()
    (tmp_path / "cartn.cif").write_text(cod.replace("_atom_site_fract_", "_atom_site_Cartn_"))
    with pytest.raises(StructureError, match=r"only as Cartesian coordinates \(_atom_site_Cartn_x/y/z\)"):
        read_structure(tmp_path / "cartn.cif")


def test_formula_check_leaves_placeholders_and_isotopes_to_their_own_rules(tmp_path):
    """A declared formula next to a placeholder site ('X') still gives the placeholder's
    error (not a crash on its atomic number); deuterium in the formula ('Li D') counts as
    the D sites read (both hydrogen), so LiD reads, with D's mass."""
    from pymatgen.core import Element

    text = LIOH_ATTACHED_H.replace("data_LiOH\n", "data_LiOH\n_chemical_formula_sum 'Li2 O2'\n")
    (tmp_path / "x.cif").write_text(text.replace(" 1. 1\n", " 1. 0\n").replace("O2 O ", "X2 X "))
    with pytest.raises(StructureError, match=r"site \d+ \(X2\) has the unknown element symbol 'X'"):
        read_structure(tmp_path / "x.cif")
    lid = (LIOH_ATTACHED_H.replace("data_LiOH\n", "data_LiD\n_chemical_formula_sum 'Li D'\n")
           .replace(" 1. 1\n", " 1. 0\n").replace("O1 O ", "D1 D ").replace("O2 O ", "D2 D "))
    (tmp_path / "LiD.cif").write_text(lid)
    s = read_structure(tmp_path / "LiD.cif")
    assert sorted(site.specie.atomic_mass for site in s)[:2] == pytest.approx([Element("D").atomic_mass] * 2)


SPINEL_ORIGIN_2 = """data_LiMn2O4
_cell_length_a 8.2476
_cell_length_b 8.2476
_cell_length_c 8.2476
_cell_angle_alpha 90.
_cell_angle_beta 90.
_cell_angle_gamma 90.
_symmetry_space_group_name_H-M 'F d -3 m Z'
_symmetry_Int_Tables_number 227
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Li1 Li 0.125 0.125 0.125
Mn1 Mn 0.5 0.5 0.5
O1 O 0.2631 0.2631 0.2631
"""


@pytest.mark.parametrize("symbol", ["F d -3 m Z", "F d -3 m :2"])
def test_origin_choice_2_without_operators_reads_in_origin_choice_2(tmp_path, symbol):
    """Spinel LiMn2O4 in origin choice 2 (Li on 8a at 1/8,1/8,1/8), with the symbol only
    (as ICSD's 'Z' and ITA's ':2' write it): pymatgen ignores the suffix and builds origin
    choice 1 from the number, Li16Mn8O32 with O atoms 0.3 A apart (the old error blamed a
    duplicated atom; then the origin choice was refused). It reads as the same file with
    origin choice 2's operators (pymatgen's own table, 'Fd-3m:2') written in: LiMn2O4,
    Mn-O 1.96 A, as the sites moved to origin 1 (+1/8)."""
    from pymatgen.analysis.structure_matcher import StructureMatcher
    from pymatgen.symmetry.groups import SpaceGroup

    text = SPINEL_ORIGIN_2.replace("F d -3 m Z", symbol)
    (tmp_path / "spinel.cif").write_text(text)
    misread = _pymatgen(tmp_path / "spinel.cif")[0]
    assert misread.composition.reduced_composition == Composition("Li2MnO4")
    shifted = Structure.from_spacegroup(227, misread.lattice, ["Li", "Mn", "O"],
                                        np.array([[1, 1, 1], [4, 4, 4], [2.105, 2.105, 2.105]]) / 8
                                        + 1 / 8)
    assert shifted.composition.reduced_formula == "LiMn2O4"
    assert np.sort(shifted.distance_matrix, axis=1)[:, 1].min() == pytest.approx(1.96, abs=0.01)
    operators = "".join(f"'{op.as_xyz_str()}'\n" for op in SpaceGroup("Fd-3m:2").symmetry_ops)
    (tmp_path / "explicit.cif").write_text(text.replace(
        "loop_\n", "loop_\n_space_group_symop_operation_xyz\n" + operators + "loop_\n", 1))
    reference = _pymatgen(tmp_path / "explicit.cif")[0]
    assert reference.composition == Composition("Li8Mn16O32")
    structure = read_structure(tmp_path / "spinel.cif")
    assert structure.composition == reference.composition
    assert structure.density == pytest.approx(reference.density, rel=1e-6)
    assert StructureMatcher().fit(structure, reference)
    assert StructureMatcher().fit(structure, shifted)
