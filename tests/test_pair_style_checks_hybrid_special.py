"""special_bonds weights under pair_style hybrid / hybrid/overlay: LAMMPS weights a
sub-style's bonded pairs by its own lj weights (the global special_bonds, or `pair_modify
pair ionmd special`), the graph strips the special bits, so the model took them at full
weight while the input asked less. Refused with the plain style's rule; weights the model
can apply still run, with the plain style's energy; bonds among another sub-style's atom
types leave the model alone. Whether bonded pairs exist is read from the atoms' special
lists (bonds deleted without `special` keep them), or from a fix that can add bonded
molecules. The model is a
Morse twin of LAMMPS's `pair_style morse 6.0` with `pair_modify shift yes` (protocol_setup),
on 8-10 atoms."""

import re
from pathlib import Path

import pytest

from lammps_runner import run_lmp, thermo_table, write_data
from structures import licl_supercell

ELEMENTS = ["Li", "Cl"]
CHAIN = [(1, 2), (2, 3), (3, 4)]    # 1-2, 1-3 and 1-4 neighbours among Li and Cl
# two atoms of a third type (not the model's) in tetrahedral holes, bonded to each other
OTHER = [(1.285, 1.285, 1.285), (3.855, 3.855, 3.855)]


def _data(path: Path, bonds: list[tuple[int, int]], style: str = "bond",
          other: bool = False) -> None:
    """8-atom rock-salt LiCl (+ the OTHER atoms as type 3) with `bonds` (atom IDs)."""
    atoms = licl_supercell(rep=1)
    cell = [float(v) for v in atoms.cell.lengths()]
    types = [ELEMENTS.index(s) + 1 for s in atoms.get_chemical_symbols()]
    positions = [tuple(p) for p in atoms.positions]
    if other:
        types += [3, 3]
        positions += OTHER
    charge = {1: " 1.0", 2: " -1.0", 3: " 0.0"} if style == "full" else {1: "", 2: "", 3: ""}
    ntypes = 3 if other else 2
    lines = ["LiCl with bonds", "", f"{len(types)} atoms", f"{ntypes} atom types",
             f"{len(bonds)} bonds", "1 bond types", "", f"0 {cell[0]!r} xlo xhi",
             f"0 {cell[1]!r} ylo yhi", f"0 {cell[2]!r} zlo zhi", "", "Masses", "", "1 6.94",
             "2 35.45"] + (["3 4.0"] if other else []) + ["", f"Atoms # {style}", ""]
    lines += [f"{i + 1} 1 {t}{charge[t]} {x:.17g} {y:.17g} {z:.17g}"
              for i, (t, (x, y, z)) in enumerate(zip(types, positions))]
    lines += ["", "Bonds", ""] + [f"{k + 1} 1 {i} {j}" for k, (i, j) in enumerate(bonds)]
    path.write_text("\n".join(lines) + "\n")


def _script(style: str, special: str, pair: str) -> str:
    return (f"units metal\natom_style {style}\nbond_style zero\n"
            "read_data bonded.data extra/special/per/atom 24\nbond_coeff *\n"
            f"{special}\n{pair}\ncompute model all pair ionmd\n"
            "thermo_style custom step c_model\nthermo_modify format float %.15g\nrun 0\n")


def _model_energy(log: str) -> float:
    return float(thermo_table(log, 2)[-1, 1])


@pytest.fixture(scope="module")
def plain_energy(morse, tmp_path_factory):
    """The plain style on the same 8 Li/Cl atoms without bonds: what the model gives them."""
    workdir = tmp_path_factory.mktemp("plain")
    write_data(licl_supercell(rep=1), workdir / "s.data", ELEMENTS)
    log = run_lmp(f"units metal\natom_style atomic\nread_data s.data\npair_style ionmd {morse}\n"
                  "pair_coeff * * Li Cl\nthermo_style custom step pe\n"
                  "thermo_modify format float %.15g\nrun 0\n", workdir).stdout
    return _model_energy(log)


def _overlay(morse: Path) -> str:
    return (f"pair_style hybrid/overlay ionmd {morse} morse 6.0\npair_coeff * * ionmd Li Cl\n"
            "pair_coeff * * morse 0.3 1.5 2.8\npair_modify shift yes")


