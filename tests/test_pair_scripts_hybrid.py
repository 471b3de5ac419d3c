"""`pair_style hybrid/overlay ionmd ... zbl ...` (a ZBL core at high temperature) and
`pair_style hybrid` with the model on a subset of the types, as users write them.

References: SevenNet's own calculator in float64 for the model's part, LAMMPS's zbl alone
on the same data file for the rest; `compute pair` and `compute pressure ... pair/hybrid`
must split the total the same way. Under plain `hybrid` a later pair_coeff of another
sub-style for types the model has takes those pairs out of the model's neighbour list:
refused (it gave another material's energy: 547.44 eV for the model's 557.79)."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms

from lammps_runner import EV_PER_A3_TO_BAR, run_lmp, thermo_table, write_data
from sevennet_reference import reference_calculator
from structures import licl_supercell

ELEMENTS = ["Cl", "Li"]
ZBL_PAIRS = {(1, 1): (17, 17), (1, 2): (17, 3), (2, 2): (3, 3)}
# per-atom sums next to the totals, the sub-styles' energies and virials
THERMO = """compute pea all pe/atom
compute sa all stress/atom NULL virial
compute spe all reduce sum c_pea
compute ssa all reduce sum c_sa[1] c_sa[2] c_sa[3] c_sa[4] c_sa[5] c_sa[6]
thermo_style custom step pe c_spe pxx pyy pzz pxy pxz pyz c_ssa[1] c_ssa[2] c_ssa[3] c_ssa[4] c_ssa[5] c_ssa[6] vol {extra}
thermo_modify format float %.17g
dump d all custom 1 out.dump id fx fy fz c_pea
dump_modify d sort id format float %.17g
run 0
"""
SUBSTYLES = """compute ei all pair ionmd
compute ez all pair zbl
compute pi all pressure NULL pair/hybrid ionmd
compute pz all pressure NULL pair/hybrid zbl
"""
SUB_COLUMNS = " ".join(["c_ei", "c_ez"] + [f"c_p{s}[{k}]" for s in "iz" for k in range(1, 7)])


def zbl_lines(prefix, pairs):
    return "".join(f"pair_coeff {i} {j} {prefix}{zi} {zj}\n" for (i, j), (zi, zj) in pairs.items())


def run_zero(workdir, atoms, species, pair, extra=""):
    """`run 0` of ``pair`` on ``atoms`` (types in the order of ``species``): the thermo row
    (step pe sum(pe/atom) p[6] sum(stress/atom)[6] vol, then ``extra``) and the dump."""
    workdir.mkdir(parents=True, exist_ok=True)
    write_data(atoms, workdir / "s.data", species)
    script = f"units metal\natom_style atomic\nread_data s.data\n{pair}" + THERMO.format(extra=extra)
    proc = run_lmp(script, workdir)
    row = thermo_table(proc.stdout, 16 + len(extra.split()))[-1]
    return row, np.loadtxt(workdir / "out.dump", skiprows=9, ndmin=2)


def voigt_stress(pressure_bar):
    """ASE's stress (xx yy zz yz xz xy, eV/A^3) of a LAMMPS pressure tensor."""
    p = np.asarray(pressure_bar) / EV_PER_A3_TO_BAR
    return -np.array([p[0], p[1], p[2], p[5], p[4], p[3]])


@pytest.fixture(scope="module")
def squeezed():
    """64-atom LiCl rattled by 0.3 A: the closest pairs (~1.5 A) inside ZBL's 2 A reach."""
    return licl_supercell(rep=2, rattle=0.3, seed=1)


@pytest.fixture(scope="module")
def model_reference(tiny_checkpoint, squeezed):
    atoms = squeezed.copy()
    atoms.calc = reference_calculator(str(tiny_checkpoint), "float64")
    return (atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress(),
            atoms.get_potential_energies())


