"""A hand run whose input restates one type's mass (``mass 1 6.94`` after ``read_data``)
beside a data file whose Masses section weighs every type: the elements are the data
file's, as before 855dcff. Since 855dcff the logs' ``mass`` commands gave a type map of
the types they set only, and the run was refused with "type map {1: 'Li'} has no element
for LAMMPS types [2]", a map the user never gave.

Reference: the data file LAMMPS wrote (its Masses and each atom's type, read here with
numpy), and a real LAMMPS run."""

import json

import numpy as np
import pytest

from hand_run_inputs import MASSES, ROCK_SALT, SPARSE_LI, lj_pair
from lammps_runner import run_lmp
from ionmd.cli import main

_PREPARE = ROCK_SALT + SPARSE_LI + MASSES + "write_data start.data\n"

_MD = """
units metal
atom_style atomic
read_data start.data
mass 1 6.94
""" + lj_pair("5.0") + """velocity all create 900 1234 mom yes rot yes
timestep 0.002
fix 1 all nvt temp 900 900 0.1
thermo 100
dump d all custom 20 md.dump id type x y z
run 200
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("partial_mass") / "LiCl" / "900K"
    run_lmp(_PREPARE, folder)
    (folder / "log.lammps").unlink()        # the preparation is no run of these frames
    run_lmp(_MD, folder)
    return folder


def _data_file_counts(path) -> dict[str, int]:
    """Atoms per element as the data file says: its Masses (Li 6.94, Cl 35.45) and types."""
    lines = path.read_text().splitlines()
    masses_at = lines.index("Masses") + 2
    masses = {int(ln.split()[0]): float(ln.split()[1]) for ln in lines[masses_at:masses_at + 2]}
    assert masses == {1: 6.94, 2: 35.45}
    atoms_at = next(k for k, ln in enumerate(lines) if ln.startswith("Atoms")) + 2
    end = lines.index("", atoms_at)
    types = np.array([int(ln.split()[1]) for ln in lines[atoms_at:end]])
    return {"Li": int((types == 1).sum()), "Cl": int((types == 2).sum())}


def test_one_restated_mass_beside_the_data_files_masses(run, capsys):
    counts = _data_file_counts(run / "start.data")
    assert counts == {"Li": 8, "Cl": 32}
    code = main(["analyze", str(run), "--fit-start-ps", "0.05", "--fit-end-ps", "0.15"])
    err = capsys.readouterr().err
    assert code == 0, err
    res = json.loads((run / "analysis" / "results.json").read_text())
    assert res["composition"] == counts