def test_global_weights_of_one_half_are_refused_and_ionmd_weight_one_runs(tmp_path, morse,
                                                                         plain_energy):
    """special_bonds 0.5 under hybrid/overlay: LAMMPS weights morse's bonded pairs by 0.5
    and asks the same of ionmd's (its twin, `pair_style hybrid/overlay morse 6.0 morse
    6.0`, gives -13.99828 eV for either morse here, the model its unweighted -14.36210 eV);
    the model took them at full weight, with no error. With `pair_modify pair ionmd special lj 1.0 1.0 1.0` morse keeps
    0.5 and the model gets what it can apply: the plain style's energy."""
    _data(tmp_path / "bonded.data", CHAIN)
    special = "special_bonds lj/coul 0.5 0.5 0.5"
    proc = run_lmp(_script("bond", special, _overlay(morse)), tmp_path, check=False)
    assert proc.returncode != 0, proc.stdout[-2000:]
    out = " ".join(proc.stdout.split())
    assert ("the model cannot apply special_bonds weights; under pair_style hybrid/overlay "
            "LAMMPS weights ionmd's bonded neighbours by lj 0.5 0.5 0.5 (the special_bonds "
            "weights; coul 0.5 0.5 0.5), but the model takes every pair within its cutoff at "
            "full weight") in out
    for level in (2, 3, 4):
        assert re.search(rf"\d+ bonded 1-{level} pair\(s\) of its atom types within 6 A", out)
    assert "give ionmd lj weights 1 with 'pair_modify pair ionmd special lj 1.0 1.0 1.0'" in out

    own = _overlay(morse) + "\npair_modify pair ionmd special lj 1.0 1.0 1.0"
    log = run_lmp(_script("bond", special, own), tmp_path).stdout
    assert _model_energy(log) == pytest.approx(plain_energy, rel=1e-12)


def test_ionmd_own_weights_from_pair_modify_are_refused(tmp_path, morse):
    """`pair_modify pair ionmd special lj 0.5 0.5 0.5` (global 0.8: LAMMPS allows an
    override only where the global weight is neither 0 nor 1) was taken at full weight."""
    _data(tmp_path / "bonded.data", CHAIN)
    pair = _overlay(morse) + "\npair_modify pair ionmd special lj 0.5 0.5 0.5"
    proc = run_lmp(_script("bond", "special_bonds lj/coul 0.8 0.8 0.8", pair), tmp_path,
                   check=False)
    assert proc.returncode != 0, proc.stdout[-2000:]
    out = " ".join(proc.stdout.split())
    assert ("LAMMPS weights ionmd's bonded neighbours by lj 0.5 0.5 0.5 (its own, from "
            "'pair_modify pair ionmd special')") in out


def test_lj_zero_kept_by_kspace_is_refused_and_lj_one_runs(tmp_path, morse, plain_energy):
    """atom_style full, bonds, `special_bonds lj 0 0.5 1` (coul 0 0 0) with coul/long and
    kspace: LAMMPS keeps the bonded pairs (coul/long subtracts their Coulomb term) and asks
    ionmd for lj 0 and 0.5: taken at full weight with no error. lj 1 (coul as coul/long
    needs it) runs with the plain style's energy."""
    _data(tmp_path / "bonded.data", CHAIN, style="full")
    pair = (f"pair_style hybrid/overlay ionmd {morse} coul/long 5.0\n"
            "pair_coeff * * ionmd Li Cl\npair_coeff * * coul/long\nkspace_style ewald 1e-5")
    proc = run_lmp(_script("full", "special_bonds lj 0.0 0.5 1.0", pair), tmp_path,
                   check=False)
    assert proc.returncode != 0, proc.stdout[-2000:]
    out = " ".join(proc.stdout.split())
    assert "LAMMPS weights ionmd's bonded neighbours by lj 0 0.5 1 (the special_bonds" in out
    assert re.search(r"\d+ bonded 1-2 pair\(s\) of its atom types within 6 A, \d+ bonded 1-3 "
                     r"pair\(s\) of its atom types within 6 A;", out)
    assert "1-4 pair" not in out    # lj 1: the model's weight
    assert ("use 'special_bonds lj 1.0 1.0 1.0' (coul may be anything for the model; LAMMPS "
            "gives a sub-style no weight of its own where the global one is 0)") in out

    log = run_lmp(_script("full", "special_bonds lj 1.0 1.0 1.0 coul 0.0 0.5 1.0", pair),
                  tmp_path).stdout
    assert _model_energy(log) == pytest.approx(plain_energy, rel=1e-12)