def test_overlay_with_zbl_is_the_model_plus_zbl(tiny_f64, squeezed, model_reference, tmp_path):
    """Energies, forces, pressure and per-atom energies of `hybrid/overlay ionmd zbl` are
    the calculator's plus zbl's alone; `compute pair` and `compute pressure pair/hybrid`
    give each part; the per-atom sums equal the totals."""
    energy, forces, stress, energies = model_reference
    both, dump = run_zero(tmp_path / "overlay", squeezed, ELEMENTS,
                          f"pair_style hybrid/overlay ionmd {tiny_f64} zbl 1.0 2.0\n"
                          "pair_coeff * * ionmd Cl Li\n" + zbl_lines("zbl ", ZBL_PAIRS) + SUBSTYLES,
                          extra=SUB_COLUMNS)
    zbl, zdump = run_zero(tmp_path / "zbl", squeezed, ELEMENTS,
                          "pair_style zbl 1.0 2.0\n" + zbl_lines("", ZBL_PAIRS))
    assert zbl[1] > 0.5 and np.abs(zdump[:, 1:4]).max() > 1.0      # ZBL is in play
    assert both[1] - zbl[1] == pytest.approx(energy, abs=1e-9)
    assert np.abs(dump[:, 1:4] - zdump[:, 1:4] - forces).max() <= 1e-10
    assert np.abs(voigt_stress(both[3:9] - zbl[3:9]) - stress).max() <= 1e-10
    assert np.abs(dump[:, 4] - zdump[:, 4] - energies).max() <= 1e-10
    # the sub-styles' own shares
    e_model, e_zbl, p_model, p_zbl = both[16], both[17], both[18:24], both[24:30]
    assert e_model == pytest.approx(energy, abs=1e-9) and e_zbl == pytest.approx(zbl[1], abs=1e-9)
    assert np.abs(voigt_stress(p_model) - stress).max() <= 1e-10
    np.testing.assert_allclose(p_zbl, zbl[3:9], rtol=1e-10, atol=1e-6)
    # LAMMPS's own sums: pe/atom to pe, stress/atom to -P V
    assert both[2] == pytest.approx(both[1], abs=1e-9)
    np.testing.assert_allclose(-both[9:15] / both[15], both[3:9], atol=1e-9 * np.abs(both[3:9]).max())


def test_model_on_a_subset_of_types_with_zbl_on_all(tiny_f64, tiny_checkpoint, tmp_path):
    """`pair_coeff * * ionmd Cl Li NULL` with Ar atoms among the LiCl and zbl on every pair:
    the model's part is the calculator on the LiCl atoms alone."""
    licl = licl_supercell(rep=2, rattle=0.05, seed=3)
    atoms = licl + Atoms("Ar2", positions=[[1.3, 1.2, 1.4], [6.4, 3.9, 3.5]])
    pairs = {(1, 1): (17, 17), (1, 2): (17, 3), (1, 3): (17, 18), (2, 2): (3, 3),
             (2, 3): (3, 18), (3, 3): (18, 18)}
    species = ["Cl", "Li", "Ar"]
    both, dump = run_zero(tmp_path / "overlay", atoms, species,
                          f"pair_style hybrid/overlay ionmd {tiny_f64} zbl 1.5 2.5\n"
                          "pair_coeff * * ionmd Cl Li NULL\n" + zbl_lines("zbl ", pairs))
    zbl, zdump = run_zero(tmp_path / "zbl", atoms, species,
                          "pair_style zbl 1.5 2.5\n" + zbl_lines("", pairs))
    assert np.abs(zdump[64:, 1:4]).max() > 0.1                      # Ar feels ZBL
    licl.calc = reference_calculator(str(tiny_checkpoint), "float64")
    assert both[1] - zbl[1] == pytest.approx(licl.get_potential_energy(), abs=1e-9)
    model_forces = dump[:, 1:4] - zdump[:, 1:4]
    assert np.abs(model_forces[:64] - licl.get_forces()).max() <= 1e-10
    assert np.abs(model_forces[64:]).max() <= 1e-12
    assert np.abs(voigt_stress(both[3:9] - zbl[3:9]) - licl.get_stress()).max() <= 1e-10
    assert np.abs(dump[:64, 4] - zdump[:64, 4] - licl.get_potential_energies()).max() <= 1e-10


