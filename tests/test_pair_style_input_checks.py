"""pair_style ionmd's input checks that a production-LAMMPS audit found wrong or unclear:
a 2-d box, special_bonds (refused for the wrong reason, and bonds made mid-run not checked),
and the messages for a directory, other codes' LAMMPS model files, units and atom IDs.
Each test runs the real lmp with the plugin on 2-8 atoms."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lammps_runner import run_lmp, thermo_table, write_data
from structures import licl_supercell

TESTS = Path(__file__).resolve().parent
ELEMENTS = ["Li", "Cl"]


def _energy(log: str, columns: int = 2) -> float:
    return float(thermo_table(log, columns)[-1, 1])


def _bond_data(path: Path, bonds: list[tuple[int, int]], style: str = "bond") -> None:
    """8-atom rock-salt LiCl as an atom_style bond (or full: Li +1, Cl -1) data file with
    `bonds` (atom IDs)."""
    atoms = licl_supercell(rep=1)
    cell = [float(v) for v in atoms.cell.lengths()]
    types = [ELEMENTS.index(s) + 1 for s in atoms.get_chemical_symbols()]
    lines = ["LiCl with bonds", "", f"{len(atoms)} atoms", "2 atom types", f"{len(bonds)} bonds",
             "1 bond types", "", f"0 {cell[0]!r} xlo xhi", f"0 {cell[1]!r} ylo yhi",
             f"0 {cell[2]!r} zlo zhi", "", "Masses", "", "1 6.94", "2 35.45", "", f"Atoms # {style}", ""]
    charge = {1: " 1.0", 2: " -1.0"} if style == "full" else {1: "", 2: ""}
    lines += [f"{i + 1} 1 {t}{charge[t]} {x:.17g} {y:.17g} {z:.17g}"
              for i, (t, (x, y, z)) in enumerate(zip(types, atoms.positions))]
    if bonds:
        lines += ["", "Bonds", ""] + [f"{k + 1} 1 {i} {j}" for k, (i, j) in enumerate(bonds)]
    path.write_text("\n".join(lines) + "\n")


def _bonded_script(morse: Path, special: str, extra: str = "", run: str = "run 0") -> str:
    return ("units metal\natom_style bond\nbond_style zero\n"
            "read_data bonded.data extra/bond/per/atom 8 extra/special/per/atom 24\n"
            f"bond_coeff *\n{special}\npair_style ionmd {morse}\npair_coeff * * Li Cl\n"
            f"{extra}\nthermo_style custom step pe bonds\nthermo_modify format float %.15g\n"
            f"{run}\n")


@pytest.fixture(scope="module")
def unbonded_energy(morse, tmp_path_factory):
    """The same 8 atoms without bonds (atom_style atomic): what the model gives them."""
    workdir = tmp_path_factory.mktemp("atomic")
    write_data(licl_supercell(rep=1), workdir / "s.data", ELEMENTS)
    log = run_lmp(f"units metal\natom_style atomic\nread_data s.data\npair_style ionmd {morse}\n"
                  "pair_coeff * * Li Cl\nthermo_style custom step pe\n"
                  "thermo_modify format float %.15g\nrun 0\n", workdir).stdout
    return _energy(log)


def test_two_dimensional_box_is_refused(tmp_path, morse):
    """dimension 2 was accepted: each atom met its own z images 1 A away (audit: 40 atoms,
    pe -118.2 eV, 68,728 bar)."""
    script = ("units metal\ndimension 2\natom_style atomic\nregion b block 0 10 0 10 -0.5 0.5\n"
              "create_box 2 b\ncreate_atoms 1 single 2 2 0\ncreate_atoms 2 single 5 5 0\n"
              f"mass 1 6.94\nmass 2 35.45\npair_style ionmd {morse}\npair_coeff * * Li Cl\n"
              "run 0\n")
    proc = run_lmp(script, tmp_path, check=False)
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert "pair_style ionmd is a 3-d potential; use dimension 3" in proc.stdout


def test_bonded_pairs_with_lj_weights_one_count_fully(tmp_path, morse, unbonded_energy):
    """lj 1 keeps bonded pairs in the neighbour list (marked where coul is not 1): the
    model sees every pair, so the energy is that of the cell without bonds. Was refused
    ("those pairs would be left out of the model's graph")."""
    _bond_data(tmp_path / "bonded.data", [(1, 2), (3, 4)])
    for special in ("special_bonds lj 1.0 1.0 1.0 coul 0.0 0.0 0.0",
                    "special_bonds lj 1.0 1.0 1.0 coul 0.5 0.5 0.5"):
        log = run_lmp(_bonded_script(morse, special), tmp_path).stdout
        assert _energy(log, 3) == pytest.approx(unbonded_energy, rel=1e-12), special


def test_weights_the_model_cannot_apply_are_refused(tmp_path, morse):
    _bond_data(tmp_path / "bonded.data", [(1, 2)])
    proc = run_lmp(_bonded_script(morse, "special_bonds lj/coul 0.5 0.5 0.5"), tmp_path,
                   check=False)
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert "the model cannot apply special_bonds weights; every pair within the cutoff counts " \
           "fully" in proc.stdout
    assert "use 'special_bonds lj 1.0 1.0 1.0' (coul may be anything for the model" in proc.stdout


def test_bonds_created_during_the_run_are_checked_at_setup(tmp_path, morse):
    """fix bond/create starting from no bonds passed the check made at setup, and the
    bonds it made under the default weights (0) left their pairs out of the model's graph.
    Refused at setup; with lj 1 the pairs stay and the energy does not change as bonds form."""
    _bond_data(tmp_path / "bonded.data", [])
    create = "fix make all bond/create 1 1 2 3.0 1"
    proc = run_lmp(_bonded_script(morse, "", extra=create), tmp_path, check=False)
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert "fix make (bond/create) creates bonds during the run" in proc.stdout
    log = run_lmp(_bonded_script(morse, "special_bonds lj 1.0 1.0 1.0 coul 0.0 0.0 0.0",
                                 extra=create, run="run 2"), tmp_path).stdout
    rows = thermo_table(log, 3)
    assert rows[-1, 2] > 0    # bonds were made
    assert rows[-1, 1] == pytest.approx(rows[0, 1], rel=1e-12)


def test_directory_given_as_model_file_is_named_a_directory(tmp_path, morse):
    (tmp_path / "adir").mkdir()
    write_data(licl_supercell(rep=1), tmp_path / "s.data", ELEMENTS)
    proc = run_lmp("units metal\nread_data s.data\npair_style ionmd adir\npair_coeff * * Li Cl\n"
                   "run 0\n", tmp_path, check=False)
    assert proc.returncode != 0
    assert "model file adir is a directory, not a model file" in proc.stdout


@pytest.fixture(scope="module")
def other_lammps_files(tmp_path_factory, sevennet_deployed):
    """SevenNet's deployed 'pair_style e3gnn' file (sevenn's deploy: the session's,
    tests/session_exports.py) and MACE's create_lammps_model file of a tiny MACE model,
    made by its own tool in a fresh interpreter."""
    directory = tmp_path_factory.mktemp("other_lammps")
    mace = ("import sys, runpy, torch\nsys.path.insert(0, sys.argv[1])\n"
            "torch.set_default_dtype(torch.float64)\nfrom tiny_mace import write_tiny_mace\n"
            "write_tiny_mace(sys.argv[2], channels=8, num_interactions=1, max_L=1, r_max=4.0)\n"
            "sys.argv = ['create_lammps_model', sys.argv[2]]\n"
            "runpy.run_module('mace.cli.create_lammps_model', run_name='__main__')\n")
    job = subprocess.run([sys.executable, "-c", mace, str(TESTS), str(directory / "t.model")],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         timeout=600, env={**os.environ, "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"})
    assert job.returncode == 0, job.stdout[-2000:]
    return sevennet_deployed / "deployed_serial.pt", directory / "t.model-lammps.pt"


@pytest.mark.parametrize("which, expected", [
    (0, "is a SevenNet model deployed for SevenNet's own 'pair_style e3gnn' (sevenn_get_model), "
        "not an ionmd model file; `ionmd export sevennet` needs the original checkpoint"),
    (1, "is a MACE model converted for MACE's own 'pair_style mace' (create_lammps_model), not "
        "an ionmd model file; `ionmd export mace` needs the original MACE model")])
def test_other_codes_lammps_model_files_are_named(tmp_path, other_lammps_files, which, expected):
    """Both said only "carries no ionmd metadata ... export the model with ionmd first"."""
    write_data(licl_supercell(rep=1), tmp_path / "s.data", ELEMENTS)
    proc = run_lmp(f"units metal\nread_data s.data\npair_style ionmd {other_lammps_files[which]}\n"
                   "pair_coeff * * Li Cl\nrun 0\n", tmp_path, check=False)
    assert proc.returncode != 0
    assert expected in proc.stdout


@pytest.mark.parametrize("units, expected", [
    ("lj", "'lj' units are reduced (sigma, epsilon, mass)"),
    ("real", "a 'real' data file keeps its coordinates (A) and masses (g/mol), its Velocities "
             "x 1000 (A/fs to A/ps)")])
def test_units_advice_is_for_the_units_given(tmp_path, morse, units, expected):
    """units lj got advice about 'real' data files."""
    script = (f"units {units}\natom_style atomic\nregion b block 0 6 0 6 0 6\ncreate_box 2 b\n"
              f"create_atoms 1 single 1 1 1\ncreate_atoms 2 single 3 3 3\nmass * 1.0\n"
              f"pair_style ionmd {morse}\npair_coeff * * Li Cl\nrun 0\n")
    proc = run_lmp(script, tmp_path, check=False)
    assert proc.returncode != 0
    assert f"but units are '{units}'" in proc.stdout and expected in proc.stdout
    if units != "real":
        assert "'real'" not in proc.stdout


def test_atom_ids_turned_off_names_the_line_to_remove(tmp_path, morse):
    script = ("units metal\natom_modify id no\natom_style atomic\nregion b block 0 6 0 6 0 6\n"
              "create_box 2 b\ncreate_atoms 1 single 1 1 1\ncreate_atoms 2 single 3 3 3\n"
              f"mass 1 6.94\nmass 2 35.45\npair_style ionmd {morse}\npair_coeff * * Li Cl\n"
              "run 0\n")
    proc = run_lmp(script, tmp_path, check=False)
    assert proc.returncode != 0
    assert "'atom_modify id no' turned them off: remove that atom_modify line" in proc.stdout


@pytest.mark.parametrize("which, expected", [
    (0, "is a SevenNet model deployed for SevenNet's own 'pair_style e3gnn'"),
    (1, "is a MACE model converted for MACE's own 'pair_style mace'")])
def test_python_checks_name_other_codes_files_as_the_plugin_does(other_lammps_files, which,
                                                                  expected):
    """`ionmd bench`/sweeps read a model's metadata before any LAMMPS run: the same files
    are named there as the plugin names them, not "has no ionmd metadata"."""
    from ionmd.errors import ModelFileError
    from ionmd.export import read_metadata

    with pytest.raises(ModelFileError, match=re.escape(expected)):
        read_metadata(other_lammps_files[which])


def test_python_checks_name_a_directory(tmp_path):
    from ionmd.errors import ModelFileError
    from ionmd.export import read_metadata

    with pytest.raises(ModelFileError, match="is a directory, not a model file"):
        read_metadata(tmp_path)