def test_bonds_of_another_sub_styles_types_leave_the_model_alone(tmp_path, morse,
                                                               plain_energy):
    """Default special_bonds (0 0 0) drop bonded pairs from every list: refused where the
    bonded atoms are the model's, with how many of its pairs go. Bonds only between atoms
    of a type the model does not take (NULL; morse covers its pairs) were refused too,
    though no pair of the model's is special: now they run, and the model's energy is the
    plain style's on the Li/Cl atoms alone."""
    pair = (f"pair_style hybrid ionmd {morse} morse 6.0\npair_coeff * * ionmd Li Cl NULL\n"
            "pair_coeff * 3 morse 0.01 1.5 2.8")
    _data(tmp_path / "bonded.data", [(1, 2)], other=True)
    proc = run_lmp(_script("bond", "", pair), tmp_path, check=False)
    assert proc.returncode != 0, proc.stdout[-2000:]
    out = " ".join(proc.stdout.split())
    assert re.search(r"special_bonds weights of 1-2 neighbours are 0 \(lj 0 0 0, coul 0 0 0; 1 "
                     r"bonded 1-2 pair\(s\) of its atom types within 6 A; 1 bond\(s\)\): under "
                     r"pair_style hybrid those pairs are left out", out)

    _data(tmp_path / "bonded.data", [(9, 10)], other=True)
    log = run_lmp(_script("bond", "", pair), tmp_path).stdout
    assert _model_energy(log) == pytest.approx(plain_energy, rel=1e-12)


DELETE = "delete_bonds all bond 1 remove"


def test_bonds_deleted_without_special_are_refused(tmp_path, morse, plain_energy):
    """`delete_bonds ... remove` without `special` leaves the atoms' 1-2/1-3/1-4 lists, so
    LAMMPS still drops those pairs (default weights 0 0 0; the review: pe -13.63445 eV with
    436 neighbours within 6 A for -14.36210 and 448), while the check looked at the bond
    counts (now 0) and let it run. Refused from the lists, plain and hybrid; with `special`
    the lists go and the model gets the plain style's energy."""
    _data(tmp_path / "bonded.data", CHAIN)
    plain = f"pair_style ionmd {morse}\npair_coeff * * Li Cl"
    proc = run_lmp(_script("bond", DELETE, plain), tmp_path, check=False)
    assert proc.returncode != 0, proc.stdout[-2000:]
    out = " ".join(proc.stdout.split())
    assert ("the lj weights of bonded neighbours are 0 0 0 (coul 0 0 0; 4 atom(s) with 1-2, "
            "1-3 or 1-4 neighbours in their special lists though the system has no bonds") in out
    assert "'delete_bonds ... remove' without 'special'" in out

    proc = run_lmp(_script("bond", DELETE, _overlay(morse)), tmp_path, check=False)
    assert proc.returncode != 0, proc.stdout[-2000:]
    out = " ".join(proc.stdout.split())
    assert "special_bonds weights of 1-2 neighbours are 0" in out
    assert re.search(r"3 bonded 1-2 pair\(s\) of its atom types within 6 A, 2 bonded 1-3 "
                     r"pair\(s\) of its atom types within 6 A, 1 bonded 1-4 pair\(s\)", out)

    log = run_lmp(_script("bond", DELETE + " special", plain), tmp_path).stdout
    assert _model_energy(log) == pytest.approx(plain_energy, rel=1e-12)


DIMER = """# a bonded Li-Cl pair
2 atoms
1 bonds

Coords

1 0.0 0.0 0.0
2 2.4 0.0 0.0

Types

1 1
2 2

Bonds

1 1 1 2
"""


def test_fix_deposit_of_bonded_molecules_is_refused(tmp_path, morse):
    """No bonds and no special lists yet, but fix deposit inserts bonded Li-Cl molecules
    during the run, whose pairs LAMMPS then drops (weights 0 0 0): it ran unchecked.
    Refused naming the fix; weights 1 run."""
    _data(tmp_path / "bonded.data", CHAIN)
    (tmp_path / "dimer.mol").write_text(DIMER)
    deposit = (f"{DELETE} special\nmolecule dimer dimer.mol\n"
               "region cell block 0 5.14 0 5.14 0 5.14 units box\n"
               "fix add all deposit 1 0 100 4 region cell mol dimer near 1.0\n")
    plain = f"pair_style ionmd {morse}\npair_coeff * * Li Cl"
    proc = run_lmp(_script("bond", deposit, plain) + "print DONE\n", tmp_path, check=False)
    assert proc.returncode != 0 and "DONE" not in proc.stdout, proc.stdout[-2000:]
    out = " ".join(proc.stdout.split())
    assert ("lj weights of bonded neighbours are 0 0 0 (coul 0 0 0; fix add (deposit) can "
            "insert bonded molecules of a molecule template during the run)") in out

    ones = deposit + "special_bonds lj/coul 1.0 1.0 1.0"
    proc = run_lmp(_script("bond", ones, plain) + "print DONE\n", tmp_path, check=False)
    assert proc.returncode == 0 and "DONE" in proc.stdout, proc.stdout[-2000:]