@pytest.mark.parametrize("command", ["run 0", "minimize 0 1e-6 5 50", "rerun s.dump dump x y z"])
def test_plain_hybrid_taking_model_pairs_is_refused(tiny_f64, command, tmp_path):
    """`pair_style hybrid` (not overlay) with `pair_coeff 1 1 zbl ...` after the model's
    `* *`: the Cl-Cl pairs were silently dropped from the model's graph. The stop names
    the pairs and both ways out."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    atoms = licl_supercell(rep=1)
    write_data(atoms, tmp_path / "s.data", ELEMENTS)
    # a one-frame dump of the same atoms for rerun
    (tmp_path / "s.dump").write_text(
        "ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n8\nITEM: BOX BOUNDS pp pp pp\n"
        + "".join(f"0 {atoms.cell[k, k]:.17g}\n" for k in range(3)) + "ITEM: ATOMS id x y z\n"
        + "".join(f"{i + 1} {x:.17g} {y:.17g} {z:.17g}\n" for i, (x, y, z) in enumerate(atoms.positions)))
    script = (f"units metal\natom_style atomic\nread_data s.data\n"
              f"pair_style hybrid ionmd {tiny_f64} zbl 1.0 2.0\npair_coeff * * ionmd Cl Li\n"
              f"pair_coeff 1 1 zbl 17 17\n{command}\n")
    proc = run_lmp(script, tmp_path, check=False)
    assert proc.returncode != 0
    out = proc.stdout
    assert "under pair_style hybrid the pairs of atom types 1 1 (Cl Cl) are not ionmd's" in out
    assert "use pair_style hybrid/overlay" in out and "write NULL for them" in out


@pytest.mark.parametrize("style", ["hybrid", "hybrid/overlay"])
def test_none_for_model_pairs_is_refused(tiny_f64, style, tmp_path):
    """`pair_coeff 1 2 none` after the model's `* *` empties those pairs under either
    hybrid: the model would miss every Li-Cl neighbour."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_data(licl_supercell(rep=1), tmp_path / "s.data", ELEMENTS)
    proc = run_lmp(f"units metal\natom_style atomic\nread_data s.data\n"
                   f"pair_style {style} ionmd {tiny_f64} zbl 1.0 2.0\npair_coeff * * ionmd Cl Li\n"
                   "pair_coeff 1 1 zbl 17 17\npair_coeff 1 2 none\nrun 0\n",
                   tmp_path, check=False)
    assert proc.returncode != 0
    taken = "1 1 (Cl Cl), 1 2 (Cl Li)" if style == "hybrid" else "1 2 (Cl Li)"
    assert f"under pair_style {style} the pairs of atom types {taken} are not ionmd's" in proc.stdout


def test_overlay_taking_the_same_pairs_runs(tiny_f64, tmp_path):
    """The same lines under hybrid/overlay add zbl to the model: the model keeps every pair."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_data(licl_supercell(rep=1), tmp_path / "s.data", ELEMENTS)
    proc = run_lmp(f"units metal\natom_style atomic\nread_data s.data\n"
                   f"pair_style hybrid/overlay ionmd {tiny_f64} zbl 1.0 2.0\n"
                   "pair_coeff * * ionmd Cl Li\npair_coeff 1 1 zbl 17 17\n"
                   "pair_coeff 1 2 zbl 17 3\npair_coeff 2 2 zbl 3 3\nrun 0\n", tmp_path)
    assert "Loop time" in proc.stdout


def test_model_file_in_a_hybrid_pair_coeff_shows_both_lines(tiny_f64, tmp_path):
    """`pair_coeff * * ionmd model.pt Li Cl` (the pair_coeff of other ML pair styles):
    the stop shows where the file goes under hybrid and the pair_coeff line to write."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_data(licl_supercell(rep=1), tmp_path / "s.data", ELEMENTS)
    proc = run_lmp(f"units metal\natom_style atomic\nread_data s.data\n"
                   f"pair_style hybrid/overlay ionmd {tiny_f64} zbl 1.0 2.0\n"
                   f"pair_coeff * * ionmd {tiny_f64} Cl Li\nrun 0\n", tmp_path, check=False)
    assert proc.returncode != 0
    assert "belongs in 'pair_style hybrid/overlay ionmd FILE <other sub-styles>'" in proc.stdout
    assert "the line is 'pair_coeff * * ionmd Cl Li'" in proc.stdout
