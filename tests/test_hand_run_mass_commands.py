"""A hand run whose data file has no Masses section, its masses set by ``mass`` commands in
the input (``mass * 35.45``, ``mass 2 6.94``), which its log echoes: the elements are read
from those masses, and a type map that contradicts them is refused as one contradicting a
data file's Masses is (fc11f17). Before: refused ('has no Masses section: give a type ->
element map'), and ``--type-map 1=Li,2=Cl`` (types swapped) taken silently.

References: a real LAMMPS run (Li in the holes of a Lennard-Jones Cl crystal, data file
written by ASE without Masses), the masses LAMMPS itself prints for an atom of each type,
the data file's types read here, and the same run analysed with the right --type-map."""

import json
import re

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

from lammps_runner import run_lmp
from ionmd.analysis.run_spec import load_run_spec
from ionmd.cli import main
from ionmd.lammps.echoed_input import md_settings

A = 5.4


def _cell() -> Atoms:
    """Cl on an fcc lattice (2x2x2 cells), Li in 8 of its 32 octahedral holes."""
    fcc = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    cells = np.array([[i, j, k] for i in range(2) for j in range(2) for k in range(2)])
    cl = (cells[:, None] + fcc[None]).reshape(-1, 3) * A
    holes = (cl + [A / 2, 0, 0]) % (2 * A)
    li = holes[np.random.default_rng(7).choice(len(holes), 8, replace=False)]
    return Atoms(["Cl"] * len(cl) + ["Li"] * len(li), positions=np.vstack([cl, li]),
                 cell=[2 * A] * 3, pbc=True)


_RUN = """
units metal
atom_style atomic
atom_modify map array
boundary p p p
read_data start.data
mass * 35.45
mass 2 6.94
print "MASSES $(mass[1]) $(mass[33])"
pair_style lj/cut 5.0
pair_coeff 1 1 0.3 3.4
pair_coeff 1 2 0.02 2.0
pair_coeff 2 2 0.01 2.4
pair_modify shift yes
thermo_style custom step temp pe press
thermo 100
timestep 0.002
velocity all create 900 1234 mom yes rot yes
fix 1 all nvt temp 900 900 0.1
dump d all custom 20 md.dump id type x y z
run 400
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("masses") / "LiCl" / "900K"
    folder.mkdir(parents=True)
    write(folder / "start.data", _cell(), format="lammps-data", specorder=["Cl", "Li"],
          masses=False, atom_style="atomic")
    assert "Masses" not in (folder / "start.data").read_text()
    run_lmp(_RUN, folder)
    return folder


def _analyze(run, capsys, *flags):
    code = main(["analyze", str(run), "--fit-start-ps", "0.1", "--fit-end-ps", "0.6", *flags])
    return code, capsys.readouterr().err


def test_the_masses_are_those_lammps_gave(run):
    """``mass *`` then ``mass 2``: type 1 (atom 1, Cl) and type 2 (atom 33, Li) as LAMMPS
    printed them."""
    log = (run / "log.lammps").read_text()
    printed = [float(x) for x in re.search(r"^MASSES (\S+) (\S+)$", log, re.M).groups()]
    assert md_settings(log)["masses"] == {1: printed[0], 2: printed[1]}
    assert md_settings(log)["elements"] == ["Cl", "Li"]


def test_elements_come_from_the_mass_commands(run, capsys):
    """Before: 'start.data has no Masses section: give a type -> element map'."""
    from ionmd.analysis.run_inputs import run_frames

    code, err = _analyze(run, capsys)
    assert code == 0, err
    got = json.loads((run / "analysis" / "results.json").read_text())
    _, elements, _ = run_frames(load_run_spec(run))
    lines = (run / "start.data").read_text().split("Atoms")[1].split("\n")
    types = [int(ln.split()[1]) for ln in lines if len(ln.split()) >= 5]
    assert elements.tolist() == ["Cl" if t == 1 else "Li" for t in types]
    assert _analyze(run, capsys, "--type-map", "1=Cl,2=Li")[0] == 0
    ref = json.loads((run / "analysis" / "results.json").read_text())
    assert got["diffusion"][0]["species"] == "Li"
    assert got["diffusion"][0]["D"] == ref["diffusion"][0]["D"]


def test_a_type_map_the_mass_commands_contradict_is_refused(run, capsys):
    """Before: --type-map 1=Li,2=Cl was taken over the masses LAMMPS ran with, silently
    (the 8 Li analysed as the framework)."""
    code, err = _analyze(run, capsys, "--type-map", "1=Li,2=Cl")
    assert code == 1
    assert ("log.lammps ('mass' commands): type 1 weighs 35.450 amu there, Cl's mass, but "
            "the type map names it Li") in err
    assert "The masses say 1=Cl,2=Li" in err
